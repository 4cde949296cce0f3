"""Watch fan-out: bounded per-watcher buffers that never block the writer.

A writer hands each visible event to :meth:`WatchHub.dispatch`, which appends it to the
buffer of every watcher whose prefix matches, without awaiting anything. A watcher whose
buffer is full is unregistered on the spot; its consumer still receives every event buffered
before the overflow and then ``WatcherTooSlow``. Watchers are grouped by prefix, so a write
costs one ``startswith`` per distinct watched prefix plus one append per matching watcher.

:class:`BufferedWatch` is the consumer half shared by every backend: the embedded backends'
:class:`WatchStream` and the etcd watch cache's ``CacheWatch`` only say how far an open watch
has seen and how to unregister it.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from testserver.storage.errors import WatcherTooSlow
from testserver.storage.model import WatchEvent

__all__ = ["BufferedWatch", "WatchHub", "WatchStream"]


class _State(enum.Enum):
    OPEN = 1
    OVERFLOWED = 2
    CLOSED = 3


class BufferedWatch:
    """A ``Watch``: replayed events, then live events through a bounded buffer.

    The producer (on the event loop, never awaiting) calls :meth:`_push`, :meth:`_fail` and
    :meth:`_terminate`; the consumer iterates. Subclasses provide :meth:`_open_revision` and
    :meth:`_unregister`.
    """

    __slots__ = ("_buffer", "_capacity", "_end_revision", "_prefix", "_replay", "_state", "_waiter")

    def __init__(self, prefix: str, replay: Iterable[WatchEvent], capacity: int) -> None:
        self._prefix = prefix
        self._replay: deque[WatchEvent] = deque(replay)
        self._buffer: deque[WatchEvent] = deque()
        self._capacity = capacity
        self._state = _State.OPEN
        self._waiter: asyncio.Future[None] | None = None
        # For OVERFLOWED/CLOSED: every matching event up to this revision has been buffered.
        self._end_revision = 0

    @property
    def prefix(self) -> str:
        """The watched key prefix."""
        return self._prefix

    @property
    def progress_revision(self) -> int:
        if self._replay:
            return self._replay[0].revision - 1
        if self._buffer:
            return self._buffer[0].revision - 1
        if self._state is _State.OPEN:
            return self._open_revision()
        return self._end_revision

    def _open_revision(self) -> int:
        """How far an open watch has seen every matching event."""
        raise NotImplementedError

    def _unregister(self) -> None:
        """Stop the producer from pushing to this watch (idempotent)."""
        raise NotImplementedError

    # -- producer side (synchronous, on the event loop) --

    def _push(self, event: WatchEvent) -> bool:
        """Buffer ``event``; False if the buffer was full and this watcher is now terminated."""
        if len(self._buffer) >= self._capacity:
            self._fail(event.revision - 1)
            return False
        self._buffer.append(event)
        if self._waiter is not None:
            self._wake()
        return True

    def _fail(self, end: int) -> None:
        """Terminate with ``WatcherTooSlow(end)`` once the buffered events are consumed."""
        if self._state is _State.OPEN:
            self._state = _State.OVERFLOWED
            self._end_revision = end
            self._wake()

    def _terminate(self) -> None:
        """End cleanly after the buffered events (storage shutdown)."""
        if self._state is _State.OPEN:
            self._end_revision = self._open_revision()
            self._state = _State.CLOSED
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- consumer side --

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WatchEvent:
        while True:
            if self._replay:
                return self._replay.popleft()
            if self._buffer:
                return self._buffer.popleft()
            if self._state is _State.OVERFLOWED:
                self._state = _State.CLOSED
                raise WatcherTooSlow(self._end_revision)
            if self._state is _State.CLOSED:
                raise StopAsyncIteration
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            except asyncio.CancelledError:
                self._close()
                raise
            finally:
                self._waiter = None

    def _close(self) -> None:
        self._unregister()
        if self._state is not _State.CLOSED:
            self._terminate()
            self._state = _State.CLOSED
        self._replay.clear()
        self._buffer.clear()

    async def aclose(self) -> None:
        self._close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()


class WatchStream(BufferedWatch):
    """The :class:`~testserver.storage.interface.Watch` implementation of the embedded backends."""

    __slots__ = ("_current_revision", "_hub")

    def __init__(
        self,
        hub: WatchHub,
        prefix: str,
        replay: Iterable[WatchEvent],
        capacity: int,
        current_revision: Callable[[], int],
    ) -> None:
        super().__init__(prefix, replay, capacity)
        self._hub = hub
        self._current_revision = current_revision

    def _open_revision(self) -> int:
        return self._current_revision()

    def _unregister(self) -> None:
        self._hub.remove(self)


class WatchHub:
    """The registry of live watchers of one storage, grouped by prefix."""

    __slots__ = ("_by_prefix",)

    def __init__(self) -> None:
        # prefix -> insertion-ordered set of watchers
        self._by_prefix: dict[str, dict[WatchStream, None]] = {}

    def __len__(self) -> int:
        return sum(len(ws) for ws in self._by_prefix.values())

    def add(self, stream: WatchStream) -> None:
        self._by_prefix.setdefault(stream.prefix, {})[stream] = None

    def remove(self, stream: WatchStream) -> None:
        group = self._by_prefix.get(stream.prefix)
        if group is not None:
            group.pop(stream, None)
            if not group:
                del self._by_prefix[stream.prefix]

    def dispatch(self, event: WatchEvent) -> None:
        """Hand ``event`` to every matching watcher; never blocks."""
        if not self._by_prefix:
            return
        key = event.kv.key
        overflowed: list[WatchStream] | None = None
        for prefix, group in self._by_prefix.items():
            if key.startswith(prefix):
                for stream in group:
                    if not stream._push(event):
                        if overflowed is None:
                            overflowed = []
                        overflowed.append(stream)
        if overflowed:
            for stream in overflowed:
                self.remove(stream)

    def close_all(self) -> None:
        """End every watch (storage shutdown)."""
        groups = list(self._by_prefix.values())
        self._by_prefix.clear()
        for group in groups:
            for stream in group:
                stream._terminate()
