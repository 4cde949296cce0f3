"""Object metadata accessors for typed models and plain dicts alike (client-go's ``meta.Accessor``).

Informers hold either typed models (:class:`pyclientgo.apimachinery.model.K8sObject`, attribute access
``obj.metadata.name``) or plain dicts from the dynamic client (``obj["metadata"]["name"]``). Every part
of :mod:`pyclientgo.tools.cache` reads metadata through these functions, which touch only
``.metadata`` of a lazily decoded model: the rest of the object stays undecoded.

Missing values read as ``""`` (strings) or an empty mapping (labels, annotations), as Go's zero values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "object_annotations",
    "object_deletion_timestamp",
    "object_labels",
    "object_meta",
    "object_name",
    "object_namespace",
    "object_uid",
    "resource_version",
]

_EMPTY: Mapping[str, str] = {}


def object_meta(obj: Any) -> Any:
    """The object's metadata (an ObjectMeta model, a dict, or ``None`` when absent)."""
    if isinstance(obj, Mapping):
        return obj.get("metadata")
    return getattr(obj, "metadata", None)


def _field(obj: Any, attr: str, wire: str) -> Any:
    meta = object_meta(obj)
    if meta is None:
        return None
    if isinstance(meta, Mapping):
        return meta.get(wire)
    return getattr(meta, attr, None)


def _str(obj: Any, attr: str, wire: str) -> str:
    value = _field(obj, attr, wire)
    return "" if value is None else str(value)


def object_name(obj: Any) -> str:
    """``metadata.name`` ("" when unset)."""
    return _str(obj, "name", "name")


def object_namespace(obj: Any) -> str:
    """``metadata.namespace`` ("" when unset, i.e. cluster-scoped)."""
    return _str(obj, "namespace", "namespace")


def resource_version(obj: Any) -> str:
    """``metadata.resourceVersion`` ("" when unset)."""
    return _str(obj, "resource_version", "resourceVersion")


def object_uid(obj: Any) -> str:
    """``metadata.uid`` ("" when unset)."""
    return _str(obj, "uid", "uid")


def object_labels(obj: Any) -> Mapping[str, str]:
    """``metadata.labels`` (an empty mapping when unset)."""
    value = _field(obj, "labels", "labels")
    return _EMPTY if value is None else value


def object_annotations(obj: Any) -> Mapping[str, str]:
    """``metadata.annotations`` (an empty mapping when unset)."""
    value = _field(obj, "annotations", "annotations")
    return _EMPTY if value is None else value


def object_deletion_timestamp(obj: Any) -> Any:
    """``metadata.deletionTimestamp`` (a datetime for models, a string for dicts, ``None`` when unset)."""
    return _field(obj, "deletion_timestamp", "deletionTimestamp")
