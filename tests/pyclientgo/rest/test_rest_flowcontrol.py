from __future__ import annotations

import pytest

from pyclientgo.rest import AsyncTokenBucketRateLimiter, TokenBucket, TokenBucketRateLimiter
from pyclientgo.rest._async.flowcontrol import rate_limiter_for
from pyclientgo.testing import AsyncFakeClock, FakeClock


def test_bucket_starts_full_and_refills() -> None:
    bucket = TokenBucket(5.0, 10, now=0.0)
    assert [bucket.reserve(0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.reserve(0.0) == pytest.approx(0.2)
    assert bucket.reserve(0.0) == pytest.approx(0.4)  # reservations queue up
    assert bucket.tokens(1.0) == pytest.approx(3.0)  # -2 + 5 tokens/s * 1 s
    assert bucket.tokens(100.0) == 10.0  # never above burst


def test_try_take() -> None:
    bucket = TokenBucket(1.0, 2, now=0.0)
    assert bucket.try_take(0.0) and bucket.try_take(0.0)
    assert not bucket.try_take(0.5)
    assert bucket.try_take(1.0)


async def test_async_limiter_with_fake_clock() -> None:
    clock = AsyncFakeClock()
    limiter = AsyncTokenBucketRateLimiter(5.0, 10, clock=clock)
    for _ in range(15):
        await limiter.wait()
    assert clock.sleeps == pytest.approx([0.2] * 5)
    assert clock.now() == pytest.approx(1.0)
    assert not limiter.try_accept()


async def test_async_limiter_concurrent_waiters_queue() -> None:
    import asyncio

    clock = AsyncFakeClock(autojump=False)
    limiter = AsyncTokenBucketRateLimiter(1.0, 1, clock=clock)
    await limiter.wait()
    done: list[int] = []

    async def waiter(i: int) -> None:
        await limiter.wait()
        done.append(i)

    tasks = [asyncio.create_task(waiter(i)) for i in range(3)]
    for _ in range(100):
        if clock.sleeping == 3:
            break
        await asyncio.sleep(0)
    assert clock.sleeping == 3 and done == []
    clock.advance(1.0)
    for _ in range(100):
        if done:
            break
        await asyncio.sleep(0)
    assert done == [0]
    clock.advance(2.0)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert done == [0, 1, 2]


def test_sync_limiter() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(2.0, 1, clock=clock)
    for _ in range(3):
        limiter.wait()
    assert clock.sleeps == pytest.approx([0.5, 0.5])


def test_rate_limiter_for_defaults() -> None:
    assert rate_limiter_for(-1, 10) is None
    lim = rate_limiter_for(0, 0)
    assert lim is not None and lim.qps == 5.0 and lim.burst == 10
