"""docs/reference/client_go_semantics.md §8.4: retry_on_conflict, async and the generated sync twin."""

from __future__ import annotations

import random

import pytest

from pyclientgo.errors import AlreadyExists, Conflict, error_for_status
from pyclientgo.testing import AsyncFakeClock, FakeClock
from pyclientgo.util import retry, sync_retry
from pyclientgo.util.backoff import DEFAULT_RETRY, Backoff


def conflict() -> Conflict:
    err = error_for_status({"kind": "Status", "reason": "Conflict", "code": 409, "message": "modified"})
    assert isinstance(err, Conflict)
    return err


def already_exists() -> AlreadyExists:
    err = error_for_status({"kind": "Status", "reason": "AlreadyExists", "code": 409})
    assert isinstance(err, AlreadyExists)
    return err


def test_default_retry_matches_client_go() -> None:
    assert (DEFAULT_RETRY.steps, DEFAULT_RETRY.duration, DEFAULT_RETRY.factor, DEFAULT_RETRY.jitter) == (
        5,
        0.01,
        1.0,
        0.1,
    )


def test_backoff_delays_grow_jitter_and_cap() -> None:
    b = Backoff(duration=1.0, factor=2.0, jitter=0.5, steps=6, cap=4.0, rng=random.Random(1))
    delays = b.delays()
    assert len(delays) == 5
    bases = [1.0, 2.0, 4.0, 4.0, 4.0]
    for d, base in zip(delays, bases, strict=True):
        assert base <= d <= base * 1.5


async def test_succeeds_after_conflicts() -> None:
    clock = AsyncFakeClock()
    calls = 0

    async def fn() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise conflict()
        return "ok"

    assert await retry.retry_on_conflict(DEFAULT_RETRY, fn, clock=clock) == "ok"
    assert calls == 3
    assert len(clock.sleeps) == 2 and all(0.01 <= s <= 0.011 for s in clock.sleeps)


async def test_last_conflict_raised_when_steps_run_out() -> None:
    calls = 0
    errors: list[Conflict] = []

    async def fn() -> None:
        nonlocal calls
        calls += 1
        errors.append(conflict())
        raise errors[-1]

    with pytest.raises(Conflict) as caught:
        await retry.retry_on_conflict(Backoff(steps=4, duration=0.01), fn, clock=AsyncFakeClock())
    assert calls == 4
    assert caught.value is errors[-1]


@pytest.mark.parametrize(
    "make",
    [already_exists, lambda: error_for_status({"reason": "NotFound", "code": 404}), lambda: ValueError("x")],
)
async def test_other_errors_returned_at_once(make: object) -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        raise make()  # type: ignore[operator]

    with pytest.raises(Exception):  # noqa: B017
        await retry.retry_on_conflict(DEFAULT_RETRY, fn, clock=AsyncFakeClock())
    assert calls == 1


def test_sync_twin() -> None:
    clock = FakeClock()
    calls = 0

    def fn() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise conflict()
        return calls

    assert sync_retry.retry_on_conflict(DEFAULT_RETRY, fn, clock=clock) == 2
    assert len(clock.sleeps) == 1
