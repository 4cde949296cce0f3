"""kube's BoundedFrequencyRunner (pkg/util/async/bounded_frequency_runner.go), on asyncio.

A function run on demand, but not more often than a token bucket allows (``burst_runs`` runs, refilled
one per ``min_interval``) and at least once every ``max_interval``. :meth:`run` is a request: many
requests before the function gets to run collapse into one run — one sync after a burst of changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

__all__ = ["BoundedFrequencyRunner"]

_log = logging.getLogger("kube-proxy")


class BoundedFrequencyRunner:
    """Runs ``fn`` when asked, at most ``burst_runs`` per ``min_interval`` and at least every ``max_interval``."""

    def __init__(
        self,
        name: str,
        fn: Callable[[], Awaitable[None]],
        *,
        min_interval: float,
        max_interval: float,
        burst_runs: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_interval > max_interval:
            raise ValueError(
                f"{name}: min interval ({min_interval}s) must be <= max interval ({max_interval}s)"
            )
        self.name = name
        self.fn = fn
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.burst_runs = max(1, burst_runs)
        self._clock = clock
        self._tokens = float(self.burst_runs)
        self._last_refill = clock()
        self._wake: asyncio.Event | None = None
        self._requested = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        """Ask for a run soon (thread-safe; many asks before it runs make one run)."""
        self._requested = True
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    def _take_token(self) -> float:
        """Take a token if there is one (0.0); else how long until one is refilled."""
        if self.min_interval <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(
            float(self.burst_runs), self._tokens + (now - self._last_refill) / self.min_interval
        )
        self._last_refill = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) * self.min_interval

    async def loop(self) -> None:
        """Run until cancelled: the first run at once, then on demand and every ``max_interval``."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._requested = True
        last_run = self._clock()
        while True:
            if not self._requested:
                timeout = max(0.0, self.max_interval - (self._clock() - last_run))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    self._requested = True  # the periodic full sync
            self._wake.clear()
            wait = self._take_token()
            while wait > 0:
                await asyncio.sleep(wait)
                wait = self._take_token()
            self._requested = False
            last_run = self._clock()
            try:
                await self.fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("%s: run failed", self.name)
