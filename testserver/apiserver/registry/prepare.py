"""What the registry strategies do around validation: ``PrepareForCreate`` (initial status,
generated selectors) and ``PrepareForUpdate`` (values the server allocated carried over)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery.quantity import QuantityParseError
from pyclientgo.component_helpers.qos import compute_pod_qos
from testserver.apiserver.registry.values import as_dict

__all__ = ["initial_status", "keeps_status_on_create", "prepare_create", "prepare_update", "qos_class"]

# Kinds whose PrepareForCreate keeps the status the client sent (kube's pkg/registry/*/strategy.go):
# the kubelet registers its Node with capacity, allocatable, addresses and conditions. Every other
# built-in kind with a status subresource resets it on create (Pods to Pending, Namespaces to
# Active, the rest to empty), and so do custom resources whose CRD enables /status.
_KEEPS_STATUS_ON_CREATE = frozenset({("", "Node")})


def keeps_status_on_create(kind: str, group: str) -> bool:
    """Whether a create of (group, kind) stores the status sent with it."""
    return (group, kind) in _KEEPS_STATUS_ON_CREATE


_EMPTY_STATUS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("networking.k8s.io", "Ingress"),
        ("policy", "PodDisruptionBudget"),
    }
)


def qos_class(pod: dict[str, Any]) -> str:
    """The pod's ``status.qosClass`` (kube's ``qos.GetPodQOS``, via the SDK's ``compute_pod_qos``).

    Only the resources are read. This runs before validation: a pod whose resources do not even
    parse gets ``BestEffort`` here and is then rejected by validation with the precise error.
    """
    spec = as_dict(pod.get("spec"))
    part: dict[str, Any] = {}
    for key in ("containers", "initContainers"):
        part[key] = [
            {"name": c.get("name"), "resources": c.get("resources")}
            for c in spec.get(key) or []
            if isinstance(c, dict) and isinstance(c.get("resources"), dict)
        ]
    try:
        return compute_pod_qos(Pod.from_dict({"spec": part}))
    except (PydanticValidationError, QuantityParseError):
        return "BestEffort"


def initial_status(kind: str, group: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The status a new built-in object starts with (user-supplied status is dropped on create);
    None for kinds without one and for custom resources."""
    core = group == ""
    if core and kind == "Pod":
        return {"phase": "Pending", "qosClass": qos_class(obj)}
    if core and kind == "Namespace":
        return {"phase": "Active"}
    if core and kind == "Service":
        return {"loadBalancer": {}}
    if core and kind in ("PersistentVolumeClaim", "PersistentVolume"):
        return {"phase": "Pending"}
    if (group, kind) in (("apps", "ReplicaSet"), ("", "ReplicationController")):
        return {"replicas": 0}
    if (group, kind) == ("apps", "StatefulSet"):
        return {"replicas": 0, "availableReplicas": 0}
    if (group, kind) in _EMPTY_STATUS:
        return {}
    return None


def _job_selector(obj: dict[str, Any]) -> None:
    """The job strategy generates the selector (unless ``manualSelector``) and template labels."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    uid = obj["metadata"].get("uid")
    name = obj["metadata"].get("name") or ""
    if not uid or spec.get("selector") is not None:
        return
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template = spec.get("template")
    if not isinstance(template, dict):
        return
    tmeta = template.get("metadata")
    if tmeta is None:
        tmeta = template["metadata"] = {}
    if not isinstance(tmeta, dict):
        return
    labels = tmeta.get("labels")
    if labels is None:
        labels = tmeta["labels"] = {}
    if isinstance(labels, dict):
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
        labels.setdefault("controller-uid", uid)
        labels.setdefault("job-name", name)


def prepare_create(kind: str, group: str, obj: dict[str, Any]) -> None:
    """``PrepareForCreate`` of a built-in kind (Jobs: generated selector and template labels)."""
    if (group, kind) == ("batch", "Job"):
        _job_selector(obj)
    elif (group, kind) == ("", "Node"):  # nodeStrategy: the dynamic kubelet config is gone
        spec, status = obj.get("spec"), obj.get("status")
        if isinstance(spec, dict):
            spec.pop("configSource", None)
        if isinstance(status, dict):
            status.pop("config", None)


def _carry_service_allocations(new: dict[str, Any], old: dict[str, Any]) -> None:
    """``patchAllocatedValues``: a PUT/patch that omits allocated values keeps them."""
    nspec, ospec = new.get("spec"), old.get("spec")
    if not isinstance(nspec, dict) or not isinstance(ospec, dict):
        return
    if nspec.get("type") != "ExternalName" and ospec.get("type") != "ExternalName":
        if not nspec.get("clusterIP") and ospec.get("clusterIP"):
            nspec["clusterIP"] = ospec["clusterIP"]
        if not nspec.get("clusterIPs") and ospec.get("clusterIPs"):
            nspec["clusterIPs"] = list(ospec["clusterIPs"])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if nspec.get(key) is None and ospec.get(key) is not None:
                nspec[key] = ospec[key]
    if nspec.get("type") in ("NodePort", "LoadBalancer") and ospec.get("type") in (
        "NodePort",
        "LoadBalancer",
    ):
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in ospec.get("ports") or []
            if isinstance(p, dict) and p.get("nodePort")
        }
        for p in nspec.get("ports") or []:
            if isinstance(p, dict) and not p.get("nodePort"):
                carried = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if carried:
                    p["nodePort"] = carried
        if not nspec.get("healthCheckNodePort") and ospec.get("healthCheckNodePort"):
            nspec["healthCheckNodePort"] = ospec["healthCheckNodePort"]


def prepare_update(kind: str, group: str, new: dict[str, Any], old: dict[str, Any]) -> None:
    """``PrepareForUpdate`` of a built-in kind: values the server set that an update may omit."""
    if (group, kind) == ("", "Service"):
        _carry_service_allocations(new, old)
    elif (group, kind) == ("batch", "Job"):
        nspec, ospec = new.get("spec"), old.get("spec")
        if (
            isinstance(nspec, dict)
            and isinstance(ospec, dict)
            and nspec.get("selector") is None
            and ospec.get("selector") is not None
        ):
            nspec["selector"] = ospec["selector"]
    elif (group, kind) == ("", "Pod"):
        nspec, ospec = new.get("spec"), old.get("spec")
        if (
            isinstance(nspec, dict)
            and isinstance(ospec, dict)
            and ospec.get("nodeName")
            and not nspec.get("nodeName")
        ):
            nspec["nodeName"] = ospec["nodeName"]
