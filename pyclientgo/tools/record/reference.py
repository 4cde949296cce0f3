"""``ObjectReference`` of an object, as events and owner lookups need it (client-go ``reference.GetReference``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyclientgo.apimachinery.model import K8sModel

__all__ = ["object_reference"]


def object_reference(obj: K8sModel | Mapping[str, Any]) -> dict[str, Any]:
    """``{kind, apiVersion, name, namespace, uid, resourceVersion}`` of a typed model or a dict.

    Raises ``ValueError`` when the kind is unknown (a model that is not a top-level kind and carries
    no ``kind``).
    """
    if isinstance(obj, K8sModel):
        data = obj.to_dict()
        kind = data.get("kind") or getattr(type(obj), "KIND", "")
        api_version = data.get("apiVersion") or getattr(type(obj), "API_VERSION", "")
    else:
        data = dict(obj)
        kind, api_version = data.get("kind", ""), data.get("apiVersion", "")
    if not kind:
        raise ValueError("object has no kind")
    meta = data.get("metadata") or {}
    ref: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    for src, dst in (
        ("namespace", "namespace"),
        ("name", "name"),
        ("uid", "uid"),
        ("resourceVersion", "resourceVersion"),
    ):
        if meta.get(src):
            ref[dst] = meta[src]
    return ref
