"""Leader election against the real test server with a Lease lock."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.leaderelection import LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock


def elector(cs: AsyncClientset, identity: str, leading: dict[str, bool], lease: str) -> LeaderElector:
    async def started() -> None:
        leading[identity] = True
        try:
            await asyncio.Event().wait()
        finally:
            leading[identity] = False

    return LeaderElector(
        LeaderElectionConfig(
            lock=LeaseLock(cs.coordination_v1.leases("default"), lease, identity),
            callbacks=LeaderCallbacks(on_started_leading=started, on_stopped_leading=lambda: None),
            lease_duration=2,
            renew_deadline=1.0,
            retry_period=0.25,
            release_on_cancel=True,
        )
    )


async def wait_until(cond: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.02)


async def test_lease_lock_failover_with_release(kubeconfig: Path, kubectl: object) -> None:
    config = load_config(kubeconfig=str(kubeconfig))
    config.qps = -1
    leading: dict[str, bool] = {}
    async with AsyncClientset(config) as cs:
        a = elector(cs, "a", leading, "live-election")
        task_a = asyncio.create_task(a.run())
        await wait_until(lambda: leading.get("a"))
        b = elector(cs, "b", leading, "live-election")
        task_b = asyncio.create_task(b.run())
        await wait_until(lambda: b.get_leader() == "a")
        assert not leading.get("b")
        task_a.cancel()  # release_on_cancel: b need not wait for the lease to expire
        await asyncio.gather(task_a, return_exceptions=True)
        assert not leading["a"]
        await wait_until(lambda: leading.get("b"))
        lease = json.loads(kubectl("get", "lease", "live-election", "-n", "default", "-o", "json"))  # type: ignore[operator]
        spec = lease["spec"]
        assert spec["holderIdentity"] == "b"
        assert spec["leaseTransitions"] == 1  # release keeps the count; b taking over adds one
        assert spec["leaseDurationSeconds"] == 2
        assert "acquireTime" in spec and "renewTime" in spec
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)
