"""The basic work queue (client-go ``util/workqueue/queue.go``).

Three sets make the guarantees controllers rely on:

* ``dirty`` — items that need processing; adding an item that is already dirty is a no-op, so a burst
  of changes to one object collapses into one unit of work;
* ``processing`` — items handed out by :meth:`Queue.get` and not yet :meth:`Queue.done`; an item is
  never handed out twice at once, and an item added while it is being processed is queued again only
  when its worker calls ``done``;
* the FIFO of dirty items that are not being processed.

After :meth:`Queue.shut_down` adds are ignored and :meth:`Queue.get` keeps handing out what is queued,
raising :class:`ShutDown` once the queue is empty. :meth:`Queue.shut_down_with_drain` also waits until
every handed-out item is done.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from typing import Generic, TypeVar

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.errors import PyClientGoError
from pyclientgo.workqueue.metrics import MetricsProvider, QueueMetrics, global_metrics_provider

__all__ = ["Queue", "ShutDown"]

T = TypeVar("T", bound=Hashable)


class ShutDown(PyClientGoError):
    """Raised by :meth:`Queue.get` when the queue is shut down and empty."""


class Queue(Generic[T]):
    """A FIFO of distinct items with dirty/processing tracking (client-go's ``workqueue.Interface``).

    ``name`` turns on the standard metrics (see :mod:`pyclientgo.workqueue.metrics`); unnamed queues
    record none.
    """

    def __init__(
        self,
        *,
        name: str = "",
        clock: AsyncClock | None = None,
        metrics_provider: MetricsProvider | None = None,
    ) -> None:
        self.name = name
        self.clock: AsyncClock = clock or AsyncSystemClock()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._drain = False
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._metrics: QueueMetrics[T] = (metrics_provider or global_metrics_provider()).new_queue_metrics(
            name, self.clock
        )

    # -- the interface ------------------------------------------------------------------------------

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing; no-op if it already is, or after shutdown."""
        if self._shutting_down or item in self._dirty:
            return
        self._metrics.add(item)
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._ready.set()

    def __len__(self) -> int:
        """How many items wait to be handed out (not counting those being processed)."""
        return len(self._queue)

    async def get(self) -> T:
        """The next item, waiting while the queue is empty; raises :class:`ShutDown` when done.

        The caller must call :meth:`done` with the item when it has finished with it.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(f"work queue {self.name!r} is shut down")
            self._ready.clear()
            await self._ready.wait()
        item = self._queue.popleft()
        if not self._queue and not self._shutting_down:
            self._ready.clear()
        elif self._queue:
            self._ready.set()
        self._metrics.get(item)
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """``item`` is processed; if it was added again meanwhile it goes back in the queue."""
        if item not in self._processing:
            return
        self._metrics.done(item)
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._ready.set()
        if not self._processing:
            self._idle.set()

    def shut_down(self) -> None:
        """Stop accepting items; :meth:`get` hands out what is queued, then raises :class:`ShutDown`.

        Also ends a :meth:`shut_down_with_drain` that is still waiting (as client-go does).
        """
        self._drain = False
        self._idle.set()
        self._stop()

    async def shut_down_with_drain(self) -> None:
        """Shut down, then wait until every handed-out item is :meth:`done` (or :meth:`shut_down`)."""
        self._drain = True
        self._stop()
        while self._processing and self._drain:
            self._idle.clear()
            await self._idle.wait()

    def _stop(self) -> None:
        self._shutting_down = True
        self._ready.set()

    def shutting_down(self) -> bool:
        return self._shutting_down

    # -- conveniences -------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        """Iterate items until shutdown (remember to call :meth:`done` for each)."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            try:
                yield await self.get()
            except ShutDown:
                return

    @property
    def processing(self) -> frozenset[T]:
        """The items handed out and not yet done (for tests and introspection)."""
        return frozenset(self._processing)
