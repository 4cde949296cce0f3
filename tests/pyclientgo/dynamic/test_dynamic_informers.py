"""Dynamic and metadata-only informer factories against the session's real API server."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace, Secret
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.dynamic.informer import DynamicSharedInformerFactory
from pyclientgo.dynamic.metadata_informer import (
    LIST_ACCEPT,
    WATCH_ACCEPT,
    MetadataSharedInformerFactory,
)
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.cache import NAMESPACE_INDEX

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
SECRETS = GroupVersionResource("", "v1", "secrets")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
DEADLINE = 15.0
_ids = itertools.count()


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


async def until(cond: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _namespace(cs: AsyncClientset) -> str:
    name = f"dyninf-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def test_dynamic_factory_caches_dicts(config: Config) -> None:
    async with AsyncClientset(config) as cs, AsyncDynamicClient(cs.rest) as dyn:
        ns = await _namespace(cs)
        await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "d1", "labels": {"a": "1"}}))
        added: list[str] = []
        async with DynamicSharedInformerFactory(
            dyn, namespace=ns, custom_resync={CONFIGMAPS: 5.0}
        ) as factory:
            cms = factory.for_resource(CONFIGMAPS)
            assert factory.for_resource(CONFIGMAPS) is cms
            assert NAMESPACE_INDEX in cms.informer.get_indexer().get_indexers()
            reg = cms.informer.add_event_handler(
                on_add=lambda obj, initial: added.append(obj["metadata"]["name"])
            )
            assert reg.resync_period == 5.0
            factory.start()
            assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {CONFIGMAPS: True}
            got = cms.lister.by_namespace(ns).get("d1")
            assert isinstance(got, dict) and got["kind"] == "ConfigMap"
            assert [o["metadata"]["name"] for o in cms.lister.list("a=1")] == ["d1"]
            with pytest.raises(NotFound, match=r'^configmaps "zz" not found$'):
                cms.lister.by_namespace(ns).get("zz")
            await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "d2"}))
            await until(lambda: added == ["d1", "d2"], "the watch event")


async def test_server_answers_partial_object_metadata(config: Config) -> None:
    """The server side of metadata informers: LIST and WATCH with the as=PartialObjectMetadata Accept."""
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs)
        created = await cs.core_v1.secrets(ns).create(
            Secret(metadata={"name": "s", "labels": {"x": "y"}}, string_data={"password": "hunter2"})
        )
        path = f"/api/v1/namespaces/{ns}/secrets"
        listed = orjson.loads((await cs.rest.request("GET", path, accept=LIST_ACCEPT)).content)
        assert listed["kind"] == "PartialObjectMetadataList" and listed["apiVersion"] == "meta.k8s.io/v1"
        assert listed["items"][0] == {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": listed["items"][0]["metadata"],
        }
        assert listed["items"][0]["metadata"]["labels"] == {"x": "y"}
        params = {"watch": "true", "resourceVersion": str(int(created.metadata.resource_version) - 1)}
        async with cs.rest.stream("GET", path, params=params, accept=WATCH_ACCEPT) as resp:
            async for line in resp.aiter_lines():
                event = orjson.loads(line)
                break
        assert event["type"] == "ADDED"
        assert set(event["object"]) == {"kind", "apiVersion", "metadata"}
        assert event["object"]["kind"] == "PartialObjectMetadata"
        assert b"hunter2" not in orjson.dumps(event) and b"aHVudGVyMg" not in orjson.dumps(event)


async def test_metadata_factory_caches_metadata_only(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs)
        await cs.core_v1.secrets(ns).create(
            Secret(metadata={"name": "m1", "labels": {"app": "web"}}, string_data={"k": "secret"})
        )
        deleted: list[str] = []
        async with MetadataSharedInformerFactory(cs, namespace=ns) as factory:
            secrets = factory.for_resource(SECRETS)
            namespaces = factory.for_resource(NAMESPACES)  # cluster-scoped: the namespace option is ignored
            secrets.informer.add_event_handler(on_delete=lambda obj: deleted.append(obj["metadata"]["name"]))
            factory.start()
            assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {SECRETS: True, NAMESPACES: True}
            cached = secrets.lister.by_namespace(ns).get("m1")
            assert cached["kind"] == "PartialObjectMetadata" and set(cached) == {
                "kind",
                "apiVersion",
                "metadata",
            }
            assert cached["metadata"]["labels"] == {"app": "web"}
            assert namespaces.lister.get(ns)["metadata"]["name"] == ns
            assert namespaces.lister.get("default")["kind"] == "PartialObjectMetadata"
            await cs.core_v1.secrets(ns).create(Secret(metadata={"name": "m2"}, string_data={"k": "v"}))
            await until(lambda: len(secrets.lister.list()) == 2, "the watched secret")
            added = secrets.lister.by_namespace(ns).get("m2")
            assert set(added) == {"kind", "apiVersion", "metadata"}
            await cs.core_v1.secrets(ns).delete("m1")
            await until(lambda: deleted == ["m1"], "the delete")
            assert [s["metadata"]["name"] for s in secrets.lister.list("app=web")] == []
