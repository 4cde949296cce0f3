"""Retrying a read-modify-write on conflict (client-go ``util/retry``).

``await retry_on_conflict(DEFAULT_RETRY, fn)`` calls ``fn`` (an async function of no arguments) up to
``backoff.steps`` times, waiting the backoff's delays in between, while it raises a conflict
(:func:`pyclientgo.errors.is_conflict`). Any other error is raised at once; when the tries run out,
the last conflict is raised. ``fn`` must re-read the object each time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.errors import is_conflict
from pyclientgo.util.backoff import Backoff

__all__ = ["on_error", "retry_on_conflict"]

R = TypeVar("R")


async def on_error(
    backoff: Backoff,
    retriable: Callable[[BaseException], bool],
    fn: Callable[[], Awaitable[R]],
    *,
    clock: AsyncClock | None = None,
) -> R:
    """Call ``fn`` until it succeeds, raises a non-``retriable`` error, or ``backoff.steps`` tries pass."""
    clock = clock or AsyncSystemClock()
    delays = backoff.delays()
    attempt = 0
    while True:
        try:
            return await fn()
        except Exception as err:
            if not retriable(err) or attempt >= len(delays):
                raise
        await clock.sleep(delays[attempt])
        attempt += 1


async def retry_on_conflict(
    backoff: Backoff, fn: Callable[[], Awaitable[R]], *, clock: AsyncClock | None = None
) -> R:
    """:func:`on_error` retrying only conflicts (HTTP 409 with reason Conflict)."""
    return await on_error(backoff, is_conflict, fn, clock=clock)
