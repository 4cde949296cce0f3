"""``EtcdStorage``: the ``Storage`` interface on an etcd v3 cluster, as Kubernetes uses etcd.

* Keys are the storage keys (``/registry/pods/ns/name``, see ``keys``) under an optional
  ``key_prefix``; values are the API server's bytes. resourceVersion = etcd revision: an item's
  ``mod_revision`` is the etcd key's ``mod_revision`` (minus ``revision_offset``, 0 except in
  tests that need a fresh-looking store on a shared etcd).
* ``create`` / ``update`` / ``delete`` are single etcd transactions guarded by
  ``create_revision == 0`` (absent), ``mod_revision == expected`` (compare-and-swap) or
  ``create_revision > 0`` (present); the failure branch reads the current item, so a
  ``RevisionMismatch``/``KeyExists`` carries it without another round trip. Several API
  servers on one etcd therefore keep optimistic concurrency between them.
* ``get`` / ``list`` are linearizable etcd ranges, at a revision if asked; ``list`` pages with
  etcd's ``limit`` and reports ``remainingItemCount`` from the range's ``count``.
* ``watch`` is served by the watch cache (``_cache``): one etcd watch per resource prefix,
  however many client watches.
* Compaction: like kube-apiserver, every ``compaction_interval`` seconds (default 300) one of the
  API servers sharing the etcd (whichever wins a transaction on ``compact_rev_key``) compacts to
  the revision recorded one interval earlier. ``history_window`` additionally compacts to keep
  about that many revisions (for tests). ``compact`` compacts explicitly.

``current_revision()`` is the newest etcd revision this process has seen (its own writes and
reads, watch events and progress notifications): another API server's write may take a moment
to show. ``compact_revision()`` is the newest compaction this process knows of.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from testserver.storage._mvcc import DEFAULT_WATCH_BUFFER_SIZE
from testserver.storage.errors import (
    Compacted,
    FutureRevision,
    KeyExists,
    NotFoundError,
    RevisionMismatch,
    StorageClosed,
)
from testserver.storage.etcd._cache import CacheWatch, Feed, resource_prefix
from testserver.storage.etcd._client import (
    EtcdClient,
    EtcdCompacted,
    EtcdFutureRevision,
    EtcdTLS,
    op_delete,
    op_put,
    op_range,
    prefix_end,
    when_absent,
    when_mod_revision,
    when_present,
    when_version,
)
from testserver.storage.model import KeyValue, ListResult, list_start

__all__ = ["COMPACT_REV_KEY", "DEFAULT_COMPACTION_INTERVAL", "DEFAULT_WATCH_CACHE_SIZE", "EtcdStorage"]

log = logging.getLogger("testserver.storage.etcd")

DEFAULT_COMPACTION_INTERVAL = 300.0
"""kube-apiserver's ``--etcd-compaction-interval`` default (5 minutes)."""
DEFAULT_WATCH_CACHE_SIZE = 10_000
"""Events kept per resource prefix for watch replay."""
COMPACT_REV_KEY = "compact_rev_key"
"""The key kube-apiserver's compactor coordinates on (its value: the last compacted revision)."""
_OWN_LOG = 50_000


class EtcdStorage:
    """``Storage`` backed by etcd v3. Open with ``await EtcdStorage.open(endpoints)``; ``close`` when done.

    Keyword arguments of :meth:`open`:

    * ``tls``: client certificates for etcd (:class:`EtcdTLS`).
    * ``key_prefix``: prepended to every key in etcd (default none: keys are ``/registry/...``).
    * ``fresh_revisions``: count revisions from etcd's current one (``revision_offset``), so a
      new storage on a used etcd starts at revision 0 — for tests sharing one etcd.
    * ``history_window``: also compact to keep about this many revisions (default: off).
    * ``compaction_interval``: seconds between kube-style compactions (0: never).
    * ``watch_buffer_size``: how far a client watch may lag before ``WatcherTooSlow``.
    * ``watch_cache_size``: events kept per resource prefix for watch replay.
    """

    def __init__(
        self,
        client: EtcdClient,
        *,
        key_prefix: str = "",
        revision_offset: int = 0,
        current_revision: int = 0,
        compact_revision: int = 0,
        history_window: int | None = None,
        compaction_interval: float = DEFAULT_COMPACTION_INTERVAL,
        watch_buffer_size: int = DEFAULT_WATCH_BUFFER_SIZE,
        watch_cache_size: int = DEFAULT_WATCH_CACHE_SIZE,
    ) -> None:
        if history_window is not None and history_window < 1:
            raise ValueError("history_window must be >= 1")
        if watch_buffer_size < 1 or watch_cache_size < 1:
            raise ValueError("watch_buffer_size and watch_cache_size must be >= 1")
        if compaction_interval < 0:
            raise ValueError("compaction_interval must be >= 0")
        self._client = client
        self._key_prefix = key_prefix
        self._key_prefix_b = key_prefix.encode()
        self.revision_offset = revision_offset
        self._rev = current_revision  # etcd revision
        self._compact = compact_revision  # storage revision
        self._window = history_window
        self._slack = max(1, (history_window or 8) // 8)
        self._compacting = False
        self._interval = compaction_interval
        self._buffer_size = watch_buffer_size
        self._cache_size = watch_cache_size
        self._feeds: dict[str, Feed] = {}
        self._own: dict[int, str] = {}  # storage revision -> storage key of this process's writes
        self._closed = False
        self._compactor: asyncio.Task[None] | None = None
        if compaction_interval > 0:
            self._compactor = asyncio.get_running_loop().create_task(self._compact_periodically())

    @classmethod
    async def open(
        cls,
        endpoints: Sequence[str],
        *,
        tls: EtcdTLS | None = None,
        key_prefix: str = "",
        fresh_revisions: bool = False,
        timeout: float = 30.0,
        **options: Any,
    ) -> EtcdStorage:
        """Connect to etcd at ``endpoints`` (``HOST:PORT``), read the current and compact revisions."""
        client = EtcdClient(endpoints, tls=tls, timeout=timeout)
        try:
            compact_key = (key_prefix + COMPACT_REV_KEY).encode()
            resp = await client.range(compact_key)
            current = resp.header.revision
            offset = current if fresh_revisions else 0
            compact = 0
            if resp.kvs:
                with contextlib.suppress(ValueError):
                    compact = max(0, int(resp.kvs[0].value) - offset)
        except BaseException:
            await client.close()
            raise
        return cls(
            client,
            key_prefix=key_prefix,
            revision_offset=offset,
            current_revision=current,
            compact_revision=compact,
            **options,
        )

    # -- keys and revisions --

    def _etcd_key(self, key: str) -> bytes:
        return self._key_prefix_b + key.encode()

    def _storage_key(self, key: bytes) -> str:
        return key[len(self._key_prefix_b) :].decode()

    def _kv(self, kv: Any) -> KeyValue:
        off = self.revision_offset
        return KeyValue(
            self._storage_key(kv.key), bytes(kv.value), kv.create_revision - off, kv.mod_revision - off
        )

    def _seen(self, etcd_revision: int) -> int:
        """Note a response header's revision; the storage revision."""
        if etcd_revision > self._rev:
            self._rev = etcd_revision
        return etcd_revision - self.revision_offset

    def _own_write(self, revision: int) -> str | None:
        return self._own.get(revision)

    def _wrote(self, revision: int, key: str) -> None:
        own = self._own
        own[revision] = key
        if len(own) > _OWN_LOG:
            for r in list(own)[: _OWN_LOG // 2]:
                del own[r]
        for feed in self._feeds.values():
            feed.advance(own.get)

    def _note_compacted(self, revision: int) -> None:
        if revision > self._compact:
            self._compact = revision

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosed("storage is closed")

    def _etcd_revision(self, revision: int) -> int:
        """The etcd revision for a storage revision; 0 means 'before the first write'."""
        if revision < 0:
            raise ValueError(f"revision must be >= 0, got {revision}")
        if revision < self._compact:
            raise Compacted(revision, self._compact, self.current_revision())
        return revision + self.revision_offset

    def _compacted(self, revision: int) -> Compacted:
        # etcd says "compacted" without saying where: at least just past what was asked.
        self._note_compacted(revision + 1)
        return Compacted(revision, self._compact, self.current_revision())

    # -- Storage: writes --

    async def create(self, key: str, value: bytes) -> int:
        self._check_open()
        ek = self._etcd_key(key)
        resp = await self._client.txn([when_absent(ek)], [op_put(ek, value)], [op_range(ek)])
        rev = self._seen(resp.header.revision)
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            raise KeyExists(key, self._kv(kvs[0]))
        await self._after_write(rev, key)
        return rev

    async def update(self, key: str, value: bytes, expected_mod_revision: int | None = None) -> int:
        self._check_open()
        ek = self._etcd_key(key)
        resp = await self._guarded_txn(key, ek, expected_mod_revision, op_put(ek, value))
        rev = self._seen(resp.header.revision)
        await self._after_write(rev, key)
        return rev

    async def delete(self, key: str, expected_mod_revision: int | None = None) -> KeyValue:
        self._check_open()
        ek = self._etcd_key(key)
        resp = await self._guarded_txn(key, ek, expected_mod_revision, op_delete(ek))
        rev = self._seen(resp.header.revision)
        prev = self._kv(resp.responses[0].response_delete_range.prev_kvs[0])
        await self._after_write(rev, key)
        return KeyValue(key, prev.value, prev.create_revision, rev)

    async def _guarded_txn(self, key: str, ek: bytes, expected_mod_revision: int | None, op: Any) -> Any:
        """Run ``op`` on an existing key (at ``expected_mod_revision`` if given); the txn response.

        The failure branch reads the key, so a failure raises ``NotFoundError`` or a
        ``RevisionMismatch`` carrying the current item.
        """
        guard = (
            when_present(ek)
            if expected_mod_revision is None
            else when_mod_revision(ek, expected_mod_revision + self.revision_offset)
        )
        resp = await self._client.txn([guard], [op], [op_range(ek)])
        if not resp.succeeded:
            self._seen(resp.header.revision)
            kvs = resp.responses[0].response_range.kvs
            if not kvs:
                raise NotFoundError(key)
            assert expected_mod_revision is not None
            raise RevisionMismatch(key, expected_mod_revision, self._kv(kvs[0]))
        return resp

    async def _after_write(self, revision: int, key: str) -> None:
        self._wrote(revision, key)
        window = self._window
        if window is not None and revision - self._compact > window + self._slack and not self._compacting:
            self._compacting = True
            try:
                await self._compact_etcd(revision - window)
            except Exception as exc:  # another server compacted further, etcd hiccup: next write retries
                log.debug("history-window compaction failed: %s", exc)
            finally:
                self._compacting = False

    # -- Storage: reads --

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        self._check_open()
        resp = await self._range(revision, self._etcd_key(key))
        if resp is None:
            return None
        self._seen(resp.header.revision)
        return self._kv(resp.kvs[0]) if resp.kvs else None

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        continue_key: str | None = None,
    ) -> ListResult:
        self._check_open()
        start = list_start(prefix, limit, continue_key)
        resp = await self._range(
            revision, self._etcd_key(start), prefix_end(self._etcd_key(prefix)), limit=limit or 0
        )
        if resp is None:
            return ListResult.page([], revision=0, more=False, remaining=0)
        current = self._seen(resp.header.revision)
        items = [self._kv(kv) for kv in resp.kvs]
        more = bool(resp.more) and bool(items)
        remaining = max(0, resp.count - len(items)) if more else 0
        return ListResult.page(
            items, revision=current if revision is None else revision, more=more, remaining=remaining
        )

    async def _range(self, revision: int | None, key: bytes, end: bytes = b"", *, limit: int = 0) -> Any:
        """A linearizable etcd range at ``revision`` (None: latest), with etcd's errors mapped.

        ``None`` for revision 0 of a never-written etcd: nothing existed then.
        """
        erev = 0 if revision is None else self._etcd_revision(revision)
        if revision is not None and erev == 0:
            return None
        try:
            return await self._client.range(key, end, revision=erev, limit=limit)
        except EtcdCompacted:
            raise self._compacted(revision or 0) from None
        except EtcdFutureRevision:
            assert revision is not None
            raise FutureRevision(revision, self.current_revision()) from None

    # -- Storage: watch --

    async def watch(self, prefix: str, from_revision: int) -> CacheWatch:
        self._check_open()
        if from_revision < 0:
            raise ValueError(f"revision must be >= 0, got {from_revision}")
        if from_revision < self._compact:
            raise Compacted(from_revision, self._compact, self.current_revision())
        if from_revision > self.current_revision():
            await self.sync_revision()
            if from_revision > self.current_revision():
                raise FutureRevision(from_revision, self.current_revision())
        fp = resource_prefix(prefix)
        feed = self._feeds.get(fp)
        if feed is None:
            floor = max(self._compact, from_revision - self._cache_size)
            feed = Feed(self, fp, floor, self._cache_size)
            self._feeds[fp] = feed
            feed.advance(self._own.get)
            feed.start()
        if from_revision < feed.floor:
            raise Compacted(from_revision, feed.floor, self.current_revision())
        return feed.add(prefix, from_revision, self._buffer_size)

    async def sync_revision(self) -> int:
        """Ask etcd for its current revision (one tiny range); the new :meth:`current_revision`.

        For a caller holding a resourceVersion from another API server: ``current_revision()``
        only follows what this process has seen.
        """
        self._check_open()
        resp = await self._client.range(self._etcd_key(COMPACT_REV_KEY), count_only=True)
        return self._seen(resp.header.revision)

    # -- Storage: revisions and compaction --

    def current_revision(self) -> int:
        return self._rev - self.revision_offset

    def compact_revision(self) -> int:
        return self._compact

    async def compact(self, revision: int) -> None:
        self._check_open()
        self._etcd_revision(revision)  # ValueError / Compacted
        if revision > self.current_revision():
            await self.sync_revision()
            if revision > self.current_revision():
                raise FutureRevision(revision, self.current_revision())
        if revision == self._compact:
            return
        await self._compact_etcd(revision)

    async def _compact_etcd(self, revision: int) -> None:
        try:
            await self._client.compact(revision + self.revision_offset)
        except EtcdCompacted:
            raise self._compacted(revision) from None
        except EtcdFutureRevision:
            raise FutureRevision(revision, self.current_revision()) from None
        self._note_compacted(revision)

    async def _compact_periodically(self) -> None:
        """kube-apiserver's compactor: whoever wins the ``compact_rev_key`` transaction compacts."""
        ck = self._etcd_key(COMPACT_REV_KEY)
        seen_version = 0
        last_rev = 0
        while True:
            await asyncio.sleep(self._interval)
            try:
                resp = await self._client.txn(
                    [when_version(ck, seen_version)],
                    [op_put(ck, str(last_rev).encode())],
                    [op_range(ck)],
                )
                cur = resp.header.revision
                self._seen(cur)
                if not resp.succeeded:
                    kvs = resp.responses[0].response_range.kvs
                    if kvs:
                        seen_version = kvs[0].version
                        with contextlib.suppress(ValueError):
                            self._note_compacted(int(kvs[0].value) - self.revision_offset)
                    last_rev = cur
                    continue
                self._wrote(cur - self.revision_offset, COMPACT_REV_KEY)
                seen_version += 1
                if last_rev:
                    with contextlib.suppress(Compacted):
                        await self._compact_etcd(last_rev - self.revision_offset)
                last_rev = cur
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("etcd compaction failed: %s", exc)

    # -- lifecycle and introspection --

    async def close(self) -> None:
        """Deliver events of writes already acknowledged (briefly), end all watches, disconnect."""
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._compactor
        feeds = list(self._feeds.values())
        target = self.current_revision()
        await asyncio.gather(*(f.wait_known(target, 2.0) for f in feeds if f.streams))
        for feed in feeds:
            await feed.stop()
        self._feeds.clear()
        await self._client.close()

    def watcher_count(self) -> int:
        """How many client watches are registered."""
        return sum(len(f.streams) for f in self._feeds.values())

    def etcd_watch_count(self) -> int:
        """How many etcd watches this storage holds open (one per watched resource prefix)."""
        return sum(1 for f in self._feeds.values() if f.connected)

    def feed_prefixes(self) -> builtins.list[str]:
        """The resource prefixes with a watch cache."""
        return sorted(self._feeds)
