"""The values the storage layer hands out: stored items, list pages and watch events.

All are immutable. ``KeyValue.mod_revision`` is the object's ``metadata.resourceVersion``;
``create_revision`` is the revision at which the key was (last) created.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from testserver.storage.errors import InvalidContinue

__all__ = ["EventType", "KeyValue", "ListResult", "WatchEvent", "list_start"]


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One stored item, as of some revision."""

    key: str
    """The full key, e.g. ``/registry/pods/default/web-0``."""
    value: bytes
    """The opaque stored bytes (the API server stores the object's JSON)."""
    create_revision: int
    """The revision of the write that created the key."""
    mod_revision: int
    """The revision of the last write to the key (for a deletion event: the deletion revision)."""


class EventType(enum.StrEnum):
    """The kind of change a watch event reports; values are Kubernetes' watch event types."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change, as delivered by a watch.

    For ``DELETED`` events ``kv`` carries the last stored value with ``mod_revision`` set to
    the deletion revision (what Kubernetes sends as the deleted object's resourceVersion),
    and ``prev_kv`` the item as it was stored before the deletion.
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None
    """The item before this change; ``None`` for ``ADDED``."""

    @property
    def revision(self) -> int:
        """The revision of this change."""
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    """One page of a list, read at exactly ``revision``."""

    items: list[KeyValue]
    """Items in key order."""
    revision: int
    """The snapshot revision the page was read at; pass it back to read the next page."""
    more: bool
    """True if items beyond this page exist at ``revision``."""
    remaining: int
    """How many items exist after this page at ``revision`` (``remainingItemCount``)."""
    next_key: str | None
    """Where the next page starts (``last key + "\\x00"``) when ``more``; else ``None``."""

    @classmethod
    def page(cls, items: list[KeyValue], *, revision: int, more: bool, remaining: int) -> ListResult:
        """A page whose ``next_key`` follows its last item when ``more``."""
        next_key = items[-1].key + "\x00" if more else None
        return cls(items=items, revision=revision, more=more, remaining=remaining, next_key=next_key)


def list_start(prefix: str, limit: int | None, continue_key: str | None) -> str:
    """Check a ``Storage.list`` call's paging arguments; the key its page starts at.

    Raises ``ValueError`` for a negative ``limit`` and ``InvalidContinue`` for a
    ``continue_key`` outside ``prefix``.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if continue_key is None:
        return prefix
    if not continue_key.startswith(prefix) or continue_key == prefix:
        raise InvalidContinue(f"continue key {continue_key!r} is not inside prefix {prefix!r}")
    return continue_key
