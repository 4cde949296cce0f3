"""Endpoints benchmark: a Service over 1000 ready pods, with the endpointslice and endpoints controllers
in a real ``testserver controller-manager`` process against a private test server. Prints one JSON
object:

- ``pods_create_seconds``: creating the pods and writing their Running/Ready status (the benchmark
  plays the kubelet's status write, so the figure is the controllers', not a kubelet's);
- ``slices_full_seconds``: from the Service's creation until its EndpointSlices hold all the pods as
  ready endpoints (``slices``: how many slices);
- ``endpoints_full_seconds``: the same for the v1 Endpoints object (at most 1000 addresses);
- ``readiness_to_slice_seconds_median`` / ``_max``: from sending the status write that flips a pod's
  Ready condition until a watch on the slices delivers the slice with the new ``ready`` value, over
  ``--flips`` flips (half to not ready, half back);
- ``endpoints_over_capacity``: the Endpoints' ``endpoints.kubernetes.io/over-capacity`` annotation
  (``truncated`` from 1001 pods).

Run: ``uv run python tests/benchmarks/endpoints.py [--pods 1000] [--flips 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import Namespace, Pod, Service, ServiceAccount
from pyclientgo.kubernetes import AsyncClientset
from testserver.testing import TestServer

# the controller tests' helper: the controller-manager child process
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testserver" / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager

NS = "bench"


def _status(i: int, ready: bool) -> dict[str, Any]:
    ip = f"10.2.{i // 250}.{i % 250 + 1}"
    return {
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
            ],
        }
    }


async def _wait(probe: Any, timeout: float = 600.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(interval)


async def _slice_ready(cs: AsyncClientset) -> dict[str, bool]:
    got = await cs.discovery_v1.endpoint_slices(NS).list(label_selector="kubernetes.io/service-name=svc")
    return {
        str(ep.target_ref.name): bool(ep.conditions.ready)
        for s in got.items or []
        for ep in s.endpoints or []
        if ep.target_ref is not None and ep.conditions is not None
    }


async def run(pods: int, flips: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, TestServer(data_dir=Path(tmp) / "api") as server:
        cm = ControllerManager(
            server.kubeconfig,
            "--controllers",
            "endpointslice,endpoint",
            "--kube-api-qps",
            "1000",
            "--kube-api-burst",
            "1000",
            data_dir=Path(tmp) / "cm",
        )
        with cm:
            from pyclientgo.config import load_config

            async with AsyncClientset(load_config(kubeconfig=str(server.kubeconfig))) as cs:
                await cs.core_v1.namespaces().create(Namespace(metadata={"name": NS}))
                # no serviceaccount controller here: the ServiceAccount pods need, by hand
                await cs.core_v1.service_accounts(NS).create(ServiceAccount(metadata={"name": "default"}))
                sem = asyncio.Semaphore(16)

                async def make(i: int) -> None:
                    async with sem:
                        await cs.core_v1.pods(NS).create(
                            Pod.from_dict(
                                {
                                    "metadata": {"name": f"p-{i}", "labels": {"app": "bench"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                                }
                            )
                        )
                        await cs.core_v1.pods(NS).patch(
                            f"p-{i}", _status(i, True), patch_type="merge", subresource="status"
                        )

                t0 = time.monotonic()
                await asyncio.gather(*(make(i) for i in range(pods)))
                created = time.monotonic() - t0

                t1 = time.monotonic()
                await cs.core_v1.services(NS).create(
                    Service.from_dict(
                        {
                            "metadata": {"name": "svc"},
                            "spec": {
                                "selector": {"app": "bench"},
                                "ports": [{"port": 80, "targetPort": 8080}],
                            },
                        }
                    )
                )
                slices_full = endpoints_full = 0.0

                async def slices_done() -> bool:
                    ready = await _slice_ready(cs)
                    return len(ready) == pods and all(ready.values())

                async def endpoints_done() -> bool:
                    try:
                        ep = await cs.core_v1.endpoints(NS).get("svc")
                    except Exception:
                        return False
                    n = sum(len(s.addresses or []) for s in ep.subsets or [])
                    return n == min(pods, 1000)

                async def watch_slices() -> None:
                    nonlocal slices_full
                    await _wait(slices_done)
                    slices_full = time.monotonic() - t1

                async def watch_endpoints() -> None:
                    nonlocal endpoints_full
                    await _wait(endpoints_done)
                    endpoints_full = time.monotonic() - t1

                await asyncio.gather(watch_slices(), watch_endpoints())
                n_slices = len((await cs.discovery_v1.endpoint_slices(NS).list()).items or [])
                ep_meta = (await cs.core_v1.endpoints(NS).get("svc")).metadata
                over = ((ep_meta.annotations if ep_meta else None) or {}).get(
                    "endpoints.kubernetes.io/over-capacity"
                )

                lags: list[float] = []
                for k in range(flips):
                    i = (k // 2 * 97) % pods
                    want = k % 2 == 1  # flip to not ready, then back
                    rv = (await cs.discovery_v1.endpoint_slices(NS).list(limit=1)).metadata.resource_version  # type: ignore[union-attr]
                    seen = asyncio.get_running_loop().create_future()

                    async def watch(
                        i: int = i, want: bool = want, rv: str | None = rv, seen: Any = seen
                    ) -> None:
                        async for event in cs.discovery_v1.endpoint_slices(NS).watch(resource_version=rv):
                            for ep in event.object.endpoints or []:
                                ref, cond = ep.target_ref, ep.conditions
                                if (
                                    ref is not None
                                    and ref.name == f"p-{i}"
                                    and cond is not None
                                    and cond.ready == want
                                ):
                                    seen.set_result(time.monotonic())
                                    return

                    watcher = asyncio.create_task(watch())
                    t = time.monotonic()
                    await cs.core_v1.pods(NS).patch(
                        f"p-{i}", _status(i, want), patch_type="merge", subresource="status"
                    )
                    lags.append(await asyncio.wait_for(seen, 120) - t)
                    watcher.cancel()
                return {
                    "pods": pods,
                    "pods_create_seconds": round(created, 3),
                    "slices_full_seconds": round(slices_full, 3),
                    "slices": n_slices,
                    "endpoints_full_seconds": round(endpoints_full, 3),
                    "readiness_to_slice_seconds_median": round(statistics.median(lags), 4) if lags else None,
                    "readiness_to_slice_seconds_max": round(max(lags), 4) if lags else None,
                    "flips": flips,
                    "endpoints_over_capacity": over,
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--flips", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.pods, args.flips))))


if __name__ == "__main__":
    main()
