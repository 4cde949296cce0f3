"""Keys, tombstones and the :class:`Store` interface (client-go's ``tools/cache/store.go``).

A store keys every object with a key function; the default, :func:`meta_namespace_key_func`, gives
``"<namespace>/<name>"`` for namespaced objects and ``"<name>"`` for cluster-scoped ones. When a watch
misses a deletion (the informer relisted and the object was gone), handlers receive a
:class:`DeletedFinalStateUnknown` tombstone carrying the key and the last known (possibly stale) object.

Keyed store and indexer implementations live in :mod:`pyclientgo.tools.cache.thread_safe_store`
(:func:`~pyclientgo.tools.cache.thread_safe_store.new_store`,
:func:`~pyclientgo.tools.cache.thread_safe_store.new_indexer`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pyclientgo.errors import PyClientGoError
from pyclientgo.tools.cache.meta import object_meta, object_name, object_namespace

__all__ = [
    "DeletedFinalStateUnknown",
    "KeyFunc",
    "KeyFuncError",
    "Store",
    "deletion_handling_meta_namespace_key_func",
    "meta_namespace_key_func",
    "split_meta_namespace_key",
]

KeyFunc = Callable[[Any], str]
"""Computes the key of an object (``meta_namespace_key_func`` by default)."""


class KeyFuncError(PyClientGoError):
    """A key could not be computed for an object (it has no metadata), or a key is malformed."""


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A deletion the informer inferred rather than watched: :attr:`obj` is the last state it knew.

    Handlers' ``on_delete`` receive it when an object vanished while the watch was down; ``obj`` may be
    stale (or ``None`` when nothing was known).
    """

    key: str
    """The store key of the deleted object."""
    obj: Any
    """The last known state of the object; may be stale or ``None``."""


def meta_namespace_key_func(obj: Any) -> str:
    """``"<namespace>/<name>"``, or ``"<name>"`` for a cluster-scoped object.

    A :class:`DeletedFinalStateUnknown` gives its key and a ``str`` is taken as an explicit key.
    Raises :class:`KeyFuncError` for an object without metadata.
    """
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    if isinstance(obj, str):
        return obj
    if object_meta(obj) is None:
        raise KeyFuncError(f"object has no metadata: {type(obj).__name__}")
    namespace = object_namespace(obj)
    name = object_name(obj)
    return f"{namespace}/{name}" if namespace else name


def deletion_handling_meta_namespace_key_func(obj: Any) -> str:
    """:func:`meta_namespace_key_func` that also accepts tombstones (the informer's indexer key function)."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return meta_namespace_key_func(obj)


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """Split a key into ``(namespace, name)``; ``namespace`` is ``""`` for a cluster-scoped key.

    Raises :class:`KeyFuncError` when the key has more than one ``/``.
    """
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise KeyFuncError(f"unexpected key format: {key!r}")


@runtime_checkable
class Store(Protocol):
    """A keyed collection of objects (client-go's ``cache.Store``); every method is synchronous.

    The Reflector writes to a Store (a DeltaFIFO in informers); listers read one.
    """

    def add(self, obj: Any) -> None:
        """Insert or replace ``obj`` under its key."""
        ...

    def update(self, obj: Any) -> None:
        """Same as :meth:`add` (stores do not distinguish)."""
        ...

    def delete(self, obj: Any) -> None:
        """Remove the object with ``obj``'s key (a no-op when absent)."""
        ...

    def list(self) -> builtins.list[Any]:
        """Every object, in no particular order."""
        ...

    def list_keys(self) -> builtins.list[str]:
        """Every key, in no particular order."""
        ...

    def get(self, obj: Any) -> Any | None:
        """The stored object with ``obj``'s key, or ``None``."""
        ...

    def get_by_key(self, key: str) -> Any | None:
        """The stored object with that key, or ``None``."""
        ...

    def replace(self, items: builtins.list[Any], resource_version: str) -> None:
        """Swap the whole content for ``items`` (listed at ``resource_version``)."""
        ...

    def resync(self) -> None:
        """Ask the store to resend its content (only meaningful for queues such as DeltaFIFO)."""
        ...
