"""docs/reference/client_go_semantics.md §6 with a fake clock and an in-memory lock."""

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


def test_lease_duration_seconds_rounds_up() -> None:  # §6.1: the record never promises less
    store = Store()
    cfg = config(FakeLock(store, "a"), AsyncFakeClock(), [])
    cfg.lease_duration, cfg.renew_deadline, cfg.retry_period = 2.5, 2.0, 1.0
    elector = LeaderElector(cfg)

    async def once() -> bool:
        return await elector.try_acquire_or_renew()

    assert asyncio.run(once())
    assert store.record is not None and store.record.lease_duration_seconds == 3


async def test_failing_on_new_leader_does_not_break_the_election() -> None:  # §6.4
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    cfg = config(FakeLock(store, "a"), clock, events)

    def broken(identity: str) -> None:
        events.append(f"leader:{identity}")
        raise RuntimeError("callback bug")

    cfg.callbacks.on_new_leader = broken
    elector = LeaderElector(cfg)
    task = asyncio.create_task(elector.run())
    await settle()
    assert elector.is_leader() and "start:a" in events and not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class NoWriteLock(FakeLock):
    """Reads work, every write conflicts (someone else always writes first)."""

    async def update(self, record: LeaderElectionRecord) -> None:
        raise error_for_status({"reason": "Conflict", "code": 409})


async def test_on_new_leader_reports_a_holder_again_after_a_release() -> None:  # §6.4
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    observer = LeaderElector(config(NoWriteLock(store, "b"), clock, events))
    held = LeaderElectionRecord(holder_identity="a", lease_duration_seconds=15)
    store.record = held
    assert not await observer.try_acquire_or_renew()
    store.record = held.with_(leader_transitions=1)  # a renewed: same holder, no report
    assert not await observer.try_acquire_or_renew()
    assert events == ["leader:a"]
    store.record = LeaderElectionRecord(holder_identity="", lease_duration_seconds=1)  # a released
    assert not await observer.try_acquire_or_renew()  # b's attempt to take it loses the race ...
    store.record = held.with_(leader_transitions=2)  # ... to a, which is the leader again
    assert not await observer.try_acquire_or_renew()
    assert events == ["leader:a", "leader:a"], "the holder changed from nobody to a"


async def test_cancel_while_acquiring_stops_without_touching_the_lease() -> None:  # §6.4, §6.7
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    store.record = LeaderElectionRecord(holder_identity="other", lease_duration_seconds=15)
    elector = LeaderElector(config(FakeLock(store, "b"), clock, events, release_on_cancel=True))
    task = asyncio.create_task(elector.run())
    await settle()
    clock.advance(3)
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.writes == [], "a candidate that never led must not release someone else's lease"
    assert events == ["leader:other", "stop:b"], "on_stopped_leading runs even if we never led"


class GatedLock(FakeLock):
    """Updates wait for ``gate`` while it is set up (a slow API answer)."""

    gate: asyncio.Event | None = None

    async def update(self, record: LeaderElectionRecord) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await super().update(record)


async def test_slow_successful_renewal_does_not_stretch_leadership() -> None:  # §6.3, §6.5
    clock = AsyncFakeClock(autojump=False)
    store, events = Store(), []
    lock = GatedLock(store, "a")
    elector = LeaderElector(config(lock, clock, events))  # 15 / 10 / 2
    task = asyncio.create_task(elector.run())
    await settle()
    assert elector.is_leader()
    lock.gate = asyncio.Event()
    clock.advance(2)  # the renewal at t=2 starts ...
    await settle()
    writes = len(store.writes)
    clock.advance(5)  # ... and its answer arrives at t=7
    lock.gate.set()
    lock.gate = None
    await settle()
    assert len(store.writes) == writes + 1
    store.fail = True
    while not task.done() and clock.now() < 30:
        clock.advance(0.5)
        await settle()
    assert task.done()
    # others count lease_duration from when they saw the t=2..7 write; the leader must count its
    # next window from the start of that attempt (t=2): 2 + retry 2 + renew 10 = 14, not 7 + 12 = 19
    stopped_at = clock.now()
    assert stopped_at <= 14.5, stopped_at
    await task
    assert events[-1] == "stop:a"


async def test_lease_lock_update_keeps_the_lease_metadata() -> None:
    from pyclientgo.api.coordination.v1 import Lease
    from pyclientgo.errors import Conflict
    from pyclientgo.leaderelection import LeaseLock
    from pyclientgo.testing import AsyncFakeClientset

    seeded = Lease.from_dict(
        {
            "metadata": {"name": "l", "namespace": "kube-system", "labels": {"app": "x"}},
            "spec": {"holderIdentity": "old", "leaseDurationSeconds": 15},
        }
    )
    async with AsyncFakeClientset(seeded) as cs:
        lock = LeaseLock(cs.coordination_v1.leases("kube-system"), "l", "me")
        record = await lock.get()
        assert record.holder_identity == "old"
        await lock.update(record.with_(holder_identity="me"))
        stored = await cs.coordination_v1.leases("kube-system").get("l")
        assert stored.spec.holder_identity == "me"
        assert stored.metadata.labels == {"app": "x"}, "an update must not drop labels"
        other = LeaseLock(cs.coordination_v1.leases("kube-system"), "l", "other")
        await other.get()
        await lock.update(record.with_(holder_identity="me", leader_transitions=1))
        with pytest.raises(Conflict):  # other read before our write: its resourceVersion is stale
            await other.update(record.with_(holder_identity="other"))


async def test_acquire_retries_every_retry_period_with_jitter() -> None:  # §6.2
    clock = AsyncFakeClock(autojump=True)
    store = Store(record=LeaderElectionRecord(holder_identity="other", lease_duration_seconds=15))
    elector = LeaderElector(config(FakeLock(store, "b"), clock, []), rng=random.Random(3))
    task = asyncio.create_task(elector.run())
    while not elector.is_leader():
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    acquire_sleeps: list[float] = []
    for s in clock.sleeps:
        if sum(acquire_sleeps) >= 15:
            break
        acquire_sleeps.append(s)
    assert len(acquire_sleeps) >= 3
    assert all(2 <= s < 2 * (1 + 1.2) for s in acquire_sleeps), acquire_sleeps
    assert len(set(acquire_sleeps)) > 1, "jittered"


@pytest.mark.parametrize("offset", range(6))
async def test_cancel_is_never_lost_while_renewing(offset: int) -> None:  # §6.3, §6.4
    """Whatever step of a renewal the cancel lands on, run() ends (3.11's wait_for could eat it)."""
    clock = AsyncFakeClock(autojump=True)
    store, events = Store(), []
    elector = LeaderElector(config(FakeLock(store, "a"), clock, events))
    task = asyncio.create_task(elector.run())
    while not elector.is_leader():
        await asyncio.sleep(0)
    for _ in range(offset):
        await asyncio.sleep(0)
    task.cancel()
    for _ in range(200):
        if task.done():
            break
        await asyncio.sleep(0)
    else:
        for _ in range(1000):  # do not leave it spinning
            if task.done():
                break
            task.cancel()
            await asyncio.sleep(0)
        raise AssertionError("the elector ignored its cancellation")
    assert task.cancelled()
    assert events[-1] == "stop:a"
