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
``_mvcc``                  the engine both embedded backends share (history, compaction)
``_watch``                 watcher buffers and fan-out
``_sortedkeys``            the sorted key index behind prefix scans
=========================  ==================================================================

An etcd v3 backend can be added later as another ``Storage`` implementation; the
conformance tests in ``tests/testserver/storage`` are parametrized over backends for that.
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
from testserver.storage.model import EventType, KeyValue, ListResult, WatchEvent
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
    "prefix_for",
    "storage_resource",
]
