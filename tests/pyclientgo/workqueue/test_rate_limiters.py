"""docs/reference/client_go_semantics.md §5.5-5.6: rate limiters and the rate-limiting queue."""

from __future__ import annotations

import asyncio

import pytest

from pyclientgo.testing import AsyncFakeClock, FakeClock
from pyclientgo.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    NoopMetricsProvider,
    RateLimitingQueue,
    default_controller_rate_limiter,
)


def test_exponential_per_item() -> None:
    rl = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    assert [rl.when("a") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert rl.when("b") == 0.005, "items are tracked separately"
    assert rl.num_requeues("a") == 4
    rl.forget("a")
    assert rl.num_requeues("a") == 0
    assert rl.when("a") == 0.005


def test_exponential_caps_and_never_overflows() -> None:
    rl = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    delays = [rl.when("a") for _ in range(2000)]
    assert max(delays) == 1000.0
    assert delays[-1] == 1000.0


def test_fast_slow() -> None:
    rl = ItemFastSlowRateLimiter(0.005, 10.0, 3)
    assert [rl.when("a") for _ in range(5)] == [0.005, 0.005, 0.005, 10.0, 10.0]
    rl.forget("a")
    assert rl.when("a") == 0.005


def test_bucket_starts_full_then_paces() -> None:
    clock = FakeClock()
    rl = BucketRateLimiter(10.0, 100, clock=clock)
    assert all(rl.when(i) == 0.0 for i in range(100))
    assert rl.when("x") == pytest.approx(0.1)
    assert rl.when("y") == pytest.approx(0.2)
    clock.advance(1.0)  # refills 10 tokens, 2 were owed
    assert rl.when("z") == 0.0
    assert rl.num_requeues("x") == 0


def test_max_of_calls_every_member() -> None:
    clock = FakeClock()
    exp = ItemExponentialFailureRateLimiter(0.001, 1000.0)
    bucket = BucketRateLimiter(1.0, 1, clock=clock)
    rl = MaxOfRateLimiter(exp, bucket)
    assert rl.when("a") == 0.001  # bucket had its token
    assert rl.when("a") == pytest.approx(1.0)  # bucket owes one token
    assert exp.num_requeues("a") == 2, "every member was called"
    assert rl.num_requeues("a") == 2
    rl.forget("a")
    assert exp.num_requeues("a") == 0


def test_default_controller_limiter() -> None:
    rl = default_controller_rate_limiter(clock=FakeClock())
    assert rl.when("a") == 0.005
    assert rl.when("a") == 0.01


async def test_add_rate_limited_uses_the_limiter() -> None:  # §5.5
    clock = AsyncFakeClock(autojump=False)
    q: RateLimitingQueue[str] = RateLimitingQueue(
        ItemExponentialFailureRateLimiter(1.0, 100.0), clock=clock, metrics_provider=NoopMetricsProvider()
    )
    q.add_rate_limited("a")  # 1 s
    q.add_rate_limited("b")  # 1 s
    q.add_rate_limited("b")  # 2 s, but "b" already waits for 1 s: earliest wins
    assert q.num_requeues("b") == 2
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(q) == 0
    clock.advance(1.0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(q) == 2
    q.forget("b")
    assert q.num_requeues("b") == 0
    q.shut_down()
    q.add_rate_limited("c")
    assert q.waiting == 0
