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

# metadata keys in the order kube-apiserver writes them
_META_ORDER = (
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
    for key in _META_ORDER:
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


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_in(seconds: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def generate_name(base: str) -> str:
    return base[:_MAX_GENERATED_BASE] + "".join(random.choices(_NAME_CHARS, k=5))


# -- managedFields (simplified FieldsV1) ---------------------------------------------------------

_META_OWNED = ("labels", "annotations", "finalizers", "ownerReferences")


def _fields_of(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {f"f:{k}": _fields_of(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict) and "name" in item and isinstance(item["name"], str):
                key = orjson.dumps({"name": item["name"]}).decode()
                out[f"k:{key}"] = {".": {}, **_fields_of(item)}
            elif isinstance(item, str | int | float | bool):
                out[f"v:{orjson.dumps(item).decode()}"] = {}
            else:
                return {}  # an atomic list: owned as a whole
        return out
    return {}


def fields_v1(obj: dict[str, Any], *, status_only: bool = False) -> dict[str, Any]:
    """The set of fields ``obj`` sets, in FieldsV1 form.

    Simplified: maps recurse, lists of objects with a ``name`` are keyed by it (``k:{"name":…}``),
    lists of scalars become sets (``v:…``), other lists are atomic.
    """
    if status_only:
        status = obj.get("status")
        return {"f:status": _fields_of(status)} if isinstance(status, dict) else {}
    out: dict[str, Any] = {}
    meta = obj.get("metadata") or {}
    meta_fields = {f"f:{k}": _fields_of(meta[k]) for k in _META_OWNED if meta.get(k)}
    if meta_fields:
        out["f:metadata"] = meta_fields
    for key, value in obj.items():
        if key in ("kind", "apiVersion", "metadata", "status"):
            continue
        out[f"f:{key}"] = _fields_of(value)
    return out


def record_managed_fields(
    obj: dict[str, Any],
    old_entries: list[dict[str, Any]] | None,
    *,
    manager: str,
    operation: str,
    api_version: str,
    subresource: str = "",
) -> None:
    """Set ``metadata.managedFields``: ``manager`` now owns what it wrote (replacing its old entry)."""
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
    entries = [
        e
        for e in (old_entries or [])
        if not (
            e.get("manager") == manager
            and e.get("operation") == operation
            and e.get("subresource", "") == subresource
        )
    ]
    entries.append(entry)
    obj["metadata"]["managedFields"] = entries


def manager_from(field_manager: str, user_agent: str) -> str:
    if field_manager:
        return field_manager
    # kube: the User-Agent's program name (up to the first "/"), e.g. "kubectl-edit" or "kubectl"
    agent = user_agent.split("/", 1)[0] if user_agent else ""
    return agent[:128] or "unknown"
