"""Pod and Node rows: kubectl's STATUS/READY/RESTARTS logic (``printPod``, ``printNode``)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from testserver.apiserver.tables.columns import (
    AGE,
    CORE,
    NAME,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.durations import human_duration, parse_time, translate_timestamp_since
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    condition_true,
    int_at,
    list_at,
    map_at,
    name_of,
    str_at,
    value_at,
)

__all__ = ["PRINTERS", "pod_row_conditions"]


def _is_restartable_init(container: Any) -> bool:
    return str_at(container, "restartPolicy") == "Always"


def _pod_status_and_counts(pod: Obj, now: _dt.datetime) -> tuple[str, int, int, str]:
    """(status reason, ready containers, total containers, restarts text) as kubectl prints them."""
    spec, status = map_at(pod, "spec"), map_at(pod, "status")
    conditions = list_at(status, "conditions")
    total = len(list_at(spec, "containers"))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: _dt.datetime | None = None
    last_sidecar_restart: _dt.datetime | None = None

    phase = str_at(status, "phase")
    reason = str_at(status, "reason") or phase
    for cond in conditions:
        if str_at(cond, "type") == "PodScheduled" and str_at(cond, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {str_at(c, "name"): c for c in list_at(spec, "initContainers")}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    def later(current: _dt.datetime | None, cs: Any) -> _dt.datetime | None:
        finished = parse_time(value_at(cs, "lastState", "terminated", "finishedAt"))
        if finished is not None and (current is None or finished > current):
            return finished
        return current

    initializing = False
    init_statuses = list_at(status, "initContainerStatuses")
    for i, cs in enumerate(init_statuses):
        restarts += int_at(cs, "restartCount")
        last_restart = later(last_restart, cs)
        sidecar = _is_restartable_init(init_specs.get(str_at(cs, "name")))
        if sidecar:
            sidecar_restarts += int_at(cs, "restartCount")
            last_sidecar_restart = later(last_sidecar_restart, cs)
        terminated = value_at(cs, "state", "terminated")
        waiting = value_at(cs, "state", "waiting")
        if isinstance(terminated, Mapping) and int_at(terminated, "exitCode") == 0:
            continue
        if sidecar and value_at(cs, "started") is True:
            if value_at(cs, "ready") is True:
                ready += 1
            continue
        if isinstance(terminated, Mapping):
            if str_at(terminated, "reason"):
                reason = "Init:" + str_at(terminated, "reason")
            elif int_at(terminated, "signal"):
                reason = f"Init:Signal:{int_at(terminated, 'signal')}"
            else:
                reason = f"Init:ExitCode:{int_at(terminated, 'exitCode')}"
        elif (
            isinstance(waiting, Mapping)
            and str_at(waiting, "reason")
            and str_at(waiting, "reason") != "PodInitializing"
        ):
            reason = "Init:" + str_at(waiting, "reason")
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(list_at(status, "containerStatuses")):
            restarts += int_at(cs, "restartCount")
            last_restart = later(last_restart, cs)
            waiting = value_at(cs, "state", "waiting")
            terminated = value_at(cs, "state", "terminated")
            if isinstance(waiting, Mapping) and str_at(waiting, "reason"):
                reason = str_at(waiting, "reason")
            elif isinstance(terminated, Mapping) and str_at(terminated, "reason"):
                reason = str_at(terminated, "reason")
            elif isinstance(terminated, Mapping):
                if int_at(terminated, "signal"):
                    reason = f"Signal:{int_at(terminated, 'signal')}"
                else:
                    reason = f"ExitCode:{int_at(terminated, 'exitCode')}"
            elif value_at(cs, "ready") is True and isinstance(value_at(cs, "state", "running"), Mapping):
                has_running = True
                ready += 1
        # A container still running after another one completed: the pod is not "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if condition_true(conditions, "Ready") else "NotReady"

    deleting = value_at(pod, "metadata", "deletionTimestamp") is not None
    if deleting and str_at(status, "reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    return reason, ready, total, restarts_text


def _print_pod(pod: Obj, now: _dt.datetime) -> Cells:
    reason, ready, total, restarts = _pod_status_and_counts(pod, now)
    spec, status = map_at(pod, "spec"), map_at(pod, "status")
    pod_ips = list_at(status, "podIPs")
    pod_ip = str_at(pod_ips[0], "ip") if pod_ips else ""
    gates = list_at(spec, "readinessGates")
    readiness = "<none>"
    if gates:
        conditions = list_at(status, "conditions")
        true_count = 0
        for gate in gates:
            for cond in conditions:
                if str_at(cond, "type") == str_at(gate, "conditionType"):
                    true_count += str_at(cond, "status") == "True"
                    break
        readiness = f"{true_count}/{len(gates)}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts,
        translate_timestamp_since(value_at(pod, "metadata", "creationTimestamp"), now),
        pod_ip or "<none>",
        str_at(spec, "nodeName") or "<none>",
        str_at(status, "nominatedNodeName") or "<none>",
        readiness,
    ]


def pod_row_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = str_at(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


def _print_node(node: Obj, now: _dt.datetime) -> Cells:
    status: list[str] = []
    for cond in list_at(node, "status", "conditions"):
        if str_at(cond, "type") == "Ready":
            status = ["Ready" if str_at(cond, "status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if value_at(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in map_at(node, "metadata", "labels").items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))

    def address(kind: str) -> str:
        for addr in list_at(node, "status", "addresses"):
            if str_at(addr, "type") == kind:
                return str_at(addr, "address")
        return "<none>"

    info = map_at(node, "status", "nodeInfo")
    return [
        name_of(node),
        ",".join(status),
        ",".join(sorted(roles)) or "<none>",
        age(node, now),
        str_at(info, "kubeletVersion"),
        address("InternalIP"),
        address("ExternalIP"),
        str_at(info, "osImage") or "<unknown>",
        str_at(info, "kernelVersion") or "<unknown>",
        str_at(info, "containerRuntimeVersion") or "<unknown>",
    ]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("", "Pod"): (
        (
            NAME,
            Col("Ready", doc="The aggregate readiness state of this pod for accepting traffic."),
            Col("Status", doc="The aggregate status of the containers in this pod."),
            Col(
                "Restarts",
                doc="The number of times the containers in this pod have been restarted and when the "
                "last container in this pod has restarted.",
            ),
            AGE,
            Col("IP", doc=(f"{CORE}:PodStatus", "podIP"), priority=1),
            Col("Node", doc=(f"{CORE}:PodSpec", "nodeName"), priority=1),
            Col("Nominated Node", doc=(f"{CORE}:PodStatus", "nominatedNodeName"), priority=1),
            Col("Readiness Gates", doc=(f"{CORE}:PodSpec", "readinessGates"), priority=1),
        ),
        _print_pod,
    ),
    ("", "Node"): (
        (
            NAME,
            Col("Status", doc="The status of the node"),
            Col("Roles", doc="The roles of the node"),
            AGE,
            Col("Version", doc=(f"{CORE}:NodeSystemInfo", "kubeletVersion")),
            Col("Internal-IP", doc=(f"{CORE}:NodeStatus", "addresses"), priority=1),
            Col("External-IP", doc=(f"{CORE}:NodeStatus", "addresses"), priority=1),
            Col("OS-Image", doc=(f"{CORE}:NodeSystemInfo", "osImage"), priority=1),
            Col("Kernel-Version", doc=(f"{CORE}:NodeSystemInfo", "kernelVersion"), priority=1),
            Col(
                "Container-Runtime",
                doc=(f"{CORE}:NodeSystemInfo", "containerRuntimeVersion"),
                priority=1,
            ),
        ),
        _print_node,
    ),
}
