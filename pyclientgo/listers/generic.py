"""Listers: synchronous reads of an informer's cache (client-go's ``tools/cache/listers.go``).

A lister wraps an :class:`~pyclientgo.tools.cache.Indexer` and answers ``list(selector)`` and
``get(name)`` without a request to the server; it may be used from any thread. The objects returned
are the cache's own: treat them as read-only (copy before modifying).

- :class:`GenericLister`: every object, or one namespace via :meth:`GenericLister.by_namespace`;
- :class:`GenericNamespaceLister`: one namespace, looked up through the ``"namespace"`` index;
- ``get`` raises :class:`pyclientgo.errors.NotFound` worded as the API server words it:
  ``pods "x" not found``, ``deployments.apps "x" not found``.

The typed listers (``PodLister`` with ``pods(namespace)``, ``NodeLister``...) are generated bindings of
these classes, in :mod:`pyclientgo.listers._generated`. Dynamic and metadata informers use the generic
classes directly.
"""

from __future__ import annotations

import builtins
from typing import Any, ClassVar, Generic, TypeVar

from pyclientgo.apimachinery import labels
from pyclientgo.apimachinery.registry import ResourceInfo
from pyclientgo.errors import NotFound
from pyclientgo.tools.cache import NAMESPACE_INDEX, Indexer, object_labels

__all__ = ["GenericLister", "GenericNamespaceLister", "Selector", "not_found", "to_selector"]

T = TypeVar("T")

Selector = labels.Selector | str | None
"""A label selector: parsed, in the string syntax (``"app=web,tier!=db"``), or None (everything)."""


def to_selector(selector: Selector) -> labels.Selector:
    """A parsed selector (``None`` and ``""`` select everything)."""
    if selector is None:
        return labels.everything()
    if isinstance(selector, str):
        return labels.parse(selector)
    return selector


def not_found(group: str, resource: str, name: str) -> NotFound:
    """The NotFound the API server would answer (``pods "x" not found``)."""
    qualified = f"{resource}.{group}" if group else resource
    return NotFound.new(f'{qualified} "{name}" not found', name=name, group=group or None, kind=resource)


def _filter(objects: builtins.list[Any], selector: Selector) -> builtins.list[Any]:
    sel = to_selector(selector)
    if sel.empty():
        return objects
    return [obj for obj in objects if sel.matches(object_labels(obj))]


class GenericLister(Generic[T]):
    """Lists and gets objects of one resource from an indexer.

    ``group``/``resource`` name the resource in NotFound errors; generated subclasses take them from
    their ``INFO`` (a :class:`~pyclientgo.apimachinery.registry.ResourceInfo`).
    """

    INFO: ClassVar[ResourceInfo | None] = None

    def __init__(self, indexer: Indexer, *, group: str | None = None, resource: str | None = None) -> None:
        info = self.INFO
        self.indexer = indexer
        self.group = group if group is not None else (info.group if info is not None else "")
        self.resource = resource if resource is not None else (info.plural if info is not None else "")

    def list(self, selector: Selector = None) -> builtins.list[T]:
        """Every cached object whose labels match ``selector`` (all when it selects everything)."""
        return _filter(self.indexer.list(), selector)

    def get(self, name: str) -> T:
        """The object with this key: ``name`` for cluster-scoped resources (``"namespace/name"`` also
        works for namespaced ones; prefer :meth:`by_namespace`). Raises NotFound."""
        obj = self.indexer.get_by_key(name)
        if obj is None:
            raise not_found(self.group, self.resource, name.rpartition("/")[2])
        result: T = obj
        return result

    def by_namespace(self, namespace: str) -> GenericNamespaceLister[T]:
        """A lister of one namespace."""
        return GenericNamespaceLister(self.indexer, namespace, group=self.group, resource=self.resource)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.resource}{'.' + self.group if self.group else ''})"


class GenericNamespaceLister(Generic[T]):
    """Lists and gets the objects of one namespace (through the ``"namespace"`` index)."""

    def __init__(self, indexer: Indexer, namespace: str, *, group: str = "", resource: str = "") -> None:
        self.indexer = indexer
        self.namespace = namespace
        self.group = group
        self.resource = resource

    def list(self, selector: Selector = None) -> builtins.list[T]:
        """The namespace's cached objects whose labels match ``selector``."""
        return _filter(self.indexer.by_index(NAMESPACE_INDEX, self.namespace), selector)

    def get(self, name: str) -> T:
        """The object ``name`` of this namespace; raises NotFound."""
        obj = self.indexer.get_by_key(f"{self.namespace}/{name}" if self.namespace else name)
        if obj is None:
            raise not_found(self.group, self.resource, name)
        result: T = obj
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.resource!r}, namespace={self.namespace!r})"
