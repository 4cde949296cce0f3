"""Rate limiters deciding how long a failed item waits (client-go ``default_rate_limiters.go``).

A :class:`RateLimiter` answers :meth:`~RateLimiter.when` (the delay for the next retry of an item,
counting it as a failure), :meth:`~RateLimiter.forget` (the item succeeded: reset it) and
:meth:`~RateLimiter.num_requeues`.

* :class:`ItemExponentialFailureRateLimiter` — ``base * 2^failures``, capped (5 ms … 1000 s by default);
* :class:`BucketRateLimiter` — one token bucket for all items (10 qps, burst 100 by default); the
  delay is the wait for the reserved token;
* :class:`ItemFastSlowRateLimiter` — ``fast`` for the first ``max_fast_attempts`` failures, then ``slow``;
* :class:`MaxOfRateLimiter` — asks every member, answers the largest;
* :func:`default_controller_rate_limiter` — max of exponential(5 ms, 1000 s) and bucket(10, 100).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Protocol

from pyclientgo.clock import Clock, SystemClock

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]


class RateLimiter(Protocol):
    def when(self, item: Hashable) -> float:
        """Seconds ``item`` should wait before its next try (records a failure)."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item`` (it succeeded)."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many failures of ``item`` are recorded."""
        ...


class ItemExponentialFailureRateLimiter:
    """``base_delay * 2^failures`` per item, at most ``max_delay``."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            exp = self._failures.get(item, 0)
            self._failures[item] = exp + 1
        if exp > 1000:  # 2**exp would overflow a float long before; the cap applies anyway
            return self.max_delay
        return float(min(self.base_delay * (2**exp), self.max_delay))

    def forget(self, item: Hashable) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class ItemFastSlowRateLimiter:
    """``fast_delay`` for the first ``max_fast_attempts`` failures of an item, ``slow_delay`` after."""

    def __init__(self, fast_delay: float, slow_delay: float, max_fast_attempts: int) -> None:
        self.fast_delay = fast_delay
        self.slow_delay = slow_delay
        self.max_fast_attempts = max_fast_attempts
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            n = self._failures.get(item, 0) + 1
            self._failures[item] = n
        return self.fast_delay if n <= self.max_fast_attempts else self.slow_delay

    def forget(self, item: Hashable) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class BucketRateLimiter:
    """A token bucket shared by all items (``golang.org/x/time/rate`` reservations).

    Each :meth:`when` reserves one token and returns how long until it is available; the bucket
    starts full. It tracks no items, so :meth:`forget` does nothing and :meth:`num_requeues` is 0.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        if qps <= 0 or burst <= 0:
            raise ValueError("qps and burst must be positive")
        self.qps = qps
        self.burst = burst
        self._clock: Clock = clock or SystemClock()
        self._tokens = float(burst)
        self._last = self._clock.now()
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            now = self._clock.now()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """Calls every member limiter and answers the longest delay (and the most requeues)."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> RateLimiter:
    """client-go's controller default: max(exponential 5 ms → 1000 s per item, bucket 10 qps burst 100)."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0), BucketRateLimiter(10.0, 100, clock=clock)
    )
