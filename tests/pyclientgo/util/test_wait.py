"""pyclientgo.util.wait (asyncio) and its generated twin pyclientgo.util.sync_wait, after
apimachinery's util/wait tests: loops, polls, backoff, stop signals and the timeout error."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading

import pytest

from pyclientgo.errors import PyClientGoError
from pyclientgo.testing import AsyncFakeClock, FakeClock
from pyclientgo.util import sync_wait, wait
from pyclientgo.util.backoff import Backoff


def test_timeout_error_message_and_tree() -> None:
    err = wait.WaitTimeoutError()
    assert str(err) == "timed out waiting for the condition"
    assert isinstance(err, PyClientGoError) and isinstance(err, TimeoutError)
    assert sync_wait.WaitTimeoutError is wait.WaitTimeoutError


def test_jitter() -> None:
    rng = random.Random(1)
    for _ in range(100):
        d = wait.jitter(1.0, 0.5, rng)
        assert 1.0 <= d < 1.5
    # A factor <= 0 means 1.0, as wait.Jitter.
    assert all(1.0 <= wait.jitter(1.0, 0.0, rng) < 2.0 for _ in range(100))


# -- until / jitter_until ----------------------------------------------------------------------


async def test_until_runs_until_stopped() -> None:
    clock = AsyncFakeClock()
    stop = asyncio.Event()
    calls: list[float] = []

    async def f() -> None:
        calls.append(clock.now())
        if len(calls) == 3:
            stop.set()

    await wait.until(f, 2.0, stop, clock=clock)
    assert calls == [0.0, 2.0, 4.0]


async def test_until_with_a_stop_already_set_never_calls() -> None:
    stop = asyncio.Event()
    stop.set()
    called = False

    async def f() -> None:
        nonlocal called
        called = True

    await wait.until(f, 1.0, stop, clock=AsyncFakeClock())
    assert not called


async def test_sliding_and_non_sliding_periods() -> None:
    clock = AsyncFakeClock()

    async def run(sliding: bool) -> list[float]:
        stop = asyncio.Event()
        calls: list[float] = []

        async def f() -> None:
            calls.append(clock.now())
            await clock.sleep(1.0)  # f takes one second
            if len(calls) == 3:
                stop.set()

        start = clock.now()
        await wait.jitter_until(f, 3.0, 0.0, sliding, stop, clock=clock)
        return [c - start for c in calls]

    assert await run(sliding=True) == [0.0, 4.0, 8.0]
    assert await run(sliding=False) == [0.0, 3.0, 6.0]


async def test_jitter_until_jitters_each_period() -> None:
    clock = AsyncFakeClock()
    stop = asyncio.Event()
    calls: list[float] = []

    async def f() -> None:
        calls.append(clock.now())
        if len(calls) == 20:
            stop.set()

    await wait.jitter_until(f, 1.0, 0.5, True, stop, clock=clock, rng=random.Random(7))
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(1.0 <= g < 1.5 for g in gaps)
    assert len(set(gaps)) > 1


async def test_until_propagates_errors_from_f() -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await wait.until(boom, 1.0, clock=AsyncFakeClock())


async def test_stop_interrupts_a_real_sleep() -> None:
    stop = asyncio.Event()
    calls = 0

    async def f() -> None:
        nonlocal calls
        calls += 1

    task = asyncio.create_task(wait.until(f, 3600.0, stop))
    while calls == 0:
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert calls == 1


async def test_forever_runs_until_cancelled() -> None:
    clock = AsyncFakeClock()
    calls = 0

    async def f() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await wait.forever(f, 1.0, clock=clock)
    assert calls == 5


# -- poll --------------------------------------------------------------------------------------


async def test_poll_until_checks_after_each_interval() -> None:
    clock = AsyncFakeClock()
    seen: list[float] = []

    async def condition() -> bool:
        seen.append(clock.now())
        return len(seen) == 3

    await wait.poll_until(condition, 1.0, 10.0, clock=clock)
    assert seen == [1.0, 2.0, 3.0]


async def test_poll_immediate_until_checks_first() -> None:
    clock = AsyncFakeClock()
    seen: list[float] = []

    async def condition() -> bool:
        seen.append(clock.now())
        return True

    await wait.poll_immediate_until(condition, 1.0, 10.0, clock=clock)
    assert seen == [0.0]


async def test_poll_times_out() -> None:
    clock = AsyncFakeClock()
    seen: list[float] = []

    async def never() -> bool:
        seen.append(clock.now())
        return False

    with pytest.raises(wait.WaitTimeoutError, match="timed out waiting for the condition"):
        await wait.poll_until(never, 1.0, 3.5, clock=clock)
    assert seen == [1.0, 2.0, 3.0]
    assert clock.now() == 3.5
    seen.clear()
    with pytest.raises(wait.WaitTimeoutError):
        await wait.poll_immediate_until(never, 1.0, 0.0, clock=clock)
    assert len(seen) == 1


async def test_poll_stop_raises_timeout_error() -> None:
    clock = AsyncFakeClock()
    stop = asyncio.Event()
    checks = 0

    async def condition() -> bool:
        nonlocal checks
        checks += 1
        if checks == 2:
            stop.set()
        return False

    with pytest.raises(wait.WaitTimeoutError):
        await wait.poll_until(condition, 1.0, stop=stop, clock=clock)
    assert checks == 2


async def test_poll_propagates_condition_errors() -> None:
    async def broken() -> bool:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await wait.poll_immediate_until(broken, 1.0, 5.0, clock=AsyncFakeClock())


# -- exponential backoff -----------------------------------------------------------------------


async def test_exponential_backoff_tries_steps_times_with_growing_delays() -> None:
    clock = AsyncFakeClock()
    tries = 0

    async def never() -> bool:
        nonlocal tries
        tries += 1
        return False

    with pytest.raises(wait.WaitTimeoutError):
        await wait.exponential_backoff(Backoff(duration=1.0, factor=2.0, steps=4), never, clock=clock)
    assert tries == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


async def test_exponential_backoff_succeeds_early() -> None:
    clock = AsyncFakeClock()
    tries = 0

    async def third() -> bool:
        nonlocal tries
        tries += 1
        return tries == 3

    await wait.exponential_backoff(Backoff(duration=1.0, factor=3.0, steps=10), third, clock=clock)
    assert tries == 3 and clock.sleeps == [1.0, 3.0]


async def test_exponential_backoff_zero_steps_and_stop() -> None:
    clock = AsyncFakeClock()

    async def yes() -> bool:
        return True

    with pytest.raises(wait.WaitTimeoutError):
        await wait.exponential_backoff(Backoff(steps=0), yes, clock=clock)
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(wait.WaitTimeoutError):
        await wait.exponential_backoff(Backoff(steps=3), yes, stop=stop, clock=clock)


# -- the generated sync twin -------------------------------------------------------------------


def test_sync_until_and_poll_with_a_fake_clock() -> None:
    clock = FakeClock()
    stop = threading.Event()
    calls: list[float] = []

    def f() -> None:
        calls.append(clock.now())
        if len(calls) == 3:
            stop.set()

    sync_wait.until(f, 2.0, stop, clock=clock)
    assert calls == [0.0, 2.0, 4.0]

    seen: list[float] = []

    def condition() -> bool:
        seen.append(clock.now())
        return False

    with pytest.raises(sync_wait.WaitTimeoutError):
        sync_wait.poll_until(condition, 1.0, 2.5, clock=clock)
    assert [s - 4.0 for s in seen] == [1.0, 2.0]


def test_sync_exponential_backoff() -> None:
    clock = FakeClock()
    tries = 0

    def second() -> bool:
        nonlocal tries
        tries += 1
        return tries == 2

    sync_wait.exponential_backoff(Backoff(duration=0.5, factor=2.0, steps=5), second, clock=clock)
    assert tries == 2 and clock.sleeps == [0.5]


def test_sync_stop_from_another_thread_interrupts_a_real_sleep() -> None:
    stop = threading.Event()
    started = threading.Event()

    def f() -> None:
        started.set()

    thread = threading.Thread(target=sync_wait.until, args=(f, 3600.0, stop))
    thread.start()
    try:
        assert started.wait(10)
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
