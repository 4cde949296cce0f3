"""Installing and removing a CRD's routes: the route table, the registry (discovery and OpenAPI
read it), and the custom schemas handed to the OpenAPI builder. Every change invalidates the
rendered discovery documents and calls ``on_change`` (the app drops its cached OpenAPI documents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from testserver.apiserver.crd.routes import CustomRoute, build_routes
from testserver.apiserver.resources import Routes

__all__ = ["CustomResources"]


class CustomResources:
    """The custom resources the server serves now, by CRD name."""

    def __init__(self, routes: Routes, *, invalidate: Callable[[], None]) -> None:
        self.routes = routes
        self._invalidate = invalidate
        self.installed: dict[str, list[CustomRoute]] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        """``"<group>/<version>/<Kind>"`` → ``openAPIV3Schema`` (the OpenAPI builder's ``custom_schemas``)."""
        self._fingerprints: dict[str, bytes] = {}

    def install(self, crd: dict[str, Any], names: dict[str, Any], fingerprint: bytes) -> None:
        """Serve ``crd``'s served versions under ``names`` (replacing what it served before)."""
        name = str(crd["metadata"]["name"])
        if self._fingerprints.get(name) == fingerprint:
            return
        self._remove(name)
        new = build_routes(crd, names)
        for route in new:
            key = (route.group, route.info.version, route.plural)
            if key in self.routes.by_gvr:
                continue  # a built-in or another CRD serves it: never shadow
            self.routes.by_gvr[key] = route
            self.routes.by_kind.setdefault((route.group, route.kind), route)
            versions = self.routes.groups.setdefault(route.group, [])
            if route.info.version not in versions:
                versions.append(route.info.version)
            self.routes.registry.add([route.info])
            self.installed.setdefault(name, []).append(route)
            assert route.custom is not None
            if route.custom.schema is not None:
                self.schemas[f"{route.group}/{route.info.version}/{route.kind}"] = route.custom.schema
        self._fingerprints[name] = fingerprint
        self._invalidate()

    def uninstall(self, name: str) -> None:
        if name in self.installed or name in self._fingerprints:
            self._remove(name)
            self._invalidate()

    def routes_of(self, name: str) -> list[CustomRoute]:
        return list(self.installed.get(name, ()))

    def _remove(self, name: str) -> None:
        self._fingerprints.pop(name, None)
        for route in self.installed.pop(name, ()):
            key = (route.group, route.info.version, route.plural)
            if self.routes.by_gvr.get(key) is route:
                del self.routes.by_gvr[key]
            if self.routes.by_kind.get((route.group, route.kind)) is route:
                del self.routes.by_kind[(route.group, route.kind)]
            self.routes.registry.remove(route.info.gvr)
            self.schemas.pop(f"{route.group}/{route.info.version}/{route.kind}", None)
            still = any(
                r.group == route.group and r.info.version == route.info.version
                for r in self.routes.by_gvr.values()
            )
            versions = self.routes.groups.get(route.group)
            if versions is not None and not still and route.info.version in versions:
                versions.remove(route.info.version)
                if not versions:
                    del self.routes.groups[route.group]
