"""docs/reference/client_go_semantics.md §5.1-5.3: the basic queue."""

from __future__ import annotations

import asyncio

import pytest

from pyclientgo.workqueue import NoopMetricsProvider, Queue, ShutDown


def new_queue() -> Queue[str]:
    return Queue(metrics_provider=NoopMetricsProvider())


async def test_add_dedups_dirty_items() -> None:  # §5.1
    q = new_queue()
    q.add("a")
    q.add("b")
    q.add("a")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_add_while_processing_requeues_only_on_done() -> None:  # §5.1, §5.2
    q = new_queue()
    q.add("a")
    item = await q.get()
    q.add("a")
    assert len(q) == 0, "an item being processed is not queued again yet"
    q.done(item)
    assert len(q) == 1
    assert await q.get() == "a"


async def test_item_never_handed_out_twice_at_once() -> None:  # §5.2
    q = new_queue()
    in_flight: set[str] = set()
    seen_twice = False

    async def worker() -> None:
        nonlocal seen_twice
        while True:
            try:
                item = await q.get()
            except ShutDown:
                return
            if item in in_flight:
                seen_twice = True
            in_flight.add(item)
            await asyncio.sleep(0)
            in_flight.discard(item)
            q.done(item)

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    for i in range(500):
        q.add(f"k{i % 7}")
        if i % 3 == 0:
            await asyncio.sleep(0)
    await q.shut_down_with_drain()
    await asyncio.gather(*workers)
    assert not seen_twice


async def test_get_blocks_until_add() -> None:  # §5.2
    q = new_queue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("x")
    assert await asyncio.wait_for(getter, 5) == "x"


async def test_shutdown_ignores_adds_and_drains_queue() -> None:  # §5.3
    q = new_queue()
    q.add("a")
    q.add("b")
    q.shut_down()
    q.add("c")
    assert q.shutting_down()
    assert await q.get() == "a"
    assert await q.get() == "b"
    with pytest.raises(ShutDown):
        await q.get()


async def test_shutdown_wakes_blocked_getters() -> None:  # §5.3
    q = new_queue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.shut_down()
    results = await asyncio.gather(*getters, return_exceptions=True)
    assert all(isinstance(r, ShutDown) for r in results)


async def test_shutdown_with_drain_waits_for_processing() -> None:  # §5.3
    q = new_queue()
    q.add("a")
    item = await q.get()
    drained = asyncio.create_task(q.shut_down_with_drain())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not drained.done()
    q.done(item)
    await asyncio.wait_for(drained, 5)


async def test_async_iteration_stops_at_shutdown() -> None:
    q = new_queue()
    for k in "abc":
        q.add(k)
    q.shut_down()
    got = []
    async for item in q:
        got.append(item)
        q.done(item)
    assert got == ["a", "b", "c"]


async def test_done_of_unknown_item_is_harmless() -> None:
    q = new_queue()
    q.done("never-added")
    q.add("a")
    assert await q.get() == "a"


async def test_shutdown_ends_a_pending_drain() -> None:  # §5.3, as client-go's ShutDown
    q = new_queue()
    q.add("a")
    await q.get()  # never done
    drained = asyncio.create_task(q.shut_down_with_drain())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not drained.done()
    q.shut_down()
    await asyncio.wait_for(drained, 5)


async def test_drain_with_nothing_in_flight_returns_at_once() -> None:
    q = new_queue()
    q.add("queued")
    await asyncio.wait_for(q.shut_down_with_drain(), 5)
    assert await q.get() == "queued", "queued items are still handed out after a drain"
