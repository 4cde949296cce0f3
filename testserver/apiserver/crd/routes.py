"""What one served version of a CRD adds to the server: a :class:`CustomRoute` (a
:class:`~testserver.apiserver.resources.ResourceRoute` whose ``custom`` is a :class:`CustomVersion`),
its registry entry, and how its objects are admitted, read, scaled and selected.

All versions of one CRD share one storage segment (``/registry/<group>/<plural>/...``); objects are
converted between versions by rewriting ``apiVersion`` (conversion strategy ``None``), and are
defaulted again when read (a default added to the schema later shows up on old objects).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import orjson

from pyclientgo.apimachinery.registry import ResourceInfo, SubresourceInfo
from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.crd.defaulting import apply_defaults, has_defaults
from testserver.apiserver.crd.pruning import prune
from testserver.apiserver.crd.validation import validate
from testserver.apiserver.resources import ResourceRoute
from testserver.storage.keys import storage_resource
from testserver.storage.model import KeyValue

__all__ = ["CUSTOM_VERBS", "CustomRoute", "CustomVersion", "build_routes", "simple_path"]

CUSTOM_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
_SUB_VERBS = ("get", "patch", "update")


def simple_path(path: str) -> list[str]:
    """``.spec.replicas`` → ``["spec", "replicas"]`` (the JSON paths CRDs use for scale and fields)."""
    return [p for p in path.strip().lstrip("$").split(".") if p]


def _get(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _set(obj: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = obj[part] = {}
        obj = nxt
    obj[parts[-1]] = value


def _field_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return None


@dataclass(slots=True, eq=False, kw_only=True)
class CustomVersion:
    """One served version of a CRD: its schema and the per-version CRD settings."""

    crd_name: str
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    schema: dict[str, Any] | None
    printer_columns: list[dict[str, Any]] = field(default_factory=list)
    selectable: dict[str, list[str]] = field(default_factory=dict)
    """Field label (``spec.color``) → path parts, from ``selectableFields``."""
    scale: dict[str, Any] | None = None
    has_status: bool = False
    defaults: bool = False
    api_version: str = ""
    _av_marker: bytes = b""

    def __post_init__(self) -> None:
        self.api_version = f"{self.group}/{self.version}"
        self._av_marker = b'"apiVersion":"' + self.api_version.encode() + b'"'
        self.defaults = has_defaults(self.schema)

    # -- reads -----------------------------------------------------------------------------------

    def read_bytes(self, value: bytes) -> bytes:
        """Stored bytes → this version's bytes (apiVersion rewritten, defaults applied)."""
        if not self.defaults and ob.stored_in_version(value, self._av_marker):
            return value
        obj = orjson.loads(value)
        obj["apiVersion"] = self.api_version
        if self.defaults:
            apply_defaults(obj, self.schema)
        return ob.encode_for_storage(obj)

    def read(self, kv: KeyValue) -> KeyValue:
        value = self.read_bytes(kv.value)
        if value is kv.value:
            return kv
        return KeyValue(kv.key, value, kv.create_revision, kv.mod_revision)

    # -- writes ----------------------------------------------------------------------------------

    def unknown_fields(self, obj: dict[str, Any]) -> list[str]:
        """The fields pruning would drop from ``obj`` (reported by fieldValidation Warn/Strict)."""
        return prune(copy.deepcopy(obj), self.schema)

    def admit(self, obj: dict[str, Any], old: dict[str, Any] | None, sub: str) -> None:
        """Prune, default and validate a write (create/update/status/scale) in place; 422 on errors."""
        prune(obj, self.schema)
        apply_defaults(obj, self.schema)
        prune(obj, self.schema)
        causes = validate(obj, self.schema)
        if causes:
            name = (
                (obj.get("metadata") or {}).get("name")
                or (obj.get("metadata") or {}).get("generateName")
                or ""
            )
            err = st.invalid(f"{self.kind}.{self.group}", name, causes, self.group)
            err.status["details"]["kind"] = self.kind
            raise err

    # -- scale -----------------------------------------------------------------------------------

    def scale_of(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as an ``autoscaling/v1`` Scale, by the CRD's replica and selector paths."""
        scale = self.scale or {}
        meta = obj.get("metadata") or {}
        spec_replicas = _get(obj, simple_path(str(scale.get("specReplicasPath", ".spec.replicas"))))
        status_replicas = _get(obj, simple_path(str(scale.get("statusReplicasPath", ".status.replicas"))))
        status: dict[str, Any] = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
        if scale.get("labelSelectorPath"):
            selector = _get(obj, simple_path(str(scale["labelSelectorPath"])))
            if isinstance(selector, str) and selector:
                status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": spec_replicas if isinstance(spec_replicas, int) else 0},
            "status": status,
        }

    def set_replicas(self, obj: dict[str, Any], replicas: int) -> None:
        path = simple_path(str((self.scale or {}).get("specReplicasPath", ".spec.replicas")))
        if path:
            _set(obj, path, replicas)

    # -- field selectors -------------------------------------------------------------------------

    def object_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        out = {"metadata.name": str(meta.get("name", ""))}
        if self.namespaced:
            out["metadata.namespace"] = str(meta.get("namespace", ""))
        for label, parts in self.selectable.items():
            value = _field_value(_get(obj, parts))
            out[label] = value if value is not None else ""
        return out


@dataclass(slots=True, eq=False)
class CustomRoute(ResourceRoute):
    """A route serving one version of a custom resource (``custom`` is its :class:`CustomVersion`)."""

    def object_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        assert self.custom is not None
        fields: dict[str, str] = self.custom.object_fields(obj)
        return fields


def _version_info(crd: dict[str, Any], version: dict[str, Any], names: dict[str, Any]) -> ResourceInfo:
    spec = crd["spec"]
    subs: list[SubresourceInfo] = []
    subresources = version.get("subresources") or {}
    kind = str(names["kind"])
    if isinstance(subresources, dict):
        if "status" in subresources:
            subs.append(SubresourceInfo(name="status", kind=kind, verbs=_SUB_VERBS))
        if isinstance(subresources.get("scale"), dict):
            subs.append(
                SubresourceInfo(
                    name="scale", kind="Scale", group="autoscaling", version="v1", verbs=_SUB_VERBS
                )
            )
    return ResourceInfo(
        group=str(spec["group"]),
        version=str(version["name"]),
        kind=kind,
        plural=str(names["plural"]),
        singular=str(names.get("singular") or kind.lower()),
        namespaced=spec.get("scope") == "Namespaced",
        verbs=CUSTOM_VERBS,
        list_kind=str(names.get("listKind") or kind + "List"),
        model="",
        list_model="",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=tuple(subs),
    )


def build_routes(crd: dict[str, Any], names: dict[str, Any]) -> list[CustomRoute]:
    """One route per served version of ``crd``, named by ``names`` (its accepted names)."""
    out: list[CustomRoute] = []
    spec = crd["spec"]
    for version in spec.get("versions") or []:
        if not isinstance(version, dict) or not version.get("served"):
            continue
        info = _version_info(crd, version, names)
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        selectable = {}
        for item in version.get("selectableFields") or []:
            parts = simple_path(str(item.get("jsonPath", "")))
            if parts:
                selectable[".".join(parts)] = parts
        subresources = version.get("subresources") or {}
        custom = CustomVersion(
            crd_name=str(crd["metadata"]["name"]),
            group=info.group,
            version=info.version,
            kind=info.kind,
            plural=info.plural,
            namespaced=info.namespaced,
            schema=schema if isinstance(schema, dict) else None,
            printer_columns=list(version.get("additionalPrinterColumns") or []),
            selectable=selectable,
            scale=subresources.get("scale") if isinstance(subresources.get("scale"), dict) else None,
            has_status="status" in subresources,
        )
        fields = {"metadata.name", *selectable}
        if info.namespaced:
            fields.add("metadata.namespace")
        route = CustomRoute(
            info=info,
            storage_resource=storage_resource(info.plural, info.group),
            kind=info.kind,
            api_version=info.group_version,
            list_kind=info.list_kind,
            namespaced=info.namespaced,
            plural=info.plural,
            group=info.group,
            subresources={s.name: s for s in info.subresources},
            verbs=frozenset(info.verbs),
            has_generation=True,
            create_on_update=False,
            return_deleted=False,
            custom=custom,
        )
        route._fields = frozenset(fields)
        route.list_head = (
            b'{"kind":"'
            + info.list_kind.encode()
            + b'","apiVersion":"'
            + info.group_version.encode()
            + b'","metadata":'
        )
        out.append(route)
    return out
