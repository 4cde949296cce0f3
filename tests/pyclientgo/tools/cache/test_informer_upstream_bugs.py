"""Regression tests for the upstream client-go bugs that concern the DeltaFIFO and shared informer."""

from __future__ import annotations

import asyncio
from typing import Any

from informer_fakes import Events, FakeCluster, new_informer, running, until

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.errors import Gone
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    DeltaFIFO,
    DeltaType,
    new_indexer,
    object_name,
)


def cm(name: str, rv: str = "1") -> ConfigMap:
    return ConfigMap.from_dict({"metadata": {"name": name, "namespace": "default", "resourceVersion": rv}})


# PR #115620: replace() emitted no delete for keys that were only queued (not yet in the indexer)
def test_replace_deletes_keys_only_queued() -> None:
    fifo = DeltaFIFO(known_objects=new_indexer())
    fifo.add(cm("queued-only"))
    fifo.replace([cm("other")], "5")
    deltas = fifo.get_by_key("default/queued-only")
    assert deltas is not None
    assert [d.type for d in deltas] == [DeltaType.ADDED, DeltaType.DELETED]
    assert isinstance(deltas[-1].object, DeletedFinalStateUnknown)


async def test_stale_objects_do_not_survive_a_relist() -> None:
    cluster = FakeCluster()
    cluster.apply("keep")
    informer, clock = new_informer(cluster)
    events = Events()
    informer.add_event_handler(events)
    async with running(informer):
        await until(informer.has_synced)
        cluster.apply("ghost", silently=True)  # never seen by the watch...
        cluster.delete("ghost", silently=True)  # ...nor its deletion
        cluster.apply("gone")
        await until(lambda: informer.get_indexer().get_by_key("default/gone") is not None)
        cluster.delete("gone", silently=True)
        cluster.break_watches(Gone.new("too old resource version"))
        await until(lambda: clock.sleeping > 0)
        clock.advance(60)
        await until(lambda: informer.get_indexer().get_by_key("default/gone") is None)
    assert informer.get_indexer().list_keys() == ["default/keep"]


# PR #86015: a relist looked like a resync; it must queue Replaced deltas
def test_relist_emits_replaced_not_sync() -> None:
    known = new_indexer()
    known.add(cm("a", "1"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.replace([cm("a", "2")], "2")
    deltas = fifo.get_by_key("default/a")
    assert deltas is not None and [d.type for d in deltas] == [DeltaType.REPLACED]


async def test_relist_change_reaches_handlers_without_resync() -> None:
    cluster = FakeCluster()
    cluster.apply("changed")
    cluster.apply("same")
    informer, clock = new_informer(cluster)
    events = Events()
    informer.add_event_handler(events, resync_period=0)
    async with running(informer):
        await until(lambda: len(events.log) == 2)
        cluster.apply("changed", data={"v": "2"}, silently=True)
        cluster.break_watches(Gone.new("too old resource version"))
        await until(lambda: clock.sleeping > 0)
        clock.advance(60)
        await until(lambda: len(events.log) == 3)
        cluster.apply("marker")
        await until(lambda: len(events.log) == 4)
    # the changed object is a real update; the unchanged one (same RV) is a resync nobody asked for
    assert events.log[2] == ("update", "changed", "1", "3")
    assert events.log[3][:2] == ("add", "marker")


# k8s#113763: has_synced was true before handlers had seen the initial list
async def test_handler_has_synced_only_after_it_saw_initial_list() -> None:
    cluster = FakeCluster()
    for i in range(5):
        cluster.apply(f"cm-{i}")
    informer, _ = new_informer(cluster)
    gate = asyncio.Event()
    seen: list[str] = []

    async def on_add(obj: Any, initial: bool) -> None:
        await gate.wait()
        seen.append(object_name(obj))

    reg = informer.add_event_handler(on_add=on_add)
    async with running(informer):
        await until(informer.has_synced)
        assert not reg.has_synced() and seen == []
        gate.set()
        await until(reg.has_synced)
        assert len(seen) == 5


# k8s#122067: a slow handler stalled the others
async def test_slow_handler_never_stalls_other_handlers() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    never = asyncio.Event()
    stuck: list[str] = []
    fast = Events()

    async def stuck_add(obj: Any, initial: bool) -> None:
        stuck.append(object_name(obj))
        await never.wait()

    stuck_reg = informer.add_event_handler(on_add=stuck_add)
    informer.add_event_handler(fast)
    async with running(informer):
        await until(informer.has_synced)
        for i in range(200):
            cluster.apply(f"cm-{i}")
        await until(lambda: len(fast.log) == 200)
        assert stuck == ["cm-0"]
        assert stuck_reg._listener.pending == 199
