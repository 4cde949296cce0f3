"""Scheduler throughput, after kube's scheduler_perf ``SchedulingBasic``. Prints one JSON object.

A private test server; ``--nodes`` Node objects created directly (scheduler_perf's node-default:
4 CPU, 32Gi, 110 pods, Ready); then ``--pods`` pods (pod-default: one pause container requesting
100m CPU and 500Mi). Two modes:

- ``running`` (default): the real ``testserver scheduler`` runs, has every node in its cache, and the
  pods are created by concurrent clients; timed from the first pod created to the last bound;
- ``prestart``: nodes and pods exist before the scheduler starts (how the real kube-scheduler was
  measured here); timed from the scheduler's ready file (informers synced; ``startup_seconds``
  before that is Python's start and imports) to the last bound.

Figures: ``pods_per_s`` (pods bound / that time), ``attempt_p50_s`` / ``attempt_p99_s`` (from the
scheduler's own ``scheduler_scheduling_attempt_duration_seconds`` histogram, interpolated within
the bucket as Prometheus' ``histogram_quantile`` and scheduler_perf do; queueing for an API slot
included), ``algorithm_p50_s`` / ``algorithm_p99_s`` (``scheduler_scheduling_algorithm_duration_seconds``:
filters and scores of one pod, the CPU part), ``load_avg_1m`` (the machine is shared: read the
figures against it), ``create_pods_per_s`` (how
fast the clients created the pods, ``running`` mode). ``--affinity`` gives every pod a preferred
pod anti-affinity and a zone topology spread constraint (nodes spread over 10 zones).
``--profile FILE`` runs the scheduler under cProfile and prints its top functions to stderr.

Run: ``uv run python tests/benchmarks/scheduler_throughput.py [--nodes 1000] [--pods 3000] [--mode running]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from pyclientgo.api.core.v1 import Namespace, Node, Pod, ServiceAccount
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from testserver.scheduler.scheduler import API_CALLS_IN_FLIGHT
from testserver.scheduler.testing import SchedulerProcess, make_node, parse_metrics
from testserver.testing import TestServer

NAMESPACE = "sched-bench"
CREATORS = 16
ZONES = 10


def _node(i: int) -> Node:
    body = make_node(
        f"node-{i:05d}",
        cpu="4",
        memory="32Gi",
        pods="110",
        labels={"topology.kubernetes.io/zone": f"zone-{i % ZONES}"},
    )
    return Node.from_dict(body)


def _pod(i: int, affinity: bool) -> Pod:
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "pause",
                "image": "registry.k8s.io/pause:3.10",
                "ports": [{"containerPort": 80}],
                "resources": {
                    "limits": {"cpu": "100m", "memory": "500Mi"},
                    "requests": {"cpu": "100m", "memory": "500Mi"},
                },
            }
        ]
    }
    labels = {"app": "bench", "group": f"g{i % 50}"}
    if affinity:
        spec["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"group": labels["group"]}},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        }
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 5,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "bench"}},
            }
        ]
    return Pod.from_dict({"metadata": {"name": f"pod-{i:05d}", "labels": labels}, "spec": spec})


async def _run_all(coros: list[Any], concurrency: int) -> None:
    it = iter(coros)

    async def worker() -> None:
        for coro in it:
            await coro

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _histogram_quantile(q: float, metrics: dict[str, float], name: str, match: str = "") -> float | None:
    """Prometheus ``histogram_quantile`` over the series of ``name`` whose labels contain ``match``."""
    buckets: list[tuple[float, float]] = []
    for key, value in metrics.items():
        if key.startswith(name + "_bucket{") and match in key:
            bound = key.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value))
    if not buckets:
        return None
    buckets.sort()
    total = buckets[-1][1]
    if total == 0:
        return None
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return prev_le


def _scheduled(metrics: dict[str, float]) -> float:
    return sum(
        v
        for k, v in metrics.items()
        if k.startswith("scheduler_schedule_attempts_total{") and 'result="scheduled"' in k
    )


async def _wait_bound(url: str, want: int, timeout: float) -> float:
    """Poll the scheduler's metrics until ``want`` pods are bound; the monotonic time it happened."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            text = (await http.get(url + "/metrics", timeout=10.0)).text
            if _scheduled(parse_metrics(text)) >= want:
                return time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {_scheduled(parse_metrics(text))} of {want} pods bound in {timeout}s"
                )
            await asyncio.sleep(0.05)


async def _wait_nodes(url: str, want: int) -> None:
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            m = parse_metrics((await http.get(url + "/metrics", timeout=10.0)).text)
            if m.get('scheduler_cache_size{type="nodes"}', 0) >= want:
                return
            await asyncio.sleep(0.1)
    raise TimeoutError("the scheduler did not see every node")


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sched-bench-"))
    with TestServer(data_dir=data / "apiserver") as server:
        config = load_config(kubeconfig=str(server.kubeconfig))
        config.qps, config.burst = 5000.0, 5000
        async with AsyncClientset(config) as cs:
            await cs.core_v1.namespaces().create(Namespace(metadata={"name": NAMESPACE}))
            await cs.core_v1.service_accounts(NAMESPACE).create(ServiceAccount(metadata={"name": "default"}))
            await _run_all([cs.core_v1.nodes().create(_node(i)) for i in range(args.nodes)], CREATORS)
            pods = [_pod(i, args.affinity) for i in range(args.pods)]
            sched_args = ["--kube-api-qps", str(args.qps), "--kube-api-burst", str(args.burst)]
            if args.api_calls_in_flight is not None:
                sched_args += ["--api-calls-in-flight", str(args.api_calls_in_flight)]
            process = SchedulerProcess(
                server.kubeconfig, *sched_args, data_dir=data / "scheduler", profile_to=args.profile
            )
            result: dict[str, Any] = {
                "mode": args.mode,
                "nodes": args.nodes,
                "pods": args.pods,
                "affinity": args.affinity,
                "api_calls_in_flight": args.api_calls_in_flight or API_CALLS_IN_FLIGHT,
            }
            if args.mode == "prestart":
                await _run_all([cs.core_v1.pods(NAMESPACE).create(p) for p in pods], CREATORS)
                launched = time.monotonic()
                process.start()
                start = time.monotonic()  # caches synced: scheduling starts now
                result["startup_seconds"] = round(start - launched, 2)
                try:
                    end = await _wait_bound(process.url, args.pods, args.timeout)
                    metrics = parse_metrics(httpx.get(process.url + "/metrics", timeout=10.0).text)
                finally:
                    process.stop(timeout=120 if args.profile else 10)
            else:
                process.start()
                try:
                    await _wait_nodes(process.url, args.nodes)
                    start = time.monotonic()
                    waiter = asyncio.create_task(_wait_bound(process.url, args.pods, args.timeout))
                    await _run_all([cs.core_v1.pods(NAMESPACE).create(p) for p in pods], CREATORS)
                    created = time.monotonic()
                    end = await waiter
                    metrics = parse_metrics(httpx.get(process.url + "/metrics", timeout=10.0).text)
                    result["create_pods_per_s"] = round(args.pods / (created - start), 1)
                finally:
                    process.stop(timeout=120 if args.profile else 10)
    elapsed = end - start
    name = "scheduler_scheduling_attempt_duration_seconds"
    p50 = _histogram_quantile(0.5, metrics, name, 'result="scheduled"')
    p99 = _histogram_quantile(0.99, metrics, name, 'result="scheduled"')
    algorithm = "scheduler_scheduling_algorithm_duration_seconds"
    a50 = _histogram_quantile(0.5, metrics, algorithm)
    a99 = _histogram_quantile(0.99, metrics, algorithm)
    result.update(
        seconds=round(elapsed, 2),
        pods_per_s=round(args.pods / elapsed, 1),
        attempt_p50_s=round(p50, 4) if p50 is not None else None,
        attempt_p99_s=round(p99, 4) if p99 is not None else None,
        algorithm_p50_s=round(a50, 5) if a50 is not None else None,
        algorithm_p99_s=round(a99, 5) if a99 is not None else None,
        load_avg_1m=round(os.getloadavg()[0], 1),
        unschedulable_attempts=sum(
            v
            for k, v in metrics.items()
            if k.startswith("scheduler_schedule_attempts_total{") and "unschedulable" in k
        ),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=3000)
    parser.add_argument("--mode", choices=["running", "prestart"], default="running")
    parser.add_argument("--affinity", action="store_true", help="pod anti-affinity and topology spread")
    parser.add_argument("--qps", type=float, default=5000.0, help="the scheduler's --kube-api-qps")
    parser.add_argument("--burst", type=int, default=5000, help="the scheduler's --kube-api-burst")
    parser.add_argument("--api-calls-in-flight", type=int, default=None, help="the scheduler's flag")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", default=None, help="cProfile the scheduler into this file")
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(json.dumps(result), flush=True)
    if args.profile and Path(args.profile).exists():
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
