"""The fake clientset's tracker behaves like the API server where controllers can tell the difference."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.errors import ApiError, NotFound
from pyclientgo.testing import AsyncFakeClientset


def cm(name: str, **labels: str) -> ConfigMap:
    return ConfigMap(
        metadata={"name": name, "namespace": "default", "labels": labels or None}, data={"k": name}
    )


async def collect(stream: Any, n: int) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    async with contextlib.aclosing(stream) as events:
        async for event in events:
            meta = event.object.metadata
            out.append((event.type, meta.name or "", meta.resource_version or ""))
            if len(out) == n:
                break
    return out


async def watching(cs: AsyncFakeClientset, n: int = 1) -> None:
    """Wait until ``n`` watches are open on the tracker (so later writes reach them live)."""
    for _ in range(1000):
        if len(cs.tracker._watches) >= n:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the watch never opened")


async def test_watch_with_selector_sees_objects_enter_and_leave() -> None:
    cs = AsyncFakeClientset(cm("other"))
    cms = cs.core_v1.configmaps("default")
    start = (await cms.list()).metadata.resource_version
    assert start != "0"
    live = asyncio.create_task(collect(cms.watch(label_selector="app=x"), 3))
    await watching(cs)
    a = await cms.create(cm("a", app="y"))  # not selected: nothing
    a.metadata.labels = {"app": "x"}
    a = await cms.update(a)  # enters the selection: ADDED
    a.data = {"k": "changed"}
    a = await cms.update(a)  # stays: MODIFIED
    a.metadata.labels = {"app": "z"}
    left = await cms.update(a)  # leaves: DELETED, at the update's resourceVersion
    events = await asyncio.wait_for(live, 10)
    assert [(t, n) for t, n, _ in events] == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert events[-1][2] == left.metadata.resource_version
    replayed = await asyncio.wait_for(
        collect(cms.watch(label_selector="app=x", resource_version=start), 3), 10
    )
    assert replayed == events, "a watch from an old resourceVersion replays the same filtered events"


async def test_deletion_waits_for_finalizers() -> None:
    dep = Deployment.from_dict(
        {
            "metadata": {"name": "d", "namespace": "default", "finalizers": ["example.com/cleanup"]},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {"containers": []}}},
        }
    )
    cs = AsyncFakeClientset(dep)
    deps = cs.apps_v1.deployments("default")
    before = await deps.get("d")
    live = asyncio.create_task(collect(deps.watch(resource_version=before.metadata.resource_version), 3))
    await watching(cs)
    await deps.delete("d")
    pending = await deps.get("d")
    assert pending.metadata.deletion_timestamp is not None
    assert pending.metadata.generation == before.metadata.generation + 1, "deletion bumps the generation"
    pending.metadata.finalizers = None
    await deps.update(pending)
    with pytest.raises(NotFound):
        await deps.get("d")
    events = await asyncio.wait_for(live, 10)
    assert [t for t, _, _ in events] == ["MODIFIED", "MODIFIED", "DELETED"]


async def test_server_sets_identity_fields_and_skips_no_op_updates() -> None:
    cs = AsyncFakeClientset()
    cms = cs.core_v1.configmaps("default")
    sent = cm("a")
    sent.metadata.uid = "client-chosen"
    created = await cms.create(sent)
    assert created.metadata.uid and created.metadata.uid != "client-chosen"
    again = await cms.update(created)
    assert again.metadata.resource_version == created.metadata.resource_version, "a no-op writes nothing"
    assert cs.tracker.resource_version == int(created.metadata.resource_version)


async def test_watch_list_initial_events_end_with_a_bookmark() -> None:
    cs = AsyncFakeClientset(cm("a"), cm("b"))
    cms = cs.core_v1.configmaps("default")
    stream = cms.watch(
        send_initial_events=True, resource_version_match="NotOlderThan", allow_watch_bookmarks=True
    )
    events: list[Any] = []

    async def until_bookmark() -> None:
        async with contextlib.aclosing(stream) as it:
            async for event in it:
                events.append(event)
                if event.type == "BOOKMARK":
                    return

    await asyncio.wait_for(until_bookmark(), 10)
    assert [(e.type, e.object.metadata.name) for e in events[:2]] == [("ADDED", "a"), ("ADDED", "b")]
    bookmark = events[2].object.metadata
    assert bookmark.annotations == {"k8s.io/initial-events-end": "true"}
    assert bookmark.resource_version == str(cs.tracker.resource_version)
    with pytest.raises(ApiError) as err:
        async with contextlib.aclosing(cms.watch(send_initial_events=True)) as it:
            async for _ in it:
                break
    assert err.value.code == 422


async def test_watch_from_a_version_older_than_the_history_is_expired() -> None:
    from pyclientgo.errors import is_resource_expired
    from pyclientgo.testing import ObjectTracker

    cs = AsyncFakeClientset(tracker=ObjectTracker(history=3))
    cms = cs.core_v1.configmaps("default")
    first = await cms.create(cm("a"))
    for name in "bcde":  # the history keeps the changes of c, d and e
        await cms.create(cm(name))
    with pytest.raises(ApiError) as err:
        await collect(cms.watch(resource_version=first.metadata.resource_version), 1)
    assert err.value.code == 410 and is_resource_expired(err.value)
    recent = await cms.get("b")  # changes after b are still in the history: replayed
    replayed = await asyncio.wait_for(
        collect(cms.watch(resource_version=recent.metadata.resource_version), 2), 10
    )
    assert [(t, n) for t, n, _ in replayed] == [("ADDED", "c"), ("ADDED", "d")]


async def test_watch_list_informer_syncs_on_the_fake() -> None:
    from pyclientgo.informers import SharedInformerFactory

    cs = AsyncFakeClientset(cm("a"))
    factory = SharedInformerFactory(cs, informer_options={"use_watch_list": True})
    informer = factory.core_v1.configmaps()
    factory.start()
    try:
        synced = await asyncio.wait_for(factory.wait_for_cache_sync(), 10)
        assert all(synced.values())
        assert [o.metadata.name for o in informer.informer.get_indexer().list()] == ["a"]
        assert [a.verb for a in cs.actions] == ["watch"], "a watch-list needs no LIST"
    finally:
        await factory.shutdown()
