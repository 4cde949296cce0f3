"""CLIENT_GO_SEMANTICS §6 with a fake clock and an in-memory lock."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from pyclientgo.errors import error_for_status
from pyclientgo.leaderelection import (
    HealthzAdaptor,
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElectionRecord,
    LeaderElector,
    LockNotFound,
)
from pyclientgo.testing import AsyncFakeClock


@dataclass
class Store:
    record: LeaderElectionRecord | None = None
    version: int = 0
    writes: list[LeaderElectionRecord] = field(default_factory=list)
    fail: bool = False


class FakeLock:
    """Optimistic concurrency like a Lease: updates must carry the version last read."""

    def __init__(self, store: Store, identity: str) -> None:
        self.store = store
        self._identity = identity
        self.seen = -1

    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        return "ns/lock"

    def _check(self) -> None:
        if self.store.fail:
            raise ConnectionError("api unreachable")

    async def get(self) -> LeaderElectionRecord:
        self._check()
        if self.store.record is None:
            raise LockNotFound("no lock")
        self.seen = self.store.version
        return self.store.record

    async def create(self, record: LeaderElectionRecord) -> None:
        self._check()
        if self.store.record is not None:
            raise error_for_status({"reason": "AlreadyExists", "code": 409})
        self._write(record)

    async def update(self, record: LeaderElectionRecord) -> None:
        self._check()
        if self.seen != self.store.version:
            raise error_for_status({"reason": "Conflict", "code": 409})
        self._write(record)

    def _write(self, record: LeaderElectionRecord) -> None:
        self.store.record = record
        self.store.version += 1
        self.store.writes.append(record)
        self.seen = self.store.version


def config(lock: FakeLock, clock: AsyncFakeClock, events: list[str], **kw: object) -> LeaderElectionConfig:
    async def started() -> None:
        events.append(f"start:{lock.identity()}")
        await asyncio.Event().wait()

    def stopped() -> None:
        events.append(f"stop:{lock.identity()}")

    def new_leader(identity: str) -> None:
        events.append(f"leader:{identity}")

    return LeaderElectionConfig(
        lock=lock,
        callbacks=LeaderCallbacks(
            on_started_leading=started, on_stopped_leading=stopped, on_new_leader=new_leader
        ),
        lease_duration=15,
        renew_deadline=10,
        retry_period=2,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


async def settle(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("lease", "renew", "retry", "message"),
    [
        (10, 10, 2, "lease_duration must be greater than renew_deadline"),
        (15, 2.3, 2, "renew_deadline must be greater than retry_period*JITTER_FACTOR"),
        (15, 10, 0, "retry_period must be greater than zero"),
    ],
)
def test_config_validation(lease: float, renew: float, retry: float, message: str) -> None:  # §6.1
    clock = AsyncFakeClock()
    cfg = config(FakeLock(Store(), "a"), clock, [])
    cfg.lease_duration, cfg.renew_deadline, cfg.retry_period = lease, renew, retry
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        LeaderElector(cfg)


def test_identity_required() -> None:  # §6.1
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(config(FakeLock(Store(), ""), AsyncFakeClock(), []))


async def test_acquire_renew_and_callbacks() -> None:  # §6.2, §6.3, §6.4
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    elector = LeaderElector(config(FakeLock(store, "a"), clock, events))
    task = asyncio.create_task(elector.run())
    await settle()
    assert elector.is_leader()
    assert events[:2] == ["leader:a", "start:a"]
    first = store.record
    assert first is not None and first.holder_identity == "a" and first.lease_duration_seconds == 15
    assert first.leader_transitions == 0
    before = len(store.writes)
    clock.advance(2)
    await settle()
    renewed = store.record
    assert renewed is not None and len(store.writes) == before + 1, "one renewal per retry period"
    assert renewed.acquire_time == first.acquire_time, "renewing keeps acquireTime"  # §6.6
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1] == "stop:a"


async def test_held_lease_is_not_taken_before_local_expiry() -> None:  # §6.5
    clock = AsyncFakeClock(autojump=False)
    store = Store()
    # a record whose timestamps say it is ancient: irrelevant, only local observation time counts
    import datetime as dt

    ancient = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    store.record = LeaderElectionRecord(
        holder_identity="other", lease_duration_seconds=15, acquire_time=ancient, renew_time=ancient
    )
    events: list[str] = []
    elector = LeaderElector(config(FakeLock(store, "b"), clock, events), rng=random.Random(0))
    task = asyncio.create_task(elector.run())
    await settle()
    assert not elector.is_leader() and elector.get_leader() == "other"
    assert events == ["leader:other"]
    while clock.now() < 14:
        clock.advance(0.5)
        await settle()
        assert not elector.is_leader(), f"took over at {clock.now()} before the lease expired locally"
    while not elector.is_leader() and clock.now() < 30:
        clock.advance(0.5)
        await settle()
    assert elector.is_leader()
    assert store.record is not None and store.record.leader_transitions == 1  # §6.6
    assert "leader:b" in events
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_renewal_of_observed_record_resets_expiry() -> None:  # §6.5
    clock = AsyncFakeClock(autojump=False)
    store = Store(record=LeaderElectionRecord(holder_identity="other", lease_duration_seconds=15))
    elector = LeaderElector(config(FakeLock(store, "b"), clock, []), rng=random.Random(0))
    task = asyncio.create_task(elector.run())
    await settle()
    for _ in range(10):  # the holder renews every 5 s: the record changes, so the lease stays valid
        clock.advance(5)
        store.record = LeaderElectionRecord(
            holder_identity="other", lease_duration_seconds=15, leader_transitions=store.version
        )
        store.version += 1
        await settle()
        assert not elector.is_leader()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_losing_the_api_ends_leadership_after_renew_deadline() -> None:  # §6.3, §6.4
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    elector = LeaderElector(config(FakeLock(store, "a"), clock, events))
    task = asyncio.create_task(elector.run())
    await settle()
    assert elector.is_leader()
    store.fail = True
    lost_at = None
    for _ in range(100):
        clock.advance(0.5)
        await settle()
        if task.done():
            lost_at = clock.now()
            break
    assert lost_at is not None
    assert lost_at <= 2 + 10 + 0.5, "gave up within renew_deadline of the last renewal window"
    await task
    assert events[-1] == "stop:a"


async def test_concurrent_update_conflict_fails_attempt() -> None:  # §6.5
    clock = AsyncFakeClock(autojump=False)
    store = Store()
    lock_a, lock_b = FakeLock(store, "a"), FakeLock(store, "b")
    await lock_a.create(LeaderElectionRecord(holder_identity="", lease_duration_seconds=1))
    a = LeaderElector(config(lock_a, clock, []))
    b = LeaderElector(config(lock_b, clock, []))
    await lock_a.get()
    await lock_b.get()
    results = [await a.try_acquire_or_renew(), await b.try_acquire_or_renew()]
    # b read before a's write: its update carries a stale version → conflict → failed attempt
    assert results.count(True) >= 1
    holders = {w.holder_identity for w in store.writes[1:]}
    assert len(holders) == 1


async def test_release_on_cancel_writes_empty_holder_retrying_conflict() -> None:  # §6.7
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    lock = FakeLock(store, "a")
    elector = LeaderElector(config(lock, clock, events, release_on_cancel=True))
    task = asyncio.create_task(elector.run())
    await settle()
    assert elector.is_leader()
    store.version += 1  # an in-flight write moved the version: the first release attempt conflicts
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.record is not None
    assert store.record.holder_identity == "" and store.record.lease_duration_seconds == 1
    assert events[-1] == "stop:a"


async def test_health_check() -> None:  # §6.8
    clock = AsyncFakeClock(autojump=False)
    store = Store()
    elector = LeaderElector(config(FakeLock(store, "a"), clock, []))
    health = HealthzAdaptor(timeout=5)
    health.check()
    health.set_leader_elector(elector)
    task = asyncio.create_task(elector.run())
    await settle()
    health.check()
    store.fail = True
    # freeze the elector's view: pretend no renewal is observed for lease + tolerance
    elector._observed_time = clock.now() - 15 - 5 - 1
    with pytest.raises(Exception, match="failed election to renew leadership"):
        health.check()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
