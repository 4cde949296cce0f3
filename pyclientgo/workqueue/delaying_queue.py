"""A queue that can hold items back until a time (client-go ``delaying_queue.go``).

Every :meth:`DelayingQueue.add_after` counts in the queue's ``retries`` metric, as in client-go.

:meth:`DelayingQueue.add_after` with a duration ≤ 0 adds at once; otherwise the item waits in a
min-heap ordered by ready time. Asking again for an item that is already waiting keeps the EARLIER
of the two times. A background task (started lazily on first use, inside the running loop) moves
ready items into the queue; shutdown stops it and drops whatever still waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Hashable
from typing import TypeVar

from pyclientgo.clock import AsyncClock
from pyclientgo.workqueue.metrics import MetricsProvider
from pyclientgo.workqueue.queue import Queue

__all__ = ["DelayingQueue"]

T = TypeVar("T", bound=Hashable)


class DelayingQueue(Queue[T]):
    """:class:`Queue` plus :meth:`add_after`."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: AsyncClock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics_provider=metrics_provider)
        self._heap: list[tuple[float, int, T]] = []
        self._ready_at: dict[T, float] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._waiter: asyncio.Task[None] | None = None

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed (at once if ``delay`` ≤ 0)."""
        if self.shutting_down():
            return
        self._metrics.retry()  # client-go counts every add_after as a retry
        if delay <= 0:
            self.add(item)
            return
        ready = self.clock.now() + delay
        current = self._ready_at.get(item)
        if current is not None and current <= ready:
            return
        self._ready_at[item] = ready
        heapq.heappush(self._heap, (ready, next(self._seq), item))
        self._ensure_waiter()
        self._wakeup.set()

    @property
    def waiting(self) -> int:
        """How many items wait for their time (for tests and introspection)."""
        return len(self._ready_at)

    def _stop(self) -> None:
        super()._stop()
        self._heap.clear()
        self._ready_at.clear()
        if self._waiter is not None:
            self._waiter.cancel()
            self._waiter = None

    def _ensure_waiter(self) -> None:
        if self._waiter is None or self._waiter.done():
            self._waiter = asyncio.get_running_loop().create_task(
                self._wait_loop(), name=f"workqueue-delay-{self.name}"
            )

    def _pop_ready(self) -> None:
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now:
            ready, _, item = heapq.heappop(self._heap)
            if self._ready_at.get(item) != ready:
                continue  # superseded by an earlier time
            del self._ready_at[item]
            self.add(item)

    async def _wait_loop(self) -> None:
        while not self.shutting_down():
            self._wakeup.clear()
            self._pop_ready()
            if not self._heap:
                await self._wakeup.wait()
                continue
            delay = self._heap[0][0] - self.clock.now()
            if delay <= 0:
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            woken = asyncio.ensure_future(self._wakeup.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, woken):
                    if not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
