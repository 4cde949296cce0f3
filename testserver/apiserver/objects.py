"""Object encoding and the metadata the server owns: uid, timestamps, resourceVersion, generation,
generateName, managedFields.

Objects are stored as JSON bytes *without* a resourceVersion value: the stored bytes carry the
placeholder ``"resourceVersion":""`` as the first ``resourceVersion`` key (metadata is written
right after kind/apiVersion, and resourceVersion before any nested object), and reads splice the
storage revision in (:func:`with_rv`) — one C-level ``bytes.replace`` instead of a decode/encode.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import orjson

__all__ = [
    "META_FIELD_ORDER",
    "RV_PLACEHOLDER",
    "decode",
    "encode_for_storage",
    "fields_v1",
    "generate_name",
    "now_rfc3339",
    "with_rv",
]

RV_PLACEHOLDER = b'"resourceVersion":""'
_RV_FMT = b'"resourceVersion":"%d"'
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATED_BASE = 58

META_FIELD_ORDER = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
"""``ObjectMeta``'s fields (except the obsolete ``selfLink``) in the order kube-apiserver writes them."""


def with_rv(value: bytes, revision: int) -> bytes:
    """Stored bytes → wire bytes with ``metadata.resourceVersion`` = ``revision``."""
    return value.replace(RV_PLACEHOLDER, _RV_FMT % revision, 1)


def decode(value: bytes, revision: int) -> dict[str, Any]:
    obj: dict[str, Any] = orjson.loads(value)
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj


def encode_for_storage(obj: dict[str, Any]) -> bytes:
    """Serialise with kube's key order and the resourceVersion placeholder."""
    meta = obj.get("metadata") or {}
    ordered_meta: dict[str, Any] = {}
    for key in META_FIELD_ORDER:
        if key == "resourceVersion":
            ordered_meta[key] = ""
        elif key in meta:
            ordered_meta[key] = meta[key]
    for key, value in meta.items():
        if key not in ordered_meta:
            ordered_meta[key] = value
    out: dict[str, Any] = {
        "kind": obj.get("kind"),
        "apiVersion": obj.get("apiVersion"),
        "metadata": ordered_meta,
    }
    for key, value in obj.items():
        if key not in out:
            out[key] = value
    return orjson.dumps(out)


def stored_in_version(value: bytes, api_version_field: bytes) -> bool:
    """Whether stored bytes are in the version ``api_version_field`` (``b'"apiVersion":"v1"'``).

    :func:`encode_for_storage` writes ``kind`` and ``apiVersion`` first, so the first ``apiVersion``
    is the object's own (not one of an ownerReference's or a managedFields entry's)."""
    at = value.find(b'"apiVersion":"')
    return at >= 0 and value.startswith(api_version_field, at)


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_in(seconds: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def generate_name(base: str) -> str:
    return base[:_MAX_GENERATED_BASE] + "".join(random.choices(_NAME_CHARS, k=5))


# -- managedFields of server-made objects ---------------------------------------------------------
# (request writes record theirs through testserver.apiserver.patching)


def _schema_of(obj: dict[str, Any]) -> Any:
    from pyclientgo.api import builtin_registry
    from pyclientgo.apimachinery.registry import GroupVersionKind
    from pyclientgo.apimachinery.structured_schema import UNTYPED, schema_from_model

    try:
        gvk = GroupVersionKind.from_api_version(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
        info = builtin_registry().for_kind(gvk)
        return schema_from_model(info.load_model()) if info is not None else UNTYPED
    except Exception:  # no generated model: fields deduced from the object
        return UNTYPED


def fields_v1(obj: dict[str, Any], *, status_only: bool = False) -> dict[str, Any]:
    """The FieldsV1 of the fields ``obj`` sets (all but status, or the status only)."""
    from pyclientgo.apimachinery.managed_fields import strip_meta
    from pyclientgo.apimachinery.structured_merge import to_field_set

    fields = strip_meta(to_field_set(obj, _schema_of(obj)))
    doc = fields.to_fields_v1()
    if status_only:
        return {"f:status": doc["f:status"]} if "f:status" in doc else {}
    doc.pop("f:status", None)
    return doc


def record_managed_fields(
    obj: dict[str, Any],
    old_entries: list[dict[str, Any]] | None,
    *,
    manager: str,
    operation: str,
    api_version: str,
    subresource: str = "",
) -> None:
    """Set ``metadata.managedFields`` of a server-made object: ``manager`` owns what it set.

    For objects the server writes itself (bootstrap namespaces, system objects); request writes go
    through :mod:`testserver.apiserver.patching` (kube's full field-manager rules).
    """
    from pyclientgo.apimachinery import managed_fields as mf

    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_v1(obj, status_only=subresource == "status"),
    }
    if subresource:
        entry["subresource"] = subresource
    ident = (manager, operation, subresource, api_version if operation == "Update" else "")
    try:
        others = [m for m in mf.decode_managed_fields(old_entries) if m.identity != ident]
    except mf.ManagedFieldsError:
        others = []
    obj["metadata"]["managedFields"] = [*mf.encode_managed_fields(others), entry]


def manager_from(field_manager: str, user_agent: str) -> str:
    if field_manager:
        return field_manager
    # kube: the User-Agent's program name (up to the first "/"), e.g. "kubectl-edit" or "kubectl"
    agent = user_agent.split("/", 1)[0] if user_agent else ""
    return agent[:128] or "unknown"
