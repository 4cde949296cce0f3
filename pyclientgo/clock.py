"""Clocks: what time-based code depends on, so tests can swap in a fake (see ``pyclientgo.testing``).

``now()`` is monotonic seconds (a float); durations are float seconds. :class:`AsyncClock` is what
asyncio code takes; :class:`Clock` is its synchronous twin.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["AsyncClock", "AsyncSystemClock", "Clock", "SystemClock"]


class AsyncClock(Protocol):
    """Monotonic time and an awaitable sleep."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class Clock(Protocol):
    """Monotonic time and a blocking sleep."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class AsyncSystemClock:
    """The real clock for asyncio code: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class SystemClock:
    """The real clock for threaded code: ``time.monotonic`` and ``time.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
