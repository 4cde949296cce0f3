"""The watch cache: one etcd watch per resource prefix, fanned out to any number of client watches.

A :class:`Feed` owns one etcd watch on a resource's key prefix (``/registry/pods/``) and keeps the
most recent events of that prefix in a bounded buffer. A client ``watch(prefix, rev)`` becomes a
:class:`CacheWatch` registered on the feed of its resource: it replays the buffered events after
``rev`` that match its (possibly narrower, e.g. one namespace) prefix, then receives live events
through its own bounded buffer; a consumer that falls behind is terminated with
``WatcherTooSlow``, as with the embedded backends, and never slows the feed down.

Revisions here are the storage's (etcd's minus the storage's ``revision_offset``).

``Feed.known`` is the revision up to which every event of the prefix has been received. It
advances with each event, with etcd's progress notifications (only sent for caught-up watchers,
in order with the events), and over revisions this process wrote itself to keys outside the
prefix (the storage's own-write log), so an idle feed stays current without a round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from testserver.storage._watch import BufferedWatch
from testserver.storage.errors import StorageError
from testserver.storage.etcd._client import EtcdCompacted, prefix_end
from testserver.storage.model import EventType, KeyValue, WatchEvent

if TYPE_CHECKING:
    from testserver.storage.etcd.storage import EtcdStorage

__all__ = ["CacheWatch", "Feed", "resource_prefix"]

log = logging.getLogger("testserver.storage.etcd")

_PUT = 0  # mvccpb.Event.PUT
_REGISTRY = "/registry/"


def resource_prefix(prefix: str) -> str:
    """The feed prefix for a watch prefix: the resource's key prefix, whatever namespace is watched.

    ``/registry/pods/ns/`` → ``/registry/pods/``; group-qualified resources (a dotted group) and
    ``services/specs``-style overrides take two segments. A prefix shorter than a resource's is
    its own feed.
    """
    if not prefix.startswith(_REGISTRY):
        return prefix
    parts = prefix[len(_REGISTRY) :].split("/")
    complete = parts[:-1]  # the last part is "" or a partial segment
    if not complete:
        return prefix
    n = 2 if ("." in complete[0] or complete[0] == "services") else 1
    if len(complete) < n:
        return prefix
    return _REGISTRY + "/".join(complete[:n]) + "/"


class CacheWatch(BufferedWatch):
    """One client watch, fed by a :class:`Feed`; implements the ``Watch`` protocol."""

    __slots__ = ("_after", "_feed")

    def __init__(
        self, feed: Feed, prefix: str, after: int, replay: Iterable[WatchEvent], capacity: int
    ) -> None:
        super().__init__(prefix, replay, capacity)
        self._feed = feed
        self._after = after

    def _open_revision(self) -> int:
        return max(self._after, self._feed.known)

    def _unregister(self) -> None:
        self._feed.remove(self)

    def _push(self, event: WatchEvent) -> bool:
        """Buffer a live event of this watch; False when the buffer was full and this watch is now terminated."""
        if event.revision <= self._after or not event.kv.key.startswith(self._prefix):
            return True
        return super()._push(event)

    def _fail(self, end: int) -> None:
        super()._fail(max(end, self._after))


class Feed:
    """One etcd watch on ``prefix`` (a resource prefix, storage-side) and its recent events.

    Events with revision ``> floor`` are all in ``events`` or still to come; ``known`` is how far
    they have come. Started by :meth:`start`, stopped by :meth:`stop`.
    """

    def __init__(self, storage: EtcdStorage, prefix: str, floor: int, cache_size: int) -> None:
        self.storage = storage
        self.prefix = prefix
        self.floor = floor
        self.known = floor
        self.events: deque[WatchEvent] = deque()
        self._cache_size = cache_size
        self.streams: dict[CacheWatch, None] = {}
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()
        self.connected = False
        """True while the etcd watch is established (for tests and metrics)."""
        self.etcd_watches_opened = 0
        """How many etcd watches this feed has opened (1 unless it had to reconnect)."""

    # -- client watches --

    def add(self, prefix: str, after: int, capacity: int) -> CacheWatch:
        """A new client watch of ``prefix`` from ``after``; ``after >= floor`` (checked by the caller)."""
        replay = [e for e in self.events if e.revision > after and e.kv.key.startswith(prefix)]
        stream = CacheWatch(self, prefix, after, replay, capacity)
        self.streams[stream] = None
        return stream

    def remove(self, stream: CacheWatch) -> None:
        self.streams.pop(stream, None)

    # -- events --

    def deliver(self, event: WatchEvent) -> None:
        rev = event.revision
        if rev < self.known:
            return  # already had it (the etcd watch resumes at known + 1; one revision may carry several events)
        self.events.append(event)
        if len(self.events) > self._cache_size:
            self.floor = self.events.popleft().revision
        if rev > self.known:
            self.known = rev
        overflowed = [s for s in self.streams if not s._push(event)]
        for s in overflowed:
            self.remove(s)

    def advance(self, own: Callable[[int], str | None]) -> None:
        """Move ``known`` over revisions this process wrote to keys outside the prefix."""
        moved = False
        while True:
            key = own(self.known + 1)
            if key is None or key.startswith(self.prefix):
                break
            self.known += 1
            moved = True
        if moved:
            self._signal()

    def progressed(self, revision: int) -> None:
        """etcd says every event up to ``revision`` has been sent (a progress notification)."""
        if revision > self.known:
            self.known = revision
            self._signal()

    def _signal(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    async def wait_known(self, revision: int, timeout: float) -> bool:
        """Wait until ``known >= revision``; False after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.known < revision:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._task is None or self._task.done():
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)
        return True

    def _lost_history(self, compact_revision: int) -> None:
        """etcd compacted past ``known`` while we caught up: events up to ``compact_revision`` are gone.

        Client watches that needed them end with ``WatcherTooSlow`` (their clients re-watch, get
        410 and re-list); the others only need later events and go on.
        """
        log.warning(
            "watch cache %s: history compacted at %d (had %d)", self.prefix, compact_revision, self.known
        )
        for s in list(self.streams):
            if s._after < compact_revision:
                s._fail(max(s._after, self.known))
                self.remove(s)
        self.events.clear()
        self.floor = self.known = max(self.known, compact_revision)
        self.storage._note_compacted(compact_revision)

    # -- the etcd watch --

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"etcd-watch:{self.prefix}")

    async def stop(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for s in list(self.streams):
            s._terminate()
        self.streams.clear()

    async def _run(self) -> None:
        storage = self.storage
        key = storage._etcd_key(self.prefix)
        end = prefix_end(key)
        backoff = 0.05
        while True:
            offset = storage.revision_offset
            try:
                self.etcd_watches_opened += 1
                async for resp in storage._client.watch(key, end, self.known + 1 + offset):
                    backoff = 0.05
                    if resp.compact_revision:
                        self._lost_history(resp.compact_revision - offset)
                        break
                    if resp.canceled:
                        raise StorageError(f"etcd cancelled the watch: {resp.cancel_reason}")
                    if resp.created:
                        self.connected = True
                        continue
                    header_rev = resp.header.revision - offset
                    storage._seen(resp.header.revision)
                    if resp.events:
                        last = 0
                        for ev in resp.events:
                            event = self._event(ev, offset)
                            if last and event.revision > last:
                                # A catch-up batch (etcd sends the missed history at once): let
                                # consumers run between revisions, as between separate writes, so
                                # only a watcher that really falls behind overflows its buffer.
                                await asyncio.sleep(0)
                            last = event.revision
                            self.deliver(event)
                        self.advance(storage._own_write)
                        self._signal()
                    else:
                        self.progressed(header_rev)
                        self.advance(storage._own_write)
            except asyncio.CancelledError:
                self.connected = False
                raise
            except EtcdCompacted as exc:  # pragma: no cover - etcd reports this in-band
                log.warning("watch cache %s: %s", self.prefix, exc)
            except Exception as exc:
                log.warning("watch cache %s: etcd watch failed (%s); reconnecting", self.prefix, exc)
            self.connected = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    def _event(self, ev: Any, offset: int) -> WatchEvent:
        storage = self.storage
        kv = ev.kv
        key = storage._storage_key(kv.key)
        prev = ev.prev_kv if ev.HasField("prev_kv") else None
        prev_kv = (
            KeyValue(key, bytes(prev.value), prev.create_revision - offset, prev.mod_revision - offset)
            if prev is not None
            else None
        )
        if ev.type == _PUT:
            item = KeyValue(key, bytes(kv.value), kv.create_revision - offset, kv.mod_revision - offset)
            kind = EventType.ADDED if kv.create_revision == kv.mod_revision else EventType.MODIFIED
            return WatchEvent(kind, item, prev_kv if kind is EventType.MODIFIED else None)
        rev = kv.mod_revision - offset
        if prev_kv is None:  # the previous version was compacted away before we saw the delete
            return WatchEvent(EventType.DELETED, KeyValue(key, b"", 0, rev), None)
        return WatchEvent(
            EventType.DELETED, KeyValue(key, prev_kv.value, prev_kv.create_revision, rev), prev_kv
        )
