"""Index functions and the :class:`Indexer` interface (client-go's ``tools/cache/index.go``).

An index function maps an object to the values it is indexed under (``meta_namespace_index_func`` gives
its namespace); an :class:`Indexer` is a :class:`~pyclientgo.tools.cache.store.Store` that keeps one
``value -> keys`` index per named index function and answers lookups such as "every object in namespace
``default``" without scanning. Informers always carry the ``"namespace"`` index.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from pyclientgo.errors import PyClientGoError
from pyclientgo.tools.cache.meta import object_namespace
from pyclientgo.tools.cache.store import Store

__all__ = [
    "IndexFunc",
    "Indexer",
    "IndexerError",
    "Indexers",
    "NAMESPACE_INDEX",
    "meta_namespace_index_func",
]

IndexFunc = Callable[[Any], list[str]]
"""Maps an object to the (zero or more) values it is indexed under."""

Indexers = dict[str, IndexFunc]
"""Index name -> index function."""

NAMESPACE_INDEX = "namespace"
"""The name of the namespace index (client-go's ``cache.NamespaceIndex``)."""


class IndexerError(PyClientGoError):
    """An unknown index name, or an index added under a name already in use."""


def meta_namespace_index_func(obj: Any) -> builtins.list[str]:
    """Index by ``metadata.namespace``; cluster-scoped objects index under ``""``."""
    return [object_namespace(obj)]


@runtime_checkable
class Indexer(Store, Protocol):
    """A :class:`Store` with named indexes (client-go's ``cache.Indexer``); thread-safe."""

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]:
        """Objects sharing any indexed value with ``obj`` under ``index_name``."""
        ...

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        """Sorted keys of the objects indexed under ``indexed_value``."""
        ...

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """Every value that currently has at least one object under ``index_name``."""
        ...

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]:
        """Objects indexed under ``indexed_value`` (empty for an unknown value)."""
        ...

    def get_indexers(self) -> Indexers:
        """A copy of the index functions by name."""
        ...

    def add_indexers(self, indexers: Indexers) -> None:
        """Add index functions (existing objects are indexed); a name already present is an error."""
        ...
