"""Paginated LIST (client-go's tools/pager), for typed and dynamic clients alike.

``ListPager(list_fn)`` where ``list_fn(params)`` is an async function that LISTs with the given query
parameters (``limit``, ``continue``, ``resourceVersion``, ``resourceVersionMatch`` plus whatever the
caller passed) and returns the list object: a typed list model (``PodList``) or a JSON dict.

* Pages of ``page_size`` (500) items.
* Pages after the first send ``continue`` and an empty ``resourceVersion`` (the server refuses both).
* A 410 on a later page (the continue token expired) falls back to one unpaged LIST at the
  resourceVersion originally asked for; a 410 on the first page is raised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pyclientgo.errors import Gone

__all__ = ["DEFAULT_PAGE_SIZE", "ListPager", "ListResult", "list_items", "list_meta"]

DEFAULT_PAGE_SIZE = 500

L = TypeVar("L")

ListFn = Callable[[dict[str, Any]], Awaitable[L]]


def _get(obj: Any, *names: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        for name in names:
            if name in obj:
                return obj[name]
        return None
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def list_meta(obj: Any) -> tuple[str, str]:
    """``(resourceVersion, continue)`` of a list object (model or dict); ``""`` when missing."""
    meta = _get(obj, "metadata")
    rv = _get(meta, "resourceVersion", "resource_version")
    cont = _get(meta, "continue", "continue_", "_continue")
    return (str(rv) if rv else "", str(cont) if cont else "")


def list_items(obj: Any) -> list[Any]:
    """The items of a list object (model or dict), as returned (lazy models stay lazy)."""
    items = obj.get("items") if isinstance(obj, Mapping) else getattr(obj, "items", None)
    return list(items) if isinstance(items, list) else []


@dataclass(frozen=True, slots=True)
class ListResult(Generic[L]):
    """What :meth:`ListPager.list` returns."""

    items: list[Any]
    """Every item of every page, in order."""

    resource_version: str
    """The list's resourceVersion: the first page's (or the fallback list's)."""

    paginated: bool
    """True when more than one page was fetched."""

    first: L
    """The first list object received (or the fallback full list)."""


class ListPager(Generic[L]):
    """Pages through a LIST; see the module docstring."""

    def __init__(
        self,
        list_fn: ListFn[L],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        full_list_if_expired: bool = True,
    ) -> None:
        self.list_fn = list_fn
        self.page_size = page_size
        #: Fall back to one unpaged LIST when a continue token expires (client-go's default for pagers).
        self.full_list_if_expired = full_list_if_expired

    async def each_page(self, params: Mapping[str, Any] | None, fn: Callable[[L], Awaitable[None]]) -> bool:
        """Call ``fn`` with each page; returns whether the result was paginated. After a fallback the
        full list is passed to ``fn`` as one more page, so ``fn`` must tolerate seeing items again."""
        options: dict[str, Any] = dict(params or {})
        if not options.get("limit"):
            options["limit"] = self.page_size
        requested_rv = options.get("resourceVersion")
        requested_match = options.get("resourceVersionMatch")
        paginated = False
        while True:
            try:
                page = await self.list_fn(dict(options))
            except Gone:
                if not self.full_list_if_expired or not options.get("continue"):
                    raise
                options.pop("limit", None)
                options.pop("continue", None)
                options["resourceVersion"] = requested_rv
                options["resourceVersionMatch"] = requested_match
                options = {k: v for k, v in options.items() if v is not None}
                await fn(await self.list_fn(options))
                return paginated
            await fn(page)
            _, cont = list_meta(page)
            if not cont:
                return paginated
            options["continue"] = cont
            options["resourceVersion"] = ""
            options.pop("resourceVersionMatch", None)
            paginated = True

    async def list(self, params: Mapping[str, Any] | None = None) -> ListResult[L]:
        """LIST every page and gather the items."""
        items: list[Any] = []
        first: list[L] = []

        options: dict[str, Any] = dict(params or {})
        if not options.get("limit"):
            options["limit"] = self.page_size
        requested_rv = options.get("resourceVersion")
        requested_match = options.get("resourceVersionMatch")
        paginated = False
        while True:
            try:
                page = await self.list_fn(dict(options))
            except Gone:
                if not self.full_list_if_expired or not options.get("continue"):
                    raise
                full: dict[str, Any] = {k: v for k, v in options.items() if k not in ("limit", "continue")}
                full["resourceVersion"] = requested_rv
                full["resourceVersionMatch"] = requested_match
                full = {k: v for k, v in full.items() if v is not None}
                page = await self.list_fn(full)
                items, first = list_items(page), [page]
                break
            if not first:
                first.append(page)
            items.extend(list_items(page))
            _, cont = list_meta(page)
            if not cont:
                break
            options["continue"] = cont
            options["resourceVersion"] = ""
            options.pop("resourceVersionMatch", None)
            paginated = True
        rv, _ = list_meta(first[0])
        return ListResult(items=items, resource_version=rv, paginated=paginated, first=first[0])

    async def each_list_item(
        self, params: Mapping[str, Any] | None, fn: Callable[[Any], Awaitable[None]]
    ) -> bool:
        """Call ``fn`` on every item, page by page (items of an expired listing may repeat after the
        fallback). Returns whether the result was paginated."""

        async def per_page(page: L) -> None:
            for item in list_items(page):
                await fn(item)

        return await self.each_page(params, per_page)
