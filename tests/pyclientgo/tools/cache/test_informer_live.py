"""End to end: a SharedIndexInformer on ConfigMaps against the session's real API server."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.config import Config, load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    ListWatch,
    SharedIndexInformer,
    drop_managed_fields,
    meta_namespace_index_func,
    object_name,
    wait_for_cache_sync,
)

_ids = itertools.count()
DEADLINE = 15.0


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


async def until(cond: Any, timeout: float = DEADLINE) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.01)


async def test_configmap_informer_end_to_end(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = f"informer-{next(_ids)}"
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
        cms = cs.core_v1.config_maps(ns)
        for name in ("pre-a", "pre-b"):
            await cms.create(ConfigMap(metadata={"name": name, "labels": {"t": "x"}}, data={"k": name}))

        informer = SharedIndexInformer(
            ListWatch.from_client(cms),
            ConfigMap,
            indexers={NAMESPACE_INDEX: meta_namespace_index_func},
            transform=drop_managed_fields,
            name="configmaps",
        )
        events: list[tuple[str, str, Any]] = []
        reg = informer.add_event_handler(
            on_add=lambda obj, initial: events.append(("add", object_name(obj), initial)),
            on_update=lambda old, new: events.append(("update", object_name(new), new.data)),
            on_delete=lambda obj: events.append(("delete", object_name(obj), obj)),
        )
        task = informer.start()
        try:
            assert await asyncio.wait_for(wait_for_cache_sync(informer.has_synced, reg.has_synced), DEADLINE)
            assert sorted(informer.get_indexer().list_keys()) == [f"{ns}/pre-a", f"{ns}/pre-b"]
            assert sorted(e[1] for e in events) == ["pre-a", "pre-b"]
            assert all(e[0] == "add" and e[2] is True for e in events)
            assert informer.last_sync_resource_version() != ""

            await cms.create(ConfigMap(metadata={"name": "live"}, data={"v": "1"}))
            await until(lambda: ("add", "live", False) in events)
            live = await cms.get("live")
            live.data = {"v": "2"}
            await cms.update(live)
            await until(lambda: ("update", "live", {"v": "2"}) in events)
            cached = informer.get_indexer().get_by_key(f"{ns}/live")
            assert cached is not None and cached.data == {"v": "2"}
            await cms.delete("pre-a")
            await until(lambda: any(e[0] == "delete" and e[1] == "pre-a" for e in events))
            deleted = next(e[2] for e in events if e[0] == "delete")
            assert not isinstance(deleted, DeletedFinalStateUnknown)
            assert informer.get_indexer().get_by_key(f"{ns}/pre-a") is None

            keys = sorted(informer.get_indexer().index_keys(NAMESPACE_INDEX, ns))
            assert keys == [f"{ns}/live", f"{ns}/pre-b"]
            for obj in informer.get_indexer().list():
                assert obj.metadata.managed_fields is None
            pre_b = informer.get_indexer().get_by_key(f"{ns}/pre-b")
            assert is_lazy(pre_b)  # the cache holds undecoded models
        finally:
            await informer.stop()
            await task
        assert informer.is_stopped()
