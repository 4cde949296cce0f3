"""Event handlers for informers (client-go's ``ResourceEventHandler`` family in ``controller.go``).

A handler has three methods, each may be a plain function or a coroutine function:

- ``on_add(obj, is_in_initial_list)``: a new object (``is_in_initial_list`` is True for the objects of
  the initial list, and for the synthetic adds a late-added handler receives for the cached objects);
- ``on_update(old, new)``: a change, or a resync when both have the same resourceVersion;
- ``on_delete(obj)``: ``obj`` is the last known object or a
  :class:`~pyclientgo.tools.cache.store.DeletedFinalStateUnknown` tombstone.

:class:`ResourceEventHandlerFuncs` adapts optional functions (``on_add`` may also take just ``obj``);
:class:`FilteringResourceEventHandler` passes on only what a filter accepts, turning updates that enter
or leave the filter into adds and deletes.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "FilteringResourceEventHandler",
    "ResourceEventHandler",
    "ResourceEventHandlerFuncs",
]

_Result = Awaitable[None] | None


@runtime_checkable
class ResourceEventHandler(Protocol):
    """Receives an informer's notifications; each method may return an awaitable (async handlers)."""

    def on_add(self, obj: Any, is_in_initial_list: bool) -> _Result: ...

    def on_update(self, old_obj: Any, new_obj: Any) -> _Result: ...

    def on_delete(self, obj: Any) -> _Result: ...


def _takes_two_positional(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = 0
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


class ResourceEventHandlerFuncs:
    """A :class:`ResourceEventHandler` from optional functions (sync or async); missing ones do nothing.

    ``on_add`` may take ``(obj, is_in_initial_list)`` or just ``(obj)``.
    """

    def __init__(
        self,
        on_add: Callable[..., Any] | None = None,
        on_update: Callable[[Any, Any], Any] | None = None,
        on_delete: Callable[[Any], Any] | None = None,
    ) -> None:
        self.add_func = on_add
        self.update_func = on_update
        self.delete_func = on_delete
        self._add_takes_flag = on_add is not None and _takes_two_positional(on_add)

    def on_add(self, obj: Any, is_in_initial_list: bool) -> _Result:
        """Call ``add_func``."""
        if self.add_func is None:
            return None
        if self._add_takes_flag:
            return self.add_func(obj, is_in_initial_list)  # type: ignore[no-any-return]
        return self.add_func(obj)  # type: ignore[no-any-return]

    def on_update(self, old_obj: Any, new_obj: Any) -> _Result:
        """Call ``update_func``."""
        if self.update_func is None:
            return None
        return self.update_func(old_obj, new_obj)  # type: ignore[no-any-return]

    def on_delete(self, obj: Any) -> _Result:
        """Call ``delete_func``."""
        if self.delete_func is None:
            return None
        return self.delete_func(obj)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        names = [
            n
            for n, f in (
                ("on_add", self.add_func),
                ("on_update", self.update_func),
                ("on_delete", self.delete_func),
            )
            if f is not None
        ]
        return f"ResourceEventHandlerFuncs({', '.join(names)})"


class FilteringResourceEventHandler:
    """Passes to ``handler`` only the notifications whose objects ``filter_func`` accepts.

    Updates: old and new pass → update; only new → add (``is_in_initial_list=False``); only old →
    delete of the old object; neither → nothing.
    """

    def __init__(self, filter_func: Callable[[Any], bool], handler: ResourceEventHandler) -> None:
        self.filter_func = filter_func
        self.handler = handler

    def on_add(self, obj: Any, is_in_initial_list: bool) -> _Result:
        """Forward if ``obj`` passes the filter."""
        if not self.filter_func(obj):
            return None
        return self.handler.on_add(obj, is_in_initial_list)

    def on_update(self, old_obj: Any, new_obj: Any) -> _Result:
        """Forward as an update, add or delete depending on which side passes the filter."""
        newer = self.filter_func(new_obj)
        older = self.filter_func(old_obj)
        if newer and older:
            return self.handler.on_update(old_obj, new_obj)
        if newer:
            return self.handler.on_add(new_obj, False)
        if older:
            return self.handler.on_delete(old_obj)
        return None

    def on_delete(self, obj: Any) -> _Result:
        """Forward if ``obj`` passes the filter."""
        if not self.filter_func(obj):
            return None
        return self.handler.on_delete(obj)
