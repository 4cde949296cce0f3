"""``SqliteStorage``: the memory backend plus durability in an SQLite file (WAL mode).

Reads are served from memory exactly as by :class:`MemoryStorage`; SQLite holds the latest
value of every key and the current revision, and is only read when the storage is opened.

Write path (group commit):

1. The write is applied in memory on the event loop, synchronously, so its preconditions
   are checked in order against every earlier write and its revision is fixed.
2. It is queued to a dedicated writer thread, which drains whatever has queued up (up to
   ``max_batch`` writes) into one transaction and commits it. Many concurrent writers thus
   share one commit, and the event loop never waits on SQLite.
3. Once the transaction has committed, the loop marks those revisions visible (readers and
   watchers see them only now) and resolves the writers' awaits. So every acknowledged write
   is on disk, and nothing not yet on disk has been shown to anybody — except the
   ``current`` item carried by a ``RevisionMismatch``/``KeyExists``, which may be a write
   still being committed.

Durability: ``synchronous=NORMAL`` (the default) in WAL mode makes each commit survive a
crash or kill of this process — the committed transaction is in the WAL file before the
write is acknowledged — but not a power loss or OS crash, since the WAL is fsynced only at
checkpoints. That fits a test and development cluster and costs no fsync per batch.
``synchronous="FULL"`` fsyncs the WAL on every commit (one fsync per batch, not per write)
for power-loss durability.

After a restart, history starts at the stored revision: watches and lists from older
revisions get ``Compacted`` (clients re-list, as after an API server restart), and new
writes continue the revision sequence.

The file is opened with ``locking_mode=EXCLUSIVE``: a second storage (in this or another
process) opening the same file fails instead of silently forking its state.

A failing commit (disk full, I/O error) is fatal: the writes in that batch and all later
calls raise :class:`~testserver.storage.errors.StorageClosed`.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from collections import deque
from typing import Literal

from testserver.storage._mvcc import DEFAULT_HISTORY_WINDOW, DEFAULT_WATCH_BUFFER_SIZE, MVCCStorage
from testserver.storage.errors import StorageClosed, StorageError
from testserver.storage.model import EventType, KeyValue, WatchEvent

__all__ = ["SqliteStorage"]

_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', 1);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0);
"""

# One queued write: (mod_revision, key, value or None for a delete, create_revision).
_Op = tuple[int, str, bytes | None, int]


class SqliteStorage(MVCCStorage):
    """Memory semantics, every acknowledged write persisted to SQLite at ``path``.

    Keyword arguments (besides those of :class:`MemoryStorage`):

    * ``synchronous``: SQLite's ``synchronous`` pragma, ``"NORMAL"`` (survives process
      crashes) or ``"FULL"`` (also survives power loss); see the module docstring.
    * ``max_batch``: the most writes committed in one transaction.

    The constructor reads the whole file (blocking); in async code prefer
    ``await SqliteStorage.open(path)``. Call :meth:`close` when done.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        history_window: int = DEFAULT_HISTORY_WINDOW,
        watch_buffer_size: int = DEFAULT_WATCH_BUFFER_SIZE,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        max_batch: int = 1000,
    ) -> None:
        super().__init__(history_window=history_window, watch_buffer_size=watch_buffer_size)
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._path = os.fspath(path)
        self._max_batch = max_batch
        self._conn = self._connect(synchronous)
        try:
            items, revision = self._read_all()
        except BaseException:
            self._conn.close()
            raise
        self._load(items, revision)
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._pending: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._writer, name=f"sqlite-storage:{self._path}", daemon=True)
        self._thread.start()

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        history_window: int = DEFAULT_HISTORY_WINDOW,
        watch_buffer_size: int = DEFAULT_WATCH_BUFFER_SIZE,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        max_batch: int = 1000,
    ) -> SqliteStorage:
        """Open (or create) the store at ``path`` without blocking the event loop."""
        return await asyncio.to_thread(
            cls,
            path,
            history_window=history_window,
            watch_buffer_size=watch_buffer_size,
            synchronous=synchronous,
            max_batch=max_batch,
        )

    @property
    def path(self) -> str:
        return self._path

    # -- opening --

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False: the
        # connection is set up here and then used only by the writer thread.
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=1.0)
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"{self._path}: cannot use WAL journal mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous={synchronous}")
            # Take the exclusive lock now (held until close) so a second opener fails early.
            conn.execute("BEGIN EXCLUSIVE")
            conn.executescript(_SCHEMA)  # commits
        except sqlite3.OperationalError as exc:
            conn.close()
            raise StorageError(f"{self._path}: cannot open storage: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_all(self) -> tuple[list[KeyValue], int]:
        conn = self._conn
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("schema") != _SCHEMA_VERSION:
            raise StorageError(f"{self._path}: unsupported schema version {meta.get('schema')!r}")
        revision = int(meta["revision"])
        items = [
            KeyValue(key, bytes(value), create_rev, mod_rev)
            for key, value, create_rev, mod_rev in conn.execute(
                "SELECT key, value, create_revision, mod_revision FROM kv"
            )
        ]
        if items:
            revision = max(revision, max(kv.mod_revision for kv in items))
        return items, revision

    # -- write path --

    async def _commit(self, event: WatchEvent) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        kv = event.kv
        rev = kv.mod_revision
        self._pending.append((rev, fut))
        value = None if event.type is EventType.DELETED else kv.value
        self._queue.put((rev, kv.key, value, kv.create_revision))
        await fut

    def _writer(self) -> None:
        """The writer thread: commit queued writes in batches, report each batch to the loop."""
        conn = self._conn
        q = self._queue
        max_batch = self._max_batch
        stop = False
        try:
            while not stop:
                first = q.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < max_batch:
                    try:
                        op = q.get_nowait()
                    except queue.Empty:
                        break
                    if op is None:
                        stop = True
                        break
                    batch.append(op)
                error: BaseException | None = None
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    for rev, key, value, create_rev in batch:
                        if value is None:
                            conn.execute("DELETE FROM kv WHERE key = ?", (key,))
                        else:
                            conn.execute(
                                "INSERT OR REPLACE INTO kv (key, value, create_revision, mod_revision)"
                                " VALUES (?, ?, ?, ?)",
                                (key, value, create_rev, rev),
                            )
                    conn.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (batch[-1][0],))
                    conn.execute("COMMIT")
                except BaseException as exc:
                    error = exc
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                self._report(batch[-1][0], error)
                if error is not None:
                    break
        finally:
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            conn.close()

    def _report(self, revision: int, error: BaseException | None) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._committed, revision, error)
        except RuntimeError:  # the loop is closed; nobody is waiting any more
            pass

    def _committed(self, revision: int, error: BaseException | None) -> None:
        """On the loop: a batch ending at ``revision`` committed (or failed with ``error``)."""
        pending = self._pending
        if error is not None:
            self._failure = error
            failure = StorageClosed(f"{self._path}: commit failed: {error}")
            failure.__cause__ = error
            while pending:
                _, fut = pending.popleft()
                if not fut.done():
                    fut.set_exception(failure)
            self._hub.close_all()
            return
        self._publish(revision)
        while pending and pending[0][0] <= revision:
            _, fut = pending.popleft()
            if not fut.done():
                fut.set_result(None)

    # -- lifecycle --

    async def close(self) -> None:
        """Wait for queued writes to commit, stop the writer thread, close the file."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        # The writer thread reports its last batches (call_soon_threadsafe) before it ends, and
        # to_thread resolves through the same FIFO callback queue afterwards, so every queued
        # write has been acknowledged (or failed) when the join returns here.
        await asyncio.to_thread(self._thread.join)
        self._hub.close_all()
