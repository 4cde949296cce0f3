"""Rows of apps/v1 kinds: Deployments, ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions."""

from __future__ import annotations

import datetime as _dt

from testserver.apiserver.tables.columns import (
    AGE,
    APPS,
    CONTAINERS,
    CORE,
    IMAGES,
    NAME,
    READY_DOC,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    containers_cells,
    format_label_selector,
    format_labels,
    int_at,
    list_at,
    map_at,
    name_of,
    selector_string,
    str_at,
    value_at,
)

__all__ = ["PRINTERS"]


def _print_deployment(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    names, images = containers_cells(value_at(spec, "template", "spec"))
    selector = selector_string(value_at(spec, "selector"))
    return [
        name_of(obj),
        f"{int_at(status, 'readyReplicas')}/{int_at(spec, 'replicas', default=1)}",
        int_at(status, "updatedReplicas"),
        int_at(status, "availableReplicas"),
        age(obj, now),
        names,
        images,
        selector or "",
    ]


def _print_replicaset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    names, images = containers_cells(value_at(spec, "template", "spec"))
    return [
        name_of(obj),
        int_at(spec, "replicas", default=1),
        int_at(status, "replicas"),
        int_at(status, "readyReplicas"),
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(spec, "selector")),
    ]


def _print_statefulset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    names, images = containers_cells(value_at(spec, "template", "spec"))
    return [
        name_of(obj),
        f"{int_at(status, 'readyReplicas')}/{int_at(spec, 'replicas', default=1)}",
        age(obj, now),
        names,
        images,
    ]


def _print_daemonset(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    names, images = containers_cells(value_at(spec, "template", "spec"))
    return [
        name_of(obj),
        int_at(status, "desiredNumberScheduled"),
        int_at(status, "currentNumberScheduled"),
        int_at(status, "numberReady"),
        int_at(status, "updatedNumberScheduled"),
        int_at(status, "numberAvailable"),
        format_labels(map_at(spec, "template", "spec", "nodeSelector")),
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(spec, "selector")),
    ]


def _print_controller_revision(obj: Obj, now: _dt.datetime) -> Cells:
    controller = "<none>"
    for ref in list_at(obj, "metadata", "ownerReferences"):
        if value_at(ref, "controller") is True:
            group = str_at(ref, "apiVersion").rpartition("/")[0]
            kind = str_at(ref, "kind") + (f".{group}" if group else "")
            controller = f"{kind.lower()}/{str_at(ref, 'name')}"
            break
    return [name_of(obj), controller, int_at(obj, "revision"), age(obj, now)]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("apps", "Deployment"): (
        (
            NAME,
            Col("Ready", doc=READY_DOC),
            Col("Up-to-date", doc=(f"{APPS}:DeploymentStatus", "updatedReplicas")),
            Col("Available", doc=(f"{APPS}:DeploymentStatus", "availableReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{APPS}:DeploymentSpec", "selector"), priority=1),
        ),
        _print_deployment,
    ),
    ("apps", "ReplicaSet"): (
        (
            NAME,
            Col("Desired", "integer", (f"{APPS}:ReplicaSetSpec", "replicas")),
            Col("Current", "integer", (f"{APPS}:ReplicaSetStatus", "replicas")),
            Col("Ready", "integer", (f"{APPS}:ReplicaSetStatus", "readyReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{APPS}:ReplicaSetSpec", "selector"), priority=1),
        ),
        _print_replicaset,
    ),
    ("apps", "StatefulSet"): (
        (NAME, Col("Ready", doc=READY_DOC), AGE, CONTAINERS, IMAGES),
        _print_statefulset,
    ),
    ("apps", "DaemonSet"): (
        (
            NAME,
            Col("Desired", "integer", (f"{APPS}:DaemonSetStatus", "desiredNumberScheduled")),
            Col("Current", "integer", (f"{APPS}:DaemonSetStatus", "currentNumberScheduled")),
            Col("Ready", "integer", (f"{APPS}:DaemonSetStatus", "numberReady")),
            Col("Up-to-date", "integer", (f"{APPS}:DaemonSetStatus", "updatedNumberScheduled")),
            Col("Available", "integer", (f"{APPS}:DaemonSetStatus", "numberAvailable")),
            Col("Node Selector", doc=(f"{CORE}:PodSpec", "nodeSelector")),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{APPS}:DaemonSetSpec", "selector"), priority=1),
        ),
        _print_daemonset,
    ),
    ("apps", "ControllerRevision"): (
        (
            NAME,
            Col("Controller", doc="Controller of the object"),
            Col("Revision", doc=(f"{APPS}:ControllerRevision", "revision")),
            AGE,
        ),
        _print_controller_revision,
    ),
}
