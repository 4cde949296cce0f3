"""The endpoints side of kube-proxy's change tracking (kube's endpointschangetracker.go, topology.go).

EndpointSlices are grouped by the Service they belong to (label ``kubernetes.io/service-name``);
at sync time the :class:`EndpointsChangeTracker` rebuilds the endpoints of the Services whose slices
changed, merged across their slices, as an :data:`EndpointsMap` from service port to endpoints.
:func:`categorize_endpoints` picks the endpoints traffic may go to, by the Service's traffic policies.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from dataclasses import dataclass

from pyclientgo.api.discovery.v1 import EndpointSlice
from testserver.proxy.service import ServicePortInfo, ServicePortName

__all__ = [
    "EndpointInfo",
    "EndpointsChangeTracker",
    "EndpointsMap",
    "SERVICE_NAME_LABEL",
    "categorize_endpoints",
    "endpoints_of_slices",
]

_log = logging.getLogger("kube-proxy")

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


@dataclass(frozen=True)
class EndpointInfo:
    """One endpoint of one service port (kube's proxy.BaseEndpointInfo)."""

    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    is_local: bool = False
    """The endpoint runs on this proxier's node."""
    node_name: str = ""
    zone: str = ""

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


EndpointsMap = dict[ServicePortName, list[EndpointInfo]]
"""The endpoints of every service port that has any."""


def endpoints_of_slices(
    namespace: str, service: str, slices: list[EndpointSlice], node_name: str, ip_family: str = "IPv4"
) -> EndpointsMap:
    """The endpoints of one Service from all of its slices, deduplicated by ip:port, in a stable order."""
    family = "IPv6" if ip_family == "IPv6" else "IPv4"
    out: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    for sl in sorted(slices, key=lambda s: (s.metadata.name or "") if s.metadata else ""):
        if sl.address_type != family:
            continue
        for port in sl.ports or []:
            if port.port is None:
                continue
            spn = ServicePortName(namespace, service, port.name or "", port.protocol or "TCP")
            bucket = out.setdefault(spn, {})
            for ep in sl.endpoints or []:
                if not ep.addresses:
                    continue
                cond = ep.conditions
                ready = cond is None or cond.ready is None or bool(cond.ready)
                serving = ready if cond is None or cond.serving is None else bool(cond.serving)
                terminating = cond is not None and bool(cond.terminating)
                info = EndpointInfo(
                    ip=ep.addresses[0],
                    port=int(port.port),
                    ready=ready,
                    serving=serving,
                    terminating=terminating,
                    is_local=bool(node_name) and ep.node_name == node_name,
                    node_name=ep.node_name or "",
                    zone=ep.zone or "",
                )
                key = str(info)
                if key not in bucket or (info.ready and not bucket[key].ready):
                    bucket[key] = info
    return {spn: sorted(b.values(), key=_sort_key) for spn, b in out.items() if b}


def _sort_key(ep: EndpointInfo) -> tuple[int, ...] | tuple[str, int]:
    parts = ep.ip.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return (*(int(p) for p in parts), ep.port)
    return (ep.ip, ep.port)


def categorize_endpoints(
    endpoints: list[EndpointInfo], svc: ServicePortInfo
) -> tuple[list[EndpointInfo], list[EndpointInfo], list[EndpointInfo], bool]:
    """(cluster, local, all reachable, has any endpoints) as kube's CategorizeEndpoints.

    Ready endpoints are used; when none are ready, serving-and-terminating ones are (graceful
    termination). Topology hints are not used (no zones here).
    """
    cluster: list[EndpointInfo] = []
    local: list[EndpointInfo] = []
    if svc.uses_cluster_endpoints:
        cluster = [e for e in endpoints if e.ready]
        if not cluster:
            cluster = [e for e in endpoints if e.serving and e.terminating]
        if not svc.uses_local_endpoints:
            return cluster, [], cluster, bool(cluster)
    local = [e for e in endpoints if e.is_local and e.ready]
    if not local:
        local = [e for e in endpoints if e.is_local and e.serving and e.terminating]
    has_any = any(e.ready or (e.serving and e.terminating) for e in endpoints)
    if not svc.uses_cluster_endpoints:
        return [], local, local, has_any
    reachable = list(cluster)
    seen = {str(e) for e in cluster}
    reachable += [e for e in local if str(e) not in seen]
    return cluster, local, reachable, has_any


class EndpointsChangeTracker:
    """EndpointSlice events since the last sync (kube's EndpointsChangeTracker).

    Keeps the slices of every Service; :meth:`apply` rebuilds an :data:`EndpointsMap` in place for the
    Services whose slices changed and returns them with their last-change trigger times (the
    ``endpoints.kubernetes.io/last-change-trigger-time`` annotation, else the time the event was seen),
    from which the network-programming latency is measured.
    """

    def __init__(self, node_name: str = "", ip_family: str = "IPv4") -> None:
        self.node_name = node_name
        self.ip_family = ip_family
        self._lock = threading.Lock()
        self._slices: dict[tuple[str, str], dict[str, EndpointSlice]] = {}
        self._dirty: dict[tuple[str, str], list[float]] = {}

    def update(self, slice_: EndpointSlice, removed: bool = False) -> bool:
        """Record an EndpointSlice add/update (or delete, with ``removed``); whether a sync is needed."""
        meta = slice_.metadata
        if meta is None or not meta.name:
            return False
        service = (meta.labels or {}).get(SERVICE_NAME_LABEL)
        if not service:
            return False
        key = (meta.namespace or "default", service)
        trigger = _trigger_time(meta.annotations or {})
        with self._lock:
            slices = self._slices.setdefault(key, {})
            if removed:
                slices.pop(meta.name, None)
                if not slices:
                    del self._slices[key]
            else:
                slices[meta.name] = slice_
            self._dirty.setdefault(key, []).append(trigger)
        return True

    def pending(self) -> bool:
        """Whether changes wait for a sync."""
        with self._lock:
            return bool(self._dirty)

    def apply(self, endpoints_map: EndpointsMap) -> dict[tuple[str, str], list[float]]:
        """Rebuild ``endpoints_map`` for the changed Services; their trigger times (epoch seconds)."""
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            snapshot = {key: list(self._slices.get(key, {}).values()) for key in dirty}
        for key, slices in snapshot.items():
            for spn in [s for s in endpoints_map if (s.namespace, s.name) == key]:
                del endpoints_map[spn]
            try:
                endpoints_map.update(
                    endpoints_of_slices(key[0], key[1], slices, self.node_name, self.ip_family)
                )
            except Exception:  # a malformed slice must not stop the proxier
                _log.exception("skipping the EndpointSlices of %s/%s", *key)
        return dirty


def _trigger_time(annotations: dict[str, str]) -> float:
    value = annotations.get(LAST_CHANGE_TRIGGER_TIME)
    if value:
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()
