"""Manager unit tests over AsyncFakeClientset: runnables, leader election, probes, shutdown, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.controller import (
    LeaderElectionLost,
    Manager,
    ManagerOptions,
    ProbeServer,
    Request,
    Result,
    RunnableFunc,
)
from pyclientgo.testing import AsyncFakeClientset, ObjectTracker

DEADLINE = 10.0


async def until(cond: Any, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def cs() -> AsyncIterator[AsyncFakeClientset]:
    clientset = AsyncFakeClientset()
    yield clientset
    await clientset.aclose()


def fast_election(**kw: Any) -> ManagerOptions:
    return ManagerOptions(
        registry=CollectorRegistry(),
        leader_election=True,
        leader_election_id="unit-lease",
        lease_duration=1.0,
        renew_deadline=0.5,
        retry_period=0.1,
        **kw,
    )


class Flag:
    """A runnable that records that it runs and whether it was cancelled."""

    def __init__(self, *, leader: bool) -> None:
        self.leader = leader
        self.running = False
        self.stopped = False

    async def run(self) -> None:
        self.running = True
        try:
            await asyncio.Event().wait()
        finally:
            self.running = False
            self.stopped = True

    def need_leader_election(self) -> bool:
        return self.leader


async def test_without_leader_election_everything_runs_and_stops(cs: AsyncFakeClientset) -> None:
    mgr = Manager(cs, ManagerOptions(registry=CollectorRegistry()))
    a, b = Flag(leader=True), Flag(leader=False)
    mgr.add(a)
    mgr.add(b)
    task = asyncio.create_task(mgr.run())
    await until(lambda: a.running and b.running, "both running")
    assert mgr.elected.is_set() and mgr.is_leader()
    mgr.stop()
    await asyncio.wait_for(task, DEADLINE)
    assert a.stopped and b.stopped


async def test_controller_through_the_manager(cs: AsyncFakeClientset) -> None:
    seen: list[Request] = []

    async def reconcile(req: Request) -> Result:
        seen.append(req)
        return Result()

    mgr = Manager(cs, ManagerOptions(registry=CollectorRegistry()))
    ctrl = mgr.new_controller("cms", reconcile, max_concurrent_reconciles=2)
    ctrl.for_(mgr.informer_factory.core_v1.configmaps().informer)
    task = asyncio.create_task(mgr.run())
    await until(ctrl.is_running, "controller running")
    await cs.core_v1.configmaps("default").create(ConfigMap(metadata={"name": "m", "namespace": "default"}))
    await until(lambda: Request("default", "m") in seen, "reconciled")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ctrl.queue.shutting_down()
    assert mgr.informer_factory.shutting_down


async def test_leader_elected_runnables_run_only_while_leading() -> None:
    tracker = ObjectTracker()
    cs1, cs2 = AsyncFakeClientset(tracker=tracker), AsyncFakeClientset(tracker=tracker)
    m1 = Manager(cs1, fast_election(identity="one"))
    m2 = Manager(cs2, fast_election(identity="two"))
    l1, f1, l2, f2 = Flag(leader=True), Flag(leader=False), Flag(leader=True), Flag(leader=False)
    m1.add(l1)
    m1.add(f1)
    m2.add(l2)
    m2.add(f2)
    t1 = asyncio.create_task(m1.run())
    await until(lambda: l1.running, "first manager leads")
    t2 = asyncio.create_task(m2.run())
    await until(lambda: f2.running, "second manager's non-leader runnable runs")
    await until(lambda: m2.elector is not None and m2.elector.get_leader() == "one", "second sees the leader")
    assert not l2.running and not m2.is_leader() and m1.is_leader()
    # the leader steps down (releasing the lease): the other takes over at once
    m1.stop()
    await asyncio.wait_for(t1, DEADLINE)
    assert l1.stopped and f1.stopped
    await until(lambda: l2.running, "second manager leads")
    assert m2.is_leader()
    t2.cancel()
    await asyncio.gather(t2, return_exceptions=True)
    await cs1.aclose()
    await cs2.aclose()


async def test_losing_the_lease_stops_the_manager(cs: AsyncFakeClientset) -> None:
    mgr = Manager(cs, fast_election(identity="loser"))
    leader = Flag(leader=True)
    mgr.add(leader)
    task = asyncio.create_task(mgr.run())
    await until(lambda: leader.running, "leading")
    from pyclientgo.errors import ServiceUnavailable

    def fail(action: Any) -> tuple[bool, Any]:
        return True, ServiceUnavailable.new("lease store down")

    cs.prepend_reactor("update", "leases", fail)
    with pytest.raises(LeaderElectionLost):
        await asyncio.wait_for(task, DEADLINE)
    assert leader.stopped


async def test_a_failing_runnable_stops_the_manager(cs: AsyncFakeClientset) -> None:
    other = Flag(leader=False)

    async def crash() -> None:
        raise RuntimeError("runnable crashed")

    mgr = Manager(cs, ManagerOptions(registry=CollectorRegistry()))
    mgr.add(other)
    mgr.add(RunnableFunc(crash))
    with pytest.raises(RuntimeError, match="runnable crashed"):
        await asyncio.wait_for(mgr.run(), DEADLINE)
    assert other.stopped


def test_leader_election_needs_an_id(cs: AsyncFakeClientset) -> None:
    with pytest.raises(ValueError, match="leader_election_id"):
        Manager(cs, ManagerOptions(leader_election=True))


async def test_probe_answers() -> None:
    registry = CollectorRegistry()
    server = ProbeServer(registry=registry)
    server.add_healthz_check("ping", lambda: None)

    async def not_ready() -> None:
        raise RuntimeError("caches cold")

    server.add_readyz_check("caches", not_ready)
    assert await server.handle("GET", "/healthz") == (200, "text/plain; charset=utf-8", b"ok\n")
    status, _, body = await server.handle("GET", "/readyz")
    assert status == 500 and b"[-]caches failed: caches cold" in body
    status, _, body = await server.handle("GET", "/healthz?verbose")
    assert status == 200 and b"[+]ping ok" in body
    assert (await server.handle("GET", "/healthz/ping"))[0] == 200
    assert (await server.handle("GET", "/healthz/nope"))[0] == 404
    assert (await server.handle("GET", "/nothing"))[0] == 404
    assert (await server.handle("POST", "/healthz"))[0] == 405
    status, ctype, _ = await server.handle("GET", "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
