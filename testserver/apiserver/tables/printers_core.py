"""Rows of the other core/v1 kinds (Services, Endpoints, ConfigMaps, Secrets, Events, volumes, ...)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from testserver.apiserver.tables.columns import (
    AGE,
    CONTAINERS,
    CORE,
    IMAGES,
    META,
    NAME,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.durations import parse_time, translate_timestamp_since
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    containers_cells,
    format_labels,
    int_at,
    list_at,
    load_balancer_ips,
    map_at,
    name_of,
    str_at,
    value_at,
)

__all__ = ["PRINTERS"]


def _print_replication_controller(obj: Obj, now: _dt.datetime) -> Cells:
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
        format_labels(map_at(spec, "selector")),
    ]


def _print_service(obj: Obj, now: _dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    svc_type = str_at(spec, "type")
    cluster_ips = list_at(spec, "clusterIPs")
    external_ips = [str(ip) for ip in list_at(spec, "externalIPs")]
    if svc_type in ("ClusterIP", "NodePort"):
        external = ",".join(external_ips) or "<none>"
    elif svc_type == "LoadBalancer":
        lb = load_balancer_ips(value_at(obj, "status"))
        external = ",".join(lb + external_ips) or "<pending>"
    elif svc_type == "ExternalName":
        external = str_at(spec, "externalName")
    else:
        external = "<unknown>"
    ports = []
    for port in list_at(spec, "ports"):
        protocol = str_at(port, "protocol") or "TCP"
        if int_at(port, "nodePort") > 0:
            ports.append(f"{int_at(port, 'port')}:{int_at(port, 'nodePort')}/{protocol}")
        else:
            ports.append(f"{int_at(port, 'port')}/{protocol}")
    return [
        name_of(obj),
        svc_type,
        str(cluster_ips[0]) if cluster_ips else (str_at(spec, "clusterIP") or "<none>"),
        external,
        ",".join(ports) or "<none>",
        age(obj, now),
        format_labels(map_at(spec, "selector")),
    ]


def _print_endpoints(obj: Obj, now: _dt.datetime) -> Cells:
    subsets = list_at(obj, "subsets")
    if not subsets:
        text = "<none>"
    else:
        entries: list[str] = []
        count = 0
        for subset in subsets:
            addresses = [str_at(a, "ip") for a in list_at(subset, "addresses")]
            ports = list_at(subset, "ports")
            if not ports:
                for ip in addresses:
                    entries.append(ip)
                    count += 1
            for port in ports:
                for ip in addresses:
                    host = f"[{ip}]" if ":" in ip else ip
                    entries.append(f"{host}:{int_at(port, 'port')}")
                    count += 1
        text = ",".join(entries[:3])
        if count > 3:
            text += f" + {count - 3} more..."
    return [name_of(obj), text, age(obj, now)]


def _print_configmap(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), len(map_at(obj, "data")) + len(map_at(obj, "binaryData")), age(obj, now)]


def _print_secret(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), str_at(obj, "type"), len(map_at(obj, "data")), age(obj, now)]


def _print_namespace(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), str_at(obj, "status", "phase"), age(obj, now)]


def _print_service_account(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), len(list_at(obj, "secrets")), age(obj, now)]


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
    if parse_time(first) is None:
        first_seen = translate_timestamp_since(event_time, now)
    last_seen = translate_timestamp_since(last, now)
    if parse_time(last) is None:
        last_seen = first_seen
    if isinstance(series, Mapping):
        last_seen = translate_timestamp_since(value_at(series, "lastObservedTime"), now)
        count = int_at(series, "count")
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    kind = str_at(involved, "kind").lower()
    target = f"{kind}/{str_at(involved, 'name')}" if str_at(involved, "name") else kind
    component = str_at(source, "component") or str_at(obj, "reportingController")
    host = str_at(source, "host") or str_at(obj, "reportingInstance")
    return [
        last_seen,
        str_at(obj, "type"),
        str_at(obj, "reason"),
        target,
        str_at(involved, "fieldPath"),
        f"{component}, {host}" if host else component,
        message.strip(),
        first_seen,
        count,
        name_of(obj),
    ]


def _print_core_event(obj: Obj, now: _dt.datetime) -> Cells:
    return _event_cells(
        obj,
        now,
        first=value_at(obj, "firstTimestamp"),
        last=value_at(obj, "lastTimestamp"),
        event_time=value_at(obj, "eventTime"),
        count=int_at(obj, "count"),
        series=value_at(obj, "series"),
        involved=map_at(obj, "involvedObject"),
        source=map_at(obj, "source"),
        message=str_at(obj, "message"),
    )


def _print_events_event(obj: Obj, now: _dt.datetime) -> Cells:
    """events.k8s.io/v1 Events are the same objects under new field names."""
    return _event_cells(
        obj,
        now,
        first=value_at(obj, "deprecatedFirstTimestamp"),
        last=value_at(obj, "deprecatedLastTimestamp"),
        event_time=value_at(obj, "eventTime"),
        count=int_at(obj, "deprecatedCount"),
        series=value_at(obj, "series"),
        involved=map_at(obj, "regarding"),
        source=map_at(obj, "deprecatedSource"),
        message=str_at(obj, "note"),
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
    annotated = map_at(obj, "metadata", "annotations").get("volume.beta.kubernetes.io/storage-class")
    if isinstance(annotated, str):
        return annotated
    return str_at(obj, "spec", "storageClassName")


def _print_persistent_volume(obj: Obj, now: _dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    claim = map_at(spec, "claimRef")
    phase = str_at(obj, "status", "phase")
    if value_at(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    return [
        name_of(obj),
        str_at(spec, "capacity", "storage") or "0",
        _access_modes(list_at(spec, "accessModes")),
        str_at(spec, "persistentVolumeReclaimPolicy"),
        phase,
        f"{str_at(claim, 'namespace')}/{str_at(claim, 'name')}" if claim else "",
        _storage_class(obj),
        str_at(spec, "volumeAttributesClassName") or "<unset>",
        str_at(obj, "status", "reason"),
        age(obj, now),
        str_at(spec, "volumeMode") or "<unset>",
    ]


def _print_persistent_volume_claim(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    phase = str_at(status, "phase")
    if value_at(obj, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = access = ""
    if str_at(spec, "volumeName"):
        access = _access_modes(list_at(status, "accessModes"))
        capacity = str_at(status, "capacity", "storage") or "0"
    return [
        name_of(obj),
        phase,
        str_at(spec, "volumeName"),
        capacity,
        access,
        _storage_class(obj),
        str_at(spec, "volumeAttributesClassName") or "<unset>",
        age(obj, now),
        str_at(spec, "volumeMode") or "<unset>",
    ]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("", "ReplicationController"): (
        (
            NAME,
            Col("Desired", "integer", (f"{CORE}:ReplicationControllerSpec", "replicas")),
            Col("Current", "integer", (f"{CORE}:ReplicationControllerStatus", "replicas")),
            Col("Ready", "integer", (f"{CORE}:ReplicationControllerStatus", "readyReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{CORE}:ReplicationControllerSpec", "selector"), priority=1),
        ),
        _print_replication_controller,
    ),
    ("", "Service"): (
        (
            NAME,
            Col("Type", doc=(f"{CORE}:ServiceSpec", "type")),
            Col("Cluster-IP", doc=(f"{CORE}:ServiceSpec", "clusterIP")),
            Col("External-IP", doc=(f"{CORE}:ServiceSpec", "externalIPs")),
            Col("Port(s)", doc=(f"{CORE}:ServiceSpec", "ports")),
            AGE,
            Col("Selector", doc=(f"{CORE}:ServiceSpec", "selector"), priority=1),
        ),
        _print_service,
    ),
    ("", "Endpoints"): (
        (NAME, Col("Endpoints", doc=(f"{CORE}:Endpoints", "subsets")), AGE),
        _print_endpoints,
    ),
    ("", "ConfigMap"): (
        (NAME, Col("Data", doc=(f"{CORE}:ConfigMap", "data")), AGE),
        _print_configmap,
    ),
    ("", "Secret"): (
        (
            NAME,
            Col("Type", doc=(f"{CORE}:Secret", "type")),
            Col("Data", doc=(f"{CORE}:Secret", "data")),
            AGE,
        ),
        _print_secret,
    ),
    ("", "Namespace"): (
        (NAME, Col("Status", doc="The status of the namespace"), AGE),
        _print_namespace,
    ),
    ("", "ServiceAccount"): (
        (NAME, Col("Secrets", doc=(f"{CORE}:ServiceAccount", "secrets")), AGE),
        _print_service_account,
    ),
    ("", "PersistentVolume"): (
        (
            NAME,
            Col("Capacity", doc=(f"{CORE}:PersistentVolumeSpec", "capacity")),
            Col("Access Modes", doc=(f"{CORE}:PersistentVolumeSpec", "accessModes")),
            Col("Reclaim Policy", doc=(f"{CORE}:PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
            Col("Status", doc=(f"{CORE}:PersistentVolumeStatus", "phase")),
            Col("Claim", doc=(f"{CORE}:PersistentVolumeSpec", "claimRef")),
            Col("StorageClass", doc="StorageClass of the pv"),
            Col(
                "VolumeAttributesClass",
                doc=(f"{CORE}:PersistentVolumeSpec", "volumeAttributesClassName"),
            ),
            Col("Reason", doc=(f"{CORE}:PersistentVolumeStatus", "reason")),
            AGE,
            Col("VolumeMode", doc=(f"{CORE}:PersistentVolumeSpec", "volumeMode"), priority=1),
        ),
        _print_persistent_volume,
    ),
    ("", "PersistentVolumeClaim"): (
        (
            NAME,
            Col("Status", doc=(f"{CORE}:PersistentVolumeClaimStatus", "phase")),
            Col("Volume", doc=(f"{CORE}:PersistentVolumeClaimSpec", "volumeName")),
            Col("Capacity", doc=(f"{CORE}:PersistentVolumeClaimStatus", "capacity")),
            Col("Access Modes", doc=(f"{CORE}:PersistentVolumeClaimStatus", "accessModes")),
            Col("StorageClass", doc="StorageClass of the pvc"),
            Col(
                "VolumeAttributesClass",
                doc=(f"{CORE}:PersistentVolumeClaimSpec", "volumeAttributesClassName"),
            ),
            AGE,
            Col("VolumeMode", doc=(f"{CORE}:PersistentVolumeClaimSpec", "volumeMode"), priority=1),
        ),
        _print_persistent_volume_claim,
    ),
}

_EVENT_COLUMNS = (
    Col("Last Seen", doc=(f"{CORE}:Event", "lastTimestamp")),
    Col("Type", doc=(f"{CORE}:Event", "type")),
    Col("Reason", doc=(f"{CORE}:Event", "reason")),
    Col("Object", doc=(f"{CORE}:Event", "involvedObject")),
    Col("Subobject", doc=(f"{CORE}:ObjectReference", "fieldPath"), priority=1),
    Col("Source", doc=(f"{CORE}:Event", "source"), priority=1),
    Col("Message", doc=(f"{CORE}:Event", "message")),
    Col("First Seen", doc=(f"{CORE}:Event", "firstTimestamp"), priority=1),
    Col("Count", doc=(f"{CORE}:Event", "count"), priority=1),
    Col("Name", doc=(META, "name"), format="name", priority=1),
)
PRINTERS[("", "Event")] = (_EVENT_COLUMNS, _print_core_event)
PRINTERS[("events.k8s.io", "Event")] = (_EVENT_COLUMNS, _print_events_event)
