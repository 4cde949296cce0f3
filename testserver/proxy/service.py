"""The Service side of kube-proxy's change tracking (kube's pkg/proxy/servicechangetracker.go).

A :class:`ServicePortInfo` is what a proxier needs of one port of one Service; the
:class:`ServiceChangeTracker` records Service events from the informer and, at sync time, hands back
the services that changed so the service-port map is updated only for them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

from pyclientgo.api.core.v1 import Service

__all__ = [
    "ServiceChangeTracker",
    "ServicePortInfo",
    "ServicePortMap",
    "ServicePortName",
    "service_ports_of",
]

_log = logging.getLogger("kube-proxy")

# kube's v1.DefaultClientIPServiceAffinitySeconds (3 hours)
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800


@dataclass(frozen=True, order=True)
class ServicePortName:
    """One port of one Service: namespace/name:port (kube's proxy.ServicePortName)."""

    namespace: str
    name: str
    port: str
    """The ServicePort's name ("" for a single unnamed port)."""
    protocol: str
    """TCP, UDP or SCTP."""

    def __str__(self) -> str:
        suffix = f":{self.port}" if self.port else ""
        return f"{self.namespace}/{self.name}{suffix}"


@dataclass(frozen=True)
class ServicePortInfo:
    """What a proxier needs of one Service port (kube's proxy.BaseServicePortInfo)."""

    name: ServicePortName
    cluster_ip: str
    """The primary ClusterIP of the Service (this proxier's family)."""
    port: int
    protocol: str
    node_port: int = 0
    session_affinity_client_ip: bool = False
    sticky_max_age_seconds: int = 0
    external_ips: tuple[str, ...] = ()
    load_balancer_vips: tuple[str, ...] = ()
    external_policy_local: bool = False
    """``externalTrafficPolicy: Local`` on an externally reachable Service."""
    internal_policy_local: bool = False
    """``internalTrafficPolicy: Local``."""
    health_check_node_port: int = 0

    @property
    def externally_accessible(self) -> bool:
        """Reachable from outside the cluster (NodePort, externalIPs or a load balancer)."""
        return self.node_port != 0 or bool(self.external_ips) or bool(self.load_balancer_vips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        """Some traffic to this port goes to any endpoint in the cluster."""
        return not self.internal_policy_local or (
            self.externally_accessible and not self.external_policy_local
        )

    @property
    def uses_local_endpoints(self) -> bool:
        """Some traffic to this port goes only to endpoints on this node."""
        return self.internal_policy_local or (self.externally_accessible and self.external_policy_local)


ServicePortMap = dict[ServicePortName, ServicePortInfo]
"""Every proxied Service port by name."""


def service_ports_of(service: Service, ip_family: str = "IPv4") -> list[ServicePortInfo]:
    """The proxied ports of ``service``: none for headless, ExternalName or IP-less Services.

    ``ip_family`` is the proxier's family: a ClusterIP of the other family is not ours.
    """
    meta, spec = service.metadata, service.spec
    if meta is None or spec is None or not meta.name:
        return []
    if spec.type == "ExternalName":
        return []
    cluster_ip = _family_ip(spec.cluster_ips or ([spec.cluster_ip] if spec.cluster_ip else []), ip_family)
    if cluster_ip is None:  # headless ("None") or not yet allocated
        return []
    affinity = spec.session_affinity == "ClientIP"
    sticky = 0
    if affinity:
        cfg = spec.session_affinity_config
        timeout = cfg.client_ip.timeout_seconds if cfg is not None and cfg.client_ip is not None else None
        sticky = int(timeout) if timeout else DEFAULT_CLIENT_IP_AFFINITY_SECONDS
    external_ips = tuple(ip for ip in (spec.external_ips or []) if _is_family(ip, ip_family))
    lb_vips: tuple[str, ...] = ()
    if service.status is not None and service.status.load_balancer is not None:
        lb_vips = tuple(
            ing.ip
            for ing in (service.status.load_balancer.ingress or [])
            if ing.ip and _is_family(ing.ip, ip_family)
        )
    internal_local = spec.internal_traffic_policy == "Local"
    etp_local = spec.external_traffic_policy == "Local"
    out: list[ServicePortInfo] = []
    for sp in spec.ports or []:
        if sp.port is None:
            continue
        protocol = sp.protocol or "TCP"
        node_port = int(sp.node_port or 0) if spec.type in ("NodePort", "LoadBalancer") else 0
        info = ServicePortInfo(
            name=ServicePortName(meta.namespace or "default", meta.name, sp.name or "", protocol),
            cluster_ip=cluster_ip,
            port=int(sp.port),
            protocol=protocol,
            node_port=node_port,
            session_affinity_client_ip=affinity,
            sticky_max_age_seconds=sticky,
            external_ips=external_ips,
            load_balancer_vips=lb_vips,
            internal_policy_local=internal_local,
            health_check_node_port=int(spec.health_check_node_port or 0),
        )
        out.append(replace(info, external_policy_local=etp_local and info.externally_accessible))
    return out


def _is_family(ip: str, family: str) -> bool:
    return (":" in ip) == (family == "IPv6")


def _family_ip(ips: list[str], family: str) -> str | None:
    for ip in ips:
        if ip and ip != "None" and _is_family(ip, family):
            return ip
    return None


class ServiceChangeTracker:
    """Service events since the last sync (kube's ServiceChangeTracker).

    :meth:`update` is called from the informer's handlers (any thread); :meth:`apply` is called by
    the sync loop and updates a :data:`ServicePortMap` in place for the Services that changed,
    returning their namespace/name keys.
    """

    def __init__(self, ip_family: str = "IPv4") -> None:
        self.ip_family = ip_family
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Service | None] = {}

    def update(self, previous: Service | None, current: Service | None) -> bool:
        """Record a Service add/update/delete; whether a sync is needed."""
        obj = current if current is not None else previous
        if obj is None or obj.metadata is None or not obj.metadata.name:
            return False
        key = (obj.metadata.namespace or "default", obj.metadata.name)
        with self._lock:
            self._pending[key] = current
        return True

    def pending(self) -> bool:
        """Whether changes wait for a sync."""
        with self._lock:
            return bool(self._pending)

    def apply(self, service_map: ServicePortMap) -> set[tuple[str, str]]:
        """Apply the recorded changes to ``service_map``; the Services that changed."""
        with self._lock:
            pending, self._pending = self._pending, {}
        changed: set[tuple[str, str]] = set()
        for key, svc in pending.items():
            new_ports: list[ServicePortInfo] = []
            if svc is not None:
                try:
                    new_ports = service_ports_of(svc, self.ip_family)
                except Exception:  # a malformed Service must not stop the proxier
                    _log.exception("skipping Service %s/%s", *key)
            old = {n: i for n, i in service_map.items() if (n.namespace, n.name) == key}
            new = {i.name: i for i in new_ports}
            if old == new:
                continue
            for n in old:
                del service_map[n]
            service_map.update(new)
            changed.add(key)
        return changed
