"""Discovery documents: legacy (/api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>) and aggregated v2.

Every document is rendered once (on first request) and cached as bytes.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

import orjson

from testserver.apiserver.resources import Routes

__all__ = ["AGGREGATED_CONTENT_TYPE", "Discovery"]

AGGREGATED_CONTENT_TYPE = b"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering: GA > beta > alpha, then by number (higher first)."""
    m = _VERSION_RE.match(version)
    if not m:
        return (-1, 0, 0)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 2, "beta": 1, "alpha": 0}[stage]
    return (rank, major, minor)


class Discovery:
    def __init__(self, routes: Routes, server_address: str) -> None:
        self.routes = routes
        self.server_address = server_address
        self._resource_lists: dict[tuple[str, str], bytes] = {}

    def invalidate(self) -> None:
        """Forget every rendered document (the served resources changed: a CRD came or went)."""
        self._resource_lists.clear()
        for name in ("api_groups", "aggregated_api", "aggregated_apis"):
            self.__dict__.pop(name, None)

    def group_versions(self, group: str) -> list[str]:
        versions = self.routes.groups.get(group, [])
        return sorted(versions, key=version_priority, reverse=True)

    @cached_property
    def api_versions(self) -> bytes:
        return orjson.dumps(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}
                ],
            }
        )

    def _group(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.group_versions(group)]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    @cached_property
    def api_groups(self) -> bytes:
        groups = [self._group(g) for g in self.routes.groups if g]
        return orjson.dumps({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    def api_group(self, group: str) -> bytes | None:
        if not group or group not in self.routes.groups:
            return None
        return orjson.dumps({"kind": "APIGroup", "apiVersion": "v1", **self._group(group)})

    def resource_list(self, group: str, version: str) -> bytes | None:
        key = (group, version)
        cached = self._resource_lists.get(key)
        if cached is not None:
            return cached
        infos = self.routes.registry.in_group_version(group, version)
        if not infos:
            return None
        resources: list[dict[str, Any]] = []
        for info in infos:
            entry: dict[str, Any] = {
                "name": info.plural,
                "singularName": info.singular,
                "namespaced": info.namespaced,
                "kind": info.kind,
                "verbs": list(info.verbs),
            }
            if info.short_names:
                entry["shortNames"] = list(info.short_names)
            if info.categories:
                entry["categories"] = list(info.categories)
            resources.append(entry)
            for sub in info.subresources:
                s: dict[str, Any] = {
                    "name": f"{info.plural}/{sub.name}",
                    "singularName": "",
                    "namespaced": info.namespaced,
                }
                if sub.group or sub.version:
                    s["group"] = sub.group
                    s["version"] = sub.version or "v1"
                s["kind"] = sub.kind
                s["verbs"] = list(sub.verbs)
                resources.append(s)
        gv = f"{group}/{version}" if group else version
        data = orjson.dumps(
            {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
        )
        self._resource_lists[key] = data
        return data

    def _aggregated(self, groups: list[str]) -> bytes:
        items = []
        for group in groups:
            versions = []
            for version in self.group_versions(group):
                resources = []
                for info in self.routes.registry.in_group_version(group, version):
                    r: dict[str, Any] = {
                        "resource": info.plural,
                        "responseKind": {"group": group, "version": version, "kind": info.kind},
                        "scope": "Namespaced" if info.namespaced else "Cluster",
                        "singularResource": info.singular,
                        "verbs": list(info.verbs),
                    }
                    if info.short_names:
                        r["shortNames"] = list(info.short_names)
                    if info.categories:
                        r["categories"] = list(info.categories)
                    if info.subresources:
                        r["subresources"] = [
                            {
                                "subresource": sub.name,
                                "responseKind": {
                                    "group": sub.group if (sub.group or sub.version) else group,
                                    "version": sub.version or version,
                                    "kind": sub.kind,
                                },
                                "verbs": list(sub.verbs),
                            }
                            for sub in info.subresources
                        ]
                    resources.append(r)
                versions.append({"version": version, "resources": resources, "freshness": "Current"})
            meta: dict[str, Any] = {"creationTimestamp": None}
            if group:
                meta = {"name": group, "creationTimestamp": None}
            items.append({"metadata": meta, "versions": versions})
        return orjson.dumps(
            {
                "kind": "APIGroupDiscoveryList",
                "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {},
                "items": items,
            }
        )

    @cached_property
    def aggregated_api(self) -> bytes:
        return self._aggregated([""])

    @cached_property
    def aggregated_apis(self) -> bytes:
        return self._aggregated([g for g in self.routes.groups if g])
