"""Loops that run a function periodically or poll a condition (apimachinery ``util/wait``).

* :func:`until` / :func:`jitter_until` / :func:`non_sliding_until` / :func:`forever` call ``f`` every
  ``period`` until ``stop`` is set (or the task is cancelled). *Sliding*: the period starts after
  ``f`` returns; otherwise it includes ``f``'s run time. A ``jitter_factor`` above 0 makes each period
  a random value in ``[period, period * (1 + jitter_factor))``. An exception from ``f`` ends the loop
  and propagates (as Go's ``HandleCrash`` re-panics by default).
* :func:`poll_until` / :func:`poll_immediate_until` call ``condition`` every ``interval`` until it
  returns true; when ``timeout`` passes or ``stop`` is set first they raise
  :class:`~pyclientgo.util.wait.WaitTimeoutError` ("timed out waiting for the condition"). The
  *immediate* form checks once before the first wait. An exception from ``condition`` propagates.
* :func:`exponential_backoff` checks ``condition`` up to ``backoff.steps`` times with the backoff's
  delays in between, then raises :class:`~pyclientgo.util.wait.WaitTimeoutError`.

Durations are float seconds; the clock is injectable (``pyclientgo.testing.AsyncFakeClock``).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.util._wait import AsyncStopEvent, AsyncStopWaiter, WaitTimeoutError, jitter
from pyclientgo.util.backoff import Backoff

__all__ = [
    "exponential_backoff",
    "forever",
    "jitter_until",
    "non_sliding_until",
    "poll_immediate_until",
    "poll_until",
    "until",
]


async def jitter_until(
    f: Callable[[], Awaitable[None]],
    period: float,
    jitter_factor: float,
    sliding: bool,
    stop: AsyncStopEvent | None = None,
    *,
    clock: AsyncClock | None = None,
    rng: random.Random | None = None,
) -> None:
    """Call ``f`` every (jittered) ``period`` seconds until ``stop`` is set (``wait.JitterUntil``)."""
    clock = clock or AsyncSystemClock()
    waiter = AsyncStopWaiter(stop, clock)
    while not waiter.stopped():
        wait_for = jitter(period, jitter_factor, rng) if jitter_factor > 0 else period
        started = clock.now()
        await f()
        if not sliding:
            wait_for -= clock.now() - started
        if await waiter.sleep(max(0.0, wait_for)):
            return


async def until(
    f: Callable[[], Awaitable[None]],
    period: float,
    stop: AsyncStopEvent | None = None,
    *,
    clock: AsyncClock | None = None,
) -> None:
    """Call ``f`` every ``period`` seconds (after it returns) until ``stop`` is set (``wait.Until``)."""
    await jitter_until(f, period, 0.0, True, stop, clock=clock)


async def non_sliding_until(
    f: Callable[[], Awaitable[None]],
    period: float,
    stop: AsyncStopEvent | None = None,
    *,
    clock: AsyncClock | None = None,
) -> None:
    """Like :func:`until`, but the period includes ``f``'s run time (``wait.NonSlidingUntil``)."""
    await jitter_until(f, period, 0.0, False, stop, clock=clock)


async def forever(
    f: Callable[[], Awaitable[None]], period: float, *, clock: AsyncClock | None = None
) -> None:
    """Call ``f`` every ``period`` seconds until cancelled (``wait.Forever``)."""
    await jitter_until(f, period, 0.0, True, None, clock=clock)


async def poll_until(
    condition: Callable[[], Awaitable[bool]],
    interval: float,
    timeout: float | None = None,
    *,
    stop: AsyncStopEvent | None = None,
    immediate: bool = False,
    clock: AsyncClock | None = None,
) -> None:
    """Check ``condition`` every ``interval`` seconds until it is true (``wait.Poll`` / ``PollUntil``).

    Raise :class:`~pyclientgo.util.wait.WaitTimeoutError` when ``timeout`` seconds (``None``: no limit)
    pass or ``stop`` is set first. With ``immediate`` the condition is checked once before waiting.
    """
    clock = clock or AsyncSystemClock()
    waiter = AsyncStopWaiter(stop, clock)
    deadline = None if timeout is None else clock.now() + timeout
    if immediate and await condition():
        return
    while True:
        wait_for = interval
        if deadline is not None:
            remaining = deadline - clock.now()
            if remaining < interval:
                # The timeout comes before the next check: wait for it, then give up.
                await waiter.sleep(max(0.0, remaining))
                raise WaitTimeoutError()
        if await waiter.sleep(wait_for):
            raise WaitTimeoutError()
        if await condition():
            return


async def poll_immediate_until(
    condition: Callable[[], Awaitable[bool]],
    interval: float,
    timeout: float | None = None,
    *,
    stop: AsyncStopEvent | None = None,
    clock: AsyncClock | None = None,
) -> None:
    """:func:`poll_until` checking the condition once before the first wait (``wait.PollImmediateUntil``)."""
    await poll_until(condition, interval, timeout, stop=stop, immediate=True, clock=clock)


async def exponential_backoff(
    backoff: Backoff,
    condition: Callable[[], Awaitable[bool]],
    *,
    stop: AsyncStopEvent | None = None,
    clock: AsyncClock | None = None,
) -> None:
    """Check ``condition`` up to ``backoff.steps`` times, waiting the backoff's delays between tries
    (``wait.ExponentialBackoff``); raise :class:`~pyclientgo.util.wait.WaitTimeoutError` if it never
    holds or ``stop`` is set first."""
    clock = clock or AsyncSystemClock()
    waiter = AsyncStopWaiter(stop, clock)
    delays = backoff.delays()
    for attempt in range(max(0, backoff.steps)):
        if waiter.stopped():
            break
        if await condition():
            return
        if attempt < len(delays) and await waiter.sleep(delays[attempt]):
            break
    raise WaitTimeoutError()
