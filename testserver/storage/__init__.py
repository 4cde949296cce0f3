"""MVCC storage for the bundled API server, shaped like etcd v3.

One global revision counts every write; each item carries ``create_revision`` and
``mod_revision`` (the object's resourceVersion). Values are opaque bytes — the API server
stores each object's JSON under a Kubernetes-shaped key such as
``/registry/pods/<namespace>/<name>``. Lists read a consistent snapshot at any retained
revision, page with continue tokens, and watches replay history from a revision and then
stream live events through bounded buffers that never block writers.

Layout (one concept per module):

=========================  ==================================================================
``interface``              ``Storage`` and ``Watch`` protocols: the contract every backend meets
``model``                  ``KeyValue``, ``ListResult``, ``WatchEvent``, ``EventType``
``errors``                 the ``StorageError`` tree (drawn in its docstring)
``keys``                   ``key_for``, ``prefix_for``, ``storage_resource``: Kubernetes' key layout
``continue_token``         ``encode_continue``/``decode_continue``: Kubernetes-compatible tokens
``guaranteed_update``      read-modify-write with retries on conflict, for any ``Storage``
``memory``                 ``MemoryStorage``: the default backend
``sqlite``                 ``SqliteStorage``: memory semantics plus durability (SQLite, WAL)
``etcd``                   ``EtcdStorage``: etcd v3 over gRPC, shared by several API servers
``_mvcc``                  the engine both embedded backends share (history, compaction)
``_watch``                 watcher buffers and fan-out
``_sortedkeys``            the sorted key index behind prefix scans
=========================  ==================================================================

The conformance tests in ``tests/testserver/storage`` run unchanged against every backend.
:func:`revision_covering` is how the API server checks a client's resourceVersion: a backend
shared with other servers (etcd) is asked for its latest revision before a "too large" answer.
"""

from testserver.storage.continue_token import CONTINUE_FROM_LATEST, decode_continue, encode_continue
from testserver.storage.errors import (
    Compacted,
    FutureRevision,
    InvalidContinue,
    KeyExists,
    NotFoundError,
    RevisionMismatch,
    StorageClosed,
    StorageError,
    WatcherTooSlow,
)
from testserver.storage.guaranteed_update import UpdateFunc, guaranteed_update
from testserver.storage.interface import Storage, Watch
from testserver.storage.keys import key_for, prefix_for, storage_resource
from testserver.storage.memory import MemoryStorage
from testserver.storage.model import EventType, KeyValue, ListResult, WatchEvent, list_start
from testserver.storage.sqlite import SqliteStorage

__all__ = [
    "CONTINUE_FROM_LATEST",
    "Compacted",
    "EventType",
    "FutureRevision",
    "InvalidContinue",
    "KeyExists",
    "KeyValue",
    "ListResult",
    "MemoryStorage",
    "NotFoundError",
    "RevisionMismatch",
    "SqliteStorage",
    "Storage",
    "StorageClosed",
    "StorageError",
    "UpdateFunc",
    "Watch",
    "WatchEvent",
    "WatcherTooSlow",
    "decode_continue",
    "encode_continue",
    "guaranteed_update",
    "key_for",
    "list_start",
    "prefix_for",
    "revision_covering",
    "storage_resource",
]


async def revision_covering(storage: Storage, wanted: int) -> int:
    """The storage's current revision, refreshed from a shared backend if ``wanted`` is ahead of
    what this process has seen (a resourceVersion handed out by another API server)."""
    current = storage.current_revision()
    if wanted > current:
        sync = getattr(storage, "sync_revision", None)
        if sync is not None:
            current = int(await sync())
    return current
