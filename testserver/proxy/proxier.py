"""kube-proxy's sync loop: informer events → change trackers → one proxier sync per burst.

:class:`ProxyServer` joins a :class:`~testserver.proxy.service.ServiceChangeTracker`, an
:class:`~testserver.proxy.endpoints.EndpointsChangeTracker`, a
:class:`~testserver.proxy.runner.BoundedFrequencyRunner` and a :class:`Proxier` backend (nftables or
userspace), and keeps kube-proxy's metrics (``kubeproxy_sync_proxy_rules_duration_seconds``,
``..._last_timestamp_seconds``, ``..._last_queued_timestamp_seconds``,
``kubeproxy_network_programming_duration_seconds``, change counters) and its health: ``/healthz``
fails when a queued change has waited longer than twice ``--sync-period`` without a successful sync
(kube's ProxierHealthServer).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.tools.cache import DeletedFinalStateUnknown
from testserver.proxy.endpoints import EndpointsChangeTracker, EndpointsMap
from testserver.proxy.runner import BoundedFrequencyRunner
from testserver.proxy.service import ServiceChangeTracker, ServicePortMap

__all__ = ["ProxyMetrics", "ProxyServer", "Proxier"]

_log = logging.getLogger("kube-proxy")

_LATENCY_BUCKETS = tuple(0.001 * 2**i for i in range(15))  # kube: ExponentialBuckets(0.001, 2, 15)
_PROGRAMMING_BUCKETS = (
    *(0.25 * i for i in range(1, 4)),
    *(float(i) for i in range(1, 60)),
    *(float(i) for i in range(60, 300, 10)),
    *(float(i) for i in range(300, 1801, 60)),
)


class Proxier(Protocol):
    """What turns the service and endpoints maps into load balancing (nftables, userspace)."""

    async def sync(self, service_map: ServicePortMap, endpoints_map: EndpointsMap) -> None:
        """Program the node for these maps; raises when that failed (the next sync retries)."""
        ...

    async def cleanup(self) -> None:
        """Remove what this proxier programmed."""
        ...


class ProxyMetrics:
    """kube-proxy's metrics (pkg/proxy/metrics), on a component's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sync_duration = Histogram(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.last_sync = Gauge(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
            registry=registry,
        )
        self.last_queued = Gauge(
            "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
            "The last time a sync of proxy rules was queued",
            registry=registry,
        )
        self.network_programming = Histogram(
            "kubeproxy_network_programming_duration_seconds",
            "In Cluster Network Programming Latency in seconds",
            buckets=_PROGRAMMING_BUCKETS,
            registry=registry,
        )
        self.endpoint_changes = Counter(
            "kubeproxy_sync_proxy_rules_endpoint_changes",
            "Cumulative proxy rules Endpoint changes",
            registry=registry,
        )
        self.service_changes = Counter(
            "kubeproxy_sync_proxy_rules_service_changes",
            "Cumulative proxy rules Service changes",
            registry=registry,
        )
        self.sync_failures = Counter(
            "kubeproxy_sync_proxy_rules_failures",
            "Cumulative proxy rules sync failures",
            registry=registry,
        )
        self.services = Gauge(
            "kubeproxy_proxied_service_ports", "Service ports programmed by the last sync", registry=registry
        )
        self.endpoints = Gauge(
            "kubeproxy_proxied_endpoints", "Endpoints programmed by the last sync", registry=registry
        )


class ProxyServer:
    """Trackers, runner and a proxier: what ``testserver proxy`` runs (see the module docstring)."""

    def __init__(
        self,
        proxier: Proxier,
        *,
        node_name: str = "",
        ip_family: str = "IPv4",
        min_sync_period: float = 1.0,
        sync_period: float = 30.0,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.proxier = proxier
        self.service_changes = ServiceChangeTracker(ip_family)
        self.endpoints_changes = EndpointsChangeTracker(node_name, ip_family)
        self.service_map: ServicePortMap = {}
        self.endpoints_map: EndpointsMap = {}
        self.metrics = ProxyMetrics(registry if registry is not None else CollectorRegistry())
        self.sync_period = sync_period
        self.runner = BoundedFrequencyRunner(
            "sync-runner", self.sync_proxy_rules, min_interval=min_sync_period, max_interval=sync_period
        )
        self.services_synced = False
        self.endpoints_synced = False
        self.sync_count = 0
        """Successful syncs so far."""
        self.last_synced = 0.0
        """time.time() of the last successful sync (0: none yet)."""
        self.last_error: str | None = None
        self._queued_at: float | None = None

    # informer handlers -------------------------------------------------------------------------

    def on_service_add(self, obj: Any) -> None:
        if isinstance(obj, Service) and self.service_changes.update(None, obj):
            self._queue()

    def on_service_update(self, old: Any, new: Any) -> None:
        if isinstance(new, Service) and self.service_changes.update(
            old if isinstance(old, Service) else None, new
        ):
            self._queue()

    def on_service_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        if isinstance(obj, Service) and self.service_changes.update(obj, None):
            self._queue()

    def on_slice_add(self, obj: Any) -> None:
        if isinstance(obj, EndpointSlice) and self.endpoints_changes.update(obj):
            self._queue()

    def on_slice_update(self, old: Any, new: Any) -> None:
        self.on_slice_add(new)

    def on_slice_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        if isinstance(obj, EndpointSlice) and self.endpoints_changes.update(obj, removed=True):
            self._queue()

    def _queue(self) -> None:
        if self._queued_at is None:
            self._queued_at = time.time()
        self.metrics.last_queued.set_to_current_time()
        if self.services_synced and self.endpoints_synced:
            self.runner.run()

    def set_synced(self) -> None:
        """The informers have synced: syncs may start (kube waits for both caches)."""
        self.services_synced = self.endpoints_synced = True
        self.runner.run()

    # the sync ----------------------------------------------------------------------------------

    async def sync_proxy_rules(self) -> None:
        """Apply pending changes to the maps and program them (kube's syncProxyRules)."""
        if not (self.services_synced and self.endpoints_synced):
            return
        start = time.monotonic()
        queued_at, self._queued_at = self._queued_at, None
        changed_services = self.service_changes.apply(self.service_map)
        triggers = self.endpoints_changes.apply(self.endpoints_map)
        self.metrics.service_changes.inc(len(changed_services))
        self.metrics.endpoint_changes.inc(len(triggers))
        try:
            await self.proxier.sync(self.service_map, self.endpoints_map)
        except Exception as err:
            self.metrics.sync_failures.inc()
            self.last_error = str(err)
            if self._queued_at is None:
                self._queued_at = queued_at
            _log.error("sync failed: %s", err)
            # the maps are already updated; the periodic (or next) sync retries the whole program
            raise
        finally:
            self.metrics.sync_duration.observe(time.monotonic() - start)
        now = time.time()
        self.last_error = None
        self.last_synced = now
        self.sync_count += 1
        self.metrics.last_sync.set(now)
        self.metrics.services.set(len(self.service_map))
        self.metrics.endpoints.set(sum(len(v) for v in self.endpoints_map.values()))
        for times in triggers.values():
            for t in times:
                self.metrics.network_programming.observe(max(0.0, now - t))
        _log.debug(
            "synced %d service ports, %d endpoints in %.3fs",
            len(self.service_map),
            sum(len(v) for v in self.endpoints_map.values()),
            time.monotonic() - start,
        )

    def healthz(self) -> None:
        """Raise when a queued change has waited more than twice the sync period (kube's proxier health)."""
        queued = self._queued_at
        if queued is not None and time.time() - queued > 2 * self.sync_period:
            raise RuntimeError(
                f"proxy rules not synced for {time.time() - queued:.0f}s"
                + (f" (last error: {self.last_error})" if self.last_error else "")
            )

    async def run(self) -> None:
        """The runner's loop, until cancelled; the proxier's state is left in place."""
        await self.runner.loop()
