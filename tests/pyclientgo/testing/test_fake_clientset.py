"""The fake clientset: the same typed API over an in-memory tracker (no server)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import ConfigMap, Pod, PodStatus
from pyclientgo.errors import AlreadyExists, Conflict, NotFound, error_for_status
from pyclientgo.testing import AsyncFakeClientset, FakeClientset


def cm(name: str, ns: str = "default", **labels: str) -> ConfigMap:
    return ConfigMap(metadata={"name": name, "namespace": ns, "labels": labels or None}, data={"k": name})


async def test_crud_and_errors() -> None:
    cs = AsyncFakeClientset(cm("seeded"))
    cms = cs.core_v1.configmaps("default")
    got = await cms.get("seeded")
    assert got.data == {"k": "seeded"} and got.metadata.uid and got.metadata.resource_version
    created = await cms.create(cm("new"))
    assert created.metadata.generation == 1
    with pytest.raises(AlreadyExists):
        await cms.create(cm("new"))
    with pytest.raises(NotFound, match='configmaps "missing" not found'):
        await cms.get("missing")
    created.data = {"k": "changed"}
    updated = await cms.update(created)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    with pytest.raises(Conflict):
        await cms.update(created)  # stale resourceVersion
    await cms.delete("new")
    with pytest.raises(NotFound):
        await cms.get("new")
    verbs = [a.verb for a in cs.actions]
    assert verbs == ["get", "create", "create", "get", "update", "update", "delete", "get"]


async def test_list_with_selectors_and_namespaces() -> None:
    cs = AsyncFakeClientset(cm("a", app="x"), cm("b", app="y"), cm("c", "other", app="x"))
    all_ns = await cs.core_v1.configmaps().list(label_selector="app=x")
    assert sorted(i.metadata.name for i in all_ns.items) == ["a", "c"]
    one = await cs.core_v1.configmaps("default").list(field_selector="metadata.name=b")
    assert [i.metadata.name for i in one.items] == ["b"]


async def test_patches() -> None:
    dep = Deployment.from_dict(
        {
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "spec": {"containers": [{"name": "c1", "image": "x"}, {"name": "c2", "image": "y"}]}
                },
            },
        }
    )
    cs = AsyncFakeClientset(dep)
    deps = cs.apps_v1.deployments("default")
    patched = await deps.patch(
        "d", {"spec": {"template": {"spec": {"containers": [{"name": "c2", "image": "z"}]}}}}
    )
    images = {c.name: c.image for c in patched.spec.template.spec.containers}
    assert images == {"c1": "x", "c2": "z"}, "strategic merge by container name"
    merged = await deps.patch("d", {"metadata": {"labels": {"l": "v"}}}, patch_type="merge")
    assert merged.metadata.labels == {"l": "v"}
    jp = await deps.patch("d", [{"op": "add", "path": "/spec/replicas", "value": 3}], patch_type="json")
    assert jp.spec.replicas == 3
    assert jp.metadata.generation == 3, "labels alone do not bump the generation"


async def test_watch_and_replay_from_resource_version() -> None:
    cs = AsyncFakeClientset(cm("a"))
    cms = cs.core_v1.configmaps("default")
    listed = await cms.list()
    await cms.create(cm("b"))  # happens between list and watch: must be replayed
    events = []

    async def consume() -> None:
        async with contextlib.aclosing(
            cms.watch(resource_version=listed.metadata.resource_version)
        ) as stream:
            async for event in stream:
                events.append((event.type, event.object.metadata.name))
                if len(events) == 3:
                    return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await cms.create(cm("c"))
    await cms.delete("a")
    await asyncio.wait_for(task, 10)
    assert events == [("ADDED", "b"), ("ADDED", "c"), ("DELETED", "a")]


async def test_reactor_injects_errors() -> None:
    cs = AsyncFakeClientset(cm("a"))
    calls = 0

    def fail_once(action: object) -> tuple[bool, object]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return True, error_for_status({"reason": "Conflict", "code": 409, "message": "injected"})
        return False, None

    cs.prepend_reactor("update", "configmaps", fail_once)
    cms = cs.core_v1.configmaps("default")
    obj = await cms.get("a")
    with pytest.raises(Conflict, match="injected"):
        await cms.update(obj)
    assert (await cms.update(obj)).metadata.name == "a"


async def test_status_subresource_and_binding() -> None:
    pod = Pod.from_dict(
        {
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }
    )
    cs = AsyncFakeClientset(pod)
    pods = cs.core_v1.pods("default")
    got = await pods.get("p")
    got.status = PodStatus(phase="Running")
    await pods.update(got)
    assert (await pods.get("p")).status is None, "main-resource updates ignore status"
    got = await pods.get("p")
    got.status = PodStatus(phase="Running")
    await pods.update_status(got)
    assert (await pods.get("p")).status.phase == "Running"
    await pods.bind({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-1"}})
    assert (await pods.get("p")).spec.node_name == "node-1"


def test_sync_twin_with_watch() -> None:
    with FakeClientset(cm("a")) as cs:
        cms = cs.core_v1.configmaps("default")
        assert cms.get("a").data == {"k": "a"}
        listed = cms.list()
        cms.create(cm("b"))
        stream = cms.watch(resource_version=listed.metadata.resource_version, timeout_seconds=1)
        first = next(iter(stream))
        assert (first.type, first.object.metadata.name) == ("ADDED", "b")
