"""I/O-free request building shared by the typed and dynamic clients, async and sync.

Everything a verb needs before it touches the network lives here: URL paths, query parameters
from keyword options, patch content types and bodies, and the ``DeleteOptions`` body. The
clients in ``_async/`` (and their generated ``_sync/`` twins) only call these and send.

Parameter values follow the REST client's rules: ``None`` is dropped and bools are written as
``"true"``/``"false"``, so every builder may return ``None`` for an option the caller left out.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import orjson

from pyclientgo.apimachinery.model import K8sModel, format_time, to_wire

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_CONTENT_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "Params",
    "PatchType",
    "Preconditions",
    "PropagationPolicy",
    "collection_path",
    "delete_collection_params",
    "delete_options_body",
    "encode_body",
    "encode_patch",
    "eviction_body",
    "group_version_path",
    "list_params",
    "log_params",
    "object_path",
    "patch_params",
    "watch_params",
    "write_params",
]

Params: TypeAlias = dict[str, str | int | bool | list[str] | None]
"""Query parameters as the REST client takes them (``None`` values are dropped)."""

PatchType: TypeAlias = Literal["strategic", "merge", "json", "apply"]
"""Which patch format a body is in."""

PropagationPolicy: TypeAlias = Literal["Orphan", "Background", "Foreground"]
"""How dependents are treated when their owner is deleted."""

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

PATCH_CONTENT_TYPES: dict[str, str] = {
    "strategic": STRATEGIC_MERGE_PATCH,
    "merge": MERGE_PATCH,
    "json": JSON_PATCH,
    "apply": APPLY_PATCH,
}
"""Patch type name → the ``Content-Type`` the API server expects for it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preconditions:
    """Conditions the object must meet for a delete to go ahead (``DeleteOptions.preconditions``)."""

    uid: str | None = None
    """The object's ``metadata.uid`` must equal this."""
    resource_version: str | None = None
    """The object's ``metadata.resourceVersion`` must equal this."""

    def to_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.uid is not None:
            out["uid"] = self.uid
        if self.resource_version is not None:
            out["resourceVersion"] = self.resource_version
        return out


# -- paths --------------------------------------------------------------------------------------


def group_version_path(group: str, version: str) -> str:
    """``/api/v1`` for the core group, ``/apis/<group>/<version>`` otherwise."""
    if not version:
        raise ValueError("an API version is required")
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def _segment(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what} must not be empty")
    if "/" in value or value in (".", ".."):
        raise ValueError(f"{what} {value!r} is not a valid path segment")
    return value


def collection_path(group: str, version: str, resource: str, namespace: str | None) -> str:
    """The collection URL: ``/api/v1/namespaces/ns/pods``, or ``/api/v1/pods`` without a namespace."""
    base = group_version_path(group, version)
    if namespace is not None:
        base += f"/namespaces/{_segment(namespace, 'namespace')}"
    return f"{base}/{_segment(resource, 'resource')}"


def object_path(
    group: str,
    version: str,
    resource: str,
    namespace: str | None,
    name: str,
    subresource: str | None = None,
) -> str:
    """One object's URL, optionally a subresource: ``/apis/apps/v1/namespaces/ns/deployments/d/scale``."""
    path = f"{collection_path(group, version, resource, namespace)}/{_segment(name, 'name')}"
    if subresource:
        path += f"/{_segment(subresource, 'subresource')}"
    return path


# -- query parameters ---------------------------------------------------------------------------


def list_params(
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int | None = None,
    continue_: str | None = None,
    resource_version: str | None = None,
    resource_version_match: str | None = None,
    timeout_seconds: int | None = None,
) -> Params:
    """Query parameters of a LIST."""
    return {
        "labelSelector": label_selector or None,
        "fieldSelector": field_selector or None,
        "limit": limit,
        "continue": continue_ or None,
        "resourceVersion": resource_version,
        "resourceVersionMatch": resource_version_match,
        "timeoutSeconds": timeout_seconds,
    }


def watch_params(
    *,
    resource_version: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int | None = None,
    allow_watch_bookmarks: bool = False,
    send_initial_events: bool | None = None,
    resource_version_match: str | None = None,
) -> Params:
    """Query parameters of a WATCH (``watch=true`` plus the list filters)."""
    return {
        "watch": True,
        "resourceVersion": resource_version,
        "labelSelector": label_selector or None,
        "fieldSelector": field_selector or None,
        "timeoutSeconds": timeout_seconds,
        "allowWatchBookmarks": True if allow_watch_bookmarks else None,
        "sendInitialEvents": send_initial_events,
        "resourceVersionMatch": resource_version_match,
    }


def write_params(
    *,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
) -> Params:
    """Query parameters of a create or an update (POST, PUT)."""
    return {
        "dryRun": "All" if dry_run else None,
        "fieldManager": field_manager,
        "fieldValidation": field_validation,
    }


def patch_params(
    patch_type: PatchType,
    *,
    field_manager: str | None = None,
    force: bool | None = None,
    dry_run: bool = False,
    field_validation: str | None = None,
) -> Params:
    """Query parameters of a PATCH. Server-side apply requires a field manager; ``force`` is apply-only."""
    if patch_type == "apply":
        if not field_manager:
            raise ValueError("server-side apply requires a field_manager")
    elif force is not None:
        raise ValueError("force is only valid for server-side apply (patch_type='apply')")
    params = write_params(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
    params["force"] = force
    return params


def delete_collection_params(
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int | None = None,
    continue_: str | None = None,
    resource_version: str | None = None,
    resource_version_match: str | None = None,
    timeout_seconds: int | None = None,
) -> Params:
    """Query parameters of a DELETE on a collection: the list filters."""
    return list_params(
        label_selector=label_selector,
        field_selector=field_selector,
        limit=limit,
        continue_=continue_,
        resource_version=resource_version,
        resource_version_match=resource_version_match,
        timeout_seconds=timeout_seconds,
    )


def log_params(
    *,
    container: str | None = None,
    follow: bool = False,
    previous: bool = False,
    since_seconds: int | None = None,
    since_time: _dt.datetime | str | None = None,
    timestamps: bool = False,
    tail_lines: int | None = None,
    limit_bytes: int | None = None,
) -> Params:
    """Query parameters of ``pods/log`` (only what was asked for, as kubectl sends them)."""
    if since_seconds is not None and since_time is not None:
        raise ValueError("at most one of since_seconds and since_time may be given")
    if isinstance(since_time, _dt.datetime):
        since_time = format_time(since_time)
    return {
        "container": container,
        "follow": True if follow else None,
        "previous": True if previous else None,
        "sinceSeconds": since_seconds,
        "sinceTime": since_time,
        "timestamps": True if timestamps else None,
        "tailLines": tail_lines,
        "limitBytes": limit_bytes,
    }


# -- bodies -------------------------------------------------------------------------------------


def encode_body(body: Any) -> bytes:
    """JSON bytes of a request body: a model (wire form), raw bytes/str as given, or JSON-ready data."""
    if isinstance(body, K8sModel):
        return body.to_json()
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return orjson.dumps(to_wire(body))


def encode_patch(patch: Any, patch_type: PatchType) -> tuple[bytes, str]:
    """The body and ``Content-Type`` of a PATCH.

    ``patch`` may be a dict (strategic, merge, apply), a list of operations (json), a model, or
    bytes/str sent as they are. Apply patches are sent as JSON, which is valid YAML.
    """
    try:
        content_type = PATCH_CONTENT_TYPES[patch_type]
    except KeyError:
        raise ValueError(
            f"unknown patch_type {patch_type!r}; expected one of {sorted(PATCH_CONTENT_TYPES)}"
        ) from None
    if patch_type == "json" and isinstance(patch, Mapping | K8sModel):
        raise TypeError("a JSON patch (RFC 6902) is a list of operations, not an object")
    return encode_body(patch), content_type


def delete_options_body(
    *,
    propagation_policy: PropagationPolicy | None = None,
    grace_period_seconds: int | None = None,
    preconditions: Preconditions | Mapping[str, Any] | K8sModel | None = None,
    dry_run: bool = False,
    orphan_dependents: bool | None = None,
) -> bytes | None:
    """A ``meta/v1 DeleteOptions`` body, or ``None`` when no option was set (no body is sent)."""
    options: dict[str, Any] = {}
    if propagation_policy is not None:
        options["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        options["gracePeriodSeconds"] = grace_period_seconds
    if preconditions is not None:
        if isinstance(preconditions, Preconditions):
            pre: dict[str, Any] = preconditions.to_dict()
        elif isinstance(preconditions, K8sModel):
            pre = preconditions.to_dict()
        else:
            pre = {"resourceVersion" if k == "resource_version" else k: v for k, v in preconditions.items()}
        if pre:
            options["preconditions"] = pre
    if dry_run:
        options["dryRun"] = ["All"]
    if orphan_dependents is not None:
        options["orphanDependents"] = orphan_dependents
    if not options:
        return None
    return orjson.dumps({"kind": "DeleteOptions", "apiVersion": "v1", **options})


def eviction_body(
    name: str,
    namespace: str,
    delete_options: Mapping[str, Any] | K8sModel | None = None,
) -> bytes:
    """A ``policy/v1 Eviction`` body for ``pods/<name>/eviction``."""
    body: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    if delete_options is not None:
        options = to_wire(delete_options)
        if options:
            body["deleteOptions"] = options
    return orjson.dumps(body)
