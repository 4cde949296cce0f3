"""Controller metrics (controller-runtime's ``internal/controller/metrics``), per Prometheus registry.

========================================================= ========= ==================================
metric                                                    type      labels
========================================================= ========= ==================================
``controller_runtime_reconcile_total``                    counter   controller, result (success,
                                                                    error, requeue, requeue_after)
``controller_runtime_reconcile_errors_total``             counter   controller
``controller_runtime_terminal_reconcile_errors_total``    counter   controller
``controller_runtime_reconcile_time_seconds``             histogram controller
``controller_runtime_max_concurrent_reconciles``          gauge     controller
``controller_runtime_active_workers``                     gauge     controller
``leader_election_master_status``                         gauge     name (1 while leading)
========================================================= ========= ==================================

:func:`controller_metrics` and :func:`workqueue_metrics_provider` return one object per registry (a
metric name can be registered only once in a registry), so several managers can share one. The
default registry is ``prometheus_client.REGISTRY``; its work queue metrics are the global provider's.
"""

from __future__ import annotations

import threading
import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from pyclientgo.workqueue import (
    MetricsProvider,
    PrometheusMetricsProvider,
    global_metrics_provider,
)

__all__ = ["ControllerMetrics", "controller_metrics", "workqueue_metrics_provider"]

_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
    1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0,
    25.0, 30.0, 40.0, 50.0, 60.0,
)  # fmt: skip


class ControllerMetrics:
    """The controller metric families of one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reconcile_total = Counter(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            ["controller", "result"],
            registry=registry,
        )
        self.reconcile_errors = Counter(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            ["controller"],
            registry=registry,
        )
        self.terminal_errors = Counter(
            "controller_runtime_terminal_reconcile_errors",
            "Total number of terminal reconciliation errors per controller",
            ["controller"],
            registry=registry,
        )
        self.reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ["controller"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            ["controller"],
            registry=registry,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            ["controller"],
            registry=registry,
        )
        self.leader = Gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, "
            "1 indicates master. 'name' is the string used to identify the lease.",
            ["name"],
            registry=registry,
        )


_lock = threading.Lock()
_controller: weakref.WeakKeyDictionary[CollectorRegistry, ControllerMetrics] = weakref.WeakKeyDictionary()
_queues: weakref.WeakKeyDictionary[CollectorRegistry, MetricsProvider] = weakref.WeakKeyDictionary()


def controller_metrics(registry: CollectorRegistry | None = None) -> ControllerMetrics:
    """The controller metrics registered in ``registry`` (default ``prometheus_client.REGISTRY``)."""
    reg = REGISTRY if registry is None else registry
    with _lock:
        metrics = _controller.get(reg)
        if metrics is None:
            metrics = _controller[reg] = ControllerMetrics(reg)
        return metrics


def workqueue_metrics_provider(registry: CollectorRegistry | None = None) -> MetricsProvider:
    """The work queue metrics provider of ``registry``: the global provider for the default registry,
    else a :class:`~pyclientgo.workqueue.PrometheusMetricsProvider` made once for it."""
    if registry is None or registry is REGISTRY:
        return global_metrics_provider()
    with _lock:
        provider = _queues.get(registry)
        if provider is None:
            provider = _queues[registry] = PrometheusMetricsProvider(registry)
        return provider
