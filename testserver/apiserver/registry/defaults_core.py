"""Defaults for core/v1 kinds, as ``pkg/apis/core/v1/defaults.go`` sets them (on plain dicts).

Functions take the object (or the part named) and fill what is unset; they never overwrite a
value the client sent. Shapes that are not objects are left alone for validation to report.
"""

from __future__ import annotations

import base64
from typing import Any

__all__ = [
    "default_container",
    "default_pod",
    "default_pod_spec",
    "default_pod_template",
    "default_pvc_spec",
    "pull_policy_for",
]

_FILE_MODE = 420  # 0644


def _obj(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def pull_policy_for(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image, ``IfNotPresent`` otherwise (digests too)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http = _obj(probe, "httpGet")
    if http is not None:
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")
    grpc = _obj(probe, "grpc")
    if grpc is not None:
        grpc.setdefault("service", "")


def _default_lifecycle_handler(handler: Any) -> None:
    if isinstance(handler, dict):
        http = _obj(handler, "httpGet")
        if http is not None:
            http.setdefault("path", "/")
            http.setdefault("scheme", "HTTP")


def default_container(c: dict[str, Any]) -> None:
    """SetDefaults_Container (+ ports, probes, env field refs)."""
    image = c.get("image")
    if "imagePullPolicy" not in c and isinstance(image, str):
        c["imagePullPolicy"] = pull_policy_for(image)
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("resources") is None:
        c["resources"] = {}
    for port in _dicts(c.get("ports")):
        port.setdefault("protocol", "TCP")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(key))
    lifecycle = _obj(c, "lifecycle")
    if lifecycle is not None:
        _default_lifecycle_handler(lifecycle.get("postStart"))
        _default_lifecycle_handler(lifecycle.get("preStop"))
    for env in _dicts(c.get("env")):
        source = _obj(env, "valueFrom")
        ref = _obj(source, "fieldRef") if source is not None else None
        if ref is not None:
            ref.setdefault("apiVersion", "v1")


def _requests_from_limits(c: dict[str, Any]) -> None:
    """SetDefaults_Pod: a resource with a limit and no request gets request = limit."""
    res = _obj(c, "resources")
    if res is None:
        return
    limits = _obj(res, "limits")
    if not limits:
        return
    requests = res.get("requests")
    if requests is None:
        requests = res["requests"] = {}
    if isinstance(requests, dict):
        for name, value in limits.items():
            requests.setdefault(name, value)


def _default_volume(vol: dict[str, Any]) -> None:
    sources = [k for k in vol if k != "name"]
    if not sources:
        vol["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        src = _obj(vol, key)
        if src is not None:
            src.setdefault("defaultMode", _FILE_MODE)
    host = _obj(vol, "hostPath")
    if host is not None:
        host.setdefault("type", "")
    projected = _obj(vol, "projected")
    if projected is not None:
        for source in _dicts(projected.get("sources")):
            token = _obj(source, "serviceAccountToken")
            if token is not None:
                token.setdefault("expirationSeconds", 3600)
    iscsi = _obj(vol, "iscsi")
    if iscsi is not None:
        iscsi.setdefault("iscsiInterface", "default")
    rbd = _obj(vol, "rbd")
    if rbd is not None:
        rbd.setdefault("pool", "rbd")
        rbd.setdefault("user", "admin")
        rbd.setdefault("keyring", "/etc/ceph/keyring")
    azure = _obj(vol, "azureDisk")
    if azure is not None:
        azure.setdefault("cachingMode", "ReadWrite")
        azure.setdefault("fsType", "ext4")
        azure.setdefault("readOnly", False)
        azure.setdefault("kind", "Shared")


def default_pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec plus what it recurses into (containers, volumes, probes)."""
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    if spec.get("hostNetwork"):
        for c in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
            for port in _dicts(c.get("ports")):
                if "hostPort" not in port and "containerPort" in port:
                    port["hostPort"] = port["containerPort"]
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in _dicts(spec.get(key)):
            default_container(c)
    for vol in _dicts(spec.get("volumes")):
        _default_volume(vol)


def default_pod_template(template: Any) -> None:
    """A pod template (workloads): pod spec defaults, requests from limits."""
    if not isinstance(template, dict):
        return
    spec = template.get("spec")
    if spec is None:
        spec = template["spec"] = {}
    if isinstance(spec, dict):
        default_pod_spec(spec)
        for key in ("containers", "initContainers"):
            for c in _dicts(spec.get(key)):
                _requests_from_limits(c)


def default_pod(obj: dict[str, Any]) -> None:
    """SetDefaults_Pod + SetDefaults_PodSpec."""
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return
    default_pod_spec(spec)
    for key in ("containers", "initContainers"):
        for c in _dicts(spec.get(key)):
            _requests_from_limits(c)
    spec.setdefault("enableServiceLinks", True)
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]


def _default_service(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return
    spec.setdefault("sessionAffinity", "None")
    if spec.get("sessionAffinity") == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {})
        if isinstance(config, dict):
            client = config.setdefault("clientIP", {})
            if isinstance(client, dict):
                client.setdefault("timeoutSeconds", 10800)
    spec.setdefault("type", "ClusterIP")
    for port in _dicts(spec.get("ports")):
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    stype = spec.get("type")
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if stype != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec.get("clusterIP") and not spec.get("clusterIPs") and stype != "ExternalName":
        spec["clusterIPs"] = [spec["clusterIP"]]


def _default_namespace(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])
    meta = obj["metadata"]
    labels = meta.get("labels")
    if labels is None:
        labels = meta["labels"] = {}
    if isinstance(labels, dict) and isinstance(meta.get("name"), str) and meta.get("name"):
        labels["kubernetes.io/metadata.name"] = meta["name"]


def _default_secret(obj: dict[str, Any]) -> None:
    """Type ``Opaque``, and ``stringData`` merged into ``data`` (base64, overriding) and dropped:
    kube's v1 → internal conversion, so ``stringData`` is write-only and never stored."""
    obj.setdefault("type", "Opaque")
    string_data = obj.get("stringData")
    if "stringData" not in obj:
        return
    if isinstance(string_data, dict):
        data = obj.get("data")
        if not isinstance(data, dict):
            data = obj["data"] = {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
    del obj["stringData"]


def default_pvc_spec(spec: Any) -> None:
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")


def _default_pvc(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    default_pvc_spec(spec)


def _default_pv(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
        host = _obj(spec, "hostPath")
        if host is not None:
            host.setdefault("type", "")


def _default_node(obj: dict[str, Any]) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and status.get("capacity") and status.get("allocatable") is None:
        status["allocatable"] = dict(status["capacity"])


def _default_endpoints(obj: dict[str, Any]) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            port.setdefault("protocol", "TCP")


def _default_limit_range(obj: dict[str, Any]) -> None:
    spec = _obj(obj, "spec")
    if spec is None:
        return
    for item in _dicts(spec.get("limits")):
        if item.get("type") != "Container":
            continue
        maximum = _obj(item, "max") or {}
        default = item.get("default")
        if default is None and maximum:
            default = item["default"] = {}
        if isinstance(default, dict):
            for k, v in maximum.items():
                default.setdefault(k, v)
        request = item.get("defaultRequest")
        if request is None and (default or maximum):
            request = item["defaultRequest"] = {}
        if isinstance(request, dict):
            for k, v in (default if isinstance(default, dict) else {}).items():
                request.setdefault(k, v)
            for k, v in maximum.items():
                request.setdefault(k, v)


def _default_rc(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    template = spec.get("template")
    if isinstance(template, dict):
        labels = (
            (template.get("metadata") or {}).get("labels")
            if isinstance(template.get("metadata"), dict)
            else None
        )
        if labels:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta = obj["metadata"]
            if not meta.get("labels"):
                meta["labels"] = dict(labels)
        default_pod_template(template)


def _default_pod_template_kind(obj: dict[str, Any]) -> None:
    default_pod_template(obj.get("template"))


CORE_DEFAULTERS = {
    ("", "Pod"): default_pod,
    ("", "Service"): _default_service,
    ("", "Namespace"): _default_namespace,
    ("", "Secret"): _default_secret,
    ("", "PersistentVolumeClaim"): _default_pvc,
    ("", "PersistentVolume"): _default_pv,
    ("", "Node"): _default_node,
    ("", "Endpoints"): _default_endpoints,
    ("", "LimitRange"): _default_limit_range,
    ("", "ReplicationController"): _default_rc,
    ("", "PodTemplate"): _default_pod_template_kind,
}
