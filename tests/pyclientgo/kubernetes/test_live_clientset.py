"""The typed clientsets (async and sync), the dynamic client and discovery against the session's real
``testserver apiserver`` (tests/conftest.py). Each test works in a namespace of its own.

(tests/pyclientgo/kubernetes/test_kubernetes_live.py covers the basic CRUD/patch flavours, scale and
status on a server of its own; this file covers the error contract, watch ordering, subresources and
namespace lifecycle.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from pathlib import Path
from typing import Any, cast

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import Binding, ConfigMap, Namespace, Pod
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.discovery import AsyncRESTMapper, RESTMapper
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import AlreadyExists, Conflict, Invalid, NotFound
from pyclientgo.kubernetes import AsyncClientset, Clientset
from pyclientgo.kubernetes.options import Preconditions

_ids = itertools.count()
DEADLINE = 15.0


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


def _name(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


async def _namespace(cs: AsyncClientset, prefix: str = "live") -> str:
    ns = _name(prefix)
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
    return ns


def _names(listed: Any) -> list[str]:
    return [i.metadata.name for i in listed.items or [] if i.metadata]


def _deployment(name: str, containers: list[dict[str, Any]]) -> Deployment:
    labels = {"app": name}
    return Deployment.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
            },
        }
    )


async def test_async_crud_and_error_contract(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs)
        cms = cs.core_v1.config_maps(ns)
        for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
            await cms.create(ConfigMap(metadata={"name": name, "labels": {"tier": tier}}, data={"k": name}))

        assert (await cms.get("a")).data == {"k": "a"}
        assert _names(await cms.list(label_selector="tier=web")) == ["a", "b"]
        assert _names(await cms.list(label_selector="tier!=web")) == ["c"]
        assert _names(await cms.list(field_selector="metadata.name=b")) == ["b"]
        assert _names(await cms.list(label_selector="tier=web", field_selector="metadata.name!=a")) == ["b"]

        stale = await cms.get("a")
        fresh = await cms.get("a")
        assert fresh.data is not None
        fresh.data["k"] = "a2"
        await cms.update(fresh)
        with pytest.raises(Conflict) as conflict:
            await cms.update(stale)
        assert conflict.value.code == 409 and conflict.value.reason == "Conflict"
        assert conflict.value.status["message"].startswith('Operation cannot be fulfilled on configmaps "a"')

        with pytest.raises(NotFound) as missing:
            await cms.get("x")
        assert missing.value.code == 404
        assert missing.value.status["message"] == 'configmaps "x" not found'
        assert missing.value.details.get("name") == "x" and missing.value.details.get("kind") == "configmaps"

        with pytest.raises(AlreadyExists) as exists:
            await cms.create(ConfigMap(metadata={"name": "a"}))
        assert exists.value.code == 409 and exists.value.reason == "AlreadyExists"
        assert exists.value.status["message"] == 'configmaps "a" already exists'

        with pytest.raises(Invalid) as invalid:
            await cms.create(ConfigMap(metadata={"name": "Not_Valid"}))
        assert invalid.value.code == 422 and invalid.value.reason == "Invalid"
        assert invalid.value.causes, invalid.value.status
        assert any(c.field == "metadata.name" for c in invalid.value.causes)

        # delete with preconditions: a wrong uid is a Conflict, the right one deletes
        b = await cms.get("b")
        assert b.metadata is not None and b.metadata.uid
        with pytest.raises(Conflict):
            await cms.delete("b", preconditions=Preconditions(uid="00000000-0000-0000-0000-000000000000"))
        with pytest.raises(Conflict):
            await cms.delete("b", preconditions={"resourceVersion": "1"})
        await cms.delete("b", preconditions=Preconditions(uid=b.metadata.uid))
        with pytest.raises(NotFound):
            await cms.get("b")

        await cms.delete_collection(label_selector="tier=db")
        assert _names(await cms.list()) == ["a"]
        await cms.delete_collection()
        assert _names(await cms.list()) == []


def test_sync_crud_and_error_contract(config: Config) -> None:
    ns = _name("sync")
    with Clientset(config) as cs:
        cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
        cms = cs.core_v1.config_maps(ns)
        cms.create(ConfigMap(metadata={"name": "a", "labels": {"x": "1"}}, data={"k": "v"}))
        cms.create(ConfigMap(metadata={"name": "b"}))
        assert _names(cms.list(label_selector="x=1")) == ["a"]
        assert _names(cms.list(field_selector="metadata.name=b")) == ["b"]
        stale = cms.get("a")
        same = cms.update(cms.get("a"))  # a no-op update keeps the resourceVersion (as kube)
        assert same.metadata is not None and stale.metadata is not None
        assert same.metadata.resource_version == stale.metadata.resource_version
        changed = cms.get("a")
        changed.data = {"k": "v2"}
        cms.update(changed)
        with pytest.raises(Conflict):
            cms.update(stale)
        with pytest.raises(NotFound) as missing:
            cms.get("x")
        assert missing.value.status["message"] == 'configmaps "x" not found'
        with pytest.raises(AlreadyExists):
            cms.create(ConfigMap(metadata={"name": "a"}))
        with pytest.raises(Invalid) as invalid:
            cms.create(ConfigMap(metadata={"name": "Not_Valid"}))
        assert invalid.value.causes
        with pytest.raises(Conflict):
            cms.delete("a", preconditions=Preconditions(resource_version="1"))
        cms.delete_collection(label_selector="x=1")
        assert _names(cms.list()) == ["b"]
        events = []
        with contextlib.closing(cast(Any, cms.watch(resource_version="0", timeout_seconds=5))) as stream:
            for event in stream:
                events.append((event.type, event.object.metadata.name if event.object.metadata else None))
                break
        assert events == [("ADDED", "b")]


async def test_watch_order_with_bookmarks(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs, "watch")
        cms = cs.core_v1.config_maps(ns)
        start = (await cms.list()).metadata
        assert start is not None and start.resource_version
        seen: list[tuple[str, str | None, str | None]] = []
        bookmark_rvs: list[int] = []

        async def consume() -> None:
            stream: Any = cms.watch(
                resource_version=start.resource_version, allow_watch_bookmarks=True, timeout_seconds=10
            )
            async with contextlib.aclosing(stream) as events:
                async for ev in events:
                    meta = ev.object.metadata
                    assert meta is not None
                    if ev.type == "BOOKMARK":
                        bookmark_rvs.append(int(meta.resource_version or 0))
                        if seen and seen[-1][0] == "DELETED":
                            return  # a bookmark after everything: done
                        continue
                    data = ev.object.data or {}
                    seen.append((ev.type, meta.name, data.get("v")))

        task = asyncio.create_task(consume())
        await cms.create(ConfigMap(metadata={"name": "w"}, data={"v": "1"}))
        await cms.patch("w", {"data": {"v": "2"}}, patch_type="merge")
        await cms.delete("w")
        deleted_rv = int((await cms.list()).metadata.resource_version or 0)  # type: ignore[union-attr]
        await asyncio.wait_for(task, DEADLINE)
        assert seen == [("ADDED", "w", "1"), ("MODIFIED", "w", "2"), ("DELETED", "w", "2")]
        assert bookmark_rvs and bookmark_rvs[-1] >= deleted_rv


async def test_pod_bind_and_evict(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs, "pods")
        pods = cs.core_v1.pods(ns)
        for name in ("p1", "p2"):
            await pods.create(
                Pod.from_dict(
                    {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
                )
            )
        binding = Binding.from_dict(
            {"metadata": {"name": "p1", "namespace": ns}, "target": {"kind": "Node", "name": "node-1"}}
        )
        await pods.bind(binding)
        bound = await pods.get("p1")
        assert bound.spec is not None and bound.spec.node_name == "node-1"
        assert bound.status is not None
        assert any(c.type == "PodScheduled" and c.status == "True" for c in bound.status.conditions or [])
        with pytest.raises(Conflict) as again:
            await pods.bind(binding)
        assert again.value.code == 409
        assert 'is already assigned to node "node-1"' in again.value.status["message"]

        await pods.evict("p2", delete_options={"gracePeriodSeconds": 0})
        with pytest.raises(NotFound):
            await pods.get("p2")


async def test_deployment_scale_and_strategic_merge(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs, "deploy")
        deployments = cs.apps_v1.deployments(ns)
        containers: list[dict[str, Any]] = [
            {"name": "a", "image": "a:1"},
            {"name": "b", "image": "b:1", "env": [{"name": "E", "value": "1"}]},
        ]
        await deployments.create(_deployment("d", containers))

        scale = await deployments.get_scale("d")
        assert scale.spec is not None and scale.spec.replicas == 1
        scale = await deployments.patch_scale("d", {"spec": {"replicas": 4}})
        assert scale.spec is not None and scale.spec.replicas == 4
        got = await deployments.get("d")
        assert got.spec is not None and got.spec.replicas == 4

        patch = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}
        patched = await deployments.patch("d", patch)  # strategic merge: containers merge by name
        assert patched.spec is not None and patched.spec.template is not None
        pod_spec = patched.spec.template.spec
        assert pod_spec is not None
        by_name = {c.name: c for c in pod_spec.containers or []}
        assert list(by_name) == ["a", "b"]
        assert by_name["a"].image == "a:1" and by_name["b"].image == "b:2"
        assert [(e.name, e.value) for e in by_name["b"].env or []] == [("E", "1")]

        # a JSON merge patch replaces the list instead
        merged = await deployments.patch("d", patch, patch_type="merge")
        assert (
            merged.spec is not None
            and merged.spec.template is not None
            and merged.spec.template.spec is not None
        )
        assert [c.name for c in merged.spec.template.spec.containers or []] == ["b"]


async def test_namespace_terminating_then_gone(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs, "term")
        await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "content"}))
        namespaces = cs.core_v1.namespaces()
        listed = await namespaces.list(field_selector=f"metadata.name={ns}")
        assert listed.metadata is not None
        since = listed.metadata.resource_version
        deleted = await namespaces.delete(ns)
        assert isinstance(deleted, Namespace)
        assert deleted.status is not None and deleted.status.phase == "Terminating"
        assert deleted.metadata is not None and deleted.metadata.deletion_timestamp is not None
        with contextlib.suppress(NotFound):
            got = await namespaces.get(ns)
            assert got.status is not None and got.status.phase == "Terminating"

        async def gone() -> None:
            stream: Any = namespaces.watch(
                resource_version=since,
                field_selector=f"metadata.name={ns}",
                timeout_seconds=int(DEADLINE),
            )
            async with contextlib.aclosing(stream) as events:
                async for ev in events:
                    if ev.type == "DELETED":
                        return
            raise AssertionError("the namespace was never removed")

        await asyncio.wait_for(gone(), DEADLINE)
        with pytest.raises(NotFound):
            await namespaces.get(ns)


async def test_dynamic_and_restmapper(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs, "dyn")
        mapper = AsyncRESTMapper(cs.rest)
        gvr = await mapper.resource_for("deploy")
        assert gvr == GroupVersionResource("apps", "v1", "deployments")
        kind = await mapper.kind_for("deploy")
        assert (kind.group, kind.version, kind.kind) == ("apps", "v1", "Deployment")
        assert (await mapper.resource_for("cm")) == GroupVersionResource("", "v1", "configmaps")

        async with AsyncDynamicClient(config) as dyn:
            deployments = dyn.resource(gvr, ns)
            body = _deployment("dd", [{"name": "c", "image": "i"}]).to_dict()
            created = await deployments.create(body)
            assert created["kind"] == "Deployment" and created["metadata"]["namespace"] == ns
            typed = await cs.apps_v1.deployments(ns).get("dd")
            assert typed.metadata is not None and typed.metadata.uid == created["metadata"]["uid"]
            listed = await deployments.list()
            assert [i["metadata"]["name"] for i in listed["items"]] == ["dd"]
            await deployments.delete("dd")
            with pytest.raises(NotFound):
                await deployments.get("dd")


def test_sync_restmapper(config: Config) -> None:
    with Clientset(config) as cs:
        assert RESTMapper(cs.rest).resource_for("deploy") == GroupVersionResource("apps", "v1", "deployments")
