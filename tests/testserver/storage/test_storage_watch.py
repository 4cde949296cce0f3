"""Conformance: watch replay and live events, compaction, many and slow watchers, cleanup."""

from __future__ import annotations

import asyncio

import pytest
from conftest import MakeStorage
from storage_testlib import next_event, take, wait_until

from testserver.storage import (
    Compacted,
    EventType,
    FutureRevision,
    KeyValue,
    Storage,
    Watch,
    WatcherTooSlow,
    key_for,
    prefix_for,
)

PODS = prefix_for("pods")


def pod(ns: str, name: str) -> str:
    return key_for("pods", ns, name)


def watcher_count(storage: Storage) -> int:
    count = getattr(storage, "watcher_count", None)
    if count is None:
        pytest.skip("backend does not report its watcher count")
    return int(count())


async def test_replay_from_revision_then_live(storage: Storage) -> None:
    r1 = await storage.create(pod("a", "p"), b"1")
    r2 = await storage.update(pod("a", "p"), b"2")
    r3 = await storage.create(pod("a", "q"), b"q")
    async with await storage.watch(PODS, r1) as watch:
        replayed = await take(watch, 2)
        assert [(e.type, e.revision) for e in replayed] == [(EventType.MODIFIED, r2), (EventType.ADDED, r3)]
        assert replayed[0].prev_kv == KeyValue(pod("a", "p"), b"1", r1, r1)
        assert replayed[0].kv == KeyValue(pod("a", "p"), b"2", r1, r2)
        assert replayed[1].prev_kv is None
        deleted = await storage.delete(pod("a", "p"))
        event = await next_event(watch)
        assert event.type is EventType.DELETED
        assert event.kv == deleted == KeyValue(pod("a", "p"), b"2", r1, deleted.mod_revision)
        assert event.prev_kv == KeyValue(pod("a", "p"), b"2", r1, r2)


async def test_watch_from_zero_replays_everything_when_uncompacted(storage: Storage) -> None:
    await storage.create(pod("a", "p"), b"1")
    await storage.create(pod("a", "q"), b"1")
    async with await storage.watch(PODS, 0) as watch:
        assert [e.kv.key for e in await take(watch, 2)] == [pod("a", "p"), pod("a", "q")]


async def test_watch_filters_by_prefix(storage: Storage) -> None:
    start = storage.current_revision()
    async with await storage.watch(prefix_for("pods", "a"), start) as watch:
        await storage.create(pod("ab", "x"), b"no")
        await storage.create(key_for("secrets", "a", "x"), b"no")
        await storage.create(pod("a", "x"), b"yes")
        event = await next_event(watch)
        assert event.kv.key == pod("a", "x") and event.revision == start + 3


async def test_list_then_watch_has_no_gap(storage: Storage) -> None:
    for i in range(5):
        await storage.create(pod("a", str(i)), b"v")
    listed = await storage.list(PODS)
    await storage.create(pod("a", "late"), b"v")
    await storage.delete(pod("a", "0"))
    async with await storage.watch(PODS, listed.revision) as watch:
        events = await take(watch, 2)
        assert [(e.type, e.kv.key) for e in events] == [
            (EventType.ADDED, pod("a", "late")),
            (EventType.DELETED, pod("a", "0")),
        ]
        assert [e.revision for e in events] == [listed.revision + 1, listed.revision + 2]


async def test_watch_from_compacted_revision_raises_before_streaming(storage: Storage) -> None:
    r1 = await storage.create(pod("a", "p"), b"1")
    r2 = await storage.update(pod("a", "p"), b"2")
    await storage.update(pod("a", "p"), b"3")
    await storage.compact(r2)
    with pytest.raises(Compacted) as info:
        await storage.watch(PODS, r1)
    assert info.value.compact_revision == r2
    async with await storage.watch(PODS, r2) as watch:  # the compact revision itself is still fine
        assert (await next_event(watch)).kv.value == b"3"


async def test_watch_from_future_revision_raises(storage: Storage) -> None:
    await storage.create(pod("a", "p"), b"1")
    with pytest.raises(FutureRevision):
        await storage.watch(PODS, 2)


async def test_many_watchers_see_the_same_ordered_events(storage: Storage) -> None:
    start = storage.current_revision()
    watches = [await storage.watch(PODS if i % 2 else prefix_for("pods", "a"), start) for i in range(200)]
    for i in range(20):
        await storage.create(pod("a", f"p{i}"), b"v")
    for watch in watches:
        events = await take(watch, 20)
        assert [e.revision for e in events] == list(range(start + 1, start + 21))
    assert watcher_count(storage) == 200
    for watch in watches:
        await watch.aclose()
    assert watcher_count(storage) == 0


async def test_slow_watcher_is_terminated_without_blocking_writers(make_storage: MakeStorage) -> None:
    storage = await make_storage(watch_buffer_size=10)
    start = storage.current_revision()
    slow = await storage.watch(PODS, start)
    fast = await storage.watch(PODS, start)
    received: list[int] = []

    async def consume_fast() -> None:
        async for event in fast:
            received.append(event.revision)
            if len(received) == 100:
                return

    consumer = asyncio.create_task(consume_fast())

    async def write() -> None:
        for i in range(100):
            await storage.create(pod("a", f"p{i}"), b"v")

    await asyncio.wait_for(write(), 10)  # the slow watcher never reads; writers must not wait for it
    await asyncio.wait_for(consumer, 10)
    assert received == list(range(start + 1, start + 101))
    # The slow watcher gets what it buffered, in order, then the error naming where it stopped.
    buffered = [e.revision for e in await take(slow, 10)]
    assert buffered == list(range(start + 1, start + 11))
    with pytest.raises(WatcherTooSlow) as info:
        await next_event(slow)
    assert info.value.last_revision == start + 10
    with pytest.raises(StopAsyncIteration):
        await next_event(slow)
    await fast.aclose()
    assert watcher_count(storage) == 0


async def test_cancelling_the_consumer_unregisters_the_watch(storage: Storage) -> None:
    watch = await storage.watch(PODS, storage.current_revision())
    started = asyncio.Event()

    async def consume() -> None:
        started.set()
        async for _ in watch:
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    await wait_until(lambda: watcher_count(storage) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watcher_count(storage) == 0
    await storage.create(pod("a", "p"), b"v")  # nobody to deliver to; must not fail


async def test_closing_a_watch_ends_iteration(storage: Storage) -> None:
    watch = await storage.watch(PODS, storage.current_revision())
    await storage.create(pod("a", "p"), b"v")
    await watch.aclose()
    await watch.aclose()  # idempotent
    with pytest.raises(StopAsyncIteration):
        await next_event(watch)
    assert watcher_count(storage) == 0


async def test_closing_the_storage_ends_watches(storage: Storage) -> None:
    watch = await storage.watch(PODS, storage.current_revision())
    await storage.create(pod("a", "p"), b"v")
    waiting = asyncio.create_task(_drain(watch))
    await storage.close()
    assert await asyncio.wait_for(waiting, 5) == 1  # the buffered event, then a clean end


async def _drain(watch: Watch) -> int:
    return len([e async for e in watch])


async def test_progress_revision_tracks_what_the_consumer_has_seen(storage: Storage) -> None:
    await storage.create(key_for("secrets", "a", "s"), b"v")
    watch = await storage.watch(PODS, storage.current_revision())
    assert watch.progress_revision == 1
    await storage.create(key_for("secrets", "a", "t"), b"v")  # not watched: progress still advances
    assert watch.progress_revision == 2
    r = await storage.create(pod("a", "p"), b"v")
    assert watch.progress_revision == r - 1
    assert (await next_event(watch)).revision == r
    assert watch.progress_revision == r
    await watch.aclose()
