"""The in-server CRD controller: kube's naming, establishing and finalizer controllers in one.

It lists the stored CRDs at startup, then watches them. For each CRD it

- checks its names against the other CRDs of its group and sets ``status.acceptedNames`` and
  the ``NamesAccepted`` condition (False with ``PluralConflict``, ``KindConflict``... on a clash);
- sets ``Established`` once the names are accepted, and only then serves the custom resource
  (routes, discovery, OpenAPI);
- re-installs the routes when the CRD changes, removes them when it goes away;
- on deletion (the API server adds the ``customresourcecleanup.apiextensions.k8s.io`` finalizer),
  sets ``Terminating``, deletes every custom resource, stops serving, removes the finalizer and
  the CRD itself.

Status writes go straight to storage (no generation bump, as a status subresource write).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.crd.definition import CLEANUP_FINALIZER, storage_version
from testserver.apiserver.crd.registrar import CustomResources
from testserver.apiserver.crd.routes import build_routes
from testserver.storage.errors import Compacted, NotFoundError, RevisionMismatch, WatcherTooSlow
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.model import EventType, KeyValue

if TYPE_CHECKING:
    from testserver.apiserver.rest import RestHandler

__all__ = ["CRDController", "start_custom_resources"]

log = logging.getLogger("testserver.apiserver.crd")

_GROUP = "apiextensions.k8s.io"
_NAME_FIELDS = (
    ("plural", "PluralConflict"),
    ("singular", "SingularConflict"),
    ("shortNames", "ShortNamesConflict"),
    ("kind", "KindConflict"),
    ("listKind", "ListKindConflict"),
)


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


class CRDController:
    """Keeps the served custom resources in line with the stored CRDs."""

    def __init__(self, rest: RestHandler, resources: CustomResources) -> None:
        self.rest = rest
        self.storage = rest.storage
        self.resources = resources
        route = rest.routes.get(_GROUP, "v1", "customresourcedefinitions")
        self.crd_route = route
        self.prefix = route.prefix(None) if route is not None else ""
        self._cleaning: set[str] = set()
        self._task: asyncio.Task[Any] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Reconcile every stored CRD, then keep watching (a background task of the REST handler)."""
        if self.crd_route is None:
            return
        revision = await self._resync()
        self.rest._spawn(self._run(revision))

    async def _resync(self) -> int:
        page = await self.storage.list(self.prefix)
        present = set()
        for kv in page.items:
            crd = ob.decode(kv.value, kv.mod_revision)
            present.add(crd["metadata"]["name"])
        for name in list(self.resources.installed):
            if name not in present:
                self.resources.uninstall(name)
        for kv in page.items:
            await self._reconcile_key(kv.key)
        return page.revision

    async def _run(self, revision: int) -> None:
        while True:
            try:
                watch = await self.storage.watch(self.prefix, revision)
                async with watch:
                    async for event in watch:
                        revision = event.kv.mod_revision
                        if event.type is EventType.DELETED:
                            name = orjson.loads(event.kv.value)["metadata"]["name"]
                            self.resources.uninstall(name)
                            await self._recheck_group(orjson.loads(event.kv.value))
                        else:
                            await self._reconcile_key(event.kv.key)
            except (WatcherTooSlow, Compacted):
                revision = await self._resync()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the controller alive; retry after a short pause
                log.exception("CRD controller error")
                await asyncio.sleep(0.5)
                with contextlib.suppress(Exception):
                    revision = await self._resync()
            else:
                return  # storage closed

    async def _recheck_group(self, gone: dict[str, Any]) -> None:
        """A CRD went away: others of its group may now get the names they asked for."""
        group = (gone.get("spec") or {}).get("group")
        page = await self.storage.list(self.prefix)
        for kv in page.items:
            if (orjson.loads(kv.value).get("spec") or {}).get("group") == group:
                await self._reconcile_key(kv.key)

    async def _others(self, crd: dict[str, Any]) -> list[dict[str, Any]]:
        group = (crd.get("spec") or {}).get("group")
        page = await self.storage.list(self.prefix)
        out = []
        for kv in page.items:
            other = orjson.loads(kv.value)
            if (
                other["metadata"]["name"] != crd["metadata"]["name"]
                and (other.get("spec") or {}).get("group") == group
            ):
                out.append(other)
        return out

    async def _reconcile_key(self, key: str) -> None:
        async with self._lock:
            kv = await self.storage.get(key)
            if kv is None:
                return
            crd = ob.decode(kv.value, kv.mod_revision)
            name = crd["metadata"]["name"]
            if crd["metadata"].get("deletionTimestamp"):
                if name not in self._cleaning:
                    self._cleaning.add(name)
                    self.rest._spawn(self._finalize(key, name))
                return
            others = await self._others(crd)
            status = self._desired_status(crd, others)
            if status != crd.get("status"):
                await self._write_status(key, status)
            established = any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            names = status.get("acceptedNames") or {}
            if established and names.get("plural") and names.get("kind"):
                fingerprint = orjson.dumps([crd.get("spec"), names], option=orjson.OPT_SORT_KEYS)
                try:
                    self.resources.install(crd, names, fingerprint)
                except Exception:
                    log.exception("cannot serve CRD %s", name)
            else:
                self.resources.uninstall(name)

    # -- names and conditions --------------------------------------------------------------------

    def _desired_status(self, crd: dict[str, Any], others: list[dict[str, Any]]) -> dict[str, Any]:
        old = copy.deepcopy(crd.get("status") or {})
        names = dict((crd.get("spec") or {}).get("names") or {})
        taken: dict[str, set[str]] = {"resource": set(), "kind": set()}
        for other in others:
            accepted = (other.get("status") or {}).get("acceptedNames") or {}
            taken["resource"].update(
                n
                for n in (
                    accepted.get("plural"),
                    accepted.get("singular"),
                    *(accepted.get("shortNames") or ()),
                )
                if n
            )
            taken["kind"].update(n for n in (accepted.get("kind"), accepted.get("listKind")) if n)
        conflict: tuple[str, str] | None = None
        for key, reason in _NAME_FIELDS:
            values = names.get(key)
            values = values if isinstance(values, list) else [values] if values else []
            pool = taken["kind"] if key in ("kind", "listKind") else taken["resource"]
            for value in values:
                if value in pool:
                    conflict = (reason, f'"{value}" is already in use')
                    break
            if conflict:
                break
        conditions = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
        if conflict is None:
            accepted = {k: v for k, v in names.items() if v not in (None, "", [])}
            named = _condition("NamesAccepted", "True", "NoConflicts", "no conflicts found")
        else:
            accepted = old.get("acceptedNames") or {"plural": "", "kind": ""}
            named = _condition("NamesAccepted", "False", conflict[0], conflict[1])
        established_before = (conditions.get("Established") or {}).get("status") == "True"
        if conflict is None or established_before:
            established = _condition(
                "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"
            )
        else:
            established = _condition("Established", "False", "NotAccepted", "not all names are accepted")
        new_conditions = []
        for cond in (named, established):
            prev = conditions.get(cond["type"])
            same = prev is not None and all(prev.get(k) == cond[k] for k in ("status", "reason", "message"))
            cond["lastTransitionTime"] = prev.get("lastTransitionTime") if same and prev else ob.now_rfc3339()
            new_conditions.append(
                {k: cond[k] for k in ("type", "status", "lastTransitionTime", "reason", "message")}
            )
        for kind, cond in conditions.items():
            if kind not in ("NamesAccepted", "Established"):
                new_conditions.append(cond)
        stored = list(old.get("storedVersions") or [])
        current = storage_version(crd)
        if current and current not in stored:
            stored.append(current)
        return {"conditions": new_conditions, "acceptedNames": accepted, "storedVersions": stored}

    async def _write_status(self, key: str, status: dict[str, Any]) -> None:
        def fn(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                return None
            obj = orjson.loads(cur.value)
            if obj.get("status") == status:
                return None
            obj["status"] = status
            return ob.encode_for_storage(obj)

        with contextlib.suppress(NotFoundError):
            await guaranteed_update(self.storage, key, fn)

    # -- deletion --------------------------------------------------------------------------------

    async def _set_terminating(self, key: str, message: str, reason: str) -> None:
        def fn(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                return None
            obj = orjson.loads(cur.value)
            status = obj.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Terminating"]
            conditions.append(
                {
                    "type": "Terminating",
                    "status": "True",
                    "lastTransitionTime": ob.now_rfc3339(),
                    "reason": reason,
                    "message": message,
                }
            )
            status["conditions"] = conditions
            return ob.encode_for_storage(obj)

        with contextlib.suppress(NotFoundError):
            await guaranteed_update(self.storage, key, fn)

    async def _finalize(self, key: str, name: str) -> None:
        try:
            kv = await self.storage.get(key)
            if kv is None:
                return
            crd = orjson.loads(kv.value)
            if CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or []):
                await self._set_terminating(
                    key, "CustomResource deletion is in progress", "InstanceDeletionInProgress"
                )
                await self._delete_instances(crd)
            self.resources.uninstall(name)
            await self._remove_finalizer(key)
        finally:
            self._cleaning.discard(name)

    async def _delete_instances(self, crd: dict[str, Any]) -> None:
        routes = self.resources.routes_of(crd["metadata"]["name"])
        if not routes:
            names = (
                (crd.get("status") or {}).get("acceptedNames") or (crd.get("spec") or {}).get("names") or {}
            )
            if names.get("plural") and names.get("kind"):
                with contextlib.suppress(Exception):
                    routes = build_routes(crd, names)
        if not routes:
            return
        route = routes[0]
        opts = {"propagationPolicy": "Background"}
        delay = 0.02
        for _ in range(2000):
            page = await self.storage.list(route.prefix(None))
            if not page.items:
                return
            for item in page.items:
                meta = orjson.loads(item.value)["metadata"]
                if meta.get("deletionTimestamp"):
                    continue
                with contextlib.suppress(st.StatusError):
                    await self.rest._delete_one(route, meta.get("namespace", ""), meta["name"], opts)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _remove_finalizer(self, key: str) -> None:
        def fn(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                return None
            obj = orjson.loads(cur.value)
            fins = obj["metadata"].get("finalizers") or []
            if CLEANUP_FINALIZER not in fins:
                return None
            fins = [f for f in fins if f != CLEANUP_FINALIZER]
            if fins:
                obj["metadata"]["finalizers"] = fins
            else:
                obj["metadata"].pop("finalizers", None)
            return ob.encode_for_storage(obj)

        with contextlib.suppress(NotFoundError):
            kv = await guaranteed_update(self.storage, key, fn)
            if kv is not None:
                obj = orjson.loads(kv.value)
                if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
                    with contextlib.suppress(NotFoundError, RevisionMismatch):
                        await self.storage.delete(key, kv.mod_revision)


async def start_custom_resources(
    rest: RestHandler, *, invalidate: Callable[[], None]
) -> tuple[CustomResources, CRDController]:
    """Create the registrar and the controller, serve the CRDs already stored, and start watching."""
    resources = CustomResources(rest.routes, invalidate=invalidate)
    controller = CRDController(rest, resources)
    await controller.start()
    return resources, controller
