"""Fake clocks that never sleep for real (trio's ``MockClock`` idea).

:class:`AsyncFakeClock` satisfies :class:`pyclientgo.clock.AsyncClock`; :class:`FakeClock` satisfies
:class:`pyclientgo.clock.Clock`. Both record every sleep in :attr:`sleeps`.

With ``autojump=True`` (the default) a sleep moves the clock forward by its duration at once, so code
that sleeps runs instantly and deterministically. With ``autojump=False`` an async sleep waits until a
test calls :meth:`AsyncFakeClock.advance` past its deadline.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading

__all__ = ["AsyncFakeClock", "FakeClock"]


class FakeClock:
    """A synchronous fake clock: ``sleep`` advances time instead of blocking."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        #: Every duration passed to :meth:`sleep`, in order.
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)


class AsyncFakeClock:
    """An asyncio fake clock; see the module docstring for ``autojump``."""

    def __init__(self, start: float = 0.0, *, autojump: bool = True) -> None:
        self._now = start
        self.autojump = autojump
        #: Every duration passed to :meth:`sleep`, in order.
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    @property
    def sleeping(self) -> int:
        """How many tasks are blocked in :meth:`sleep` (only with ``autojump=False``)."""
        return sum(1 for _, _, f in self._waiters if not f.done())

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._now += max(0.0, seconds)
        while self._waiters and self._waiters[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.autojump:
            self.advance(seconds)
            await asyncio.sleep(0)
            return
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._seq), fut))
        await fut
