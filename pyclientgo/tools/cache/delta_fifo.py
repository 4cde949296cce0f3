"""DeltaFIFO: the queue between the Reflector and the informer (client-go's ``tools/cache/delta_fifo.go``).

The Reflector writes to it as a :class:`~pyclientgo.tools.cache.store.Store` (``add``/``update``/
``delete``/``replace``/``resync``); the informer's controller consumes it with :meth:`DeltaFIFO.pop`.
For every key it keeps the list of :class:`Delta` s not yet processed, oldest first, and a FIFO of keys
without duplicates: re-queuing a key that is already queued appends a delta but does not move the key.

``replace`` (a relist) queues a ``Replaced`` delta per listed object and a ``Deleted`` delta carrying a
:class:`~pyclientgo.tools.cache.store.DeletedFinalStateUnknown` tombstone for every object that was
queued or known (in ``known_objects``, the informer's indexer) but is absent from the list.

The queue is used from one asyncio event loop: the synchronous methods never block, ``pop`` awaits.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pyclientgo.errors import PyClientGoError
from pyclientgo.tools.cache.store import DeletedFinalStateUnknown, KeyFunc, meta_namespace_key_func

__all__ = [
    "Delta",
    "DeltaFIFO",
    "DeltaType",
    "Deltas",
    "FIFOClosedError",
    "KeyListerGetter",
    "PopProcessFunc",
    "RequeueError",
    "TransformFunc",
]


class DeltaType(enum.StrEnum):
    """What happened to an object."""

    ADDED = "Added"
    UPDATED = "Updated"
    DELETED = "Deleted"
    REPLACED = "Replaced"
    """Seen in a relist (``replace``); the informer treats it like Added/Updated."""
    SYNC = "Sync"
    """A periodic resync of a known object."""


@dataclass(frozen=True, slots=True)
class Delta:
    """One change: its type and the object (or tombstone) after the change."""

    type: DeltaType
    object: Any


class Deltas(list[Delta]):
    """The deltas of one key, oldest first."""

    def oldest(self) -> Delta | None:
        """The first delta, or ``None``."""
        return self[0] if self else None

    def newest(self) -> Delta | None:
        """The last delta, or ``None``."""
        return self[-1] if self else None


class KeyListerGetter(Protocol):
    """What DeltaFIFO needs of ``known_objects`` (the informer's indexer)."""

    def list_keys(self) -> builtins.list[str]: ...

    def get_by_key(self, key: str) -> Any | None: ...


TransformFunc = Callable[[Any], Any]
"""Rewrites an object once, as it is queued (e.g. to drop ``managedFields``)."""

PopProcessFunc = Callable[[Deltas, bool], "Awaitable[None] | None"]
"""``process(deltas, is_in_initial_list)``, sync or async."""


class FIFOClosedError(PyClientGoError):
    """``pop`` on a closed queue that has nothing left."""


class RequeueError(PyClientGoError):
    """Raised by a pop ``process`` function to put the deltas back (if the key is not queued again).

    ``pop`` then raises :attr:`cause` (or returns normally when it is ``None``).
    """

    def __init__(self, cause: BaseException | None = None) -> None:
        super().__init__(str(cause) if cause is not None else "requeue")
        self.cause = cause


def _dedup(deltas: Deltas) -> None:
    """Collapse the last two deltas when both are deletions (in place)."""
    if len(deltas) < 2:
        return
    newer, older = deltas[-1], deltas[-2]
    if newer.type is not DeltaType.DELETED or older.type is not DeltaType.DELETED:
        return
    keep = newer if isinstance(older.object, DeletedFinalStateUnknown) else older
    deltas[-2:] = [keep]


class DeltaFIFO:
    """A FIFO of keys, each with its unprocessed deltas; see the module docstring."""

    def __init__(
        self,
        *,
        key_function: KeyFunc = meta_namespace_key_func,
        known_objects: KeyListerGetter | None = None,
        emit_delta_type_replaced: bool = True,
        transformer: TransformFunc | None = None,
    ) -> None:
        """Create an empty queue.

        ``known_objects``: the downstream store (the informer's indexer), used by ``delete``, ``replace``
        and ``resync``. ``emit_delta_type_replaced``: ``replace`` queues ``Replaced`` deltas (``Sync``
        when False, the pre-1.19 behaviour). ``transformer``: applied once to each object as it is
        queued, except tombstones and ``Sync`` deltas.
        """
        self._key_function = key_function
        self._known_objects = known_objects
        self._emit_replaced = emit_delta_type_replaced
        self._transformer = transformer
        self._items: dict[str, Deltas] = {}
        self._queue: deque[str] = deque()
        self._populated = False
        self._initial_population_count = 0
        self._closed = False
        self._not_empty = asyncio.Event()
        self._last_sync_resource_version = ""

    # -- keys ---------------------------------------------------------------------------------

    def key_of(self, obj: Any) -> str:
        """The key of an object, a tombstone (its key) or a :class:`Deltas` (its newest object)."""
        if isinstance(obj, Deltas):
            newest = obj.newest()
            if newest is None:
                raise PyClientGoError("cannot compute the key of empty deltas")
            obj = newest.object
        if isinstance(obj, DeletedFinalStateUnknown):
            return obj.key
        return self._key_function(obj)

    # -- Store writes -------------------------------------------------------------------------

    def add(self, obj: Any) -> None:
        """Queue an ``Added`` delta."""
        self._populated = True
        self._queue_action(DeltaType.ADDED, obj)

    def update(self, obj: Any) -> None:
        """Queue an ``Updated`` delta."""
        self._populated = True
        self._queue_action(DeltaType.UPDATED, obj)

    def delete(self, obj: Any) -> None:
        """Queue a ``Deleted`` delta, unless the key is neither known nor queued."""
        key = self.key_of(obj)
        self._populated = True
        if self._known_objects is None:
            if key not in self._items:
                return
        elif self._known_objects.get_by_key(key) is None and key not in self._items:
            return
        self._queue_action(DeltaType.DELETED, obj)

    def add_if_not_present(self, deltas: Deltas) -> None:
        """Put popped deltas back unless their key has been queued again meanwhile."""
        key = self.key_of(deltas)
        if key in self._items:
            return
        self._queue.append(key)
        self._items[key] = Deltas(deltas)
        self._not_empty.set()

    def replace(self, items: builtins.list[Any], resource_version: str) -> None:
        """A relist: ``Replaced`` per item, tombstones for queued or known keys that are gone."""
        action = DeltaType.REPLACED if self._emit_replaced else DeltaType.SYNC
        keys: set[str] = set()
        for item in items:
            key = self.key_of(item)
            keys.add(key)
            self._queue_action(action, item, internal=DeltaType.REPLACED)

        queued_deletions = 0
        for key, deltas in list(self._items.items()):
            if key in keys:
                continue
            newest = deltas.newest()
            deleted_obj = newest.object if newest is not None else None
            if isinstance(deleted_obj, DeletedFinalStateUnknown):
                deleted_obj = deleted_obj.obj
            queued_deletions += 1
            self._queue_action(DeltaType.DELETED, DeletedFinalStateUnknown(key, deleted_obj))

        if self._known_objects is not None:
            for key in self._known_objects.list_keys():
                if key in keys or self._items.get(key):
                    continue
                known = self._known_objects.get_by_key(key)
                queued_deletions += 1
                self._queue_action(DeltaType.DELETED, DeletedFinalStateUnknown(key, known))

        self._last_sync_resource_version = resource_version
        if not self._populated:
            self._populated = True
            self._initial_population_count = len(keys) + queued_deletions

    def resync(self) -> None:
        """Queue a ``Sync`` delta for every known object whose key has nothing queued."""
        if self._known_objects is None:
            return
        for key in self._known_objects.list_keys():
            obj = self._known_objects.get_by_key(key)
            if obj is None:
                continue
            if self._items.get(self.key_of(obj)):
                continue
            self._queue_action(DeltaType.SYNC, obj)

    def _queue_action(self, action: DeltaType, obj: Any, *, internal: DeltaType | None = None) -> None:
        key = self.key_of(obj)
        internal = action if internal is None else internal
        if (
            self._transformer is not None
            and not isinstance(obj, DeletedFinalStateUnknown)
            and internal is not DeltaType.SYNC
        ):
            obj = self._transformer(obj)
        deltas = self._items.get(key)
        if deltas is None:
            deltas = Deltas()
            self._items[key] = deltas
            self._queue.append(key)
        deltas.append(Delta(action, obj))
        _dedup(deltas)
        self._not_empty.set()

    # -- Store reads --------------------------------------------------------------------------

    def list(self) -> builtins.list[Any]:
        """The newest object of every queued key."""
        out: builtins.list[Any] = []
        for deltas in self._items.values():
            newest = deltas.newest()
            if newest is not None:
                out.append(newest.object)
        return out

    def list_keys(self) -> builtins.list[str]:
        """Every queued key."""
        return list(self._items)

    def get(self, obj: Any) -> Deltas | None:
        """A copy of the deltas queued for ``obj``'s key, or ``None``."""
        return self.get_by_key(self.key_of(obj))

    def get_by_key(self, key: str) -> Deltas | None:
        """A copy of the deltas queued for ``key``, or ``None``."""
        deltas = self._items.get(key)
        return Deltas(deltas) if deltas is not None else None

    def __len__(self) -> int:
        return len(self._queue)

    # -- state --------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """True once the first ``replace``'s items were all popped, or an add/update/delete came first."""
        return self._populated and self._initial_population_count == 0

    def last_sync_resource_version(self) -> str:
        """The resource version of the last ``replace``."""
        return self._last_sync_resource_version

    def close(self) -> None:
        """Stop ``pop`` from waiting: it drains what is queued, then raises :class:`FIFOClosedError`."""
        self._closed = True
        self._not_empty.set()

    def is_closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    # -- consuming ----------------------------------------------------------------------------

    async def pop(self, process: PopProcessFunc) -> Deltas:
        """Wait for the head key, remove it and call ``process(deltas, is_in_initial_list)``.

        ``process`` may be sync or async. If it raises :class:`RequeueError` the deltas are put back
        (unless the key was queued again meanwhile). Returns the deltas; raises
        :class:`FIFOClosedError` once closed and empty.
        """
        while True:
            while not self._queue:
                if self._closed:
                    raise FIFOClosedError("DeltaFIFO: manipulating with closed queue")
                self._not_empty.clear()
                await self._not_empty.wait()
            is_in_initial_list = not self.has_synced()
            key = self._queue.popleft()
            counted = self._initial_population_count > 0
            deltas = self._items.pop(key, None)
            if deltas is None:  # cannot happen: every queued key has deltas
                if counted:
                    self._initial_population_count -= 1
                continue
            try:
                result = process(deltas, is_in_initial_list)
                if inspect.isawaitable(result):
                    await result
            except RequeueError as err:
                self.add_if_not_present(deltas)
                if err.cause is not None:
                    raise err.cause from None
            finally:
                # Counted down only once processed: has_synced() (read from any thread, or while an
                # async process awaits) never says True before the last initial item reached the
                # store -- client-go gets this from processing under the queue's lock.
                if counted:
                    self._initial_population_count -= 1
            return deltas
