"""The in-memory MVCC engine shared by the embedded backends.

Data structures (all touched only from the event loop, never across an ``await``):

* ``_hist``: key → :class:`_History`, the key's retained versions in revision order, a
  deletion being a ``None`` version (tombstone). A key stays here while any of its versions
  is retained, so snapshot reads at old revisions see it.
* ``_keys``: the same keys in sorted order (:class:`SortedKeys`) for prefix scans.
* ``_events``: one :class:`WatchEvent` per revision after the compaction point:
  ``_events[i].revision == _compact + 1 + i``. Watch replay is a slice of it.

Revisions: ``_rev`` is the last *applied* write, ``_visible`` the last *acknowledged* one.
A write is applied synchronously (so preconditions are checked against every earlier write
in order), then handed to :meth:`MVCCStorage._commit`; readers and watchers only see
revisions ``<= _visible``. For the memory backend both are always equal; the SQLite
backend advances ``_visible`` once a batch is durable. Reads at ``_visible`` are snapshot
reads like any other, which is what keeps not-yet-durable writes invisible.

Compaction drops events ``<= C`` and every version superseded at ``C`` (keeping the state
at ``C``). It runs automatically to keep about ``history_window`` revisions, in chunks, so
the cost per write is amortised O(1).
"""

from __future__ import annotations

import abc
from bisect import bisect_right

from testserver.storage._sortedkeys import SortedKeys
from testserver.storage._watch import WatchHub, WatchStream
from testserver.storage.errors import (
    Compacted,
    FutureRevision,
    KeyExists,
    NotFoundError,
    RevisionMismatch,
    StorageClosed,
)
from testserver.storage.model import EventType, KeyValue, ListResult, WatchEvent, list_start

__all__ = ["DEFAULT_HISTORY_WINDOW", "DEFAULT_WATCH_BUFFER_SIZE", "MVCCStorage"]

DEFAULT_HISTORY_WINDOW = 10_000
DEFAULT_WATCH_BUFFER_SIZE = 1_000


class _History:
    __slots__ = ("kvs", "revs")

    def __init__(self) -> None:
        self.revs: list[int] = []
        self.kvs: list[KeyValue | None] = []


def _at(h: _History | None, revision: int) -> KeyValue | None:
    """The version of a key at ``revision`` (``None``: absent then)."""
    if h is None:
        return None
    revs = h.revs
    if revs[-1] <= revision:
        return h.kvs[-1]
    i = bisect_right(revs, revision) - 1
    return h.kvs[i] if i >= 0 else None


class MVCCStorage(abc.ABC):
    """Base of :class:`MemoryStorage` and :class:`SqliteStorage`; implements ``Storage``."""

    def __init__(
        self,
        *,
        history_window: int = DEFAULT_HISTORY_WINDOW,
        watch_buffer_size: int = DEFAULT_WATCH_BUFFER_SIZE,
    ) -> None:
        if history_window < 1:
            raise ValueError("history_window must be >= 1")
        if watch_buffer_size < 1:
            raise ValueError("watch_buffer_size must be >= 1")
        self._window = history_window
        self._compact_slack = max(1, history_window // 8)
        self._watch_buffer_size = watch_buffer_size
        self._hist: dict[str, _History] = {}
        self._keys = SortedKeys()
        self._events: list[WatchEvent] = []
        self._rev = 0
        self._visible = 0
        self._compact = 0
        self._hub = WatchHub()
        self._closed = False
        self._failure: BaseException | None = None

    # -- hooks --

    @abc.abstractmethod
    async def _commit(self, event: WatchEvent) -> None:
        """Make the applied write ``event`` acknowledged: persist it if needed, then :meth:`_publish`."""

    def _load(self, items: list[KeyValue], revision: int) -> None:
        """Start from a persisted state: ``items`` at ``revision``, history compacted there."""
        for kv in items:
            h = _History()
            h.revs.append(kv.mod_revision)
            h.kvs.append(kv)
            self._hist[kv.key] = h
        self._keys = SortedKeys(sorted(self._hist))
        self._rev = self._visible = self._compact = revision
        self._events = []

    def _publish(self, revision: int) -> None:
        """Acknowledge every applied write up to ``revision``: readers see them, watchers get them."""
        events = self._events
        base = self._compact + 1
        dispatch = self._hub.dispatch
        for r in range(self._visible + 1, revision + 1):
            dispatch(events[r - base])
        self._visible = revision
        if revision - self._compact > self._window + self._compact_slack:
            self._compact_to(revision - self._window)

    def _check_open(self) -> None:
        if self._failure is not None:
            raise StorageClosed("storage failed; no further operations are possible") from self._failure
        if self._closed:
            raise StorageClosed("storage is closed")

    def _check_revision(self, revision: int) -> int:
        if revision < 0:
            raise ValueError(f"revision must be >= 0, got {revision}")
        if revision < self._compact:
            raise Compacted(revision, self._compact, self._visible)
        if revision > self._visible:
            raise FutureRevision(revision, self._visible)
        return revision

    def _apply(self, key: str, h: _History | None, kv: KeyValue | None, event: WatchEvent) -> None:
        if h is None:
            h = _History()
            self._hist[key] = h
            self._keys.add(key)
        rev = event.revision
        h.revs.append(rev)
        h.kvs.append(kv)
        self._events.append(event)
        self._rev = rev

    # -- Storage --

    async def create(self, key: str, value: bytes) -> int:
        self._check_open()
        h = self._hist.get(key)
        if h is not None:
            existing = h.kvs[-1]
            if existing is not None:
                raise KeyExists(key, existing)
        rev = self._rev + 1
        kv = KeyValue(key, value, rev, rev)
        event = WatchEvent(EventType.ADDED, kv, None)
        self._apply(key, h, kv, event)
        await self._commit(event)
        return rev

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        self._check_open()
        rev = self._visible if revision is None else self._check_revision(revision)
        return _at(self._hist.get(key), rev)

    async def update(self, key: str, value: bytes, expected_mod_revision: int | None = None) -> int:
        self._check_open()
        h = self._hist.get(key)
        current = h.kvs[-1] if h is not None else None
        if current is None:
            raise NotFoundError(key)
        if expected_mod_revision is not None and current.mod_revision != expected_mod_revision:
            raise RevisionMismatch(key, expected_mod_revision, current)
        rev = self._rev + 1
        kv = KeyValue(key, value, current.create_revision, rev)
        event = WatchEvent(EventType.MODIFIED, kv, current)
        self._apply(key, h, kv, event)
        await self._commit(event)
        return rev

    async def delete(self, key: str, expected_mod_revision: int | None = None) -> KeyValue:
        self._check_open()
        h = self._hist.get(key)
        current = h.kvs[-1] if h is not None else None
        if current is None:
            raise NotFoundError(key)
        if expected_mod_revision is not None and current.mod_revision != expected_mod_revision:
            raise RevisionMismatch(key, expected_mod_revision, current)
        rev = self._rev + 1
        deleted = KeyValue(key, current.value, current.create_revision, rev)
        event = WatchEvent(EventType.DELETED, deleted, current)
        self._apply(key, h, None, event)
        await self._commit(event)
        return deleted

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        continue_key: str | None = None,
    ) -> ListResult:
        self._check_open()
        rev = self._visible if revision is None else self._check_revision(revision)
        start = list_start(prefix, limit, continue_key)
        hist = self._hist
        items: list[KeyValue] = []
        append = items.append
        remaining = 0
        keys = self._keys.iter_from(start)
        if not limit:
            for key in keys:
                if not key.startswith(prefix):
                    break
                kv = _at(hist[key], rev)
                if kv is not None:
                    append(kv)
        else:
            for key in keys:
                if not key.startswith(prefix):
                    break
                kv = _at(hist[key], rev)
                if kv is not None:
                    if len(items) < limit:
                        append(kv)
                    else:
                        remaining += 1
        return ListResult.page(items, revision=rev, more=remaining > 0, remaining=remaining)

    async def watch(self, prefix: str, from_revision: int) -> WatchStream:
        self._check_open()
        self._check_revision(from_revision)
        base = self._compact
        replay = [
            ev
            for ev in self._events[from_revision - base : self._visible - base]
            if ev.kv.key.startswith(prefix)
        ]
        stream = WatchStream(self._hub, prefix, replay, self._watch_buffer_size, self.current_revision)
        self._hub.add(stream)
        return stream

    def current_revision(self) -> int:
        return self._visible

    def compact_revision(self) -> int:
        return self._compact

    async def compact(self, revision: int) -> None:
        self._check_open()
        self._check_revision(revision)
        self._compact_to(revision)

    async def close(self) -> None:
        self._closed = True
        self._hub.close_all()

    # -- introspection (tests, metrics) --

    def watcher_count(self) -> int:
        """How many watches are registered (terminated or closed ones are not)."""
        return len(self._hub)

    def key_count(self) -> int:
        """How many keys exist at the current revision (O(n); for tests and metrics)."""
        rev = self._visible
        return sum(1 for h in self._hist.values() if _at(h, rev) is not None)

    # -- compaction --

    def _compact_to(self, revision: int) -> None:
        n = revision - self._compact
        if n <= 0:
            return
        touched = dict.fromkeys(ev.kv.key for ev in self._events[:n])
        del self._events[:n]
        self._compact = revision
        hist = self._hist
        for key in touched:
            h = hist[key]
            i = bisect_right(h.revs, revision) - 1
            if h.kvs[i] is None:
                i += 1
            if i > 0:
                del h.revs[:i]
                del h.kvs[:i]
            if not h.revs:
                del hist[key]
                self._keys.discard(key)
