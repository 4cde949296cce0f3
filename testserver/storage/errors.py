"""The storage error tree.

::

    StorageError                 root of every error raised by a storage backend
    ├── KeyExists                create() of a key that exists              (→ 409 AlreadyExists)
    ├── NotFoundError            update()/delete() of a missing key         (→ 404 NotFound)
    ├── RevisionMismatch         compare-and-swap precondition failed       (→ 409 Conflict)
    ├── Compacted                revision older than the retained history   (→ 410 Expired)
    ├── FutureRevision           revision newer than the current one        (→ 504 Timeout, ResourceVersionTooLarge)
    ├── InvalidContinue          malformed continue token / start key       (→ 400 BadRequest)
    ├── WatcherTooSlow           a watcher overflowed its buffer; it ended  (→ watch stream closed)
    └── StorageClosed            the backend was closed, or failed for good (→ 500 / 503)

Every error is a plain exception carrying the data the API server needs to build the
matching ``metav1.Status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testserver.storage.model import KeyValue

__all__ = [
    "Compacted",
    "FutureRevision",
    "InvalidContinue",
    "KeyExists",
    "NotFoundError",
    "RevisionMismatch",
    "StorageClosed",
    "StorageError",
    "WatcherTooSlow",
]


class StorageError(Exception):
    """Root of the storage error tree."""


class KeyExists(StorageError):
    """``create`` found the key already present; ``current`` is the stored item."""

    def __init__(self, key: str, current: KeyValue) -> None:
        super().__init__(f"key already exists: {key}")
        self.key = key
        self.current = current


class NotFoundError(StorageError):
    """The key does not exist (``update``, ``delete``, ``guaranteed_update``)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionMismatch(StorageError):
    """A compare-and-swap precondition failed; ``current`` is the stored item now."""

    def __init__(self, key: str, expected: int, current: KeyValue) -> None:
        super().__init__(
            f"revision mismatch on {key}: expected mod_revision {expected}, current {current.mod_revision}"
        )
        self.key = key
        self.expected = expected
        self.current = current


class Compacted(StorageError):
    """The requested revision is older than the retained history.

    ``revision`` is what was asked for, ``compact_revision`` the oldest revision still
    readable (reads at exactly ``compact_revision`` succeed), ``current_revision`` the
    newest. The API server answers ``410 Expired: too old resource version: N (M)``.
    """

    def __init__(self, revision: int, compact_revision: int, current_revision: int) -> None:
        super().__init__(f"required revision {revision} has been compacted (compacted at {compact_revision})")
        self.revision = revision
        self.compact_revision = compact_revision
        self.current_revision = current_revision


class FutureRevision(StorageError):
    """The requested revision is newer than the current revision."""

    def __init__(self, revision: int, current_revision: int) -> None:
        super().__init__(f"revision {revision} is newer than the current revision {current_revision}")
        self.revision = revision
        self.current_revision = current_revision


class InvalidContinue(StorageError):
    """A continue token (or raw start key) is malformed or does not belong to the listed prefix."""


class WatcherTooSlow(StorageError):
    """The watcher fell behind by more than its buffer and was terminated.

    Every event delivered before this error is valid and in order; ``last_revision`` is the
    revision up to which the consumer has seen every matching event, so it may re-watch from
    there (or re-list if that revision has been compacted meanwhile).
    """

    def __init__(self, last_revision: int) -> None:
        super().__init__(f"watcher fell behind and was terminated after revision {last_revision}")
        self.last_revision = last_revision


class StorageClosed(StorageError):
    """The backend is closed, or stopped accepting writes after a fatal persistence failure."""
