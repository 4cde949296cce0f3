"""The reflector's backoff manager (docs/reference/client_go_semantics.md §1.3)."""

from __future__ import annotations

import random

import pytest

from pyclientgo.testing import FakeClock
from pyclientgo.tools.cache.backoff import ExponentialBackoffManager, jitter


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_defaults_double_from_0_8_with_jitter_in_d_2d_and_cap_30() -> None:
    clock = FakeClock()
    low = ExponentialBackoffManager(clock=clock, rng=FixedRandom(0.0))
    high = ExponentialBackoffManager(clock=clock, rng=FixedRandom(0.999999))
    bases = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0, 30.0]
    for d in bases:
        assert low.next_delay() == pytest.approx(d)
        got = high.next_delay()
        assert d <= got < 2 * d
        assert got == pytest.approx(2 * d, rel=1e-5)


def test_random_delays_stay_in_range() -> None:
    clock = FakeClock()
    manager = ExponentialBackoffManager(clock=clock, rng=random.Random(1))
    base = 0.8
    for _ in range(20):
        got = manager.next_delay()
        assert base <= got < 2 * base
        base = min(base * 2, 30.0)


def test_resets_after_two_quiet_minutes_only() -> None:
    clock = FakeClock()
    manager = ExponentialBackoffManager(clock=clock, rng=FixedRandom(0.0))
    for _ in range(4):
        manager.next_delay()
    clock.advance(120.0)  # exactly 2 min: not more than the reset duration
    assert manager.next_delay() == pytest.approx(12.8)
    clock.advance(120.001)
    assert manager.next_delay() == pytest.approx(0.8)
    assert manager.next_delay() == pytest.approx(1.6)


def test_quiet_time_counts_from_the_last_call() -> None:
    clock = FakeClock()
    manager = ExponentialBackoffManager(clock=clock, rng=FixedRandom(0.0))
    manager.next_delay()
    for _ in range(3):
        clock.advance(100.0)  # 300 s in all, but never 2 min between calls
        manager.next_delay()
    assert manager.base_delay == pytest.approx(12.8)


def test_parameters_and_jitter_helper() -> None:
    manager = ExponentialBackoffManager(
        initial=1.0, cap=5.0, factor=3.0, jitter=0.0, clock=FakeClock(), rng=random.Random(0)
    )
    assert [manager.next_delay() for _ in range(4)] == [1.0, 3.0, 5.0, 5.0]
    assert jitter(2.0, 0.5, FixedRandom(0.5)) == pytest.approx(2.5)
    assert jitter(2.0, 0.0, FixedRandom(0.5)) == pytest.approx(3.0)  # <= 0 means 1.0
    with pytest.raises(ValueError):
        ExponentialBackoffManager(initial=-1.0)
