"""The calls the generic REST code makes for custom resources and for CRDs themselves.

Each is one line at its call site in :mod:`testserver.apiserver.rest`; built-in resources pay one
attribute test (``route.custom is None``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from testserver.apiserver import status as st
from testserver.apiserver.crd.definition import (
    CLEANUP_FINALIZER,
    apply_crd_defaults,
    initial_status,
    storage_version,
    validate_crd,
)
from testserver.apiserver.resources import ResourceRoute

if TYPE_CHECKING:
    from testserver.apiserver.rest import RestHandler

__all__ = ["admit", "check_create", "check_patch_type", "on_delete", "strict_error", "unknown_fields"]

_CRD_GROUP = "apiextensions.k8s.io"
_STRATEGIC = "application/strategic-merge-patch+json"


def _is_crd(route: ResourceRoute) -> bool:
    return route.kind == "CustomResourceDefinition" and route.group == _CRD_GROUP


async def check_create(rest: RestHandler, route: ResourceRoute) -> None:
    """POST of a custom resource whose CRD is being deleted: 405 MethodNotAllowed, as kube's
    ``crdHandler.serveResource`` answers once the CRD is terminating (other verbs still work, so
    clients can clean up). Read from storage, so every API server on the same backend agrees as
    soon as the CRD's deletion starts (``deletionTimestamp`` set, or ``Terminating`` True)."""
    custom = route.custom
    if custom is None:
        return
    crd_route = rest.routes.get(_CRD_GROUP, "v1", "customresourcedefinitions")
    if crd_route is None:
        return
    kv = await rest.storage.get(crd_route.key(None, custom.crd_name))
    if kv is None:
        return
    crd = orjson.loads(kv.value)
    terminating = bool((crd.get("metadata") or {}).get("deletionTimestamp")) or any(
        isinstance(c, dict) and c.get("type") == "Terminating" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or []
    )
    if terminating:
        err = st.method_not_supported(route.plural, "create", route.group)
        err.status["message"] = "create not allowed while custom resource definition is terminating"
        raise err


def admit(route: ResourceRoute, obj: dict[str, Any], old: dict[str, Any] | None, sub: str = "") -> None:
    """Before validation of a create (``old`` None) or update: custom resources are pruned,
    defaulted and checked against their schema; CRDs are defaulted and validated. 422 on errors."""
    custom = route.custom
    if custom is not None:
        if sub != "finalize":
            custom.admit(obj, old, sub)
        return
    if not _is_crd(route) or sub in ("status", "finalize"):
        return
    apply_crd_defaults(obj)
    causes = validate_crd(obj, old)
    if causes:
        name = (obj.get("metadata") or {}).get("name") or ""
        err = st.invalid(f"CustomResourceDefinition.{_CRD_GROUP}", name, causes, _CRD_GROUP)
        err.status["details"]["kind"] = "CustomResourceDefinition"
        raise err
    if old is None:
        obj["status"] = initial_status(obj)
    else:
        status = obj.setdefault("status", {})
        stored = list(status.get("storedVersions") or [])
        current = storage_version(obj)
        if current and current not in stored:
            stored.append(current)
        status["storedVersions"] = stored


def unknown_fields(route: ResourceRoute, obj: dict[str, Any]) -> list[str] | None:
    """The fields a custom resource's schema would prune from ``obj``; None for other resources."""
    custom = route.custom
    if custom is None:
        return None
    fields: list[str] = custom.unknown_fields(obj)
    return fields


def strict_error(route: ResourceRoute, unknown: list[str]) -> st.StatusError:
    """fieldValidation=Strict on a custom resource: kube's decoding error."""
    msgs = ", ".join(f'unknown field "{u}"' for u in unknown)
    version = route.api_version.rpartition("/")[2]
    return st.bad_request(
        f'{route.kind} in version "{version}" cannot be handled as a {route.kind}: strict decoding error: {msgs}'
    )


def check_patch_type(route: ResourceRoute, content_type: str) -> None:
    """Strategic merge patch needs a Go struct's patch metadata: custom resources answer 415."""
    if route.custom is not None and content_type == _STRATEGIC:
        raise st.StatusError(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                "reason": "UnsupportedMediaType",
                "code": 415,
            }
        )


def on_delete(route: ResourceRoute, obj: dict[str, Any], finalizers: list[str]) -> None:
    """Deleting a CRD: add the cleanup finalizer (the CRD controller removes the instances first)."""
    deleting = bool((obj.get("metadata") or {}).get("deletionTimestamp"))
    if _is_crd(route) and not deleting and CLEANUP_FINALIZER not in finalizers:
        finalizers.append(CLEANUP_FINALIZER)
