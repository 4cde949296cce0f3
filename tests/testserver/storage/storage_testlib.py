"""Helpers shared by the storage conformance tests (deadline-based waits, never sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from testserver.storage import Watch, WatchEvent

DEADLINE = 5.0


async def next_event(watch: Watch, timeout: float = DEADLINE) -> WatchEvent:
    """The next event of ``watch``, failing the test if none arrives within ``timeout``."""
    return await asyncio.wait_for(anext(watch), timeout)


async def take(watch: Watch, n: int, timeout: float = DEADLINE) -> list[WatchEvent]:
    """The next ``n`` events of ``watch``, all within ``timeout``."""

    async def collect() -> list[WatchEvent]:
        return [await anext(watch) for _ in range(n)]

    return await asyncio.wait_for(collect(), timeout)


async def wait_until(cond: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Yield to the loop until ``cond()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.001)
