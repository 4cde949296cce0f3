"""Work queue metrics (client-go ``util/workqueue/metrics.go``), exported through prometheus-client.

Per named queue (label ``name``):

========================================== ========= ===============================================
metric                                     type      meaning
========================================== ========= ===============================================
``workqueue_depth``                        gauge     items waiting to be handed out
``workqueue_adds_total``                   counter   adds that queued an item
``workqueue_queue_duration_seconds``       histogram time from add to get
``workqueue_work_duration_seconds``        histogram time from get to done
``workqueue_unfinished_work_seconds``      gauge     seconds of work in progress not yet done
``workqueue_longest_running_processor_seconds`` gauge the oldest item in progress, in seconds
``workqueue_retries_total``                counter   add_after calls (rate-limited re-adds included)
========================================== ========= ===============================================

The two "in progress" gauges are computed when scraped, so no background task is needed. Unnamed
queues record nothing. :func:`set_global_metrics_provider` swaps the provider every new queue uses
(e.g. :class:`PrometheusMetricsProvider` with a private registry in tests).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable, Iterator
from typing import Generic, Protocol, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pyclientgo.clock import AsyncClock

__all__ = [
    "MetricsProvider",
    "NoopMetricsProvider",
    "PrometheusMetricsProvider",
    "QueueMetrics",
    "global_metrics_provider",
    "set_global_metrics_provider",
]

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)

_BUCKETS = tuple(10.0**e for e in range(-8, 2))  # 1e-8 … 10 s, as client-go (exponential *10)


class QueueMetrics(Protocol[T_contra]):
    """What a queue reports; one instance per queue."""

    def add(self, item: T_contra) -> None: ...

    def get(self, item: T_contra) -> None: ...

    def done(self, item: T_contra) -> None: ...

    def retry(self) -> None: ...


class MetricsProvider(Protocol):
    """Makes the metrics of one queue (client-go's ``MetricsProvider``)."""

    def new_queue_metrics(self, name: str, clock: AsyncClock) -> QueueMetrics[T]: ...


class _NoopQueueMetrics(Generic[T]):
    def add(self, item: T) -> None:
        pass

    def get(self, item: T) -> None:
        pass

    def done(self, item: T) -> None:
        pass

    def retry(self) -> None:
        pass


class NoopMetricsProvider:
    """Records nothing."""

    def new_queue_metrics(self, name: str, clock: AsyncClock) -> QueueMetrics[T]:
        return _NoopQueueMetrics()


class _PromQueueMetrics(Generic[T]):
    def __init__(self, provider: PrometheusMetricsProvider, name: str, clock: AsyncClock) -> None:
        self._clock = clock
        self._depth = provider.depth.labels(name)
        self._adds = provider.adds.labels(name)
        self._latency = provider.latency.labels(name)
        self._work = provider.work_duration.labels(name)
        self._retries = provider.retries.labels(name)
        self._added_at: dict[T, float] = {}
        self._started_at: dict[T, float] = {}

    def add(self, item: T) -> None:
        self._adds.inc()
        self._depth.inc()
        self._added_at.setdefault(item, self._clock.now())

    def get(self, item: T) -> None:
        self._depth.dec()
        now = self._clock.now()
        self._started_at[item] = now
        added = self._added_at.pop(item, None)
        if added is not None:
            self._latency.observe(now - added)

    def done(self, item: T) -> None:
        started = self._started_at.pop(item, None)
        if started is not None:
            self._work.observe(self._clock.now() - started)

    def retry(self) -> None:
        self._retries.inc()

    def in_progress(self) -> tuple[float, float]:
        """(total seconds of unfinished work, seconds of the longest-running item)."""
        if not self._started_at:
            return 0.0, 0.0
        now = self._clock.now()
        ages = [now - t for t in list(self._started_at.values())]
        return sum(ages), max(ages)


class _InProgressCollector(Collector):
    def __init__(self, provider: PrometheusMetricsProvider) -> None:
        self._provider = provider

    def collect(self) -> Iterator[GaugeMetricFamily]:
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed by "
            "work_duration. Large values indicate stuck threads.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"],
        )
        for name, metrics in self._provider.live_queues():
            total, oldest = metrics.in_progress()
            unfinished.add_metric([name], total)
            longest.add_metric([name], oldest)
        yield unfinished
        yield longest


class PrometheusMetricsProvider:
    """Registers the standard work queue metrics in ``registry`` (the global one by default)."""

    def __init__(self, registry: CollectorRegistry | None = REGISTRY) -> None:
        self.registry = registry
        self.depth = Gauge("workqueue_depth", "Current depth of workqueue", ["name"], registry=registry)
        self.adds = Counter(
            "workqueue_adds", "Total number of adds handled by workqueue", ["name"], registry=registry
        )
        self.latency = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            ["name"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            ["name"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "workqueue_retries", "Total number of retries handled by workqueue", ["name"], registry=registry
        )
        self._queues: weakref.WeakValueDictionary[int, _PromQueueMetrics[object]] = (
            weakref.WeakValueDictionary()
        )
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(_InProgressCollector(self))

    def new_queue_metrics(self, name: str, clock: AsyncClock) -> QueueMetrics[T]:
        if not name:
            return _NoopQueueMetrics()
        metrics: _PromQueueMetrics[T] = _PromQueueMetrics(self, name, clock)
        with self._lock:
            key = id(metrics)
            self._queues[key] = metrics  # type: ignore[assignment]
            self._names[key] = name
            weakref.finalize(metrics, self._forget, key)
        return metrics

    def _forget(self, key: int) -> None:
        with self._lock:
            self._names.pop(key, None)

    def live_queues(self) -> list[tuple[str, _PromQueueMetrics[object]]]:
        with self._lock:
            return [(self._names[k], m) for k, m in list(self._queues.items()) if k in self._names]


_global_lock = threading.Lock()
_global: MetricsProvider | None = None


def global_metrics_provider() -> MetricsProvider:
    """The provider new queues use: Prometheus metrics in the default registry unless replaced."""
    global _global
    with _global_lock:
        if _global is None:
            _global = PrometheusMetricsProvider()
        return _global


def set_global_metrics_provider(provider: MetricsProvider) -> None:
    """Replace the provider used by queues created from now on."""
    global _global
    with _global_lock:
        _global = provider
