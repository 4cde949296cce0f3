"""docs/reference/client_go_semantics.md §5.4: add_after, with a manual fake clock."""

from __future__ import annotations

import asyncio

from pyclientgo.testing import AsyncFakeClock
from pyclientgo.workqueue import DelayingQueue, NoopMetricsProvider


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def new_queue(clock: AsyncFakeClock) -> DelayingQueue[str]:
    return DelayingQueue(clock=clock, metrics_provider=NoopMetricsProvider())


async def test_non_positive_delay_adds_at_once() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("a", 0)
    q.add_after("b", -1)
    assert len(q) == 2


async def test_item_appears_only_after_its_delay() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("a", 10)
    await settle()
    assert len(q) == 0 and q.waiting == 1
    clock.advance(9.9)
    await settle()
    assert len(q) == 0
    clock.advance(0.2)
    await settle()
    assert len(q) == 1
    assert await q.get() == "a"


async def test_repeat_keeps_the_earliest_time() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("a", 10)
    q.add_after("a", 5)
    q.add_after("a", 20)
    await settle()
    clock.advance(5)
    await settle()
    assert len(q) == 1
    await q.get()
    clock.advance(100)
    await settle()
    assert len(q) == 0, "the superseded later entries must not add it again"


async def test_items_come_out_in_ready_order() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("late", 3)
    q.add_after("early", 1)
    q.add_after("mid", 2)
    await settle()
    clock.advance(3)
    await settle()
    assert [await q.get() for _ in range(3)] == ["early", "mid", "late"]


async def test_shutdown_drops_waiting_items() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("a", 1)
    q.shut_down()
    clock.advance(5)
    await settle()
    assert len(q) == 0 and q.waiting == 0
    q.add_after("b", 0)
    assert len(q) == 0


async def test_earlier_item_wakes_a_sleeping_waiter() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("late", 10)
    await settle()
    assert clock.sleeping == 1, "the waiter sleeps until the late item is due"
    q.add_after("early", 1)
    await settle()
    clock.advance(1)
    await settle()
    assert len(q) == 1 and await q.get() == "early"
    clock.advance(9)
    await settle()
    assert len(q) == 1 and await q.get() == "late"
    q.add_after("again", 2)  # the heap was empty: the idle waiter must be woken again
    await settle()
    clock.advance(2)
    await settle()
    assert len(q) == 1 and await q.get() == "again"
    q.shut_down()


async def test_shutdown_ends_the_waiter_task() -> None:
    clock = AsyncFakeClock(autojump=False)
    q = new_queue(clock)
    q.add_after("a", 5)
    await settle()
    waiter = q._waiter
    assert waiter is not None and not waiter.done()
    await q.shut_down_with_drain()
    await settle()
    assert waiter.done() and q.waiting == 0
