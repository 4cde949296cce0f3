from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.errors import Gone, NotFound, ResourceExpired
from pyclientgo.tools.pager import ListPager


class FakeLister:
    """Serves ``n`` items in pages; optionally expires the continue token on the given page number."""

    def __init__(self, n: int, *, expire_on: int | None = None, error: Exception | None = None) -> None:
        self.items = [{"metadata": {"name": f"i{i}"}} for i in range(n)]
        self.calls: list[dict[str, Any]] = []
        self.expire_on = expire_on
        self.error = error

    async def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(params)
        if self.error is not None and len(self.calls) == 1:
            raise self.error
        if self.expire_on is not None and len(self.calls) == self.expire_on:
            raise ResourceExpired.new("The provided continue parameter is too old")
        limit = params.get("limit") or len(self.items)
        start = int(params.get("continue") or 0)
        page = self.items[start : start + limit]
        nxt = start + limit
        meta = {"resourceVersion": "100"}
        if nxt < len(self.items):
            meta["continue"] = str(nxt)
        return {"kind": "List", "metadata": meta, "items": page}


async def test_single_page() -> None:
    lister = FakeLister(3)
    result = await ListPager(lister).list({"resourceVersion": "0"})
    assert [i["metadata"]["name"] for i in result.items] == ["i0", "i1", "i2"]
    assert not result.paginated and result.resource_version == "100"
    assert lister.calls == [{"resourceVersion": "0", "limit": 500}]


async def test_many_pages_clear_resource_version() -> None:
    lister = FakeLister(1203)
    result = await ListPager(lister).list(
        {"resourceVersion": "50", "resourceVersionMatch": "NotOlderThan", "labelSelector": "a=b"}
    )
    assert len(result.items) == 1203 and result.paginated
    assert lister.calls[0] == {
        "resourceVersion": "50",
        "resourceVersionMatch": "NotOlderThan",
        "labelSelector": "a=b",
        "limit": 500,
    }
    for call in lister.calls[1:]:
        assert call["resourceVersion"] == "" and "resourceVersionMatch" not in call
        assert call["continue"] and call["limit"] == 500 and call["labelSelector"] == "a=b"
    assert len(lister.calls) == 3


async def test_expired_later_page_falls_back_to_one_full_list() -> None:
    lister = FakeLister(1200, expire_on=2)
    result = await ListPager(lister).list({"resourceVersion": "50", "resourceVersionMatch": "Exact"})
    assert len(result.items) == 1200  # the full list, no duplicates from page one
    assert lister.calls[-1] == {"resourceVersion": "50", "resourceVersionMatch": "Exact"}
    assert len(lister.calls) == 3


async def test_expired_first_page_is_an_error() -> None:
    lister = FakeLister(10, expire_on=1)
    with pytest.raises(Gone):
        await ListPager(lister).list({"resourceVersion": "50"})
    assert len(lister.calls) == 1


async def test_other_errors_propagate_and_no_fallback_when_disabled() -> None:
    with pytest.raises(NotFound):
        await ListPager(FakeLister(10, error=NotFound.new("x"))).list()
    with pytest.raises(ResourceExpired):
        await ListPager(FakeLister(1200, expire_on=2), full_list_if_expired=False).list()


async def test_page_size_and_each_list_item() -> None:
    lister = FakeLister(7)
    seen: list[str] = []

    async def fn(item: dict[str, Any]) -> None:
        seen.append(item["metadata"]["name"])

    paginated = await ListPager(lister, page_size=3).each_list_item({}, fn)
    assert paginated and seen == [f"i{i}" for i in range(7)]
    assert [c["limit"] for c in lister.calls] == [3, 3, 3]


async def test_model_like_objects() -> None:
    class Meta:
        def __init__(self, cont: str | None) -> None:
            self.resource_version = "9"
            self.continue_ = cont

    class PodList:
        def __init__(self, items: list[str], cont: str | None) -> None:
            self.metadata = Meta(cont)
            self.items = items

    async def lister(params: dict[str, Any]) -> PodList:
        if params.get("continue"):
            return PodList(["b"], None)
        return PodList(["a"], "tok")

    result = await ListPager(lister).list()
    assert result.items == ["a", "b"] and result.resource_version == "9" and result.paginated
