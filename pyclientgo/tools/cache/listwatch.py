"""What a reflector lists and watches (client-go's ``tools/cache/listwatch.go``).

:class:`ListerWatcher` is the two-method interface the :class:`~pyclientgo.tools.cache.reflector.Reflector`
consumes: ``await list(options)`` returns a list object (a typed list model such as ``PodList`` or a
JSON dict from the dynamic client) and ``watch(options)`` returns an async iterator of
:class:`pyclientgo.rest.WatchEvent` (an ERROR event raises its :class:`~pyclientgo.errors.ApiError`).

:class:`ListWatch` adapts two functions, or — with :meth:`ListWatch.from_client` — any resource client
with ``list(**kw)`` and ``watch(**kw)``: the typed ``AsyncResourceClient`` (``cs.core_v1.pods("ns")``)
and the dynamic ``AsyncDynamicResourceClient`` alike. ``tweak`` edits the options of both calls
(client-go's ``NewFilteredListWatchFromClient`` options modifier), e.g. to add a label selector.

:func:`list_items` and :func:`list_meta` read any list object, model or dict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pyclientgo.rest import WatchEvent
from pyclientgo.tools.pager import list_items, list_meta

__all__ = [
    "ListFunc",
    "ListOptions",
    "ListWatch",
    "ListerWatcher",
    "WatchFunc",
    "list_items",
    "list_meta",
]


@dataclass(kw_only=True)
class ListOptions:
    """The query options of a LIST or WATCH (``metav1.ListOptions``); ``None`` means "not sent"."""

    resource_version: str | None = None
    """``resourceVersion``: ``""`` most recent (consistent read), ``"0"`` any, ``"N"`` not older than N."""
    resource_version_match: str | None = None
    """``resourceVersionMatch``: ``Exact`` / ``NotOlderThan`` (the reflector sends it only for watch-list)."""
    limit: int | None = None
    """Page size of a LIST (``None`` or 0: no limit)."""
    continue_: str | None = None
    """The ``continue`` token of the next page."""
    label_selector: str | None = None
    """``labelSelector``."""
    field_selector: str | None = None
    """``fieldSelector``."""
    timeout_seconds: int | None = None
    """``timeoutSeconds``: the server ends the request (a watch: cleanly) after this long."""
    allow_watch_bookmarks: bool = False
    """``allowWatchBookmarks``: ask for BOOKMARK events on a watch."""
    send_initial_events: bool | None = None
    """``sendInitialEvents``: a watch starts with the current state and a BOOKMARK marking its end."""

    def copy(self) -> ListOptions:
        """A shallow copy (tweak functions edit copies, never the reflector's options)."""
        return dataclasses.replace(self)

    def list_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a resource client's ``list``."""
        return {
            "label_selector": self.label_selector or None,
            "field_selector": self.field_selector or None,
            "limit": self.limit or None,
            "continue_": self.continue_ or None,
            "resource_version": self.resource_version or None,
            "resource_version_match": self.resource_version_match or None,
            "timeout_seconds": self.timeout_seconds,
        }

    def watch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a resource client's ``watch``."""
        return {
            "resource_version": self.resource_version or None,
            "label_selector": self.label_selector or None,
            "field_selector": self.field_selector or None,
            "timeout_seconds": self.timeout_seconds,
            "allow_watch_bookmarks": self.allow_watch_bookmarks,
            "send_initial_events": self.send_initial_events,
            "resource_version_match": self.resource_version_match or None,
        }


ListFunc = Callable[[ListOptions], Awaitable[Any]]
"""``async list(options) -> list object``."""
WatchFunc = Callable[[ListOptions], AsyncIterator[WatchEvent[Any]]]
"""``watch(options) -> async iterator of events``."""


@runtime_checkable
class ListerWatcher(Protocol):
    """Lists and watches one collection (client-go's ``cache.ListerWatcher``)."""

    async def list(self, options: ListOptions) -> Any:
        """LIST with these options; the list object has ``metadata.resourceVersion``/``continue`` and ``items``."""
        ...

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        """WATCH with these options. The request may be sent lazily (on the first ``anext``); an ERROR
        event raises its ApiError; the iterator ends when the server closes the stream. If the iterator
        has ``aclose()`` (async generators do), the reflector calls it when it is done with the watch."""
        ...


class _ResourceClient(Protocol):
    async def list(self, **kwargs: Any) -> Any: ...

    def watch(self, **kwargs: Any) -> AsyncIterator[Any]: ...


class ListWatch:
    """A :class:`ListerWatcher` made of two functions (client-go's ``cache.ListWatch``)."""

    def __init__(self, *, list_func: ListFunc, watch_func: WatchFunc) -> None:
        self.list_func = list_func
        self.watch_func = watch_func

    @classmethod
    def from_client(
        cls,
        client: Any,
        *,
        tweak: Callable[[ListOptions], None] | None = None,
    ) -> ListWatch:
        """List and watch with a resource client (typed ``AsyncResourceClient`` or dynamic).

        The client's own namespace (or none: all namespaces) is what is listed. ``tweak`` is called
        on a copy of the options of every LIST and WATCH and may change them in place (selectors,
        say); it must not change the resourceVersion the reflector asked for.
        """
        rc: _ResourceClient = client
        if not callable(getattr(client, "list", None)) or not callable(getattr(client, "watch", None)):
            raise TypeError(f"{type(client).__name__} has no list() and watch(): not a resource client")

        def prepared(options: ListOptions) -> ListOptions:
            options = options.copy()
            if tweak is not None:
                tweak(options)
            return options

        async def list_func(options: ListOptions) -> Any:
            return await rc.list(**prepared(options).list_kwargs())

        def watch_func(options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
            return rc.watch(**prepared(options).watch_kwargs())

        return cls(list_func=list_func, watch_func=watch_func)

    async def list(self, options: ListOptions) -> Any:
        return await self.list_func(options)

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        return self.watch_func(options)

    def __repr__(self) -> str:
        return f"ListWatch(list_func={self.list_func!r}, watch_func={self.watch_func!r})"
