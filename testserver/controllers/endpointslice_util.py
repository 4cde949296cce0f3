"""What the endpoints, EndpointSlice and mirroring controllers share (kube's ``k8s.io/endpointslice/util``).

- the well-known labels and annotations (``kubernetes.io/service-name``, ``managed-by``, trigger time);
- which pods belong in endpoints (:func:`should_pod_be_in_endpoints`, :func:`is_pod_ready`,
  :func:`should_set_hostname`) and the port a Service port resolves to on a pod (:func:`find_port`);
- which Services a pod event concerns (:func:`services_for_pod`, :func:`services_to_update_on_pod_change`);
- :class:`TriggerTimeTracker`, the ``endpoints.kubernetes.io/last-change-trigger-time`` bookkeeping;
- :class:`EndpointSliceTracker`, what this controller last wrote, so a sync never acts on an informer
  cache that has not caught up with its own writes (kube's ``EndpointSliceTracker``);
- :func:`endpoint_key` / :func:`port_map_key`, the identities of endpoints and port sets.

Endpoints, ports and subsets are handled as wire-form dicts (camelCase), the form they are written in.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pyclientgo.api.core.v1 import Pod, Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.component_helpers.pod import get_pod_ready_condition, is_pod_ready, is_pod_terminal
from pyclientgo.controller import Request
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.listers import ServiceLister

__all__ = [
    "ANNOTATION_LAST_CHANGE_TRIGGER_TIME",
    "ANNOTATION_LAST_APPLIED_CONFIG",
    "ANNOTATION_LEADER_ELECTION",
    "LABEL_HEADLESS",
    "LABEL_MANAGED_BY",
    "LABEL_SERVICE_NAME",
    "LABEL_SKIP_MIRROR",
    "EndpointSliceTracker",
    "PodServicesHandler",
    "TriggerTimeTracker",
    "endpoint_key",
    "endpoints_equal_beyond_hash",
    "find_port",
    "format_rfc3339_nano",
    "is_ipv6",
    "is_service_ip_set",
    "pod_ips",
    "port_map_key",
    "service_key_of_slice",
    "services_for_pod",
    "services_to_update_on_pod_change",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
]

LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
LABEL_HEADLESS = "service.kubernetes.io/headless"
ANNOTATION_LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
ANNOTATION_LAST_APPLIED_CONFIG = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATION_LEADER_ELECTION = "control-plane.alpha.kubernetes.io/leader"


# -- pods ----------------------------------------------------------------------------------------------


def pod_ready_transition_time(pod: Pod) -> _dt.datetime | None:
    """``lastTransitionTime`` of the pod's ``Ready`` condition (kube's ``getPodTriggerTime``)."""
    cond = get_pod_ready_condition(pod.status)
    return cond.last_transition_time if cond is not None else None


def pod_ips(pod: Pod) -> list[str]:
    """``status.podIPs`` (or ``status.podIP`` alone)."""
    status = pod.status
    if status is None:
        return []
    ips = [p.ip for p in status.pod_ips or [] if p.ip]
    if not ips and status.pod_ip:
        ips = [status.pod_ip]
    return ips


def should_pod_be_in_endpoints(pod: Pod, include_terminating: bool) -> bool:
    """kube's ``ShouldPodBeInEndpoints``: not terminal, has an IP, and not terminating unless asked."""
    if is_pod_terminal(pod):
        return False
    if not pod_ips(pod):
        return False
    return include_terminating or pod.metadata is None or pod.metadata.deletion_timestamp is None


def should_set_hostname(pod: Pod, service: Service) -> bool:
    """The endpoint carries the pod's hostname when ``spec.subdomain`` names the Service."""
    spec = pod.spec
    if spec is None or not spec.hostname:
        return False
    return (
        spec.subdomain == _name(service)
        and pod.metadata is not None
        and service.metadata is not None
        and pod.metadata.namespace == service.metadata.namespace
    )


def find_port(pod: Pod, service_port: Any) -> int | None:
    """The container port a Service port's ``targetPort`` means on ``pod`` (kube's ``FindPort``): a
    number as is, a string (even ``"8080"``) is a port name looked up in the pod's containers with the
    same protocol; None when the pod has no such named port."""
    target = service_port.target_port
    protocol = service_port.protocol or "TCP"
    if target is None:
        return int(service_port.port) if service_port.port is not None else None
    if isinstance(target, int):
        return target
    for container in (pod.spec.containers if pod.spec is not None else None) or []:
        for port in container.ports or []:
            if port.name == target and (port.protocol or "TCP") == protocol:
                return int(port.container_port) if port.container_port is not None else None
    return None


def _name(obj: Any) -> str:
    return str(obj.metadata.name) if obj.metadata is not None and obj.metadata.name else ""


def _namespace(obj: Any) -> str:
    return str(obj.metadata.namespace) if obj.metadata is not None and obj.metadata.namespace else ""


# -- services ------------------------------------------------------------------------------------------


def is_service_ip_set(service: Service) -> bool:
    """A ClusterIP that is neither empty nor ``None`` (i.e. not headless)."""
    ip = service.spec.cluster_ip if service.spec is not None else None
    return bool(ip) and ip != "None"


def is_ipv6(ip: str) -> bool:
    """Whether ``ip`` is an IPv6 address (pod and endpoint IPs are valid addresses: IPv6 ones, and only
    they, contain a colon)."""
    return ":" in ip


def services_for_pod(services: ServiceLister, pod: Pod) -> set[str]:
    """Keys (``ns/name``) of the Services in the pod's namespace whose selector matches it
    (kube's ``GetPodServiceMemberships``)."""
    namespace = _namespace(pod)
    pod_labels = (pod.metadata.labels if pod.metadata is not None else None) or {}
    keys: set[str] = set()
    for svc in services.services(namespace).list():
        selector = svc.spec.selector if svc.spec is not None else None
        if selector is None:
            continue
        if all(pod_labels.get(k) == v for k, v in selector.items()):
            keys.add(f"{namespace}/{_name(svc)}")
    return keys


def _pod_endpoints_changed(old: Pod, new: Pod) -> tuple[bool, bool]:
    """(endpoint-relevant change, labels or hostname/subdomain changed) — kube's ``podEndpointsChanged``."""
    om, nm = old.metadata, new.metadata
    labels_changed = (om.labels if om else None) != (nm.labels if nm else None)
    os_, ns_ = old.spec, new.spec
    if (os_.hostname if os_ else None) != (ns_.hostname if ns_ else None) or (
        os_.subdomain if os_ else None
    ) != (ns_.subdomain if ns_ else None):
        labels_changed = True
    if (om.deletion_timestamp if om else None) != (nm.deletion_timestamp if nm else None):
        return True, labels_changed
    if is_pod_ready(old) != is_pod_ready(new):
        return True, labels_changed
    if pod_ips(old) != pod_ips(new):
        return True, labels_changed
    return False, labels_changed


def services_to_update_on_pod_change(services: ServiceLister, old: Pod, new: Pod) -> set[str]:
    """The Services a pod update concerns (kube's ``GetServicesToUpdateOnPodChange``)."""
    if (
        old.metadata is not None
        and new.metadata is not None
        and old.metadata.resource_version == new.metadata.resource_version
    ):
        return set()
    changed, labels_changed = _pod_endpoints_changed(old, new)
    if not changed and not labels_changed:
        return set()
    current = services_for_pod(services, new)
    if labels_changed:
        previous = services_for_pod(services, old)
        if changed:
            return current | previous
        return current ^ previous
    return current


class PodServicesHandler:
    """Pod events → the Services whose endpoints they change (kube's ``addPod``/``updatePod``/``deletePod``
    of the endpoints and EndpointSlice controllers), queued ``batch_period`` seconds later when it is set
    (``--endpoint-updates-batch-period``: one sync for a burst of pod changes)."""

    def __init__(self, services: ServiceLister, *, batch_period: float = 0.0) -> None:
        self.services = services
        self.batch_period = batch_period
        self.delaying: Any = None
        """The controller's work queue (``add_after``), used when ``batch_period`` is set."""

    def _add_all(self, keys: set[str], queue: RequestQueue) -> None:
        for key in keys:
            request = Request.from_key(key)
            if self.batch_period > 0 and self.delaying is not None:
                self.delaying.add_after(request, self.batch_period)
            else:
                queue.add(request)

    def create(self, obj: Any, queue: RequestQueue) -> None:
        if isinstance(obj, Pod):
            self._add_all(services_for_pod(self.services, obj), queue)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        if isinstance(old, Pod) and isinstance(new, Pod):
            self._add_all(services_to_update_on_pod_change(self.services, old, new), queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        self.create(obj, queue)  # the controller unwraps tombstones before handlers see them


def service_key_of_slice(endpoint_slice: EndpointSlice) -> str | None:
    """``ns/<kubernetes.io/service-name>`` of a slice (None without the label)."""
    meta = endpoint_slice.metadata
    if meta is None or not meta.labels:
        return None
    name = meta.labels.get(LABEL_SERVICE_NAME)
    return f"{meta.namespace or ''}/{name}" if name else None


# -- endpoints and ports -------------------------------------------------------------------------------


def endpoint_key(endpoint: Mapping[str, Any]) -> tuple[Any, ...]:
    """The identity of an endpoint in a slice: addresses, hostname, target namespace/name (kube's
    ``hashEndpoint``)."""
    ref = endpoint.get("targetRef") or {}
    return (
        tuple(sorted(endpoint.get("addresses") or [])),
        endpoint.get("hostname") or "",
        ref.get("namespace") or "",
        ref.get("name") or "",
    )


def endpoints_equal_beyond_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Endpoints with the same :func:`endpoint_key` that also agree on node, zone, conditions and
    target reference (ignoring its resourceVersion)."""
    for field in ("nodeName", "zone"):
        if a.get(field) != b.get(field):
            return False
    ca, cb = a.get("conditions") or {}, b.get("conditions") or {}
    for cond in ("ready", "serving", "terminating"):
        if ca.get(cond) != cb.get(cond):
            return False
    ra = {k: v for k, v in (a.get("targetRef") or {}).items() if k != "resourceVersion"}
    rb = {k: v for k, v in (b.get("targetRef") or {}).items() if k != "resourceVersion"}
    return ra == rb


def port_map_key(ports: Iterable[Mapping[str, Any]]) -> str:
    """A key of a set of endpoint ports, independent of their order (kube's ``NewPortMapKey``)."""
    return json.dumps(sorted(json.dumps(dict(p), sort_keys=True) for p in ports), separators=(",", ":"))


def format_rfc3339_nano(t: _dt.datetime) -> str:
    """Go's ``time.RFC3339Nano`` in UTC (trailing zeros of the fraction dropped)."""
    t = t.astimezone(_dt.UTC) if t.tzinfo is not None else t.replace(tzinfo=_dt.UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += ("." + f"{t.microsecond:06d}").rstrip("0")
    return text + "Z"


# -- trackers ------------------------------------------------------------------------------------------


class TriggerTimeTracker:
    """The ``endpoints.kubernetes.io/last-change-trigger-time`` of each Service (kube's
    ``TriggerTimeTracker``): the earliest Ready transition of a pod (or the Service's creation) that
    changed since the last sync; the Service's creation time on its first sync."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[dict[str, _dt.datetime], _dt.datetime | None]] = {}
        self._lock = threading.Lock()

    def compute(self, key: str, service: Service, pods: Iterable[Pod]) -> _dt.datetime | None:
        """The trigger time for this sync of Service ``key`` (None: no new trigger)."""
        created = service.metadata.creation_timestamp if service.metadata is not None else None
        with self._lock:
            known = key in self._states
            last_pods, last_service = self._states.get(key, ({}, None))
            earliest: _dt.datetime | None = None
            now_pods: dict[str, _dt.datetime] = {}
            for pod in pods:
                t = pod_ready_transition_time(pod)
                if t is None:
                    continue
                name = _name(pod)
                now_pods[name] = t
                prev = last_pods.get(name)
                if (prev is None or t > prev) and (earliest is None or t < earliest):
                    earliest = t
            if (
                created is not None
                and (last_service is None or created > last_service)
                and (earliest is None or created < earliest)
            ):
                earliest = created
            self._states[key] = (now_pods, created)
        if not known:
            return created
        return earliest

    def delete_service(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)


_DELETION_EXPECTED = -1


def _version(endpoint_slice: EndpointSlice) -> int:
    """The slice's generation, or its resourceVersion where the server sets no generation."""
    meta = endpoint_slice.metadata
    if meta is None:
        return 0
    if meta.generation:
        return int(meta.generation)
    try:
        return int(meta.resource_version or 0)
    except ValueError:
        return 0


class EndpointSliceTracker:
    """What this controller last wrote to each Service's slices (kube's ``EndpointSliceTracker``):
    :meth:`stale_slices` is True while the informer cache lags behind those writes, and
    :meth:`should_sync` tells a slice event caused by someone else from the echo of our own write."""

    def __init__(self) -> None:
        self._by_service: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _ids(endpoint_slice: EndpointSlice) -> tuple[str, str]:
        key = service_key_of_slice(endpoint_slice) or ""
        uid = (endpoint_slice.metadata.uid if endpoint_slice.metadata is not None else None) or ""
        return key, uid

    def update(self, endpoint_slice: EndpointSlice) -> None:
        """Record a slice as written (created or updated)."""
        key, uid = self._ids(endpoint_slice)
        with self._lock:
            self._by_service.setdefault(key, {})[uid] = _version(endpoint_slice)

    def expect_deletion(self, endpoint_slice: EndpointSlice) -> None:
        """Record a slice as deleted by us."""
        key, uid = self._ids(endpoint_slice)
        with self._lock:
            self._by_service.setdefault(key, {})[uid] = _DELETION_EXPECTED

    def has(self, endpoint_slice: EndpointSlice) -> bool:
        key, uid = self._ids(endpoint_slice)
        with self._lock:
            return uid in self._by_service.get(key, {})

    def should_sync(self, endpoint_slice: EndpointSlice) -> bool:
        """An informer event of a slice that this controller did not cause (or a newer version)."""
        key, uid = self._ids(endpoint_slice)
        with self._lock:
            known = self._by_service.get(key, {}).get(uid)
        return known is None or known == _DELETION_EXPECTED or _version(endpoint_slice) > known

    def handle_deletion(self, endpoint_slice: EndpointSlice) -> bool:
        """A slice was deleted: forget it; True when the deletion was not ours (sync the Service)."""
        key, uid = self._ids(endpoint_slice)
        with self._lock:
            gens = self._by_service.get(key, {})
            known = gens.pop(uid, None)
        return known != _DELETION_EXPECTED

    def stale_slices(self, service_key: str, slices: Iterable[EndpointSlice]) -> bool:
        """True when the cached ``slices`` miss or predate a write of ours, or still hold a slice we
        deleted."""
        present = {(s.metadata.uid if s.metadata is not None else None) or "": _version(s) for s in slices}
        with self._lock:
            gens = dict(self._by_service.get(service_key, {}))
        for uid, gen in gens.items():
            if gen == _DELETION_EXPECTED:
                if uid in present:
                    return True
            elif uid not in present or present[uid] < gen:
                return True
        return False

    def delete_service(self, service_key: str) -> None:
        with self._lock:
            self._by_service.pop(service_key, None)
