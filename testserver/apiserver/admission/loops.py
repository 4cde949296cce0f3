"""The server's own background loop: one storage watch over ``/registry/`` feeds the Service
allocation state; with the stand-in controllers on it also creates the ``default`` ServiceAccount
in every namespace and marks namespaces for quota status updates (controller-manager's work).

Started by :meth:`testserver.apiserver.admission.Admission.start`; a watch that falls behind is
restarted from a fresh list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from testserver.apiserver.admission.allocators import ServiceAllocations
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.apiserver.admission.resource_quota import QuotaStatusUpdater
from testserver.apiserver.admission.service_account import ensure_default_service_account
from testserver.storage.keys import REGISTRY_ROOT
from testserver.storage.model import EventType, WatchEvent

__all__ = ["BackgroundLoops"]

log = logging.getLogger("testserver.apiserver.admission")


class BackgroundLoops:
    def __init__(
        self,
        objects: ObjectAccess,
        allocations: ServiceAllocations,
        quota: QuotaStatusUpdater | None,
        *,
        service_accounts: bool = True,
    ) -> None:
        self.objects = objects
        self.allocations = allocations
        self.quota = quota
        self.service_accounts = service_accounts
        svc = objects.route("", "services")
        ns = objects.route("", "namespaces")
        self._svc_prefix = svc.prefix(None) if svc is not None else "\x00"
        self._ns_prefix = ns.prefix(None) if ns is not None else "\x00"
        self._namespaced = sorted(
            ((r.prefix(None), r) for r in objects.routes.by_gvr.values() if r.namespaced),
            key=lambda item: -len(item[0]),
        )
        self._quota_namespaces: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._watch: Any = None
        self._busy = False
        self._synced = asyncio.Event()
        self._sa_tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.wait_for(self._synced.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for task in list(self._sa_tasks):
            task.cancel()

    async def caught_up(self) -> None:
        """Wait (briefly) until every write acknowledged so far has been seen by the loop."""
        target = self.objects.storage.current_revision()
        for _ in range(2000):
            watch = self._watch
            if watch is not None and not self._busy and watch.progress_revision >= target:
                return
            await asyncio.sleep(0)
        log.warning("admission loop did not catch up with revision %d", target)

    async def _initial(self) -> int:
        storage = self.objects.storage
        revision = storage.current_revision()
        self.allocations.reset()
        svc_route = self.objects.route("", "services")
        if svc_route is not None:
            page = await storage.list(svc_route.prefix(None), revision=revision)
            for kv in page.items:
                self.allocations.observe(kv.key, orjson.loads(kv.value))
        quota_route = self.objects.route("", "resourcequotas")
        if quota_route is not None and self.quota is not None:
            page = await storage.list(quota_route.prefix(None), revision=revision)
            for kv in page.items:
                ns = orjson.loads(kv.value)["metadata"].get("namespace", "")
                self._quota_namespaces.add(ns)
                self.quota.touch(ns)
        ns_route = self.objects.route("", "namespaces")
        if ns_route is not None and self.service_accounts:
            page = await storage.list(ns_route.prefix(None), revision=revision)
            for kv in page.items:
                obj = orjson.loads(kv.value)
                if not obj["metadata"].get("deletionTimestamp"):
                    await ensure_default_service_account(self.objects, obj["metadata"]["name"])
        return revision

    async def _run(self) -> None:
        while True:
            try:
                revision = await self._initial()
                watch = await self.objects.storage.watch(REGISTRY_ROOT + "/", revision)
                self._watch = watch
                self._synced.set()
                async with watch:
                    async for event in watch:
                        self._busy = True
                        try:
                            self._handle(event)
                        finally:
                            self._busy = False
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("admission loop restarting")
                self._watch = None
                await asyncio.sleep(0.1)

    def _handle(self, event: WatchEvent) -> None:
        key = event.kv.key
        quota = self.quota
        if key.startswith(self._svc_prefix):
            obj = None if event.type is EventType.DELETED else orjson.loads(event.kv.value)
            self.allocations.observe(key, obj)
        elif key.startswith(self._ns_prefix):
            if event.type is EventType.ADDED and self.service_accounts:
                name = key[len(self._ns_prefix) :]
                task = asyncio.get_running_loop().create_task(self._ensure_sa(name))
                self._sa_tasks.add(task)
                task.add_done_callback(self._sa_tasks.discard)
            return
        if quota is None:
            return
        for prefix, route in self._namespaced:
            if key.startswith(prefix):
                namespace = key[len(prefix) :].split("/", 1)[0]
                if route.group == "" and route.kind == "ResourceQuota":
                    self._quota_namespaces.add(namespace)
                if namespace in self._quota_namespaces:
                    quota.touch(namespace)
                break

    async def _ensure_sa(self, namespace: str) -> None:
        try:
            ns = await self.objects.get("", "namespaces", None, namespace)
            if ns is not None and not ns["metadata"].get("deletionTimestamp"):
                await ensure_default_service_account(self.objects, namespace)
        except Exception:
            log.exception("creating the default service account in %s failed", namespace)
