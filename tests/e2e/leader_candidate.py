"""A leader-election candidate process for the fencing test (not collected by pytest).

usage: python leader_candidate.py KUBECONFIG IDENTITY LEASE_NAME FENCE_FILE

While it leads it appends ``tick <monotonic>`` lines to FENCE_FILE every 10 ms; it writes
``start``/``stop`` lines around its leadership. CLOCK_MONOTONIC is shared by all processes of a
Linux machine, so the test can check that no two candidates' leadership intervals overlap.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.leaderelection import LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock


async def main(kubeconfig: str, identity: str, lease: str, fence_path: str) -> None:
    config = load_config(kubeconfig=kubeconfig)
    config.qps = -1
    config.timeout = 2.0
    fence = open(fence_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    def mark(what: str) -> None:
        fence.write(f"{what} {time.monotonic():.6f}\n")

    async def lead() -> None:
        mark("start")
        while True:
            mark("tick")
            await asyncio.sleep(0.01)

    async with AsyncClientset(config) as cs:
        while True:  # a candidate that lost leadership stands again
            elector = LeaderElector(
                LeaderElectionConfig(
                    lock=LeaseLock(cs.coordination_v1.leases("default"), lease, identity),
                    callbacks=LeaderCallbacks(
                        on_started_leading=lead, on_stopped_leading=lambda: mark("stop")
                    ),
                    lease_duration=float(os.environ.get("LEASE_DURATION", "2")),
                    renew_deadline=float(os.environ.get("RENEW_DEADLINE", "1")),
                    retry_period=float(os.environ.get("RETRY_PERIOD", "0.25")),
                    name=identity,
                )
            )
            await elector.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
