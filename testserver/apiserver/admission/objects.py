"""Reading and writing objects from admission plugins and the built-in background loops:
direct storage access by route, plus creating system-owned objects (bootstrap, controllers)."""

from __future__ import annotations

import builtins
import contextlib
from typing import Any

import orjson

from testserver.apiserver import objects as ob
from testserver.apiserver.resources import ResourceRoute, Routes
from testserver.storage.errors import KeyExists
from testserver.storage.interface import Storage

__all__ = ["ObjectAccess"]


class ObjectAccess:
    """Storage reads/writes by (group, plural) for admission plugins."""

    def __init__(self, storage: Storage, routes: Routes) -> None:
        self.storage = storage
        self.routes = routes

    def route(self, group: str, plural: str, version: str = "v1") -> ResourceRoute | None:
        route = self.routes.get(group, version, plural)
        if route is None:
            for (g, _v, p), candidate in self.routes.by_gvr.items():
                if g == group and p == plural:
                    return candidate
        return route

    async def get(self, group: str, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        route = self.route(group, plural)
        if route is None:
            return None
        kv = await self.storage.get(route.key(namespace, name))
        return ob.decode(kv.value, kv.mod_revision) if kv is not None else None

    async def list(self, group: str, plural: str, namespace: str | None) -> builtins.list[dict[str, Any]]:
        route = self.route(group, plural)
        if route is None:
            return []
        return await self.list_route(route, namespace)

    async def list_route(self, route: ResourceRoute, namespace: str | None) -> builtins.list[dict[str, Any]]:
        out: builtins.list[dict[str, Any]] = []
        start: str | None = None
        revision: int | None = None
        while True:
            page = await self.storage.list(
                route.prefix(namespace or None), revision=revision, limit=500, continue_key=start
            )
            out.extend(ob.decode(kv.value, kv.mod_revision) for kv in page.items)
            if not page.more or not page.next_key:
                return out
            start, revision = page.next_key, page.revision

    async def create_system(
        self, group: str, plural: str, obj: dict[str, Any], *, manager: str = "kube-apiserver"
    ) -> bool:
        """Store a server-made object (uid, timestamps, managedFields filled); False if it exists."""
        route = self.route(group, plural)
        if route is None:
            return False
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", ob.new_uid())
        meta.setdefault("creationTimestamp", ob.now_rfc3339())
        if route.has_generation:
            meta.setdefault("generation", 1)
        obj["kind"], obj["apiVersion"] = route.kind, route.api_version
        ob.record_managed_fields(
            obj, None, manager=manager, operation="Update", api_version=route.api_version
        )
        key = route.key(meta.get("namespace"), meta["name"])
        with contextlib.suppress(KeyExists):
            await self.storage.create(key, ob.encode_for_storage(obj))
            return True
        return False


def loads(value: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = orjson.loads(value)
    return obj
