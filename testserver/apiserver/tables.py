"""Server-side printing: objects as ``meta.k8s.io/v1`` Tables, the way kube-apiserver prints them.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells the
server computed, so the columns and the cell text here are what users see. The columns and the
rules behind each cell follow kube-apiserver's printers (``pkg/printers/internalversion``), which
the server always runs in *wide* mode: priority-1 columns are always filled in and kubectl hides
them unless ``-o wide``.

Kinds without a printer get kube's default table (``Name``, ``Created At``); custom resources get
``Name`` plus their ``additionalPrinterColumns`` (pass them as ``printer_columns``).

Everything here works on wire dicts (camelCase JSON as stored) and is pure: the clock is a
parameter so tests pin "now".
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyclientgo.apimachinery.registry import ResourceInfo

__all__ = [
    "INCLUDE_OBJECT_VALUES",
    "column_definitions",
    "human_duration",
    "to_table",
    "translate_timestamp_since",
]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")
"""Values of the ``includeObject`` query parameter (TableOptions)."""

Obj = Mapping[str, Any]

# -- durations -----------------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """A duration as kubectl shows ages: ``5s``, ``3m2s``, ``2d4h``, ``3y``.

    Mirrors apimachinery's ``duration.HumanDuration``: up to 2 s of clock skew reads ``0s``,
    anything earlier is ``<invalid>``; precision drops as the duration grows.
    """
    secs = int(seconds)  # truncates toward zero, like Go's int(d.Seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed


def translate_timestamp_since(value: Any, now: _dt.datetime) -> str:
    """Age of an RFC 3339 timestamp at ``now``; ``<unknown>`` when unset or unparsable."""
    when = _parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


# -- small helpers over wire dicts ---------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _map(obj: Any, *path: str) -> Mapping[str, Any]:
    value = _get(obj, *path)
    return value if isinstance(value, Mapping) else {}


def _list(obj: Any, *path: str) -> list[Any]:
    value = _get(obj, *path)
    return value if isinstance(value, list) else []


def _str(obj: Any, *path: str) -> str:
    value = _get(obj, *path)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(obj: Any, *path: str, default: int = 0) -> int:
    value = _get(obj, *path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


def _name(obj: Obj) -> str:
    return _str(obj, "metadata", "name")


def _format_labels(labels: Mapping[str, Any]) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _selector_string(selector: Any) -> str | None:
    """``metav1.LabelSelectorAsSelector(sel).String()``; None for a nil selector."""
    if not isinstance(selector, Mapping):
        return None
    reqs: list[tuple[str, str]] = []
    for key, value in _map(selector, "matchLabels").items():
        reqs.append((key, f"{key}={value}"))
    for expr in _list(selector, "matchExpressions"):
        key = _str(expr, "key")
        op = _str(expr, "operator")
        values = ",".join(sorted(str(v) for v in _list(expr, "values")))
        if op == "In":
            reqs.append((key, f"{key} in ({values})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({values})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
        else:
            return "<invalid>"
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def _format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` for a nil or empty selector."""
    text = _selector_string(selector)
    return text if text else "<none>"


def _containers_cells(pod_spec: Any) -> tuple[str, str]:
    containers = _list(pod_spec, "containers")
    return (
        ",".join(_str(c, "name") for c in containers),
        ",".join(_str(c, "image") for c in containers),
    )


def _condition_true(conditions: Iterable[Any], type_: str) -> bool:
    return any(_str(c, "type") == type_ and _str(c, "status") == "True" for c in conditions)


# -- column definitions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Col:
    name: str
    type: str = "string"
    doc: str | tuple[str, str] = ""
    """Literal description, or (``module:Class``, wire field name) to read it from the model."""
    format: str = ""
    priority: int = 0


_META = "pyclientgo.api.meta.v1:ObjectMeta"
_CORE = "pyclientgo.api.core.v1"
_APPS = "pyclientgo.api.apps.v1"
_BATCH = "pyclientgo.api.batch.v1"

_NAME = _Col("Name", doc=(_META, "name"), format="name")
_AGE = _Col("Age", doc=(_META, "creationTimestamp"))
_CONTAINERS = _Col("Containers", doc="Names of each container in the template.", priority=1)
_IMAGES = _Col("Images", doc="Images referenced by each container in the template.", priority=1)


@functools.cache
def _field_doc(model: str, field: str) -> str:
    """The description a generated model carries for one wire field ("" if unknown)."""
    module, _, cls_name = model.partition(":")
    try:
        cls: Any = getattr(importlib.import_module(module), cls_name)
        for name, info in cls.model_fields.items():
            if (info.alias or name) == field:
                return str(info.description or "")
    except (ImportError, AttributeError):
        pass
    return ""


def _definition(col: _Col) -> dict[str, Any]:
    doc = col.doc if isinstance(col.doc, str) else _field_doc(*col.doc)
    return {
        "name": col.name,
        "type": col.type,
        "format": col.format,
        "description": doc,
        "priority": col.priority,
    }


# -- printers: one function per kind, returning the cells of one row -------------------------------

Cells = list[Any]
Printer = Callable[[Obj, _dt.datetime], Cells]


def _is_restartable_init(container: Any) -> bool:
    return _str(container, "restartPolicy") == "Always"


def _pod_status_and_counts(pod: Obj, now: _dt.datetime) -> tuple[str, int, int, str]:
    """(status reason, ready containers, total containers, restarts text) as kubectl prints them."""
    spec, status = _map(pod, "spec"), _map(pod, "status")
    conditions = _list(status, "conditions")
    total = len(_list(spec, "containers"))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: _dt.datetime | None = None
    last_sidecar_restart: _dt.datetime | None = None

    phase = _str(status, "phase")
    reason = _str(status, "reason") or phase
    for cond in conditions:
        if _str(cond, "type") == "PodScheduled" and _str(cond, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {_str(c, "name"): c for c in _list(spec, "initContainers")}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    def later(current: _dt.datetime | None, cs: Any) -> _dt.datetime | None:
        finished = _parse_time(_get(cs, "lastState", "terminated", "finishedAt"))
        if finished is not None and (current is None or finished > current):
            return finished
        return current

    initializing = False
    init_statuses = _list(status, "initContainerStatuses")
    for i, cs in enumerate(init_statuses):
        restarts += _int(cs, "restartCount")
        last_restart = later(last_restart, cs)
        sidecar = _is_restartable_init(init_specs.get(_str(cs, "name")))
        if sidecar:
            sidecar_restarts += _int(cs, "restartCount")
            last_sidecar_restart = later(last_sidecar_restart, cs)
        terminated = _get(cs, "state", "terminated")
        waiting = _get(cs, "state", "waiting")
        if isinstance(terminated, Mapping) and _int(terminated, "exitCode") == 0:
            continue
        if sidecar and _get(cs, "started") is True:
            if _get(cs, "ready") is True:
                ready += 1
            continue
        if isinstance(terminated, Mapping):
            if _str(terminated, "reason"):
                reason = "Init:" + _str(terminated, "reason")
            elif _int(terminated, "signal"):
                reason = f"Init:Signal:{_int(terminated, 'signal')}"
            else:
                reason = f"Init:ExitCode:{_int(terminated, 'exitCode')}"
        elif (
            isinstance(waiting, Mapping)
            and _str(waiting, "reason")
            and _str(waiting, "reason") != "PodInitializing"
        ):
            reason = "Init:" + _str(waiting, "reason")
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(_list(status, "containerStatuses")):
            restarts += _int(cs, "restartCount")
            last_restart = later(last_restart, cs)
            waiting = _get(cs, "state", "waiting")
            terminated = _get(cs, "state", "terminated")
            if isinstance(waiting, Mapping) and _str(waiting, "reason"):
                reason = _str(waiting, "reason")
            elif isinstance(terminated, Mapping) and _str(terminated, "reason"):
                reason = _str(terminated, "reason")
            elif isinstance(terminated, Mapping):
                if _int(terminated, "signal"):
                    reason = f"Signal:{_int(terminated, 'signal')}"
                else:
                    reason = f"ExitCode:{_int(terminated, 'exitCode')}"
            elif _get(cs, "ready") is True and isinstance(_get(cs, "state", "running"), Mapping):
                has_running = True
                ready += 1
        # A container still running after another one completed: the pod is not "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    deleting = _get(pod, "metadata", "deletionTimestamp") is not None
    if deleting and _str(status, "reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    return reason, ready, total, restarts_text


def _print_pod(pod: Obj, now: _dt.datetime) -> Cells:
    reason, ready, total, restarts = _pod_status_and_counts(pod, now)
    spec, status = _map(pod, "spec"), _map(pod, "status")
    pod_ips = _list(status, "podIPs")
    pod_ip = _str(pod_ips[0], "ip") if pod_ips else ""
    gates = _list(spec, "readinessGates")
    readiness = "<none>"
    if gates:
        conditions = _list(status, "conditions")
        true_count = 0
        for gate in gates:
            for cond in conditions:
                if _str(cond, "type") == _str(gate, "conditionType"):
                    true_count += _str(cond, "status") == "True"
                    break
        readiness = f"{true_count}/{len(gates)}"
    return [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts,
        translate_timestamp_since(_get(pod, "metadata", "creationTimestamp"), now),
        pod_ip or "<none>",
        _str(spec, "nodeName") or "<none>",
        _str(status, "nominatedNodeName") or "<none>",
        readiness,
    ]


def _pod_row_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = _str(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


def _age(obj: Obj, now: _dt.datetime) -> str:
    return translate_timestamp_since(_get(obj, "metadata", "creationTimestamp"), now)


def _print_node(node: Obj, now: _dt.datetime) -> Cells:
    status: list[str] = []
    for cond in _list(node, "status", "conditions"):
        if _str(cond, "type") == "Ready":
            status = ["Ready" if _str(cond, "status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if _get(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in _map(node, "metadata", "labels").items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))

    def address(kind: str) -> str:
        for addr in _list(node, "status", "addresses"):
            if _str(addr, "type") == kind:
                return _str(addr, "address")
        return "<none>"

    info = _map(node, "status", "nodeInfo")
    return [
        _name(node),
        ",".join(status),
        ",".join(sorted(roles)) or "<none>",
        _age(node, now),
        _str(info, "kubeletVersion"),
        address("InternalIP"),
        address("ExternalIP"),
        _str(info, "osImage") or "<unknown>",
        _str(info, "kernelVersion") or "<unknown>",
        _str(info, "containerRuntimeVersion") or "<unknown>",
    ]


def _print_deployment(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    names, images = _containers_cells(_get(spec, "template", "spec"))
    selector = _selector_string(_get(spec, "selector"))
    return [
        _name(obj),
        f"{_int(status, 'readyReplicas')}/{_int(spec, 'replicas', default=1)}",
        _int(status, "updatedReplicas"),
        _int(status, "availableReplicas"),
        _age(obj, now),
        names,
        images,
        selector or "",
    ]


def _print_replicaset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec, "replicas", default=1),
        _int(status, "replicas"),
        _int(status, "readyReplicas"),
        _age(obj, now),
        names,
        images,
        _format_label_selector(_get(spec, "selector")),
    ]


def _print_replication_controller(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(spec, "replicas", default=1),
        _int(status, "replicas"),
        _int(status, "readyReplicas"),
        _age(obj, now),
        names,
        images,
        _format_labels(_map(spec, "selector")),
    ]


def _print_statefulset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        f"{_int(status, 'readyReplicas')}/{_int(spec, 'replicas', default=1)}",
        _age(obj, now),
        names,
        images,
    ]


def _print_daemonset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        _int(status, "desiredNumberScheduled"),
        _int(status, "currentNumberScheduled"),
        _int(status, "numberReady"),
        _int(status, "updatedNumberScheduled"),
        _int(status, "numberAvailable"),
        _format_labels(_map(spec, "template", "spec", "nodeSelector")),
        _age(obj, now),
        names,
        images,
        _format_label_selector(_get(spec, "selector")),
    ]


def _print_job(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    succeeded = _int(status, "succeeded")
    if isinstance(_get(spec, "completions"), int):
        completions = f"{succeeded}/{_int(spec, 'completions')}"
    elif _int(spec, "parallelism") > 1:
        completions = f"{succeeded}/1 of {_int(spec, 'parallelism')}"
    else:
        completions = f"{succeeded}/1"
    start = _parse_time(_get(status, "startTime"))
    end = _parse_time(_get(status, "completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((end or now) - start).total_seconds())
    conditions = _list(status, "conditions")
    if _condition_true(conditions, "Complete"):
        state = "Complete"
    elif _condition_true(conditions, "Failed"):
        state = "Failed"
    elif _get(obj, "metadata", "deletionTimestamp") is not None:
        state = "Terminating"
    elif _condition_true(conditions, "Suspended"):
        state = "Suspended"
    elif _condition_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    elif _condition_true(conditions, "SuccessCriteriaMet"):
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    names, images = _containers_cells(_get(spec, "template", "spec"))
    return [
        _name(obj),
        state,
        completions,
        duration,
        _age(obj, now),
        names,
        images,
        _format_label_selector(_get(spec, "selector")),
    ]


def _print_cronjob(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    job_spec = _map(spec, "jobTemplate", "spec")
    names, images = _containers_cells(_get(job_spec, "template", "spec"))
    suspend = _get(spec, "suspend")
    last = _get(status, "lastScheduleTime")
    return [
        _name(obj),
        _str(spec, "schedule"),
        _str(spec, "timeZone") or "<none>",
        suspend if isinstance(suspend, bool) else "<unset>",
        len(_list(status, "active")),
        translate_timestamp_since(last, now) if last else "<none>",
        _age(obj, now),
        names,
        images,
        _format_label_selector(_get(job_spec, "selector")),
    ]


def _load_balancer_ips(status: Any) -> list[str]:
    found: set[str] = set()
    for ing in _list(status, "loadBalancer", "ingress"):
        value = _str(ing, "ip") or _str(ing, "hostname")
        if value:
            found.add(value)
    return sorted(found)


def _print_service(obj: Obj, now: _dt.datetime) -> Cells:
    spec = _map(obj, "spec")
    svc_type = _str(spec, "type")
    cluster_ips = _list(spec, "clusterIPs")
    external_ips = [str(ip) for ip in _list(spec, "externalIPs")]
    if svc_type in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif svc_type == "LoadBalancer":
        lb = _load_balancer_ips(_get(obj, "status"))
        external = ",".join(lb + external_ips) or "<pending>"
    elif svc_type == "ExternalName":
        external = _str(spec, "externalName")
    else:
        external = "<unknown>"
    ports = []
    for port in _list(spec, "ports"):
        protocol = _str(port, "protocol") or "TCP"
        if _int(port, "nodePort") > 0:
            ports.append(f"{_int(port, 'port')}:{_int(port, 'nodePort')}/{protocol}")
        else:
            ports.append(f"{_int(port, 'port')}/{protocol}")
    return [
        _name(obj),
        svc_type,
        str(cluster_ips[0]) if cluster_ips else (_str(spec, "clusterIP") or "<none>"),
        external,
        ",".join(ports) or "<none>",
        _age(obj, now),
        _format_labels(_map(spec, "selector")),
    ]


def _print_endpoints(obj: Obj, now: _dt.datetime) -> Cells:
    subsets = _list(obj, "subsets")
    if not subsets:
        text = "<none>"
    else:
        entries: list[str] = []
        count = 0
        for subset in subsets:
            addresses = [_str(a, "ip") for a in _list(subset, "addresses")]
            ports = _list(subset, "ports")
            if not ports:
                for ip in addresses:
                    entries.append(ip)
                    count += 1
            for port in ports:
                for ip in addresses:
                    host = f"[{ip}]" if ":" in ip else ip
                    entries.append(f"{host}:{_int(port, 'port')}")
                    count += 1
        text = ",".join(entries[:3])
        if count > 3:
            text += f" + {count - 3} more..."
    return [_name(obj), text, _age(obj, now)]


def _print_configmap(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), len(_map(obj, "data")) + len(_map(obj, "binaryData")), _age(obj, now)]


def _print_secret(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _str(obj, "type"), len(_map(obj, "data")), _age(obj, now)]


def _print_namespace(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _str(obj, "status", "phase"), _age(obj, now)]


def _print_service_account(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), len(_list(obj, "secrets")), _age(obj, now)]


def _print_lease(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _str(obj, "spec", "holderIdentity"), _age(obj, now)]


def _event_cells(
    obj: Obj,
    now: _dt.datetime,
    *,
    first: Any,
    last: Any,
    event_time: Any,
    count: int,
    series: Any,
    involved: Any,
    source: Any,
    message: str,
) -> Cells:
    first_seen = translate_timestamp_since(first, now)
    if _parse_time(first) is None:
        first_seen = translate_timestamp_since(event_time, now)
    last_seen = translate_timestamp_since(last, now)
    if _parse_time(last) is None:
        last_seen = first_seen
    if isinstance(series, Mapping):
        last_seen = translate_timestamp_since(_get(series, "lastObservedTime"), now)
        count = _int(series, "count")
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    kind = _str(involved, "kind").lower()
    target = f"{kind}/{_str(involved, 'name')}" if _str(involved, "name") else kind
    component = _str(source, "component") or _str(obj, "reportingController")
    host = _str(source, "host") or _str(obj, "reportingInstance")
    return [
        last_seen,
        _str(obj, "type"),
        _str(obj, "reason"),
        target,
        _str(involved, "fieldPath"),
        f"{component}, {host}" if host else component,
        message.strip(),
        first_seen,
        count,
        _name(obj),
    ]


def _print_core_event(obj: Obj, now: _dt.datetime) -> Cells:
    return _event_cells(
        obj,
        now,
        first=_get(obj, "firstTimestamp"),
        last=_get(obj, "lastTimestamp"),
        event_time=_get(obj, "eventTime"),
        count=_int(obj, "count"),
        series=_get(obj, "series"),
        involved=_map(obj, "involvedObject"),
        source=_map(obj, "source"),
        message=_str(obj, "message"),
    )


def _print_events_event(obj: Obj, now: _dt.datetime) -> Cells:
    """events.k8s.io/v1 Events are the same objects under new field names."""
    return _event_cells(
        obj,
        now,
        first=_get(obj, "deprecatedFirstTimestamp"),
        last=_get(obj, "deprecatedLastTimestamp"),
        event_time=_get(obj, "eventTime"),
        count=_int(obj, "deprecatedCount"),
        series=_get(obj, "series"),
        involved=_map(obj, "regarding"),
        source=_map(obj, "deprecatedSource"),
        message=_str(obj, "note"),
    )


_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _access_modes(modes: list[Any]) -> str:
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _storage_class(obj: Obj) -> str:
    annotated = _map(obj, "metadata", "annotations").get("volume.beta.kubernetes.io/storage-class")
    if isinstance(annotated, str):
        return annotated
    return _str(obj, "spec", "storageClassName")


def _print_persistent_volume(obj: Obj, now: _dt.datetime) -> Cells:
    spec = _map(obj, "spec")
    claim = _map(spec, "claimRef")
    phase = _str(obj, "status", "phase")
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    return [
        _name(obj),
        _str(spec, "capacity", "storage") or "0",
        _access_modes(_list(spec, "accessModes")),
        _str(spec, "persistentVolumeReclaimPolicy"),
        phase,
        f"{_str(claim, 'namespace')}/{_str(claim, 'name')}" if claim else "",
        _storage_class(obj),
        _str(spec, "volumeAttributesClassName") or "<unset>",
        _str(obj, "status", "reason"),
        _age(obj, now),
        _str(spec, "volumeMode") or "<unset>",
    ]


def _print_persistent_volume_claim(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    phase = _str(status, "phase")
    if _get(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = access = ""
    if _str(spec, "volumeName"):
        access = _access_modes(_list(status, "accessModes"))
        capacity = _str(status, "capacity", "storage") or "0"
    return [
        _name(obj),
        phase,
        _str(spec, "volumeName"),
        capacity,
        access,
        _storage_class(obj),
        _str(spec, "volumeAttributesClassName") or "<unset>",
        _age(obj, now),
        _str(spec, "volumeMode") or "<unset>",
    ]


def _print_pdb(obj: Obj, now: _dt.datetime) -> Cells:
    spec = _map(obj, "spec")
    min_available = _get(spec, "minAvailable")
    max_unavailable = _get(spec, "maxUnavailable")
    return [
        _name(obj),
        "N/A" if min_available is None else str(min_available),
        "N/A" if max_unavailable is None else str(max_unavailable),
        _int(obj, "status", "disruptionsAllowed"),
        _age(obj, now),
    ]


def _print_ingress(obj: Obj, now: _dt.datetime) -> Cells:
    spec = _map(obj, "spec")
    rules = _list(spec, "rules")
    hosts = [_str(r, "host") for r in rules[:3] if _str(r, "host")]
    host_text = ",".join(hosts) or "*"
    if len(rules) > 3 and hosts:
        host_text += f" + {len(rules) - 3} more..."
    address = ",".join(_load_balancer_ips(_get(obj, "status")))
    if len(address) > 16:
        address = address[:13] + "..."
    return [
        _name(obj),
        _str(spec, "ingressClassName") or "<none>",
        host_text,
        address,
        "80, 443" if _list(spec, "tls") else "80",
        _age(obj, now),
    ]


def _subjects(obj: Obj) -> tuple[str, str, str]:
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in _list(obj, "subjects"):
        kind = _str(subject, "kind")
        if kind == "User":
            users.append(_str(subject, "name"))
        elif kind == "Group":
            groups.append(_str(subject, "name"))
        elif kind == "ServiceAccount":
            accounts.append(f"{_str(subject, 'namespace')}/{_str(subject, 'name')}")
    return ", ".join(users), ", ".join(groups), ", ".join(accounts)


def _print_role_binding(obj: Obj, now: _dt.datetime) -> Cells:
    role = f"{_str(obj, 'roleRef', 'kind')}/{_str(obj, 'roleRef', 'name')}"
    return [_name(obj), role, _age(obj, now), *_subjects(obj)]


def _print_priority_class(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _int(obj, "value"), _get(obj, "globalDefault") is True, _age(obj, now)]


def _print_storage_class(obj: Obj, now: _dt.datetime) -> Cells:
    annotations = _map(obj, "metadata", "annotations")
    default = any(
        annotations.get(key) == "true"
        for key in (
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        )
    )
    expansion = _get(obj, "allowVolumeExpansion")
    return [
        _name(obj) + (" (default)" if default else ""),
        _str(obj, "provisioner"),
        _str(obj, "reclaimPolicy") or "Delete",
        _str(obj, "volumeBindingMode") or "Immediate",
        expansion is True,
        _age(obj, now),
    ]


def _print_controller_revision(obj: Obj, now: _dt.datetime) -> Cells:
    controller = "<none>"
    for ref in _list(obj, "metadata", "ownerReferences"):
        if _get(ref, "controller") is True:
            group = _str(ref, "apiVersion").rpartition("/")[0]
            kind = _str(ref, "kind") + (f".{group}" if group else "")
            controller = f"{kind.lower()}/{_str(ref, 'name')}"
            break
    return [_name(obj), controller, _int(obj, "revision"), _age(obj, now)]


def _print_endpoint_slice(obj: Obj, now: _dt.datetime) -> Cells:
    def more(items: list[str], count: int) -> str:
        text = ",".join(items[:3])
        if count > 3:
            return f"{text} + {count - 3} more..."
        return text or "<unset>"

    ports = []
    for port in _list(obj, "ports"):
        if isinstance(_get(port, "port"), int):
            ports.append(str(_int(port, "port")))
        elif _get(port, "name") is not None:
            ports.append(_str(port, "name"))
        else:
            ports.append("*")
    addresses = [str(a) for ep in _list(obj, "endpoints") for a in _list(ep, "addresses")]
    return [
        _name(obj),
        _str(obj, "addressType"),
        more(ports, len(ports)),
        more(addresses, len(addresses)),
        _age(obj, now),
    ]


def _print_network_policy(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _format_label_selector(_map(obj, "spec", "podSelector")), _age(obj, now)]


def _print_webhook_configuration(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), len(_list(obj, "webhooks")), _age(obj, now)]


def _print_runtime_class(obj: Obj, now: _dt.datetime) -> Cells:
    return [_name(obj), _str(obj, "handler"), _age(obj, now)]


def _print_ingress_class(obj: Obj, now: _dt.datetime) -> Cells:
    params = _map(obj, "spec", "parameters")
    text = "<none>"
    if params:
        text = _str(params, "kind")
        if _get(params, "apiGroup") is not None:
            text += "." + _str(params, "apiGroup")
        text += "/" + _str(params, "name")
    return [_name(obj), _str(obj, "spec", "controller"), text, _age(obj, now)]


# -- the table of printers -----------------------------------------------------------------------

_READY_DOC = "Number of the pod with ready state"

_PRINTERS: dict[tuple[str, str], tuple[tuple[_Col, ...], Printer]] = {
    ("", "Pod"): (
        (
            _NAME,
            _Col("Ready", doc="The aggregate readiness state of this pod for accepting traffic."),
            _Col("Status", doc="The aggregate status of the containers in this pod."),
            _Col(
                "Restarts",
                doc="The number of times the containers in this pod have been restarted and when the "
                "last container in this pod has restarted.",
            ),
            _AGE,
            _Col("IP", doc=(f"{_CORE}:PodStatus", "podIP"), priority=1),
            _Col("Node", doc=(f"{_CORE}:PodSpec", "nodeName"), priority=1),
            _Col("Nominated Node", doc=(f"{_CORE}:PodStatus", "nominatedNodeName"), priority=1),
            _Col("Readiness Gates", doc=(f"{_CORE}:PodSpec", "readinessGates"), priority=1),
        ),
        _print_pod,
    ),
    ("", "Node"): (
        (
            _NAME,
            _Col("Status", doc="The status of the node"),
            _Col("Roles", doc="The roles of the node"),
            _AGE,
            _Col("Version", doc=(f"{_CORE}:NodeSystemInfo", "kubeletVersion")),
            _Col("Internal-IP", doc=(f"{_CORE}:NodeStatus", "addresses"), priority=1),
            _Col("External-IP", doc=(f"{_CORE}:NodeStatus", "addresses"), priority=1),
            _Col("OS-Image", doc=(f"{_CORE}:NodeSystemInfo", "osImage"), priority=1),
            _Col("Kernel-Version", doc=(f"{_CORE}:NodeSystemInfo", "kernelVersion"), priority=1),
            _Col(
                "Container-Runtime",
                doc=(f"{_CORE}:NodeSystemInfo", "containerRuntimeVersion"),
                priority=1,
            ),
        ),
        _print_node,
    ),
    ("apps", "Deployment"): (
        (
            _NAME,
            _Col("Ready", doc=_READY_DOC),
            _Col("Up-to-date", doc=(f"{_APPS}:DeploymentStatus", "updatedReplicas")),
            _Col("Available", doc=(f"{_APPS}:DeploymentStatus", "availableReplicas")),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_APPS}:DeploymentSpec", "selector"), priority=1),
        ),
        _print_deployment,
    ),
    ("apps", "ReplicaSet"): (
        (
            _NAME,
            _Col("Desired", "integer", (f"{_APPS}:ReplicaSetSpec", "replicas")),
            _Col("Current", "integer", (f"{_APPS}:ReplicaSetStatus", "replicas")),
            _Col("Ready", "integer", (f"{_APPS}:ReplicaSetStatus", "readyReplicas")),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_APPS}:ReplicaSetSpec", "selector"), priority=1),
        ),
        _print_replicaset,
    ),
    ("", "ReplicationController"): (
        (
            _NAME,
            _Col("Desired", "integer", (f"{_CORE}:ReplicationControllerSpec", "replicas")),
            _Col("Current", "integer", (f"{_CORE}:ReplicationControllerStatus", "replicas")),
            _Col("Ready", "integer", (f"{_CORE}:ReplicationControllerStatus", "readyReplicas")),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_CORE}:ReplicationControllerSpec", "selector"), priority=1),
        ),
        _print_replication_controller,
    ),
    ("apps", "StatefulSet"): (
        (_NAME, _Col("Ready", doc=_READY_DOC), _AGE, _CONTAINERS, _IMAGES),
        _print_statefulset,
    ),
    ("apps", "DaemonSet"): (
        (
            _NAME,
            _Col("Desired", "integer", (f"{_APPS}:DaemonSetStatus", "desiredNumberScheduled")),
            _Col("Current", "integer", (f"{_APPS}:DaemonSetStatus", "currentNumberScheduled")),
            _Col("Ready", "integer", (f"{_APPS}:DaemonSetStatus", "numberReady")),
            _Col("Up-to-date", "integer", (f"{_APPS}:DaemonSetStatus", "updatedNumberScheduled")),
            _Col("Available", "integer", (f"{_APPS}:DaemonSetStatus", "numberAvailable")),
            _Col("Node Selector", doc=(f"{_CORE}:PodSpec", "nodeSelector")),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_APPS}:DaemonSetSpec", "selector"), priority=1),
        ),
        _print_daemonset,
    ),
    ("batch", "Job"): (
        (
            _NAME,
            _Col("Status", doc="Status of the job."),
            _Col("Completions", doc=(f"{_BATCH}:JobStatus", "succeeded")),
            _Col("Duration", doc="Time required to complete the job."),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_BATCH}:JobSpec", "selector"), priority=1),
        ),
        _print_job,
    ),
    ("batch", "CronJob"): (
        (
            _NAME,
            _Col("Schedule", doc=(f"{_BATCH}:CronJobSpec", "schedule")),
            _Col("Timezone", doc=(f"{_BATCH}:CronJobSpec", "timeZone")),
            _Col("Suspend", "boolean", (f"{_BATCH}:CronJobSpec", "suspend")),
            _Col("Active", "integer", (f"{_BATCH}:CronJobStatus", "active")),
            _Col("Last Schedule", doc=(f"{_BATCH}:CronJobStatus", "lastScheduleTime")),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _Col("Selector", doc=(f"{_BATCH}:JobSpec", "selector"), priority=1),
        ),
        _print_cronjob,
    ),
    ("", "Service"): (
        (
            _NAME,
            _Col("Type", doc=(f"{_CORE}:ServiceSpec", "type")),
            _Col("Cluster-IP", doc=(f"{_CORE}:ServiceSpec", "clusterIP")),
            _Col("External-IP", doc=(f"{_CORE}:ServiceSpec", "externalIPs")),
            _Col("Port(s)", doc=(f"{_CORE}:ServiceSpec", "ports")),
            _AGE,
            _Col("Selector", doc=(f"{_CORE}:ServiceSpec", "selector"), priority=1),
        ),
        _print_service,
    ),
    ("", "Endpoints"): (
        (_NAME, _Col("Endpoints", doc=(f"{_CORE}:Endpoints", "subsets")), _AGE),
        _print_endpoints,
    ),
    ("", "ConfigMap"): (
        (_NAME, _Col("Data", doc=(f"{_CORE}:ConfigMap", "data")), _AGE),
        _print_configmap,
    ),
    ("", "Secret"): (
        (
            _NAME,
            _Col("Type", doc=(f"{_CORE}:Secret", "type")),
            _Col("Data", doc=(f"{_CORE}:Secret", "data")),
            _AGE,
        ),
        _print_secret,
    ),
    ("", "Namespace"): (
        (_NAME, _Col("Status", doc="The status of the namespace"), _AGE),
        _print_namespace,
    ),
    ("", "ServiceAccount"): (
        (_NAME, _Col("Secrets", doc=(f"{_CORE}:ServiceAccount", "secrets")), _AGE),
        _print_service_account,
    ),
    ("coordination.k8s.io", "Lease"): (
        (_NAME, _Col("Holder", doc=("pyclientgo.api.coordination.v1:LeaseSpec", "holderIdentity")), _AGE),
        _print_lease,
    ),
    ("", "PersistentVolume"): (
        (
            _NAME,
            _Col("Capacity", doc=(f"{_CORE}:PersistentVolumeSpec", "capacity")),
            _Col("Access Modes", doc=(f"{_CORE}:PersistentVolumeSpec", "accessModes")),
            _Col("Reclaim Policy", doc=(f"{_CORE}:PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
            _Col("Status", doc=(f"{_CORE}:PersistentVolumeStatus", "phase")),
            _Col("Claim", doc=(f"{_CORE}:PersistentVolumeSpec", "claimRef")),
            _Col("StorageClass", doc="StorageClass of the pv"),
            _Col(
                "VolumeAttributesClass",
                doc=(f"{_CORE}:PersistentVolumeSpec", "volumeAttributesClassName"),
            ),
            _Col("Reason", doc=(f"{_CORE}:PersistentVolumeStatus", "reason")),
            _AGE,
            _Col("VolumeMode", doc=(f"{_CORE}:PersistentVolumeSpec", "volumeMode"), priority=1),
        ),
        _print_persistent_volume,
    ),
    ("", "PersistentVolumeClaim"): (
        (
            _NAME,
            _Col("Status", doc=(f"{_CORE}:PersistentVolumeClaimStatus", "phase")),
            _Col("Volume", doc=(f"{_CORE}:PersistentVolumeClaimSpec", "volumeName")),
            _Col("Capacity", doc=(f"{_CORE}:PersistentVolumeClaimStatus", "capacity")),
            _Col("Access Modes", doc=(f"{_CORE}:PersistentVolumeClaimStatus", "accessModes")),
            _Col("StorageClass", doc="StorageClass of the pvc"),
            _Col(
                "VolumeAttributesClass",
                doc=(f"{_CORE}:PersistentVolumeClaimSpec", "volumeAttributesClassName"),
            ),
            _AGE,
            _Col("VolumeMode", doc=(f"{_CORE}:PersistentVolumeClaimSpec", "volumeMode"), priority=1),
        ),
        _print_persistent_volume_claim,
    ),
    ("policy", "PodDisruptionBudget"): (
        (
            _NAME,
            _Col("Min Available", doc="The minimum number of pods that must be available."),
            _Col("Max Unavailable", doc="The maximum number of pods that may be unavailable."),
            _Col(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            _AGE,
        ),
        _print_pdb,
    ),
    ("networking.k8s.io", "Ingress"): (
        (
            _NAME,
            _Col(
                "Class",
                doc="The name of the IngressClass resource that should be used for additional configuration",
            ),
            _Col("Hosts", doc="Hosts that incoming requests are matched against before the ingress rule"),
            _Col("Address", doc="Address is a list containing ingress points for the load-balancer"),
            _Col("Ports", doc="Ports of TLS configurations that open"),
            _AGE,
        ),
        _print_ingress,
    ),
    ("networking.k8s.io", "IngressClass"): (
        (
            _NAME,
            _Col("Controller", doc="Controller that is responsible for handling this class"),
            _Col("Parameters", doc="A reference to a resource with additional parameters"),
            _AGE,
        ),
        _print_ingress_class,
    ),
    ("networking.k8s.io", "NetworkPolicy"): (
        (
            _NAME,
            _Col("Pod-Selector", doc=("pyclientgo.api.networking.v1:NetworkPolicySpec", "podSelector")),
            _AGE,
        ),
        _print_network_policy,
    ),
    ("discovery.k8s.io", "EndpointSlice"): (
        (
            _NAME,
            _Col("AddressType", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "addressType")),
            _Col("Ports", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "ports")),
            _Col("Endpoints", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "endpoints")),
            _AGE,
        ),
        _print_endpoint_slice,
    ),
    ("scheduling.k8s.io", "PriorityClass"): (
        (
            _NAME,
            _Col("Value", "integer", ("pyclientgo.api.scheduling.v1:PriorityClass", "value")),
            _Col(
                "Global-Default", "boolean", ("pyclientgo.api.scheduling.v1:PriorityClass", "globalDefault")
            ),
            _AGE,
        ),
        _print_priority_class,
    ),
    ("storage.k8s.io", "StorageClass"): (
        (
            _NAME,
            _Col("Provisioner", doc=("pyclientgo.api.storage.v1:StorageClass", "provisioner")),
            _Col("ReclaimPolicy", doc=("pyclientgo.api.storage.v1:StorageClass", "reclaimPolicy")),
            _Col("VolumeBindingMode", doc=("pyclientgo.api.storage.v1:StorageClass", "volumeBindingMode")),
            _Col(
                "AllowVolumeExpansion", doc=("pyclientgo.api.storage.v1:StorageClass", "allowVolumeExpansion")
            ),
            _AGE,
        ),
        _print_storage_class,
    ),
    ("apps", "ControllerRevision"): (
        (
            _NAME,
            _Col("Controller", doc="Controller of the object"),
            _Col("Revision", doc=(f"{_APPS}:ControllerRevision", "revision")),
            _AGE,
        ),
        _print_controller_revision,
    ),
    ("node.k8s.io", "RuntimeClass"): (
        (_NAME, _Col("Handler", doc=("pyclientgo.api.node.v1:RuntimeClass", "handler")), _AGE),
        _print_runtime_class,
    ),
}

_EVENT_COLUMNS = (
    _Col("Last Seen", doc=(f"{_CORE}:Event", "lastTimestamp")),
    _Col("Type", doc=(f"{_CORE}:Event", "type")),
    _Col("Reason", doc=(f"{_CORE}:Event", "reason")),
    _Col("Object", doc=(f"{_CORE}:Event", "involvedObject")),
    _Col("Subobject", doc=(f"{_CORE}:ObjectReference", "fieldPath"), priority=1),
    _Col("Source", doc=(f"{_CORE}:Event", "source"), priority=1),
    _Col("Message", doc=(f"{_CORE}:Event", "message")),
    _Col("First Seen", doc=(f"{_CORE}:Event", "firstTimestamp"), priority=1),
    _Col("Count", doc=(f"{_CORE}:Event", "count"), priority=1),
    _Col("Name", doc=(_META, "name"), format="name", priority=1),
)
_PRINTERS[("", "Event")] = (_EVENT_COLUMNS, _print_core_event)
_PRINTERS[("events.k8s.io", "Event")] = (_EVENT_COLUMNS, _print_events_event)

_ROLE_BINDING_COLUMNS = (
    _NAME,
    _Col("Role", doc=("pyclientgo.api.rbac.v1:RoleBinding", "roleRef")),
    _AGE,
    _Col("Users", doc="Users in the roleBinding", priority=1),
    _Col("Groups", doc="Groups in the roleBinding", priority=1),
    _Col("ServiceAccounts", doc="ServiceAccounts in the roleBinding", priority=1),
)
_PRINTERS[("rbac.authorization.k8s.io", "RoleBinding")] = (_ROLE_BINDING_COLUMNS, _print_role_binding)
_PRINTERS[("rbac.authorization.k8s.io", "ClusterRoleBinding")] = (
    tuple(
        _Col(c.name, doc=c.doc.replace("roleBinding", "clusterRoleBinding"), priority=1)
        if isinstance(c.doc, str) and c.priority
        else c
        for c in _ROLE_BINDING_COLUMNS
    ),
    _print_role_binding,
)
_WEBHOOK_COLUMNS = (
    _NAME,
    _Col(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    _AGE,
)
for _kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
    _PRINTERS[("admissionregistration.k8s.io", _kind)] = (_WEBHOOK_COLUMNS, _print_webhook_configuration)

_DEFAULT_COLUMNS = (
    _NAME,
    _Col("Created At", "date", (_META, "creationTimestamp")),
)


def _print_default(obj: Obj, now: _dt.datetime) -> Cells:
    created = _parse_time(_get(obj, "metadata", "creationTimestamp"))
    text = "0001-01-01T00:00:00Z"
    if created is not None:
        text = created.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [_name(obj), text]


# -- custom resources: additionalPrinterColumns --------------------------------------------------

_PATH_TOKEN = re.compile(r"\.((?:\\.|[^.\[\\])+)|\[(\d+|\*|'[^']*'|\"[^\"]*\")\]")


def _json_path(obj: Any, path: str) -> list[Any]:
    """The values a simple JSONPath (``.a.b``, ``.a[0]``, ``.a[*].b``, ``.a['x.y']``) selects."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path.lstrip("$")
    values = [obj]
    pos = 0
    while pos < len(path):
        match = _PATH_TOKEN.match(path, pos)
        if match is None:
            return []
        pos = match.end()
        key, index = match.group(1), match.group(2)
        selected: list[Any] = []
        for value in values:
            if key is not None:
                key_text = key.replace("\\.", ".")
                if isinstance(value, Mapping) and key_text in value:
                    selected.append(value[key_text])
            elif index == "*":
                if isinstance(value, list):
                    selected.extend(value)
                elif isinstance(value, Mapping):
                    selected.extend(value.values())
            elif index is not None and index[0] in "'\"":
                if isinstance(value, Mapping) and index[1:-1] in value:
                    selected.append(value[index[1:-1]])
            elif index is not None and isinstance(value, list) and int(index) < len(value):
                selected.append(value[int(index)])
        values = selected
    return values


def _custom_cell(column: Mapping[str, Any], obj: Obj, now: _dt.datetime) -> Any:
    values = [v for v in _json_path(obj, str(column.get("jsonPath", ""))) if v is not None]
    if not values:
        return None
    value = values[0]
    col_type = column.get("type", "string")
    if col_type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Mapping | list):
            return json.dumps(value, separators=(",", ":"))
        return str(value)
    if col_type == "integer":
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if col_type == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if col_type == "boolean":
        return value if isinstance(value, bool) else None
    if col_type == "date":
        if not isinstance(value, str):
            return None
        when = _parse_time(value)
        return "<invalid>" if when is None else human_duration((now - when).total_seconds())
    return value


_CRD_DEFAULT_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)


def _custom_definitions(printer_columns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = [_definition(_NAME)]
    for column in printer_columns:
        path = str(column.get("jsonPath", ""))
        out.append(
            {
                "name": str(column.get("name", "")),
                "type": str(column.get("type", "string")),
                "format": str(column.get("format", "")),
                "description": str(
                    column.get("description")
                    or f"Custom resource definition column (in JSONPath format): {path}"
                ),
                "priority": int(column.get("priority", 0)),
            }
        )
    return out


# -- the entry point -----------------------------------------------------------------------------


def _partial_metadata(obj: Obj) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(_map(obj, "metadata")),
    }


@functools.cache
def _kind_definitions(key: tuple[str, str]) -> tuple[dict[str, Any], ...]:
    columns = _PRINTERS[key][0] if key in _PRINTERS else _DEFAULT_COLUMNS
    return tuple(_definition(c) for c in columns)


def column_definitions(info: ResourceInfo) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of ``info``'s kind (a fresh list of fresh dicts)."""
    return [dict(d) for d in _kind_definitions((info.group, info.kind))]


def to_table(
    info: ResourceInfo,
    objects: Sequence[Obj],
    *,
    include_object: str = "Metadata",
    list_meta: Mapping[str, Any] | None = None,
    no_headers: bool = False,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    now: _dt.datetime | None = None,
) -> dict[str, Any]:
    """``objects`` (wire dicts of ``info``'s kind) as a ``meta.k8s.io/v1`` Table.

    - ``include_object``: ``Metadata`` (default; rows carry PartialObjectMetadata), ``Object``
      (the whole object) or ``None`` (no ``object`` in rows).
    - ``list_meta``: the list's ``metadata`` (resourceVersion, continue, remainingItemCount).
      Without it, a single object's resourceVersion is used (a GET, or one watch event).
    - ``no_headers``: leave out ``columnDefinitions`` (``null``), as kube-apiserver does for every
      watch event after the first.
    - ``printer_columns``: a custom resource's ``additionalPrinterColumns`` (CRD version fields
      name/type/format/description/priority/jsonPath); used instead of the kind's printer.
    - ``now``: the clock for ages (default: the current UTC time).
    """
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise ValueError(f"includeObject must be one of {', '.join(INCLUDE_OBJECT_VALUES)}")
    now = now or _dt.datetime.now(_dt.UTC)
    key = (info.group, info.kind)
    custom = printer_columns is not None
    if custom and not printer_columns:
        printer_columns = _CRD_DEFAULT_COLUMNS  # what CRD defaulting adds when none are declared
    printer = _PRINTERS[key][1] if key in _PRINTERS else _print_default

    rows: list[dict[str, Any]] = []
    for obj in objects:
        if custom:
            cells: Cells = [_name(obj), *(_custom_cell(c, obj, now) for c in printer_columns or ())]
        else:
            cells = printer(obj, now)
        row: dict[str, Any] = {"cells": cells}
        if key == ("", "Pod") and not custom:
            conditions = _pod_row_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        if include_object == "Metadata":
            row["object"] = _partial_metadata(obj)
        elif include_object == "Object":
            row["object"] = obj
        rows.append(row)

    metadata: dict[str, Any] = {}
    if list_meta is not None:
        if list_meta.get("resourceVersion"):
            metadata["resourceVersion"] = list_meta["resourceVersion"]
        if list_meta.get("continue"):
            metadata["continue"] = list_meta["continue"]
        if list_meta.get("remainingItemCount") is not None:
            metadata["remainingItemCount"] = list_meta["remainingItemCount"]
    elif len(objects) == 1 and _str(objects[0], "metadata", "resourceVersion"):
        metadata["resourceVersion"] = _str(objects[0], "metadata", "resourceVersion")

    definitions: list[dict[str, Any]] | None
    if no_headers:
        definitions = None
    elif custom:
        definitions = _custom_definitions(printer_columns or ())
    else:
        definitions = column_definitions(info)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
