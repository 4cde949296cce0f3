"""Status strategies: what a write to an object's ``/status`` subresource may change.

kube's ``*StatusStrategy.PrepareForUpdate`` (pkg/registry/*/strategy.go) keeps everything but the status
from the stored object, yet lets the write change the object's metadata (labels, annotations,
finalizers, owner references) unless the kind says otherwise: Deployments keep their labels, Pods
their owner references, and a few kinds (FlowSchema, PriorityLevelConfiguration,
ValidatingAdmissionPolicy, ServiceCIDR, StorageVersion, ResourceClaim, and every custom resource)
reset the whole metadata as ``metav1.ResetObjectMetaForStatus`` / the apiextensions status strategy do.
The server-owned metadata (uid, creationTimestamp, generation, ...) is restored by the caller afterwards.
"""

from __future__ import annotations

import copy
from typing import Any

from testserver.apiserver.resources import ResourceRoute

RESET_METADATA_FOR_STATUS: frozenset[tuple[str, str]] = frozenset(
    {
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("resource.k8s.io", "ResourceClaim"),
    }
)
"""Built-in kinds whose status writes change no metadata (``ResetObjectMetaForStatus`` or a full reset)."""

STATUS_RESET_METADATA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("labels",),
    ("", "Pod"): ("ownerReferences",),
}
"""Metadata fields a kind's status strategy takes from the stored object (deployment and pod strategy.go)."""

METADATA_RESET_FIELDS = ("labels", "annotations", "finalizers", "ownerReferences")
"""What ``metav1.ResetObjectMetaForStatus`` takes from the stored object besides the server-owned fields."""


def prepare_for_status_update(
    route: ResourceRoute, old: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """The object a ``/status`` write of ``new`` over the stored ``old`` stores (before the caller
    restores the server-owned metadata): ``old`` with ``new``'s status and the metadata the kind's
    status strategy lets through."""
    result = copy.deepcopy(old)
    if "status" in new and new["status"] is not None:
        result["status"] = new["status"]
    else:
        result.pop("status", None)
    nmeta = new.get("metadata")
    if not isinstance(nmeta, dict):
        return result
    ometa = result["metadata"]
    if route.custom is not None or (route.group, route.kind) in RESET_METADATA_FOR_STATUS:
        return result  # the whole stored metadata, managedFields as recorded by the caller
    meta = copy.deepcopy(nmeta)
    for field in STATUS_RESET_METADATA_FIELDS.get((route.group, route.kind), ()):
        if field in ometa:
            meta[field] = copy.deepcopy(ometa[field])
        else:
            meta.pop(field, None)
    if "managedFields" in ometa:
        meta["managedFields"] = copy.deepcopy(ometa["managedFields"])
    else:
        meta.pop("managedFields", None)
    result["metadata"] = meta
    return result
