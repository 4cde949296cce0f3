"""What the async and the generated sync ``wait`` loops share: the timeout error, jitter, stop signals.

Written once here (not under ``_async``) so that both twins raise the same :class:`WaitTimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from typing import TypeAlias

from pyclientgo.clock import AsyncClock, Clock, SystemClock
from pyclientgo.errors import PyClientGoError

__all__ = [
    "AsyncStopEvent",
    "AsyncStopWaiter",
    "StopEvent",
    "StopWaiter",
    "WaitTimeoutError",
    "jitter",
]

AsyncStopEvent: TypeAlias = asyncio.Event
"""What stops an asyncio loop early (Go's ``stopCh``): set it and the loop returns."""

StopEvent: TypeAlias = threading.Event
"""What stops a blocking loop early (Go's ``stopCh``), from any thread."""


class WaitTimeoutError(PyClientGoError, TimeoutError):
    """A condition was not met in time, or the wait was stopped first (client-go's ``wait.ErrWaitTimeout``)."""

    def __init__(self, message: str = "timed out waiting for the condition") -> None:
        super().__init__(message)


def jitter(duration: float, max_factor: float, rng: random.Random | None = None) -> float:
    """A random duration in ``[duration, duration * (1 + max_factor))`` (``wait.Jitter``; a factor <= 0 means 1)."""
    if max_factor <= 0:
        max_factor = 1.0
    return duration + (rng or random).random() * max_factor * duration


class AsyncStopWaiter:
    """Sleeps on an :class:`~pyclientgo.clock.AsyncClock` that an :data:`AsyncStopEvent` cuts short."""

    def __init__(self, stop: AsyncStopEvent | None, clock: AsyncClock) -> None:
        self.stop = stop
        self.clock = clock

    def stopped(self) -> bool:
        """Whether the stop event is set."""
        return self.stop is not None and self.stop.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until stopped; return whether stopped."""
        if self.stop is None:
            await self.clock.sleep(seconds)
            return False
        if self.stop.is_set():
            return True
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        return self.stop.is_set()


class StopWaiter:
    """Sleeps on a :class:`~pyclientgo.clock.Clock` that a :data:`StopEvent` cuts short.

    With the real clock the sleep wakes as soon as the event is set; with another clock (a fake one)
    it sleeps the whole duration and then reports the event.
    """

    def __init__(self, stop: StopEvent | None, clock: Clock) -> None:
        self.stop = stop
        self.clock = clock

    def stopped(self) -> bool:
        """Whether the stop event is set."""
        return self.stop is not None and self.stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until stopped; return whether stopped."""
        if self.stop is None:
            self.clock.sleep(seconds)
            return False
        if self.stop.is_set():
            return True
        if isinstance(self.clock, SystemClock):
            return self.stop.wait(max(0.0, seconds))
        self.clock.sleep(seconds)
        return self.stop.is_set()
