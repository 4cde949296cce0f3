"""docs/reference/client_go_semantics.md §5.7: metrics per named queue through prometheus-client."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from pyclientgo.testing import AsyncFakeClock
from pyclientgo.workqueue import (
    ItemExponentialFailureRateLimiter,
    PrometheusMetricsProvider,
    Queue,
    RateLimitingQueue,
)


def value(registry: CollectorRegistry, name: str, queue: str) -> float:
    v = registry.get_sample_value(name, {"name": queue})
    return 0.0 if v is None else v


async def test_standard_metrics() -> None:
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    clock = AsyncFakeClock(autojump=False)
    q: RateLimitingQueue[str] = RateLimitingQueue(
        ItemExponentialFailureRateLimiter(1.0, 10.0), name="things", clock=clock, metrics_provider=provider
    )
    q.add("a")
    q.add("b")
    q.add("a")  # deduplicated: not an add
    assert value(registry, "workqueue_adds_total", "things") == 2
    assert value(registry, "workqueue_depth", "things") == 2
    clock.advance(3)
    item = await q.get()
    assert value(registry, "workqueue_depth", "things") == 1
    assert value(registry, "workqueue_queue_duration_seconds_count", "things") == 1
    assert value(registry, "workqueue_queue_duration_seconds_sum", "things") == 3
    clock.advance(2)
    assert value(registry, "workqueue_unfinished_work_seconds", "things") == 2
    assert value(registry, "workqueue_longest_running_processor_seconds", "things") == 2
    q.done(item)
    assert value(registry, "workqueue_work_duration_seconds_sum", "things") == 2
    assert value(registry, "workqueue_unfinished_work_seconds", "things") == 0
    q.add_rate_limited("c")
    assert value(registry, "workqueue_retries_total", "things") == 1
    q.add_after("d", 5)  # client-go counts every add_after as a retry
    q.add_after("e", 0)
    assert value(registry, "workqueue_retries_total", "things") == 3
    q.shut_down()
    await asyncio.sleep(0)


def test_unnamed_queue_records_nothing() -> None:
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    q: Queue[str] = Queue(metrics_provider=provider)
    q.add("a")
    assert registry.get_sample_value("workqueue_adds_total", {"name": ""}) is None
