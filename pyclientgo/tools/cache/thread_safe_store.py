"""The thread-safe keyed store behind every indexer (client-go's ``thread_safe_store.go`` + ``store.go``).

:class:`ThreadSafeStore` maps keys to objects and maintains the indexes under one
:class:`threading.RLock`, so listers can read from any thread while the informer writes from its event
loop. :class:`Cache` adds a key function on top: it is the :class:`~pyclientgo.tools.cache.index.Indexer`
that informers use (build one with :func:`new_indexer`, or a plain keyed store with :func:`new_store`).

Only index values and keys are compared; stored objects are never compared, copied or serialised, so
lazily decoded models stay undecoded apart from what index functions read.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable
from typing import Any

from pyclientgo.tools.cache.index import IndexerError, Indexers, IndexFunc
from pyclientgo.tools.cache.store import KeyFunc, meta_namespace_key_func

__all__ = [
    "Cache",
    "ThreadSafeStore",
    "new_indexer",
    "new_store",
]

Index = dict[str, set[str]]


class ThreadSafeStore:
    """Objects by key plus one ``value -> keys`` index per index function; every method takes the lock."""

    def __init__(self, indexers: Indexers | None = None) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Any] = {}
        self._indexers: Indexers = dict(indexers or {})
        self._indices: dict[str, Index] = {name: {} for name in self._indexers}

    # -- writes -------------------------------------------------------------------------------

    def add(self, key: str, obj: Any) -> None:
        """Store ``obj`` under ``key`` and reindex it."""
        self.update(key, obj)

    def update(self, key: str, obj: Any) -> None:
        """Store ``obj`` under ``key``; its old index values are removed and the new ones added."""
        with self._lock:
            old = self._items.get(key)
            self._items[key] = obj
            self._update_indices(old, obj, key)

    def delete(self, key: str) -> None:
        """Remove ``key`` (a no-op when absent)."""
        with self._lock:
            if key not in self._items:
                return
            old = self._items.pop(key)
            self._update_indices(old, None, key)

    def replace(self, items: dict[str, Any], resource_version: str = "") -> None:
        """Swap the whole content for ``items`` and rebuild every index."""
        with self._lock:
            self._items = dict(items)
            self._indices = {name: {} for name in self._indexers}
            for key, obj in self._items.items():
                self._update_indices(None, obj, key)

    # -- reads --------------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        """The object under ``key``, or ``None``."""
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def list(self) -> builtins.list[Any]:
        """Every object."""
        with self._lock:
            return list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        """Every key."""
        with self._lock:
            return list(self._items)

    # -- indexes ------------------------------------------------------------------------------

    def _index_func(self, index_name: str) -> IndexFunc:
        func = self._indexers.get(index_name)
        if func is None:
            raise IndexerError(f"index with name {index_name!r} does not exist")
        return func

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]:
        """Objects sharing any value of ``obj`` under ``index_name`` (unknown name: :class:`IndexerError`)."""
        with self._lock:
            values = self._index_func(index_name)(obj)
            index = self._indices[index_name]
            keys: set[str] = set()
            for value in values:
                keys.update(index.get(value, ()))
            return [self._items[k] for k in keys]

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]:
        """Objects under ``indexed_value`` (empty when the value is unknown)."""
        with self._lock:
            self._index_func(index_name)
            keys = self._indices[index_name].get(indexed_value, ())
            return [self._items[k] for k in keys]

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        """Sorted keys under ``indexed_value`` (empty when the value is unknown)."""
        with self._lock:
            self._index_func(index_name)
            return sorted(self._indices[index_name].get(indexed_value, ()))

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """Values with at least one key under ``index_name`` (empty for an unknown name, as client-go)."""
        with self._lock:
            return list(self._indices.get(index_name, {}))

    def get_indexers(self) -> Indexers:
        """A copy of the index functions."""
        with self._lock:
            return dict(self._indexers)

    def add_indexers(self, new_indexers: Indexers) -> None:
        """Add index functions and index the objects already stored; reusing a name is an error."""
        with self._lock:
            clash = sorted(set(new_indexers) & set(self._indexers))
            if clash:
                raise IndexerError(f"indexer conflict: {clash}")
            for name, func in new_indexers.items():
                self._indexers[name] = func
                index: Index = {}
                self._indices[name] = index
                for key, obj in self._items.items():
                    _add_to_index(index, func(obj), key)

    def _update_indices(self, old: Any | None, new: Any | None, key: str) -> None:
        for name, func in self._indexers.items():
            old_values = func(old) if old is not None else []
            new_values = func(new) if new is not None else []
            if old_values == new_values:
                continue  # lists of strings: unchanged values need no work
            index = self._indices[name]
            for value in old_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            _add_to_index(index, new_values, key)


def _add_to_index(index: Index, values: Iterable[str], key: str) -> None:
    for value in values:
        index.setdefault(value, set()).add(key)


class Cache:
    """A keyed, thread-safe :class:`~pyclientgo.tools.cache.index.Indexer` (client-go's ``cache``)."""

    def __init__(self, key_func: KeyFunc = meta_namespace_key_func, indexers: Indexers | None = None) -> None:
        self.key_func = key_func
        self._store = ThreadSafeStore(indexers)

    def add(self, obj: Any) -> None:
        """Insert or replace ``obj``."""
        self._store.add(self.key_func(obj), obj)

    def update(self, obj: Any) -> None:
        """Insert or replace ``obj``."""
        self._store.update(self.key_func(obj), obj)

    def delete(self, obj: Any) -> None:
        """Remove ``obj``'s key (a no-op when absent)."""
        self._store.delete(self.key_func(obj))

    def list(self) -> builtins.list[Any]:
        """Every object."""
        return self._store.list()

    def list_keys(self) -> builtins.list[str]:
        """Every key."""
        return self._store.list_keys()

    def get(self, obj: Any) -> Any | None:
        """The stored object with ``obj``'s key, or ``None``."""
        return self._store.get(self.key_func(obj))

    def get_by_key(self, key: str) -> Any | None:
        """The stored object with ``key``, or ``None``."""
        return self._store.get(key)

    def replace(self, items: builtins.list[Any], resource_version: str = "") -> None:
        """Swap the content for ``items`` and rebuild the indexes."""
        self._store.replace({self.key_func(obj): obj for obj in items}, resource_version)

    def resync(self) -> None:
        """Nothing to do for a plain store."""

    def __len__(self) -> int:
        return len(self._store)

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]:
        """See :meth:`ThreadSafeStore.index`."""
        return self._store.index(index_name, obj)

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        """See :meth:`ThreadSafeStore.index_keys`."""
        return self._store.index_keys(index_name, indexed_value)

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """See :meth:`ThreadSafeStore.list_index_func_values`."""
        return self._store.list_index_func_values(index_name)

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]:
        """See :meth:`ThreadSafeStore.by_index`."""
        return self._store.by_index(index_name, indexed_value)

    def get_indexers(self) -> Indexers:
        """See :meth:`ThreadSafeStore.get_indexers`."""
        return self._store.get_indexers()

    def add_indexers(self, indexers: Indexers) -> None:
        """See :meth:`ThreadSafeStore.add_indexers`."""
        self._store.add_indexers(indexers)


def new_store(key_func: KeyFunc = meta_namespace_key_func) -> Cache:
    """A keyed thread-safe store without indexes (client-go's ``NewStore``)."""
    return Cache(key_func)


def new_indexer(key_func: KeyFunc = meta_namespace_key_func, indexers: Indexers | None = None) -> Cache:
    """A keyed thread-safe store with ``indexers`` (client-go's ``NewIndexer``)."""
    return Cache(key_func, indexers)
