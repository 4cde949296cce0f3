"""The typed, dynamic and discovery clients against a real ``testserver apiserver`` process."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.api.meta.v1 import Status
from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.discovery import AsyncDiscoveryClient, AsyncRESTMapper, DiscoveryClient
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import Conflict, NotFound
from pyclientgo.kubernetes import AsyncClientset, Clientset
from testserver.testing import TestServer

_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@pytest.fixture(scope="module")
def live_config() -> Iterator[Config]:
    with TestServer() as server:
        yield load_config(kubeconfig=str(server.kubeconfig))


async def test_typed_crud_list_watch(live_config: Config) -> None:
    name = unique("cm")
    async with AsyncClientset(live_config) as cs:
        cms = cs.core_v1.config_maps("default")
        created = await cms.create(ConfigMap(metadata={"name": name, "labels": {"t": name}}, data={"a": "1"}))
        assert created.metadata is not None and created.metadata.uid
        got = await cms.get(name)
        assert got.data == {"a": "1"}
        assert got.data is not None
        got.data["b"] = "2"
        updated = await cms.update(got)
        assert updated.data == {"a": "1", "b": "2"}
        with pytest.raises(Conflict):
            await cms.update(got)  # stale resourceVersion
        merged = await cms.patch(name, {"data": {"c": "3"}}, patch_type="merge")
        assert merged.data is not None and merged.data["c"] == "3"
        strategic = await cms.patch(name, {"data": {"d": "4"}})
        assert strategic.data is not None and strategic.data["d"] == "4"
        ops = [{"op": "remove", "path": "/data/a"}]
        jsonp = await cms.patch(name, ops, patch_type="json")
        assert jsonp.data is not None and "a" not in jsonp.data

        everywhere = await cs.core_v1.config_maps().list(label_selector=f"t={name}")
        assert [i.metadata.name for i in everywhere.items or [] if i.metadata] == [name]
        assert everywhere.metadata is not None
        start = everywhere.metadata.resource_version

        deleted = await cms.delete(name)
        assert isinstance(deleted, Status | ConfigMap)
        with pytest.raises(NotFound):
            await cms.get(name)
        events = []
        async with contextlib.aclosing(
            cms.watch(resource_version=start, label_selector=f"t={name}", timeout_seconds=5)
        ) as stream:
            async for event in stream:
                events.append((event.type, event.object.metadata.name if event.object.metadata else None))
                if event.type == "DELETED":
                    break
        assert events == [("DELETED", name)]


async def test_scale_and_status(live_config: Config) -> None:
    name = unique("dep")
    labels = {"app": name}
    dep = Deployment.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
    )
    async with AsyncClientset(live_config) as cs:
        deployments = cs.apps_v1.deployments("default")
        await deployments.create(dep)
        scale = await deployments.get_scale(name)
        assert scale.spec is not None and scale.spec.replicas == 1
        scale = await deployments.patch_scale(name, {"spec": {"replicas": 3}})
        assert scale.spec is not None and scale.spec.replicas == 3
        got = await deployments.get_status(name)
        assert got.spec is not None and got.spec.replicas == 3
        await deployments.delete(name, propagation_policy="Background")


async def test_discovery_and_mapper(live_config: Config) -> None:
    async with AsyncClientset(live_config) as cs:
        version = await cs.discovery.server_version()
        assert version.major == "1"
        aggregated = await cs.discovery.server_groups_and_resources()
        legacy = await AsyncDiscoveryClient(cs.rest, aggregated=False).server_groups_and_resources()
        assert not aggregated.failed and not legacy.failed
        assert {r.gvr for r in aggregated.resources} == {r.gvr for r in legacy.resources}
        mapper = AsyncRESTMapper(cs.rest)
        assert await mapper.resource_for("po") == GroupVersionResource("", "v1", "pods")
        assert await mapper.resource_for("deployments.apps") == GroupVersionResource(
            "apps", "v1", "deployments"
        )
        mapping = await mapper.rest_mapping(
            GroupVersionKind("rbac.authorization.k8s.io", "v1", "ClusterRole")
        )
        assert mapping.gvr.resource == "clusterroles" and not mapping.namespaced


async def test_dynamic_builtin(live_config: Config) -> None:
    name = unique("dyn")
    async with AsyncDynamicClient(live_config) as dyn:
        cms = dyn.resource(GroupVersionResource("", "v1", "configmaps"), "default")
        created = await cms.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
        assert created["metadata"]["name"] == name
        patched = await cms.patch(name, {"data": {"k": "v"}}, patch_type="merge")
        assert patched["data"] == {"k": "v"}
        listed = await dyn.resource(GroupVersionResource("", "v1", "configmaps")).list()
        assert name in [i["metadata"]["name"] for i in listed["items"]]
        await cms.delete(name)


def test_sync_clientset_and_discovery(live_config: Config) -> None:
    name = unique("sync")
    with Clientset(live_config) as cs:
        cms = cs.core_v1.config_maps("default")
        cms.create(ConfigMap(metadata={"name": name}, data={"x": "y"}))
        assert cms.get(name).data == {"x": "y"}
        cms.delete(name)
        with pytest.raises(NotFound):
            cms.get(name)
        assert DiscoveryClient(cs.rest).server_version().major == "1"
