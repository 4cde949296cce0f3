"""SharedIndexInformer (docs/reference/client_go_semantics.md §4.1-4.10) over an in-memory ListerWatcher and the Reflector."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from informer_fakes import Events, FakeCluster, new_informer, running, until

from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.errors import Gone
from pyclientgo.testing import AsyncFakeClock
from pyclientgo.tools.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    FilteringResourceEventHandler,
    InformerStartedError,
    InformerStoppedError,
    ResourceEventHandlerFuncs,
    SharedIndexInformer,
    drop_managed_fields,
    meta_namespace_index_func,
    object_labels,
    object_name,
    wait_for_cache_sync,
)


async def synced(informer: SharedIndexInformer) -> None:
    await until(informer.has_synced)


# -- §4.1 ----------------------------------------------------------------------------------------


async def test_indexer_updated_before_handlers() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    informer, _ = new_informer(cluster)
    seen: list[tuple[str, bool]] = []

    def on_add(obj: Any, initial: bool) -> None:
        seen.append(("add", informer.get_indexer().get(obj) is obj))

    def on_update(old: Any, new: Any) -> None:
        seen.append(("update", informer.get_indexer().get(new) is new))

    def on_delete(obj: Any) -> None:
        seen.append(("delete", informer.get_indexer().get(obj) is None))

    informer.add_event_handler(on_add=on_add, on_update=on_update, on_delete=on_delete)
    async with running(informer):
        await until(lambda: len(seen) == 1)
        cluster.apply("a", data={"x": "1"})
        await until(lambda: len(seen) == 2)
        cluster.delete("a")
        await until(lambda: len(seen) == 3)
    assert seen == [("add", True), ("update", True), ("delete", True)]


async def test_second_run_is_ignored() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    async with running(informer):
        await synced(informer)
        await asyncio.wait_for(informer.run(), 5)  # returns at once
        assert not informer.is_stopped()
    assert informer.is_stopped()
    assert len(cluster.list_calls) == 1


async def test_set_transform_and_watch_error_handler_fail_once_started() -> None:
    informer, _ = new_informer(FakeCluster())
    informer.set_transform(drop_managed_fields)
    informer.set_watch_error_handler(lambda r, e: None)
    async with running(informer):
        await synced(informer)
        with pytest.raises(InformerStartedError):
            informer.set_transform(None)
        with pytest.raises(InformerStartedError):
            informer.set_watch_error_handler(lambda r, e: None)


async def test_add_event_handler_after_stop_fails() -> None:
    informer, _ = new_informer(FakeCluster())
    async with running(informer):
        await synced(informer)
    with pytest.raises(InformerStoppedError):
        informer.add_event_handler(on_add=lambda o, i: None)
    with pytest.raises(InformerStoppedError):
        informer.add_indexers({"x": meta_namespace_index_func})


async def test_stop_before_start_prevents_run() -> None:
    informer, _ = new_informer(FakeCluster())
    await informer.stop()
    assert informer.is_stopped()
    await asyncio.wait_for(informer.run(), 5)
    assert not informer.has_started()


async def test_cancelling_run_stops_informer() -> None:
    informer, _ = new_informer(FakeCluster())
    task = asyncio.create_task(informer.run())
    await synced(informer)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert informer.is_stopped()


# -- §4.2 / §4.3 resync ----------------------------------------------------------------------------


def test_handler_resync_period_rules() -> None:
    informer = SharedIndexInformer(FakeCluster(), None, resync_period=0.5, clock=AsyncFakeClock())
    assert informer.add_event_handler(on_add=print, resync_period=0).resync_period == 0
    assert informer.add_event_handler(on_add=print, resync_period=0.2).resync_period == 1.0
    assert informer.add_event_handler(on_add=print, resync_period=7).resync_period == 7
    # the informer default is 0: handlers never resync
    no_default = SharedIndexInformer(FakeCluster(), None, clock=AsyncFakeClock())
    assert no_default.add_event_handler(on_add=print, resync_period=5).resync_period == 0
    assert no_default.add_event_handler(on_add=print).resync_period == 0


def test_handler_resync_lowers_check_period_before_start() -> None:
    informer = SharedIndexInformer(FakeCluster(), None, resync_period=10, clock=AsyncFakeClock())
    default = informer.add_event_handler(on_add=print)
    fast = informer.add_event_handler(on_add=print, resync_period=2)
    assert fast.resync_period == 2
    assert default.resync_period == 10


async def test_handler_resync_raised_to_check_period_once_started() -> None:
    informer, _ = new_informer(FakeCluster(), resync_period=10)
    async with running(informer):
        await synced(informer)
        assert informer.add_event_handler(Events(), resync_period=2).resync_period == 10
        assert informer.add_event_handler(Events(), resync_period=30).resync_period == 30


async def test_resync_goes_only_to_handlers_due() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    informer, clock = new_informer(cluster, resync_period=4)
    every2, every4, never = Events(), Events(), Events()
    informer.add_event_handler(every2, resync_period=2)
    informer.add_event_handler(every4)  # the informer default, 4 s
    informer.add_event_handler(never, resync_period=0)
    async with running(informer):
        await synced(informer)
        await until(lambda: len(every2.log) == len(every4.log) == len(never.log) == 1)
        await until(lambda: clock.sleeping > 0)
        clock.advance(2)
        await until(lambda: len(every2.log) == 2)
        assert every2.log[-1] == ("update", "a", "1", "1")
        await until(lambda: clock.sleeping > 0)
        clock.advance(2)
        await until(lambda: len(every2.log) == 3 and len(every4.log) == 2)
        # a real change reaches everyone, the resyncs did not reach "never"
        cluster.apply("a", data={"v": "2"})
        await until(lambda: len(never.log) == 2)
    assert never.kinds() == ["add", "update"]
    assert never.log[-1] == ("update", "a", "1", "2")
    assert every4.log[1] == ("update", "a", "1", "1")


async def test_no_resync_when_informer_period_zero() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    informer, clock = new_informer(cluster)
    events = Events()
    informer.add_event_handler(events, resync_period=1)
    async with running(informer):
        await synced(informer)
        await until(lambda: len(events.log) == 1)
        clock.advance(100)
        cluster.apply("b")
        await until(lambda: len(events.log) == 2)
    assert events.kinds() == ["add", "add"]


# -- §4.4 per-handler buffers ------------------------------------------------------------------------


async def test_slow_handler_does_not_block_others_and_keeps_order() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    gate = asyncio.Event()
    slow: list[str] = []
    fast = Events()

    async def slow_add(obj: Any, initial: bool) -> None:
        await gate.wait()
        slow.append(object_name(obj))

    informer.add_event_handler(on_add=slow_add)
    informer.add_event_handler(fast)
    async with running(informer):
        await synced(informer)
        for name in ("a", "b", "c", "d"):
            cluster.apply(name)
        await until(lambda: len(fast.log) == 4)
        assert slow == []
        gate.set()
        await until(lambda: len(slow) == 4)
    assert slow == ["a", "b", "c", "d"]


async def test_handler_runs_one_notification_at_a_time() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    active = 0
    max_active = 0
    done: list[str] = []

    async def on_add(obj: Any, initial: bool) -> None:
        nonlocal active, max_active
        active += 1
        max_active = max(max_active, active)
        for _ in range(3):
            await asyncio.sleep(0)
        active -= 1
        done.append(object_name(obj))

    informer.add_event_handler(on_add=on_add)
    async with running(informer):
        for name in "abcdef":
            cluster.apply(name)
        await until(lambda: len(done) == 6)
    assert max_active == 1
    assert done == list("abcdef")


async def test_failing_handler_does_not_break_others_or_itself() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    calls: list[str] = []
    good = Events()

    def bad(obj: Any, initial: bool) -> None:
        calls.append(object_name(obj))
        raise RuntimeError("handler bug")

    informer.add_event_handler(on_add=bad)
    informer.add_event_handler(good)
    async with running(informer):
        cluster.apply("a")
        cluster.apply("b")
        await until(lambda: len(calls) == 2 and len(good.log) == 2)
    assert calls == ["a", "b"]


# -- §4.5 / §4.6 late handlers and per-handler has_synced ------------------------------------------


async def test_late_handler_gets_synthetic_initial_adds_first() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    cluster.apply("b")
    informer, _ = new_informer(cluster)
    async with running(informer):
        await synced(informer)
        late = Events()
        reg = informer.add_event_handler(late)
        cluster.apply("c")
        await until(lambda: len(late.log) == 3)
        assert reg.has_synced()
    assert sorted(late.log[:2]) == [("add", "a", "1", True), ("add", "b", "2", True)]
    assert late.log[2] == ("add", "c", "3", False)


async def test_per_handler_has_synced_waits_for_initial_adds() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    cluster.apply("b")
    informer, _ = new_informer(cluster)
    gate = asyncio.Event()
    got: list[bool] = []

    async def slow_add(obj: Any, initial: bool) -> None:
        await gate.wait()
        got.append(initial)

    slow_reg = informer.add_event_handler(on_add=slow_add)
    fast_reg = informer.add_event_handler(Events())
    assert not slow_reg.has_synced()
    async with running(informer):
        await synced(informer)
        await until(fast_reg.has_synced)
        assert not slow_reg.has_synced()
        gate.set()
        await until(slow_reg.has_synced)
        # a late slow handler is not synced until its synthetic adds are delivered
        gate.clear()
        late = informer.add_event_handler(on_add=slow_add)
        assert not late.has_synced()
        gate.set()
        await until(late.has_synced)
    assert got == [True] * 4


async def test_informer_has_synced_never_turns_false() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    informer, clock = new_informer(cluster)
    async with running(informer):
        await synced(informer)
        cluster.break_watches(Gone.new("too old"))
        await until(lambda: clock.sleeping > 0)
        clock.advance(60)
        await until(lambda: len(cluster.list_calls) == 2)
        assert informer.has_synced()


# -- §4.7 remove_event_handler -------------------------------------------------------------------------


async def test_remove_event_handler_drops_buffered_and_is_idempotent() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    gate = asyncio.Event()
    started: list[str] = []
    finished: list[str] = []
    other = Events()

    async def slow_add(obj: Any, initial: bool) -> None:
        started.append(object_name(obj))
        await gate.wait()
        finished.append(object_name(obj))

    reg = informer.add_event_handler(on_add=slow_add)
    informer.add_event_handler(other)
    async with running(informer):
        await synced(informer)
        for name in ("a", "b", "c"):
            cluster.apply(name)
        await until(lambda: started == ["a"] and len(other.log) == 3)
        informer.remove_event_handler(reg)
        informer.remove_event_handler(reg)  # idempotent
        gate.set()
        cluster.apply("d")
        await until(lambda: len(other.log) == 4)
        await until(lambda: finished == ["a"])
        for _ in range(20):
            await asyncio.sleep(0)
    assert started == ["a"] and finished == ["a"]


# -- §4.8 on_delete: last known object or tombstone ----------------------------------------------------


async def test_on_delete_gets_object_or_stale_tombstone() -> None:
    cluster = FakeCluster()
    cluster.apply("watched")
    cluster.apply("missed", data={"v": "old"})
    informer, clock = new_informer(cluster)
    events = Events()
    informer.add_event_handler(events)
    async with running(informer):
        await synced(informer)
        cluster.delete("watched")
        await until(lambda: "delete" in events.kinds())
        first = events.log[-1][1]
        assert not isinstance(first, DeletedFinalStateUnknown)
        assert object_name(first) == "watched"
        cluster.apply("missed", data={"v": "new"}, silently=True)
        cluster.delete("missed", silently=True)
        cluster.break_watches(Gone.new("too old resource version"))
        await until(lambda: clock.sleeping > 0)
        clock.advance(60)
        await until(lambda: events.kinds().count("delete") == 2)
    tomb = events.log[-1][1]
    assert isinstance(tomb, DeletedFinalStateUnknown)
    assert tomb.key == "default/missed"
    assert tomb.obj.data == {"v": "old"}  # stale: the last state the cache knew
    assert informer.get_indexer().list_keys() == []


# -- §4.9 FilteringResourceEventHandler -----------------------------------------------------------------


def test_filtering_handler_cases() -> None:
    inner = Events()

    def obj(name: str, on: bool) -> dict[str, Any]:
        return {"metadata": {"name": name, "resourceVersion": "1", "labels": {"on": str(on)}}}

    handler = FilteringResourceEventHandler(lambda o: object_labels(o).get("on") == "True", inner)
    handler.on_update(obj("both", True), obj("both", True))
    handler.on_update(obj("enter", False), obj("enter", True))
    handler.on_update(obj("leave", True), obj("leave", False))
    handler.on_update(obj("none", False), obj("none", False))
    handler.on_add(obj("add-no", False), True)
    handler.on_add(obj("add-yes", True), True)
    handler.on_delete(obj("del-no", False))
    handler.on_delete(obj("del-yes", True))
    assert [(e[0], e[1] if e[0] != "delete" else object_name(e[1])) for e in inner.log] == [
        ("update", "both"),
        ("add", "enter"),
        ("delete", "leave"),
        ("add", "add-yes"),
        ("delete", "del-yes"),
    ]
    assert inner.log[1][3] is False  # an update entering the filter is not an initial-list add


async def test_filtering_handler_with_async_inner_in_informer() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster)
    got: list[tuple[str, str]] = []

    async def add(obj: Any, initial: bool) -> None:
        got.append(("add", object_name(obj)))

    async def delete(obj: Any) -> None:
        got.append(("delete", object_name(obj)))

    inner = ResourceEventHandlerFuncs(on_add=add, on_delete=delete)
    informer.add_event_handler(
        FilteringResourceEventHandler(lambda o: object_labels(o).get("app") == "x", inner)
    )
    async with running(informer):
        await synced(informer)
        cluster.apply("a", labels={"app": "x"})
        cluster.apply("b", labels={"app": "y"})
        cluster.apply("b", labels={"app": "x"})
        cluster.apply("a", labels={"app": "y"})
        await until(lambda: len(got) == 3)
    # deltas are grouped per key, so only the per-object order is fixed
    assert [e for e in got if e[1] == "a"] == [("add", "a"), ("delete", "a")]
    assert [e for e in got if e[1] == "b"] == [("add", "b")]


# -- §4.10 wait_for_cache_sync -----------------------------------------------------------------------------


async def test_wait_for_cache_sync_checks_at_once() -> None:
    clock = AsyncFakeClock()
    assert await wait_for_cache_sync(lambda: True, lambda: True, clock=clock)
    assert clock.sleeps == []


async def test_wait_for_cache_sync_polls_every_100ms() -> None:
    clock = AsyncFakeClock()
    answers = iter([False, False, False, True])
    assert await wait_for_cache_sync(lambda: next(answers), clock=clock)
    assert clock.sleeps == [0.1, 0.1, 0.1]


async def test_wait_for_cache_sync_false_when_stopped() -> None:
    clock = AsyncFakeClock(autojump=False)
    stop = asyncio.Event()
    task = asyncio.create_task(wait_for_cache_sync(lambda: False, stop=stop, clock=clock))
    await until(lambda: clock.sleeping > 0)
    stop.set()
    assert await asyncio.wait_for(task, 5) is False
    stop2 = asyncio.Event()
    stop2.set()
    assert await wait_for_cache_sync(lambda: False, stop=stop2, clock=clock) is False


async def test_wait_for_cache_sync_with_informer_and_registrations() -> None:
    cluster = FakeCluster()
    for n in "abc":
        cluster.apply(n)
    informer, _ = new_informer(cluster)
    reg = informer.add_event_handler(Events())
    async with running(informer):
        assert await asyncio.wait_for(
            wait_for_cache_sync(informer.has_synced, reg.has_synced, clock=AsyncFakeClock()), 5
        )
        assert sorted(informer.get_indexer().list_keys()) == ["default/a", "default/b", "default/c"]


# -- handlers: sync/async callables and objects; transform; indexers; laziness -----------------------------


async def test_sync_async_callables_and_handler_objects() -> None:
    cluster = FakeCluster(models=False)
    cluster.apply("a")
    informer, _ = new_informer(cluster)
    got: list[str] = []

    class AsyncHandler:
        async def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
            got.append(f"obj-add:{is_in_initial_list}")

        async def on_update(self, old: Any, new: Any) -> None:
            got.append("obj-update")

        async def on_delete(self, obj: Any) -> None:
            got.append("obj-delete")

    informer.add_event_handler(AsyncHandler())
    informer.add_event_handler(on_add=lambda obj: got.append("one-arg-add"))  # on_add(obj) also accepted
    informer.add_event_handler(on_update=lambda o, n: got.append("sync-update"))
    with pytest.raises(TypeError):
        informer.add_event_handler(AsyncHandler(), on_add=print)
    async with running(informer):
        await synced(informer)
        cluster.apply("a", data={"x": "y"})
        cluster.delete("a")
        await until(lambda: len(got) == 5)
    assert sorted(got) == sorted(["obj-add:True", "one-arg-add", "obj-update", "sync-update", "obj-delete"])


async def test_transform_drops_managed_fields_once_per_object() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    cluster.apply("b")
    calls: list[str] = []

    def transform(obj: Any) -> Any:
        calls.append(object_name(obj))
        return drop_managed_fields(obj)

    informer, _ = new_informer(cluster, transform=transform)
    events = Events()
    informer.add_event_handler(events)
    async with running(informer):
        await synced(informer)
        cluster.apply("a", data={"k": "v"})
        await until(lambda: len(events.log) == 3)
    assert sorted(calls) == ["a", "a", "b"]
    for obj in informer.get_indexer().list():
        assert obj.metadata.managed_fields is None
        assert "managedFields" not in obj.to_dict()["metadata"]


async def test_cache_keeps_models_lazy_and_namespace_index() -> None:
    cluster = FakeCluster()
    cluster.apply("a", ns="n1")
    cluster.apply("b", ns="n2")
    informer, _ = new_informer(cluster, indexers={NAMESPACE_INDEX: meta_namespace_index_func})
    informer.add_event_handler(Events())
    async with running(informer):
        await synced(informer)
        cluster.apply("a", ns="n1", data={"x": "1"})
        await until(lambda: informer.get_indexer().get_by_key("n1/a").metadata.resource_version == "3")  # type: ignore[union-attr]
        informer.add_indexers({"name": lambda o: [object_name(o)]})
        assert informer.get_indexer().index_keys("name", "b") == ["n2/b"]
    objs = informer.get_indexer().list()
    assert objs and all(is_lazy(o) for o in objs)
    assert [object_name(o) for o in informer.get_indexer().by_index(NAMESPACE_INDEX, "n2")] == ["b"]


async def test_last_sync_resource_version_follows_watch() -> None:
    cluster = FakeCluster()
    cluster.apply("a")
    informer, _ = new_informer(cluster)
    assert informer.last_sync_resource_version() == ""
    async with running(informer):
        await synced(informer)
        assert informer.last_sync_resource_version() == "1"
        cluster.apply("b")
        await until(lambda: informer.last_sync_resource_version() == "2")
