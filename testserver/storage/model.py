"""The values the storage layer hands out: stored items, list pages and watch events.

All are immutable. ``KeyValue.mod_revision`` is the object's ``metadata.resourceVersion``;
``create_revision`` is the revision at which the key was (last) created.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["EventType", "KeyValue", "ListResult", "WatchEvent"]


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
