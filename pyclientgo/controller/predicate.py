"""Event filters for controller watches (controller-runtime's ``predicate`` package).

A :class:`Predicate` decides, per informer notification, whether it may enqueue requests. Each method
gets the object(s) of the event (tombstones already unwrapped) and answers a bool; every predicate of
a watch must agree for the event to pass.

- :class:`Funcs`: a predicate from optional functions (a missing one passes everything);
- :class:`GenerationChangedPredicate`: updates pass only when ``metadata.generation`` changed (spec
  changes of resources with a status subresource; status-only writes are skipped);
- :class:`ResourceVersionChangedPredicate`: skips resync notifications;
- :class:`LabelChangedPredicate`, :class:`AnnotationChangedPredicate`;
- :func:`label_selector_predicate`: objects whose labels match (an update passes when the old or the new
  object matches, so that an object leaving the selection is still seen);
- :func:`and_`, :func:`or_`, :func:`not_` combine predicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from pyclientgo.apimachinery import labels
from pyclientgo.tools.cache import object_annotations, object_labels, resource_version
from pyclientgo.tools.cache.meta import object_meta

__all__ = [
    "AnnotationChangedPredicate",
    "Funcs",
    "GenerationChangedPredicate",
    "LabelChangedPredicate",
    "Predicate",
    "ResourceVersionChangedPredicate",
    "and_",
    "label_selector_predicate",
    "not_",
    "or_",
]


@runtime_checkable
class Predicate(Protocol):
    """Filters the events of one watch."""

    def create(self, obj: Any) -> bool: ...

    def update(self, old: Any, new: Any) -> bool: ...

    def delete(self, obj: Any) -> bool: ...


def object_generation(obj: Any) -> int:
    """``metadata.generation`` (0 when unset)."""
    meta = object_meta(obj)
    if meta is None:
        return 0
    value = meta.get("generation") if isinstance(meta, Mapping) else getattr(meta, "generation", None)
    return int(value or 0)


class Funcs:
    """A :class:`Predicate` from optional functions; a missing function lets every event through."""

    def __init__(
        self,
        *,
        create: Callable[[Any], bool] | None = None,
        update: Callable[[Any, Any], bool] | None = None,
        delete: Callable[[Any], bool] | None = None,
    ) -> None:
        self.create_func = create
        self.update_func = update
        self.delete_func = delete

    def create(self, obj: Any) -> bool:
        return self.create_func is None or self.create_func(obj)

    def update(self, old: Any, new: Any) -> bool:
        return self.update_func is None or self.update_func(old, new)

    def delete(self, obj: Any) -> bool:
        return self.delete_func is None or self.delete_func(obj)


class GenerationChangedPredicate(Funcs):
    """Updates pass only when ``metadata.generation`` changed; creates and deletes always pass."""

    def __init__(self) -> None:
        super().__init__(update=lambda old, new: object_generation(old) != object_generation(new))


class ResourceVersionChangedPredicate(Funcs):
    """Updates pass only when ``metadata.resourceVersion`` changed (resyncs are skipped)."""

    def __init__(self) -> None:
        super().__init__(update=lambda old, new: resource_version(old) != resource_version(new))


class LabelChangedPredicate(Funcs):
    """Updates pass only when the labels changed."""

    def __init__(self) -> None:
        super().__init__(update=lambda old, new: dict(object_labels(old)) != dict(object_labels(new)))


class AnnotationChangedPredicate(Funcs):
    """Updates pass only when the annotations changed."""

    def __init__(self) -> None:
        super().__init__(
            update=lambda old, new: dict(object_annotations(old)) != dict(object_annotations(new))
        )


def label_selector_predicate(selector: labels.Selector | str) -> Funcs:
    """Events of objects whose labels match ``selector`` (string syntax or parsed)."""
    sel = labels.parse(selector) if isinstance(selector, str) else selector

    def matches(obj: Any) -> bool:
        return bool(sel.matches(object_labels(obj)))

    return Funcs(create=matches, update=lambda old, new: matches(old) or matches(new), delete=matches)


def and_(*predicates: Predicate) -> Funcs:
    """Passes when every predicate passes."""
    return Funcs(
        create=lambda o: all(p.create(o) for p in predicates),
        update=lambda a, b: all(p.update(a, b) for p in predicates),
        delete=lambda o: all(p.delete(o) for p in predicates),
    )


def or_(*predicates: Predicate) -> Funcs:
    """Passes when any predicate passes."""
    return Funcs(
        create=lambda o: any(p.create(o) for p in predicates),
        update=lambda a, b: any(p.update(a, b) for p in predicates),
        delete=lambda o: any(p.delete(o) for p in predicates),
    )


def not_(predicate: Predicate) -> Funcs:
    """Passes when ``predicate`` does not."""
    return Funcs(
        create=lambda o: not predicate.create(o),
        update=lambda a, b: not predicate.update(a, b),
        delete=lambda o: not predicate.delete(o),
    )
