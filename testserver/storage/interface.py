"""The storage interface every backend implements (memory, SQLite, later etcd v3).

Semantics follow etcd v3 as the Kubernetes API server uses it:

* One global revision, bumped by exactly one for every successful write (create, update,
  delete). Every item carries ``create_revision`` and ``mod_revision``.
* Reads see every acknowledged write: a write's coroutine returns only after the write is
  visible to readers and watchers (and, for durable backends, persisted). A write whose
  caller is cancelled may still take effect.
* ``list`` and ``watch`` can start at an old revision as long as it has not been compacted;
  a list at revision N sees exactly the state at N. Older revisions raise ``Compacted``,
  newer than the current one ``FutureRevision``.
* Watchers have bounded buffers; a watcher that falls behind is terminated with
  ``WatcherTooSlow`` and never slows writers down.

All methods must be called from one asyncio event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from testserver.storage.model import KeyValue, ListResult, WatchEvent

__all__ = ["Storage", "Watch"]


@runtime_checkable
class Watch(Protocol):
    """A stream of watch events; iterate it, and close it (or cancel the iterating task) when done.

    Iteration raises ``WatcherTooSlow`` (after delivering every buffered event) if the watcher
    overflowed, and stops when the watch or the storage is closed.
    """

    def __aiter__(self) -> AsyncIterator[WatchEvent]: ...

    async def __anext__(self) -> WatchEvent: ...

    async def aclose(self) -> None:
        """Stop the watch and release its buffer; idempotent."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    @property
    def progress_revision(self) -> int:
        """The revision up to which the consumer has received every matching event.

        Equal to the storage's current revision whenever nothing is buffered, so it is the
        resourceVersion to put in a BOOKMARK, or to re-watch from after ``WatcherTooSlow``.
        """
        ...


@runtime_checkable
class Storage(Protocol):
    """MVCC key-value storage with etcd v3 semantics. Values are opaque bytes."""

    async def create(self, key: str, value: bytes) -> int:
        """Store ``value`` under a new ``key``; the write's revision. ``KeyExists`` if present."""
        ...

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        """The item at ``revision`` (default: latest), or ``None`` if absent then."""
        ...

    async def update(self, key: str, value: bytes, expected_mod_revision: int | None = None) -> int:
        """Replace the value of an existing ``key``; the write's revision.

        With ``expected_mod_revision`` this is a compare-and-swap: ``RevisionMismatch``
        (carrying the current item) unless the key's ``mod_revision`` equals it.
        ``NotFoundError`` if the key is absent.
        """
        ...

    async def delete(self, key: str, expected_mod_revision: int | None = None) -> KeyValue:
        """Delete ``key``; the deleted item with ``mod_revision`` set to the deletion revision.

        Preconditions and errors as for :meth:`update`.
        """
        ...

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        continue_key: str | None = None,
    ) -> ListResult:
        """Items whose key starts with ``prefix``, in key order, as of ``revision`` (default latest).

        ``limit`` (None or 0: unlimited) bounds the page; ``continue_key`` (a previous page's
        ``next_key``, which must lie inside ``prefix``) is where this page starts. Read all
        pages at the first page's ``ListResult.revision`` for a consistent snapshot.
        """
        ...

    async def watch(self, prefix: str, from_revision: int) -> Watch:
        """Events for keys under ``prefix`` with revision ``> from_revision``: history first, then live.

        Raises ``Compacted`` / ``FutureRevision`` here, before any event, so the API server can
        answer 410 / 504 instead of starting a stream. To watch from now, pass
        :meth:`current_revision`; to list-then-watch, pass the list's revision.
        """
        ...

    def current_revision(self) -> int:
        """The revision of the latest acknowledged write (0 for an empty new store)."""
        ...

    def compact_revision(self) -> int:
        """The oldest revision still readable."""
        ...

    async def compact(self, revision: int) -> None:
        """Forget history before ``revision``; reads at ``revision`` and later stay possible."""
        ...

    async def close(self) -> None:
        """Finish pending writes, end all watches and release resources; idempotent."""
        ...
