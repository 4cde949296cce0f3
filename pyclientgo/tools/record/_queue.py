"""The bounded background queue both event recorders write through (never blocks the caller)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["BackgroundQueue"]

log = logging.getLogger("pyclientgo.tools.record")

T = TypeVar("T")


class BackgroundQueue(asyncio.Queue[T | None], Generic[T]):
    """An ``asyncio.Queue`` of bounded length whose items a task hands to ``handle`` one at a time.

    :meth:`offer` drops an item when the queue is full (counted in :attr:`dropped`); a failing
    ``handle`` is logged and the next item goes on. :meth:`shutdown` handles what is queued, then stops.
    """

    def __init__(self, maxsize: int, handle: Callable[[T], Awaitable[None]], *, name: str) -> None:
        super().__init__(maxsize)
        self._handle = handle
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        """How many items were dropped because the queue was full."""

    def offer(self, item: T) -> bool:
        try:
            self.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def start(self) -> None:
        """Start handling queued items (needs a running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def flush(self) -> None:
        """Wait until everything queued so far is handled."""
        await self.join()

    async def shutdown(self) -> None:
        """Handle what is queued, then stop."""
        if self._task is None:
            return
        await self.put(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            item = await self.get()
            try:
                if item is None:
                    return
                await self._handle(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not record event")
            finally:
                self.task_done()
