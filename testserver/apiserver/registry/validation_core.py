"""Validation of core/v1 kinds (``pkg/apis/core/validation``): pods and pod templates, services,
config maps, secrets, namespaces — create and update rules, with kube's messages."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, TypeGuard

from testserver.apiserver.registry import field as fe
from testserver.apiserver.registry.meta import dns1123_label_errors, validate_labels
from testserver.apiserver.registry.values import as_dict

__all__ = ["CORE_UPDATE_VALIDATORS", "CORE_VALIDATORS", "validate_pod_spec", "validate_pod_template"]

_PORT_RANGE = "must be between 1 and 65535, inclusive"
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_PORT_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])*$")
_CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
_MAX_SECRET_SIZE = 1024 * 1024
POD_UPDATABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def port_name_errors(name: str) -> list[str]:
    """IsValidPortName (IANA_SVC_NAME)."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_RE.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if not re.search("[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    return errs


def _validate_container_ports(ports: Any, path: str) -> fe.ErrorList:
    errs: fe.ErrorList = []
    names: set[str] = set()
    for i, port in _dicts(ports):
        p = f"{path}[{i}]"
        name = port.get("name")
        if name:
            errs.extend(fe.invalid(f"{p}.name", name, m) for m in port_name_errors(str(name)))
            if name in names:
                errs.append(fe.duplicate(f"{p}.name", name))
            names.add(name)
        cp = port.get("containerPort")
        if not cp:
            errs.append(fe.required(f"{p}.containerPort"))
        elif not _is_int(cp) or not 1 <= cp <= 65535:
            errs.append(fe.invalid(f"{p}.containerPort", cp, _PORT_RANGE))
        hp = port.get("hostPort")
        if hp and (not _is_int(hp) or not 1 <= hp <= 65535):
            errs.append(fe.invalid(f"{p}.hostPort", hp, _PORT_RANGE))
        proto = port.get("protocol")
        if proto not in _PROTOCOLS:
            errs.append(fe.not_supported(f"{p}.protocol", proto, _PROTOCOLS))
    return errs


def _validate_containers(
    containers: Any, path: str, volumes: set[str], names: set[str], *, required: bool
) -> fe.ErrorList:
    errs: fe.ErrorList = []
    if not containers:
        if required:
            errs.append(fe.required(path))
        return errs
    if not isinstance(containers, list):
        return [fe.invalid(path, containers, "must be a list")]
    for i, c in enumerate(containers):
        p = f"{path}[{i}]"
        if not isinstance(c, dict):
            errs.append(fe.invalid(p, c, "must be an object"))
            continue
        name = c.get("name")
        if not name:
            errs.append(fe.required(f"{p}.name"))
        elif not isinstance(name, str):
            errs.append(fe.invalid(f"{p}.name", name, "must be a string"))
        else:
            errs.extend(fe.invalid(f"{p}.name", name, m) for m in dns1123_label_errors(name))
            if name in names:
                errs.append(fe.duplicate(f"{p}.name", name))
            names.add(name)
        image = c.get("image")
        if not image or not isinstance(image, str) or not image.strip():
            errs.append(fe.required(f"{p}.image"))
        policy = c.get("imagePullPolicy")
        if policy not in ("Always", "IfNotPresent", "Never"):
            errs.append(fe.not_supported(f"{p}.imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
        tmp = c.get("terminationMessagePolicy")
        if tmp not in ("File", "FallbackToLogsOnError"):
            errs.append(
                fe.not_supported(f"{p}.terminationMessagePolicy", tmp, ["File", "FallbackToLogsOnError"])
            )
        errs.extend(_validate_container_ports(c.get("ports"), f"{p}.ports"))
        for j, mount in _dicts(c.get("volumeMounts")):
            mp = f"{p}.volumeMounts[{j}]"
            mname = mount.get("name")
            if not mname:
                errs.append(fe.required(f"{mp}.name"))
            elif mname not in volumes:
                errs.append(fe.not_found(f"{mp}.name", mname))
            if not mount.get("mountPath"):
                errs.append(fe.required(f"{mp}.mountPath"))
        env_names: list[tuple[int, dict[str, Any]]] = _dicts(c.get("env"))
        for j, env in env_names:
            if not env.get("name"):
                errs.append(fe.required(f"{p}.env[{j}].name"))
        for key in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = c.get(key)
            if isinstance(probe, dict):
                for num in ("timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
                    v = probe.get(num)
                    if v is not None and (not _is_int(v) or v < 0):
                        errs.append(fe.invalid(f"{p}.{key}.{num}", v, "must be greater than or equal to 0"))
                if key != "readinessProbe" and probe.get("successThreshold") not in (None, 1):
                    errs.append(
                        fe.invalid(f"{p}.{key}.successThreshold", probe["successThreshold"], "must be 1")
                    )
        errs.extend(_validate_resources(c.get("resources"), f"{p}.resources"))
    return errs


def _validate_resources(res: Any, path: str) -> fe.ErrorList:
    from pyclientgo.apimachinery.quantity import QuantityParseError, parse_quantity

    errs: fe.ErrorList = []
    if not isinstance(res, dict):
        return errs
    parsed: dict[str, dict[str, Any]] = {}
    for section in ("limits", "requests"):
        values = res.get(section)
        if not isinstance(values, dict):
            continue
        parsed[section] = {}
        for name, value in values.items():
            try:
                q = parse_quantity(str(value))
            except QuantityParseError:
                errs.append(
                    fe.invalid(
                        f"{path}.{section}[{name}]",
                        value,
                        "quantities must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                    )
                )
                continue
            if q.sign() < 0:
                errs.append(
                    fe.invalid(f"{path}.{section}[{name}]", value, "must be greater than or equal to 0")
                )
            parsed[section][name] = q
    for name, req in parsed.get("requests", {}).items():
        lim = parsed.get("limits", {}).get(name)
        if lim is not None and req.cmp(lim) > 0:
            errs.append(
                fe.invalid(
                    f"{path}.requests",
                    str(res["requests"][name]),
                    f"must be less than or equal to {name} limit of {res['limits'][name]}",
                )
            )
    return errs


def validate_pod_spec(spec: Any, path: str) -> fe.ErrorList:
    if not isinstance(spec, dict):
        return [fe.required(f"{path}.containers")]
    errs: fe.ErrorList = []
    volumes: set[str] = set()
    for i, vol in _dicts(spec.get("volumes")):
        vname = vol.get("name")
        vp = f"{path}.volumes[{i}]"
        if not vname:
            errs.append(fe.required(f"{vp}.name"))
            continue
        errs.extend(fe.invalid(f"{vp}.name", vname, m) for m in dns1123_label_errors(str(vname)))
        if vname in volumes:
            errs.append(fe.duplicate(f"{vp}.name", vname))
        volumes.add(vname)
    names: set[str] = set()
    errs.extend(
        _validate_containers(spec.get("containers"), f"{path}.containers", volumes, names, required=True)
    )
    errs.extend(
        _validate_containers(
            spec.get("initContainers"), f"{path}.initContainers", volumes, names, required=False
        )
    )
    rp = spec.get("restartPolicy")
    if rp not in ("Always", "OnFailure", "Never"):
        errs.append(fe.not_supported(f"{path}.restartPolicy", rp, ["Always", "OnFailure", "Never"]))
    dns = spec.get("dnsPolicy")
    supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
    if dns not in supported:
        errs.append(fe.not_supported(f"{path}.dnsPolicy", dns, supported))
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps is not None and not _is_int(tgps):
        errs.append(fe.invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must be an integer"))
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and (not _is_int(ads) or not 1 <= ads <= 2**31 - 1):
        errs.append(
            fe.invalid(f"{path}.activeDeadlineSeconds", ads, "must be between 1 and 2147483647, inclusive")
        )
    if spec.get("nodeSelector") is not None:
        errs.extend(validate_labels(spec["nodeSelector"], f"{path}.nodeSelector"))
    for i, tol in _dicts(spec.get("tolerations")):
        op = tol.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            errs.append(fe.not_supported(f"{path}.tolerations[{i}].operator", op, ["Equal", "Exists"]))
        if op == "Exists" and tol.get("value"):
            errs.append(
                fe.invalid(
                    f"{path}.tolerations[{i}].operator",
                    tol.get("value"),
                    "value must be empty when `operator` is 'Exists'",
                )
            )
        effect = tol.get("effect")
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(
                fe.not_supported(
                    f"{path}.tolerations[{i}].effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]
                )
            )
    return errs


def validate_pod_template(template: Any, path: str) -> fe.ErrorList:
    if not isinstance(template, dict):
        return [fe.required(f"{path}.spec.containers")]
    errs: fe.ErrorList = []
    meta = template.get("metadata")
    if isinstance(meta, dict) and meta.get("labels") is not None:
        errs.extend(validate_labels(meta["labels"], f"{path}.metadata.labels"))
    errs.extend(validate_pod_spec(template.get("spec"), f"{path}.spec"))
    return errs


def _pod(obj: dict[str, Any]) -> fe.ErrorList:
    return validate_pod_spec(obj.get("spec"), "spec")


def _strip_mutable(spec: dict[str, Any]) -> dict[str, Any]:
    out = dict(spec)
    for key in ("containers", "initContainers"):
        if isinstance(out.get(key), list):
            out[key] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c for c in out[key]
            ]
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName"):
        out.pop(key, None)
    return out


def _gate_names(spec: dict[str, Any]) -> list[str]:
    return [str(g.get("name")) for _, g in _dicts(spec.get("schedulingGates"))]


def _scheduling_readiness_update(
    nspec: dict[str, Any], ospec: dict[str, Any]
) -> tuple[fe.ErrorList, set[str]]:
    """kube's pod scheduling readiness rules on update: scheduling gates may only be removed, and while
    the pod is gated its nodeSelector may gain entries. The errors, and the spec fields these rules
    have judged (left out of the "may not change" comparison)."""
    errs: fe.ErrorList = []
    old_gates = set(_gate_names(ospec))
    for i, name in enumerate(_gate_names(nspec)):
        if name not in old_gates:
            errs.append(
                fe.forbidden(
                    f"spec.schedulingGates[{i}].name",
                    f"only deletion is allowed, but found new scheduling gate '{name}'",
                )
            )
    judged = {"schedulingGates"}
    if old_gates:
        old_sel = ospec.get("nodeSelector") or {}
        new_sel = nspec.get("nodeSelector") or {}
        if isinstance(old_sel, dict) and isinstance(new_sel, dict) and old_sel != new_sel:
            if any(new_sel.get(k) != v for k, v in old_sel.items()):
                errs.append(
                    fe.invalid(
                        "spec.nodeSelector",
                        new_sel,
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                    )
                )
            judged.add("nodeSelector")
    return errs, judged


def _pod_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    nspec, ospec = new.get("spec"), old.get("spec")
    if not isinstance(nspec, dict) or not isinstance(ospec, dict):
        return []
    errs, judged = _scheduling_readiness_update(nspec, ospec)
    if judged:
        nspec = {k: v for k, v in nspec.items() if k not in judged}
        ospec = {k: v for k, v in ospec.items() if k not in judged}
    if _strip_mutable(nspec) != _strip_mutable(ospec) or (
        ospec.get("nodeName") and nspec.get("nodeName") != ospec.get("nodeName")
    ):
        changed = sorted(
            k for k in set(nspec) | set(ospec) if nspec.get(k) != ospec.get(k) and k not in ("tolerations",)
        )
        errs.append(fe.forbidden("spec", POD_UPDATABLE + "\n  spec: changed fields: " + ", ".join(changed)))
    old_tols = ospec.get("tolerations") or []
    new_tols = nspec.get("tolerations") or []
    if isinstance(old_tols, list) and isinstance(new_tols, list):
        for tol in old_tols:
            if tol not in new_tols:
                errs.append(
                    fe.forbidden(
                        "spec.tolerations",
                        "existing toleration can not be modified except its tolerationSeconds",
                    )
                )
                break
    oads, nads = ospec.get("activeDeadlineSeconds"), nspec.get("activeDeadlineSeconds")
    if oads is not None and (nads is None or (_is_int(nads) and nads > oads)):
        errs.append(
            fe.invalid("spec.activeDeadlineSeconds", nads, "must be less than or equal to previous value")
            if nads is not None
            else fe.invalid(
                "spec.activeDeadlineSeconds", nads, "must not update from a positive integer to nil value"
            )
        )
    if not errs:
        errs.extend(validate_pod_spec(nspec, "spec"))
    return errs


def _service(obj: dict[str, Any]) -> fe.ErrorList:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [fe.required("spec.ports")]
    errs: fe.ErrorList = []
    stype = spec.get("type")
    types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    if stype not in types:
        errs.append(fe.not_supported("spec.type", stype, types))
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports")
    if not ports and not headless and stype != "ExternalName":
        errs.append(fe.required("spec.ports"))
    names: set[str] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    multi = isinstance(ports, list) and len(ports) > 1
    for i, port in _dicts(ports):
        p = f"spec.ports[{i}]"
        name = port.get("name")
        if multi and not name:
            errs.append(fe.required(f"{p}.name"))
        elif name:
            errs.extend(fe.invalid(f"{p}.name", name, m) for m in dns1123_label_errors(str(name)))
            if name in names:
                errs.append(fe.duplicate(f"{p}.name", name))
            names.add(name)
        number = port.get("port")
        if not _is_int(number) or not 1 <= number <= 65535:
            errs.append(fe.invalid(f"{p}.port", number if number is not None else 0, _PORT_RANGE))
        proto = port.get("protocol")
        if proto not in _PROTOCOLS:
            errs.append(fe.not_supported(f"{p}.protocol", proto, _PROTOCOLS))
        port_key = (number, proto)
        if port_key in seen_ports:
            errs.append(fe.duplicate(p, f"{number}/{proto}"))
        seen_ports.add(port_key)
        target = port.get("targetPort")
        if _is_int(target):
            if not 1 <= target <= 65535:
                errs.append(fe.invalid(f"{p}.targetPort", target, _PORT_RANGE))
        elif isinstance(target, str) and target:
            errs.extend(fe.invalid(f"{p}.targetPort", target, m) for m in port_name_errors(target))
        node_port = port.get("nodePort")
        if node_port:
            if stype in ("ClusterIP", "ExternalName"):
                errs.append(fe.forbidden(f"{p}.nodePort", f"may not be used when `type` is '{stype}'"))
            elif not _is_int(node_port) or not 1 <= node_port <= 65535:
                errs.append(fe.invalid(f"{p}.nodePort", node_port, _PORT_RANGE))
    if stype == "ExternalName" and not spec.get("externalName"):
        errs.append(fe.required("spec.externalName"))
    for i, ip in enumerate(spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])):
        if ip == "None" and i == 0:
            continue
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            errs.append(
                fe.invalid(f"spec.clusterIPs[{i}]", ip, "must be empty, 'None', or a valid IP address")
            )
    clusterip, ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if clusterip and isinstance(ips, list) and ips and ips[0] != clusterip:
        errs.append(fe.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    affinity = spec.get("sessionAffinity")
    if affinity not in ("ClientIP", "None"):
        errs.append(fe.not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec["selector"], "spec.selector"))
    for key, allowed in (
        ("externalTrafficPolicy", ["Cluster", "Local"]),
        ("internalTrafficPolicy", ["Cluster", "Local"]),
        ("ipFamilyPolicy", ["SingleStack", "PreferDualStack", "RequireDualStack"]),
    ):
        value = spec.get(key)
        if value is not None and value not in allowed:
            errs.append(fe.not_supported(f"spec.{key}", value, allowed))
    if spec.get("externalTrafficPolicy") and stype not in ("NodePort", "LoadBalancer"):
        errs.append(
            fe.invalid(
                "spec.externalTrafficPolicy",
                spec["externalTrafficPolicy"],
                "may only be set for externally-accessible services",
            )
        )
    return errs


def _service_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = _service(new)
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    if not isinstance(nspec, dict) or not isinstance(ospec, dict):
        return errs
    old_ip, new_ip = ospec.get("clusterIP"), nspec.get("clusterIP")
    if (
        old_ip
        and nspec.get("type") != "ExternalName"
        and ospec.get("type") != "ExternalName"
        and new_ip != old_ip
    ):
        errs.append(fe.invalid("spec.clusterIPs[0]", new_ip or "", "may not change once set"))
    return errs


def _validate_data_keys(obj: dict[str, Any], kind: str) -> fe.ErrorList:
    errs: fe.ErrorList = []
    total = 0
    data = obj.get("data")
    binary = obj.get("binaryData") if kind == "ConfigMap" else None
    for section, values in (("data", data), ("stringData", obj.get("stringData")), ("binaryData", binary)):
        if values is None:
            continue
        if not isinstance(values, dict):
            errs.append(fe.invalid(section, values, "must be a map of strings"))
            continue
        for key, value in values.items():
            if not _CONFIG_KEY_RE.match(key) or len(key) > 253:
                errs.append(fe.invalid(f"{section}[{key}]", key, _CONFIG_KEY_MSG))
            if key in (".", ".."):
                errs.append(fe.invalid(f"{section}[{key}]", key, f"must not be '{key}'"))
            if not isinstance(value, str):
                errs.append(fe.invalid(f"{section}[{key}]", value, "must be a string"))
                continue
            total += len(value)
    if kind == "ConfigMap" and isinstance(data, dict) and isinstance(binary, dict):
        for key in data:
            if key in binary:
                errs.append(fe.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    if total > _MAX_SECRET_SIZE:
        errs.append(fe.too_long("data", _MAX_SECRET_SIZE))
    return errs


def _secret(obj: dict[str, Any]) -> fe.ErrorList:
    errs = _validate_data_keys(obj, "Secret")
    data = as_dict(obj.get("data"))
    stype = obj.get("type")
    required_keys = {
        "kubernetes.io/tls": ["tls.crt", "tls.key"],
        "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
        "kubernetes.io/dockercfg": [".dockercfg"],
    }.get(str(stype), [])
    for key in required_keys:
        if key not in data:
            errs.append(fe.required(f"data[{key}]"))
    if stype == "kubernetes.io/service-account-token":
        annotations = obj["metadata"].get("annotations") or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(fe.required("metadata.annotations[kubernetes.io/service-account.name]"))
    if stype == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errs.append(fe.required("data[username]"))
    return errs


def _immutable_data(new: dict[str, Any], old: dict[str, Any], kind: str) -> fe.ErrorList:
    errs: fe.ErrorList = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(fe.forbidden("immutable", "field is immutable when `immutable` is set"))
        sections = ("data", "binaryData") if kind == "ConfigMap" else ("data",)
        for section in sections:
            if (new.get(section) or {}) != (old.get(section) or {}):
                errs.append(fe.forbidden(section, "field is immutable when `immutable` is set"))
    return errs


def _secret_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = _secret(new)
    if new.get("type") != old.get("type"):
        errs.append(fe.invalid("type", new.get("type"), "field is immutable"))
    errs.extend(_immutable_data(new, old, "Secret"))
    return errs


def _configmap(obj: dict[str, Any]) -> fe.ErrorList:
    return _validate_data_keys(obj, "ConfigMap")


def _configmap_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    return _configmap(new) + _immutable_data(new, old, "ConfigMap")


def _pvc(obj: dict[str, Any]) -> fe.ErrorList:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [fe.required("spec.accessModes"), fe.required("spec.resources[storage]")]
    errs: fe.ErrorList = []
    modes = spec.get("accessModes")
    if not modes:
        errs.append(fe.required("spec.accessModes", "at least 1 access mode is required"))
    supported = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    for mode in modes or []:
        if mode not in supported:
            errs.append(fe.not_supported("spec.accessModes", mode, supported))
    if spec.get("volumeMode") not in ("Block", "Filesystem"):
        errs.append(fe.not_supported("spec.volumeMode", spec.get("volumeMode"), ["Block", "Filesystem"]))
    requests = (
        (spec.get("resources") or {}).get("requests") if isinstance(spec.get("resources"), dict) else None
    )
    if not isinstance(requests, dict) or "storage" not in requests:
        errs.append(fe.required("spec.resources[storage]"))
    return errs


def _pvc_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = _pvc(new)
    nspec, ospec = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for spec in (nspec, ospec):
        spec.pop("resources", None)
        spec.pop("volumeName", None)
    if not errs and nspec != ospec:
        errs.append(
            fe.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            )
        )
    return errs


CORE_VALIDATORS = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Secret"): _secret,
    ("", "ConfigMap"): _configmap,
    ("", "PersistentVolumeClaim"): _pvc,
}
CORE_UPDATE_VALIDATORS = {
    ("", "Pod"): _pod_update,
    ("", "Service"): _service_update,
    ("", "Secret"): _secret_update,
    ("", "ConfigMap"): _configmap_update,
    ("", "PersistentVolumeClaim"): _pvc_update,
}
