"""A delaying queue whose re-adds are paced by a :class:`RateLimiter` (client-go ``rate_limiting_queue.go``)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from pyclientgo.clock import AsyncClock
from pyclientgo.workqueue.delaying_queue import DelayingQueue
from pyclientgo.workqueue.metrics import MetricsProvider
from pyclientgo.workqueue.rate_limiters import RateLimiter, default_controller_rate_limiter

__all__ = ["RateLimitingQueue"]

T = TypeVar("T", bound=Hashable)


class RateLimitingQueue(DelayingQueue[T]):
    """:class:`DelayingQueue` plus :meth:`add_rate_limited`, :meth:`forget` and :meth:`num_requeues`.

    ``rate_limiter`` defaults to :func:`default_controller_rate_limiter`.
    """

    def __init__(
        self,
        rate_limiter: RateLimiter | None = None,
        *,
        name: str = "",
        clock: AsyncClock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter()

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after the delay its rate limiter says (counting one more failure)."""
        if self.shutting_down():
            return
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """The item succeeded: its rate limiter stops counting its failures."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
