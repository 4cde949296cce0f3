"""Client-side rate limiting: a token bucket (QPS 5, burst 10 by default) that requests wait on."""

from __future__ import annotations

from typing import Protocol

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.rest._flowcontrol import DEFAULT_BURST, DEFAULT_QPS, TokenBucket

__all__ = ["AsyncRateLimiter", "AsyncTokenBucketRateLimiter", "rate_limiter_for"]


class AsyncRateLimiter(Protocol):
    """What the REST client waits on before each request (and each retry)."""

    async def wait(self) -> None: ...

    def try_accept(self) -> bool: ...


class AsyncTokenBucketRateLimiter:
    """client-go's token bucket rate limiter: ``qps`` per second, ``burst`` at once, starts full."""

    def __init__(self, qps: float, burst: int, *, clock: AsyncClock | None = None) -> None:
        self.clock: AsyncClock = clock if clock is not None else AsyncSystemClock()
        self.bucket = TokenBucket(qps, burst, self.clock.now())

    @property
    def qps(self) -> float:
        return self.bucket.qps

    @property
    def burst(self) -> int:
        return self.bucket.burst

    async def wait(self) -> None:
        """Take a token, sleeping until it is due."""
        delay = self.bucket.reserve(self.clock.now())
        if delay > 0:
            await self.clock.sleep(delay)

    def try_accept(self) -> bool:
        """Take a token if one is available now; never waits."""
        return self.bucket.try_take(self.clock.now())


def rate_limiter_for(
    qps: float, burst: int, *, clock: AsyncClock | None = None
) -> AsyncTokenBucketRateLimiter | None:
    """The limiter for a Config's qps/burst: 0 means the defaults, a negative qps means none."""
    if qps < 0:
        return None
    return AsyncTokenBucketRateLimiter(qps or DEFAULT_QPS, burst or DEFAULT_BURST, clock=clock)
