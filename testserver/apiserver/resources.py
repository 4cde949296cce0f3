"""What the server serves: one :class:`ResourceRoute` per resource of the registry, and path parsing.

Routes are computed once per resource (storage prefix, kinds, subresources, selectable fields) so
the request hot path does dictionary lookups only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyclientgo.apimachinery import fields as field_selectors
from pyclientgo.apimachinery.registry import Registry, ResourceInfo
from testserver.apiserver.registry.event_versions import (
    EVENTS_FIELD_LABELS,
    EventVersionView,
    events_field_set,
    to_core_event,
)
from testserver.storage.keys import key_for, prefix_for, storage_resource

__all__ = ["RequestInfo", "ResourceRoute", "Routes", "parse_path"]

# Core kinds whose objects carry no metadata.generation (kube 1.32 strategies do not set it).
_NO_GENERATION = frozenset(
    {
        "Pod",
        "Service",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Endpoints",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Event",
        "Lease",
        "LimitRange",
        "ResourceQuota",
        "PodTemplate",
        "Binding",
        "ComponentStatus",
    }
)
# Kinds that PUT may create (AllowCreateOnUpdate in their registry strategies).
_CREATE_ON_UPDATE = frozenset({"Endpoints", "Event", "Lease", "EndpointSlice"})
# Kinds whose DELETE returns the object rather than a Status (ReturnDeletedObject).
_RETURN_DELETED = frozenset({"Pod", "Namespace", "CustomResourceDefinition"})


@dataclass(slots=True, eq=False)
class ResourceRoute:
    info: ResourceInfo
    storage_resource: str
    kind: str
    api_version: str
    list_kind: str
    namespaced: bool
    plural: str
    group: str
    subresources: dict[str, Any]
    verbs: frozenset[str]
    has_generation: bool
    create_on_update: bool
    return_deleted: bool
    _fields: frozenset[str] | None = field(default=None)
    list_head: bytes = b""
    custom: Any = None
    """A custom resource's served version (``testserver.apiserver.crd.routes.CustomVersion``), else None."""
    version_view: Any = None
    """For a built-in kind whose versions share one storage (Event: core v1 and events.k8s.io/v1),
    the :class:`~testserver.apiserver.registry.event_versions.EventVersionView` that reads stored
    objects in this route's version; None otherwise."""

    @property
    def reader(self) -> Any:
        """What converts stored objects to this route's version on read (``read(kv)``,
        ``read_bytes(value)``), or None when they are stored as served."""
        return self.custom if self.custom is not None else self.version_view

    def key(self, namespace: str | None, name: str) -> str:
        return key_for(self.storage_resource, namespace if self.namespaced else None, name)

    def prefix(self, namespace: str | None) -> str:
        return prefix_for(self.storage_resource, namespace if self.namespaced else None)

    @property
    def selectable_fields(self) -> frozenset[str]:
        if self._fields is None:
            if self.version_view is not None and self.group == "events.k8s.io":
                self._fields = frozenset(EVENTS_FIELD_LABELS)
            else:
                self._fields = field_selectors.supported_fields(self.kind, namespaced=self.namespaced)
        return self._fields

    def object_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        if self.version_view is not None:  # Events select by their core v1 fields in both groups
            core = field_selectors.object_field_set(self.kind, to_core_event(obj), namespaced=self.namespaced)
            return events_field_set(core) if self.group == "events.k8s.io" else core
        return field_selectors.object_field_set(self.kind, obj, namespaced=self.namespaced)


class Routes:
    """Resource routes by (group, version, plural), built from a :class:`Registry`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.by_gvr: dict[tuple[str, str, str], ResourceRoute] = {}
        self.by_kind: dict[tuple[str, str], ResourceRoute] = {}
        # (group, plural) → every version; versions of one resource share storage only when there
        # is one version (no conversion yet): otherwise each version gets its own segment.
        versions: dict[tuple[str, str], list[ResourceInfo]] = {}
        for info in registry:
            versions.setdefault((info.group, info.plural), []).append(info)
        for info in registry:
            segment = storage_resource(info.plural, info.group)
            if (
                len(versions[(info.group, info.plural)]) > 1
                and info is not versions[(info.group, info.plural)][0]
            ):
                segment = f"{segment}.{info.version}"
            route = ResourceRoute(
                info=info,
                storage_resource=segment,
                kind=info.kind,
                api_version=info.group_version,
                list_kind=info.list_kind,
                namespaced=info.namespaced,
                plural=info.plural,
                group=info.group,
                subresources={s.name: s for s in info.subresources},
                verbs=frozenset(info.verbs),
                has_generation=info.kind not in _NO_GENERATION,
                create_on_update=info.kind in _CREATE_ON_UPDATE,
                return_deleted=info.kind in _RETURN_DELETED,
            )
            if info.kind == "Event" and info.group in ("", "events.k8s.io"):
                route.version_view = EventVersionView(info.group_version)
            route.list_head = (
                b'{"kind":"'
                + info.list_kind.encode()
                + b'","apiVersion":"'
                + info.group_version.encode()
                + b'","metadata":'
            )
            self.by_gvr[(info.group, info.version, info.plural)] = route
            self.by_kind.setdefault((info.group, info.kind), route)
        self.groups: dict[str, list[str]] = {}
        for group, version in registry.group_versions():
            self.groups.setdefault(group, []).append(version)

    def get(self, group: str, version: str, plural: str) -> ResourceRoute | None:
        return self.by_gvr.get((group, version, plural))

    def namespaced_routes(self) -> list[ResourceRoute]:
        seen: dict[str, ResourceRoute] = {}
        for route in self.by_gvr.values():
            if route.namespaced:
                seen.setdefault(route.storage_resource, route)
        return list(seen.values())


_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(slots=True)
class RequestInfo:
    """A resource request's coordinates, as kube's RequestInfoFactory derives them."""

    group: str
    version: str
    resource: str
    namespace: str
    name: str
    subresource: str
    watch_path: bool


def parse_path(parts: list[str]) -> RequestInfo | None:
    """``parts``: the path split on ``/`` without the leading empty part, e.g. ``["api","v1","pods"]``.

    Returns ``None`` when the path is not a resource path (discovery paths are handled before).
    """
    if parts[0] == "api":
        if len(parts) < 3:
            return None
        group, version, rest = "", parts[1], parts[2:]
    else:  # "apis"
        if len(parts) < 4:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    watch_path = False
    if rest[0] == "watch":
        watch_path = True
        rest = rest[1:]
        if not rest:
            return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    if not rest or len(rest) > 3 or any(not p for p in rest):
        return None
    return RequestInfo(
        group=group,
        version=version,
        resource=rest[0],
        namespace=namespace,
        name=rest[1] if len(rest) > 1 else "",
        subresource=rest[2] if len(rest) > 2 else "",
        watch_path=watch_path,
    )
