"""SharedInformerFactory (docs/reference/client_go_semantics.md §4.11) and typed informers against the session's server."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace, Pod, Secret
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.errors import NotFound
from pyclientgo.informers import ConfigMapInformer, PodInformer, SharedInformerFactory
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.listers import ConfigMapLister
from pyclientgo.tools.cache import NAMESPACE_INDEX, ListOptions, SharedIndexInformer, drop_managed_fields

_ids = itertools.count()
DEADLINE = 15.0


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


@pytest.fixture
async def cs(config: Config) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(config) as clientset:
        yield clientset


async def _namespace(cs: AsyncClientset) -> str:
    name = f"factory-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def until(cond: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_one_informer_per_type_with_the_namespace_index(cs: AsyncClientset) -> None:
    async with SharedInformerFactory(cs) as factory:
        pods = factory.core_v1.pods()
        assert isinstance(pods, PodInformer)
        assert factory.core_v1.pods() is pods
        assert factory.core_v1.configmaps() is factory.core_v1.config_maps()
        assert isinstance(pods.informer, SharedIndexInformer)
        assert set(factory.informers()) == {Pod, ConfigMap}
        assert NAMESPACE_INDEX in pods.informer.get_indexer().get_indexers()
        nodes = factory.core_v1.nodes()  # cluster-scoped: the namespace index too
        assert NAMESPACE_INDEX in nodes.informer.get_indexer().get_indexers()
        assert isinstance(factory.core_v1.config_maps().lister, ConfigMapLister)
        generic = factory.for_resource(GroupVersionResource("", "v1", "pods"))
        assert generic.informer is pods.informer
        with pytest.raises(ValueError, match="no informer"):
            factory.for_resource(GroupVersionResource("example.com", "v1", "widgets"))


async def test_start_starts_only_new_informers_and_wait_reports_started(cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "c"}))
    async with SharedInformerFactory(cs, namespace=ns) as factory:
        assert await factory.wait_for_cache_sync() == {}  # nothing started
        cms = factory.core_v1.config_maps()
        factory.start()
        first_task = factory._tasks[ConfigMap]
        secrets = factory.core_v1.secrets()  # requested after start(): not running yet
        assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {ConfigMap: True}
        assert not secrets.informer.has_started()
        assert [c.metadata.name for c in cms.lister.list()] == ["c"]
        factory.start()  # again: starts the new one only
        assert factory._tasks[ConfigMap] is first_task
        assert factory.started() == [ConfigMap, Secret]
        assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {ConfigMap: True, Secret: True}


async def test_wait_for_cache_sync_can_be_stopped(cs: AsyncClientset) -> None:
    async with SharedInformerFactory(cs) as factory:
        factory.core_v1.config_maps()
        factory.start()
        assert await factory.wait_for_cache_sync(timeout=0) == {ConfigMap: False}
        stop = asyncio.Event()
        stop.set()
        assert await factory.wait_for_cache_sync(stop) == {ConfigMap: False}
        assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {ConfigMap: True}


async def test_options_namespace_tweak_transform_and_events(cs: AsyncClientset) -> None:
    ns, other = await _namespace(cs), await _namespace(cs)
    for where in (ns, other):
        for name, keep in (("a", "yes"), ("b", "no")):
            await cs.core_v1.config_maps(where).create(
                ConfigMap(metadata={"name": name, "labels": {"keep": keep}}, data={"v": "1"})
            )
    tweaked: list[ListOptions] = []

    def tweak(options: ListOptions) -> None:
        tweaked.append(options)
        options.label_selector = "keep=yes"

    events: list[tuple[str, str]] = []
    async with SharedInformerFactory(
        cs, namespace=ns, tweak_list_options=tweak, transform=drop_managed_fields
    ) as factory:
        cms = factory.core_v1.config_maps()
        cms.informer.add_event_handler(
            on_add=lambda obj, initial: events.append(("add", obj.metadata.name)),
            on_update=lambda old, new: events.append(("update", new.data["v"])),
            on_delete=lambda obj: events.append(("delete", obj.metadata.name)),
        )
        factory.start()
        assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {ConfigMap: True}
        listed = cms.lister.list()
        assert [(c.metadata.namespace, c.metadata.name) for c in listed] == [(ns, "a")]
        assert listed[0].metadata.managed_fields is None  # transformed before caching
        assert cms.lister.config_maps(ns).get("a").data == {"v": "1"}
        with pytest.raises(NotFound, match=r'^configmaps "b" not found$'):
            cms.lister.config_maps(ns).get("b")
        await cs.core_v1.config_maps(ns).patch("a", {"data": {"v": "2"}}, patch_type="merge")
        await cs.core_v1.config_maps(ns).delete("a")
        await until(lambda: ("delete", "a") in events, "the delete event")
        assert events == [("add", "a"), ("update", "2"), ("delete", "a")]
        assert cms.lister.list() == []
    assert tweaked and all(o.label_selector == "keep=yes" for o in tweaked)


async def test_default_and_custom_resync(cs: AsyncClientset) -> None:
    async with SharedInformerFactory(cs, resync=30.0, custom_resync={Secret: 60.0}) as factory:
        cm_reg = factory.core_v1.config_maps().informer.add_event_handler(on_add=lambda o, i: None)
        secret_reg = factory.core_v1.secrets().informer.add_event_handler(on_add=lambda o, i: None)
        assert cm_reg.resync_period == 30.0
        assert secret_reg.resync_period == 60.0


async def test_shutdown_is_idempotent_and_waits_for_the_tasks(cs: AsyncClientset) -> None:
    factory = SharedInformerFactory(cs)
    cms = factory.core_v1.config_maps()
    pods = factory.core_v1.pods()
    factory.start()
    assert await factory.wait_for_cache_sync(timeout=DEADLINE) == {ConfigMap: True, Pod: True}
    tasks = list(factory._tasks.values())
    await factory.shutdown()
    assert all(t.done() for t in tasks)
    assert cms.informer.is_stopped() and pods.informer.is_stopped()
    await factory.shutdown()  # again: fine
    late = factory.core_v1.secrets()
    factory.start()  # after shutdown: starts nothing
    assert not late.informer.has_started()
    assert factory.shutting_down


async def test_standalone_typed_informer(cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "solo"}))
    informer = ConfigMapInformer.new_informer(cs, namespace=ns)
    typed = ConfigMapInformer(informer)
    informer.start()
    try:
        await until(informer.has_synced, "sync")
        assert typed.lister.config_maps(ns).get("solo").metadata.name == "solo"
    finally:
        await informer.stop()
