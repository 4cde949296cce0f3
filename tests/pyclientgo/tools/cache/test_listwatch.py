"""ListWatch / ListOptions / list helpers: unit tests with a recording client, and live against the
session's real API server with the typed and dynamic clients."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, ConfigMapList, Namespace
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import Invalid
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import WatchEvent
from pyclientgo.tools.cache.listwatch import ListerWatcher, ListOptions, ListWatch, list_items, list_meta

_ids = itertools.count()


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def list(self, **kw: Any) -> Any:
        self.calls.append(("list", kw))
        return {"metadata": {"resourceVersion": "5"}, "items": []}

    def watch(self, **kw: Any) -> AsyncIterator[WatchEvent[Any]]:
        self.calls.append(("watch", kw))

        async def gen() -> AsyncIterator[WatchEvent[Any]]:
            yield WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "6"}})

        return gen()


async def test_from_client_maps_options_and_tweaks_copies() -> None:
    client = RecordingClient()

    def tweak(options: ListOptions) -> None:
        options.label_selector = "app=x"

    lw = ListWatch.from_client(client, tweak=tweak)
    assert isinstance(lw, ListerWatcher)
    opts = ListOptions(resource_version="0", limit=500)
    await lw.list(opts)
    assert opts.label_selector is None  # the reflector's options are not changed
    events = [
        e
        async for e in lw.watch(
            ListOptions(resource_version="7", allow_watch_bookmarks=True, timeout_seconds=321)
        )
    ]
    assert events[0].type == "BOOKMARK"
    await lw.list(ListOptions(resource_version="", limit=0, continue_="tok"))
    assert client.calls == [
        (
            "list",
            {
                "label_selector": "app=x",
                "field_selector": None,
                "limit": 500,
                "continue_": None,
                "resource_version": "0",
                "resource_version_match": None,
                "timeout_seconds": None,
            },
        ),
        (
            "watch",
            {
                "resource_version": "7",
                "label_selector": "app=x",
                "field_selector": None,
                "timeout_seconds": 321,
                "allow_watch_bookmarks": True,
                "send_initial_events": None,
                "resource_version_match": None,
            },
        ),
        (
            "list",
            {
                "label_selector": "app=x",
                "field_selector": None,
                "limit": None,
                "continue_": "tok",
                "resource_version": None,
                "resource_version_match": None,
                "timeout_seconds": None,
            },
        ),
    ]


async def test_list_watch_from_functions_and_bad_client() -> None:
    seen: list[ListOptions] = []

    async def list_func(options: ListOptions) -> Any:
        seen.append(options)
        return {"items": [1]}

    def watch_func(options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        raise NotImplementedError

    lw = ListWatch(list_func=list_func, watch_func=watch_func)
    assert await lw.list(ListOptions()) == {"items": [1]}
    assert len(seen) == 1
    with pytest.raises(TypeError):
        ListWatch.from_client(object())


def test_list_helpers_read_models_and_dicts() -> None:
    d = {"metadata": {"resourceVersion": "12", "continue": "c"}, "items": [{"a": 1}]}
    assert list_meta(d) == ("12", "c") and list_items(d) == [{"a": 1}]
    m = ConfigMapList.from_dict(
        {"metadata": {"resourceVersion": "13", "continue": "k"}, "items": [{"metadata": {"name": "x"}}]}
    )
    assert list_meta(m) == ("13", "k")
    assert [i.metadata.name for i in list_items(m)] == ["x"]
    assert list_meta({}) == ("", "") and list_items({}) == []


# -- live ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


async def _namespace(cs: AsyncClientset) -> str:
    ns = f"lw-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
    return ns


async def test_live_typed_and_dynamic_list_and_watch(config: Config) -> None:
    async with AsyncClientset(config) as cs, AsyncDynamicClient(config) as dyn:
        ns = await _namespace(cs)
        cms = cs.core_v1.config_maps(ns)
        for name, tier in (("a", "web"), ("b", "db")):
            await cms.create(ConfigMap(metadata={"name": name, "labels": {"tier": tier}}))

        def web(options: ListOptions) -> None:
            options.label_selector = "tier=web"

        typed = ListWatch.from_client(cms, tweak=web)
        listed = await typed.list(ListOptions(resource_version="0", limit=500))
        assert [i.metadata.name for i in list_items(listed)] == ["a"]
        rv, cont = list_meta(listed)
        assert rv and not cont

        dynamic = ListWatch.from_client(dyn.resource(GroupVersionResource("", "v1", "configmaps"), ns))
        paged = await dynamic.list(ListOptions(limit=1))
        assert [i["metadata"]["name"] for i in list_items(paged)] == ["a"]
        assert list_meta(paged)[1]

        watch = dynamic.watch(
            ListOptions(resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=30)
        )
        async with contextlib.aclosing(watch):  # type: ignore[type-var]
            await cms.create(ConfigMap(metadata={"name": "c", "labels": {"tier": "web"}}))
            async for event in watch:
                if event.type == "ADDED":
                    assert event.object["metadata"]["name"] == "c"
                    break

        typed_watch = typed.watch(ListOptions(resource_version=rv, timeout_seconds=30))
        async with contextlib.aclosing(typed_watch):  # type: ignore[type-var]
            async for event in typed_watch:
                assert isinstance(event.object, ConfigMap)
                assert (
                    event.object.metadata is not None and event.object.metadata.name == "c"
                )  # the selector from tweak applies
                break

        bad = dynamic.watch(ListOptions(resource_version_match="NotOlderThan"))
        with pytest.raises(Invalid):
            async for _ in bad:
                pass
