"""What discovery learns, in one in-memory shape, and the parsers of every wire format (I/O-free).

The API server describes itself in two ways and clients must read both:

- legacy discovery: ``/api`` (``APIVersions``), ``/apis`` (``APIGroupList``), then one
  ``APIResourceList`` per group version (``/api/v1``, ``/apis/apps/v1``);
- aggregated discovery (``apidiscovery.k8s.io/v2``, also ``v2beta1``): ``/api`` and ``/apis`` answer
  an ``APIGroupDiscoveryList`` with every group, version and resource in one response, when asked
  with :data:`AGGREGATED_ACCEPT` and when the response's ``Content-Type`` says so.

Both become :class:`DiscoveredGroup` and :class:`DiscoveredResource` records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from pyclientgo.apimachinery.registry import (
    GroupVersionKind,
    GroupVersionResource,
    Registry,
    SubresourceInfo,
)

__all__ = [
    "AGGREGATED_ACCEPT",
    "DiscoveredGroup",
    "DiscoveredResource",
    "ServerResources",
    "VersionInfo",
    "group_version_path",
    "is_aggregated",
    "parse_aggregated_discovery",
    "parse_api_group_list",
    "parse_api_resource_list",
    "parse_api_versions",
    "parse_version",
    "resources_from_registry",
]

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
"""The ``Accept`` header kubectl sends to ``/api`` and ``/apis``: aggregated discovery, else legacy."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionInfo:
    """``GET /version``: the server's build."""

    major: str = ""
    minor: str = ""
    git_version: str = ""
    git_commit: str = ""
    git_tree_state: str = ""
    build_date: str = ""
    go_version: str = ""
    compiler: str = ""
    platform: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredGroup:
    """An API group and its versions; ``name`` is ``""`` for the legacy core group."""

    name: str
    versions: tuple[str, ...]
    """Versions served, the preferred one first."""
    preferred_version: str

    def group_versions(self) -> list[str]:
        return [f"{self.name}/{v}" if self.name else v for v in self.versions]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredResource:
    """One resource of one group version, as discovery describes it (subresources folded in)."""

    group: str
    version: str
    resource: str
    """Plural name used in URLs (``deployments``)."""
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = ""
    """Singular name (``deployment``); empty when the server did not say."""
    subresources: tuple[SubresourceInfo, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gvr(self) -> GroupVersionResource:
        return GroupVersionResource(self.group, self.version, self.resource)

    @property
    def gvk(self) -> GroupVersionKind:
        return GroupVersionKind(self.group, self.version, self.kind)

    def subresource(self, name: str) -> SubresourceInfo | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


@dataclass(frozen=True, slots=True)
class ServerResources:
    """Everything discovery found: groups in server order (core first) and their resources.

    ``failed`` maps group versions whose resources could not be fetched (or were reported stale)
    to the reason, as client-go's ``ErrGroupDiscoveryFailed`` does; the rest is still usable.
    """

    groups: tuple[DiscoveredGroup, ...]
    resources: tuple[DiscoveredResource, ...]
    failed: Mapping[str, str] = field(default_factory=dict)

    def for_group_version(self, group_version: str) -> list[DiscoveredResource]:
        return [r for r in self.resources if r.group_version == group_version]

    def has_group_version(self, group_version: str) -> bool:
        return any(group_version in g.group_versions() for g in self.groups)

    def preferred(self) -> list[DiscoveredResource]:
        """Resources of each group's preferred version only (``ServerPreferredResources``)."""
        preferred = {(g.name, g.preferred_version) for g in self.groups}
        return [r for r in self.resources if (r.group, r.version) in preferred]


def group_version_path(group: str, version: str) -> str:
    """``/api/v1`` for the core group, ``/apis/<group>/<version>`` otherwise."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


# -- parsing --------------------------------------------------------------------------------------


def _load(data: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise ValueError("a discovery document must be a JSON object")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _subresource(
    name: Any, kind: Any, group: Any, version: Any, verbs: Any, parent_group: str, parent_version: str
) -> SubresourceInfo:
    """A subresource; its kind's group and version are ``""`` when they are the parent's (as in the registry)."""
    group, version = str(group or ""), str(version or "")
    if group == parent_group and version == parent_version:
        group = version = ""
    return SubresourceInfo(
        name=str(name or ""), kind=str(kind or ""), group=group, version=version, verbs=_strings(verbs)
    )


def parse_version(data: bytes | Mapping[str, Any]) -> VersionInfo:
    """``/version``."""
    doc = _load(data)
    return VersionInfo(
        major=str(doc.get("major", "")),
        minor=str(doc.get("minor", "")),
        git_version=str(doc.get("gitVersion", "")),
        git_commit=str(doc.get("gitCommit", "")),
        git_tree_state=str(doc.get("gitTreeState", "")),
        build_date=str(doc.get("buildDate", "")),
        go_version=str(doc.get("goVersion", "")),
        compiler=str(doc.get("compiler", "")),
        platform=str(doc.get("platform", "")),
    )


def parse_api_versions(data: bytes | Mapping[str, Any]) -> DiscoveredGroup:
    """Legacy ``/api`` (``APIVersions``): the core group."""
    versions = _strings(_load(data).get("versions"))
    return DiscoveredGroup(name="", versions=versions, preferred_version=versions[0] if versions else "")


def parse_api_group_list(data: bytes | Mapping[str, Any]) -> list[DiscoveredGroup]:
    """Legacy ``/apis`` (``APIGroupList``); the preferred version is moved first."""
    groups = []
    for item in _load(data).get("groups") or ():
        versions = [str(v.get("version", "")) for v in item.get("versions") or ()]
        preferred = str((item.get("preferredVersion") or {}).get("version", "")) or (
            versions[0] if versions else ""
        )
        if preferred in versions:
            versions.remove(preferred)
            versions.insert(0, preferred)
        groups.append(
            DiscoveredGroup(
                name=str(item.get("name", "")), versions=tuple(versions), preferred_version=preferred
            )
        )
    return groups


def parse_api_resource_list(data: bytes | Mapping[str, Any]) -> list[DiscoveredResource]:
    """Legacy ``/api/v1`` or ``/apis/<group>/<version>`` (``APIResourceList``).

    Entries named ``parent/sub`` become :class:`~pyclientgo.apimachinery.registry.SubresourceInfo`
    of their parent.
    """
    doc = _load(data)
    group, _, version = str(doc.get("groupVersion", "")).rpartition("/")
    mains: list[dict[str, Any]] = []
    subs: dict[str, list[SubresourceInfo]] = {}
    for entry in doc.get("resources") or ():
        name = str(entry.get("name", ""))
        parent, slash, sub = name.partition("/")
        if slash:
            subs.setdefault(parent, []).append(
                _subresource(
                    sub,
                    entry.get("kind"),
                    entry.get("group"),
                    entry.get("version"),
                    entry.get("verbs"),
                    group,
                    version,
                )
            )
        else:
            mains.append(entry)
    return [
        DiscoveredResource(
            group=group,
            version=version,
            resource=str(entry["name"]),
            kind=str(entry.get("kind", "")),
            namespaced=bool(entry.get("namespaced", False)),
            verbs=_strings(entry.get("verbs")),
            short_names=_strings(entry.get("shortNames")),
            categories=_strings(entry.get("categories")),
            singular=str(entry.get("singularName", "") or ""),
            subresources=tuple(subs.get(str(entry["name"]), ())),
        )
        for entry in mains
    ]


def is_aggregated(content_type: str | None) -> bool:
    """Whether a response is an aggregated discovery document, judged by its ``Content-Type`` alone."""
    if not content_type:
        return False
    params: dict[str, str] = {}
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return (
        params.get("g") == "apidiscovery.k8s.io"
        and params.get("as") == "APIGroupDiscoveryList"
        and params.get("v") in ("v2", "v2beta1")
    )


def parse_aggregated_discovery(
    data: bytes | Mapping[str, Any],
) -> tuple[list[DiscoveredGroup], list[DiscoveredResource], dict[str, str]]:
    """An ``APIGroupDiscoveryList`` (aggregated discovery v2 or v2beta1).

    Returns the groups (versions in the server's preference order), their resources, and the group
    versions the server marked ``Stale`` (their resources are left out, as client-go does).
    """
    groups: list[DiscoveredGroup] = []
    resources: list[DiscoveredResource] = []
    stale: dict[str, str] = {}
    for item in _load(data).get("items") or ():
        group = str((item.get("metadata") or {}).get("name", "") or "")
        versions: list[str] = []
        for entry in item.get("versions") or ():
            version = str(entry.get("version", ""))
            versions.append(version)
            group_version = f"{group}/{version}" if group else version
            if entry.get("freshness") == "Stale":
                stale[group_version] = "the server reported this group version as stale"
                continue
            for res in entry.get("resources") or ():
                kind_ref = res.get("responseKind") or {}
                resources.append(
                    DiscoveredResource(
                        group=group,
                        version=version,
                        resource=str(res.get("resource", "")),
                        kind=str(kind_ref.get("kind", "")),
                        namespaced=res.get("scope") == "Namespaced",
                        verbs=_strings(res.get("verbs")),
                        short_names=_strings(res.get("shortNames")),
                        categories=_strings(res.get("categories")),
                        singular=str(res.get("singularResource", "") or ""),
                        subresources=tuple(
                            _subresource(
                                sub.get("subresource"),
                                (sub.get("responseKind") or {}).get("kind"),
                                (sub.get("responseKind") or {}).get("group"),
                                (sub.get("responseKind") or {}).get("version"),
                                sub.get("verbs"),
                                group,
                                version,
                            )
                            for sub in res.get("subresources") or ()
                        ),
                    )
                )
        groups.append(
            DiscoveredGroup(
                name=group, versions=tuple(versions), preferred_version=versions[0] if versions else ""
            )
        )
    return groups, resources, stale


def resources_from_registry(registry: Registry | Iterable[Any]) -> ServerResources:
    """Discovery records for a registry (the built-in resources), without asking a server."""
    infos = list(registry)
    resources = tuple(
        DiscoveredResource(
            group=info.group,
            version=info.version,
            resource=info.plural,
            kind=info.kind,
            namespaced=info.namespaced,
            verbs=tuple(info.verbs),
            short_names=tuple(info.short_names),
            categories=tuple(info.categories),
            singular=info.singular,
            subresources=tuple(info.subresources),
        )
        for info in infos
    )
    versions: dict[str, list[str]] = {}
    for res in resources:
        seen = versions.setdefault(res.group, [])
        if res.version not in seen:
            seen.append(res.version)
    groups = sorted(
        (DiscoveredGroup(name=g, versions=tuple(vs), preferred_version=vs[0]) for g, vs in versions.items()),
        key=lambda g: g.name != "",  # core first, then registry order
    )
    return ServerResources(groups=tuple(groups), resources=resources)
