"""Per-kind defaults and validation (kube's registry strategies), on plain dicts.

Only the cheap, commonly relied-on parts: required fields and name formats, the defaults real
clients see (APISERVER_BEHAVIOR.md §14), and status resets. Unknown kinds get the generic metadata
checks only.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Any

from pyclientgo.apimachinery import labels as label_selectors
from testserver.apiserver import status as st

__all__ = ["apply_defaults", "validate"]

_DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_RE = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_DNS_LABEL_RE = re.compile(rf"^{_DNS_LABEL}$")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_LABEL_NAMED = frozenset({"Namespace", "Service"})
_PATH_SEGMENT_NAMED = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _cause(reason: str, field: str, message: str) -> dict[str, Any]:
    return {"reason": reason, "message": message, "field": field}


def required(field: str, detail: str = "") -> dict[str, Any]:
    return _cause("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def invalid_value(field: str, value: Any, detail: str) -> dict[str, Any]:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return _cause("FieldValueInvalid", field, f"Invalid value: {shown}: {detail}")


def _validate_name(kind: str, name: str, causes: list[dict[str, Any]], field: str = "metadata.name") -> None:
    if kind in _PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            causes.append(invalid_value(field, name, "may not contain '/' or '%'"))
        return
    if kind in _LABEL_NAMED:
        if len(name) > 63:
            causes.append(invalid_value(field, name, "must be no more than 63 characters"))
        elif not _DNS_LABEL_RE.match(name):
            causes.append(invalid_value(field, name, _LABEL_MSG))
        return
    if len(name) > 253:
        causes.append(invalid_value(field, name, "must be no more than 253 characters"))
    elif not _DNS_SUBDOMAIN_RE.match(name):
        causes.append(invalid_value(field, name, _SUBDOMAIN_MSG))


def validate(kind: str, group: str, obj: dict[str, Any], *, creating: bool) -> None:
    """Raise 422 Invalid listing every problem found."""
    causes: list[dict[str, Any]] = []
    meta = obj["metadata"]
    name = meta.get("name") or ""
    if not name:
        if not (creating and meta.get("generateName")):
            causes.append(required("metadata.name", "name or generateName is required"))
    elif not isinstance(name, str):
        causes.append(invalid_value("metadata.name", name, "must be a string"))
    else:
        _validate_name(kind, name, causes)
    for section in ("labels", "annotations"):
        value = meta.get(section)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            causes.append(invalid_value(f"metadata.{section}", "", "must be a map of strings"))
            continue
        for key, val in value.items():
            for err in label_selectors.validate_label_key(key):
                causes.append(invalid_value(f"metadata.{section}", key, err))
            if section == "labels":
                for err in label_selectors.validate_label_value(val):
                    causes.append(invalid_value("metadata.labels", val, err))
    checker = _VALIDATORS.get(kind)
    if checker is not None:
        checker(obj, causes)
    if causes:
        raise st.invalid(kind, name or meta.get("generateName") or "", causes, group)


def _containers(spec: dict[str, Any], path: str, causes: list[dict[str, Any]]) -> None:
    containers = spec.get("containers")
    if not containers or not isinstance(containers, list):
        causes.append(required(f"{path}.containers"))
        return
    seen: set[str] = set()
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            causes.append(invalid_value(f"{path}.containers[{i}]", "", "must be an object"))
            continue
        cname = c.get("name")
        if not cname:
            causes.append(required(f"{path}.containers[{i}].name"))
        elif cname in seen:
            causes.append(
                _cause("FieldValueDuplicate", f"{path}.containers[{i}].name", f'Duplicate value: "{cname}"')
            )
        else:
            seen.add(cname)
        if not c.get("image"):
            causes.append(required(f"{path}.containers[{i}].image"))


def _pod(obj: dict[str, Any], causes: list[dict[str, Any]]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.append(required("spec.containers"))
        return
    _containers(spec, "spec", causes)


def _workload(obj: dict[str, Any], causes: list[dict[str, Any]]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.append(required("spec.selector"))
        causes.append(required("spec.template.spec.containers"))
        return
    selector = spec.get("selector")
    if not selector:
        causes.append(required("spec.selector"))
    template = spec.get("template") or {}
    tspec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(tspec, dict):
        causes.append(required("spec.template.spec.containers"))
    else:
        _containers(tspec, "spec.template.spec", causes)
    if isinstance(selector, dict) and isinstance(template, dict):
        try:
            sel = label_selectors.selector_from_label_selector(selector)
        except label_selectors.SelectorParseError as e:
            causes.append(invalid_value("spec.selector", "", str(e)))
            return
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        if not sel.matches(tlabels):
            causes.append(
                invalid_value(
                    "spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"
                )
            )
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(invalid_value("spec.replicas", replicas, "must be greater than or equal to 0"))


def _job(obj: dict[str, Any], causes: list[dict[str, Any]]) -> None:
    spec = obj.get("spec")
    tspec = ((spec or {}).get("template") or {}).get("spec") if isinstance(spec, dict) else None
    if not isinstance(tspec, dict):
        causes.append(required("spec.template.spec.containers"))
        return
    _containers(tspec, "spec.template.spec", causes)


def _service(obj: dict[str, Any], causes: list[dict[str, Any]]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    stype = spec.get("type", "ClusterIP")
    if stype != "ExternalName" and spec.get("clusterIP") != "None" and not spec.get("ports"):
        causes.append(required("spec.ports"))
    for i, port in enumerate(spec.get("ports") or []):
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            causes.append(required(f"spec.ports[{i}].port"))


_VALIDATORS = {
    "Pod": _pod,
    "Deployment": _workload,
    "ReplicaSet": _workload,
    "StatefulSet": _workload,
    "DaemonSet": _workload,
    "Job": _job,
    "Service": _service,
}

# -- defaults ------------------------------------------------------------------------------------


def _container_defaults(c: dict[str, Any]) -> None:
    image = c.get("image") or ""
    if "imagePullPolicy" not in c:
        last = image.rsplit("/", 1)[-1]
        tagged = ":" in last and not last.endswith(":latest")
        c["imagePullPolicy"] = "IfNotPresent" if tagged or "@" in last else "Always"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pod_spec_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _container_defaults(c)


def _pod_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    pod_spec_defaults(spec)
    if spec.get("serviceAccountName") is None:
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    if isinstance(tolerations, list):
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(isinstance(t, dict) and t.get("key") == key for t in tolerations):
                tolerations.append(
                    {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                )


def _template_defaults(spec: dict[str, Any]) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        tspec = template.setdefault("spec", {})
        if isinstance(tspec, dict):
            pod_spec_defaults(tspec)


def _deployment_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    )
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template_defaults(spec)


def _replicaset_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _template_defaults(spec)


def _statefulset_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
        )
        _template_defaults(spec)


def _job_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        template = spec.get("template")
        if isinstance(template, dict):
            tspec = template.setdefault("spec", {})
            if isinstance(tspec, dict):
                tspec.setdefault("restartPolicy", "Never")
                pod_spec_defaults(tspec)


_cluster_ips = itertools.count(10)


def _service_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            n = next(_cluster_ips)
            spec["clusterIP"] = str(ipaddress.ip_address("10.96.0.0") + n)
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec["clusterIP"] != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


_DEFAULTERS = {
    "Pod": _pod_defaults,
    "Deployment": _deployment_defaults,
    "ReplicaSet": _replicaset_defaults,
    "StatefulSet": _statefulset_defaults,
    "DaemonSet": lambda obj: _template_defaults(obj.setdefault("spec", {})),
    "Job": _job_defaults,
    "Service": _service_defaults,
}


def apply_defaults(kind: str, obj: dict[str, Any]) -> None:
    fn = _DEFAULTERS.get(kind)
    if fn is not None:
        fn(obj)


def initial_status(kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The status a new object starts with (user-supplied status is dropped on create)."""
    if kind == "Pod":
        return {"phase": "Pending", "qosClass": _qos(obj)}
    if kind == "Namespace":
        return {"phase": "Active"}
    if kind in (
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicationController",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "Service",
        "Ingress",
        "PodDisruptionBudget",
    ):
        if kind == "Service":
            return {"loadBalancer": {}}
        if kind == "PersistentVolumeClaim":
            return {"phase": "Pending"}
        if kind == "PersistentVolume":
            return {"phase": "Pending"}
        if kind in ("ReplicaSet", "ReplicationController"):
            return {"replicas": 0}
        if kind == "StatefulSet":
            return {"replicas": 0, "availableReplicas": 0}
        return {}
    return None


def _qos(pod: dict[str, Any]) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    requests_any = limits_all = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {} if isinstance(c, dict) else {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
        limits_all = True
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits_all else "Burstable"
