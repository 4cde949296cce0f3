"""Benchmark: work queue throughput in process, and controller reconciles/s against a real server.

    uv run python tests/benchmarks/workqueue.py [--items 200000] [--objects 5000] [--workers 8]

Prints ONE JSON object:

- ``queue_items_per_s``: distinct items through ``add → get → done`` with 8 worker tasks (unnamed
  queue: no metrics), and ``queue_items_per_s_with_metrics`` (a named queue recording Prometheus
  metrics in a private registry); ``rate_limiting_queue_items_per_s``: the same through a
  RateLimitingQueue with ``forget`` after each item, as controller workers do;
- ``controller_*``: a private TestServer (memory storage), ``Config(qps=-1)``, ``--objects`` ConfigMaps
  created first (``create_per_s``); then a Manager + Controller with ``--workers`` workers, timed from
  ``Manager.run()`` until every object has been reconciled:
  ``controller_noop_reconciles_per_s`` (reconcile reads the lister only: list + watch + queue + workers),
  ``controller_write_reconciles_per_s`` (reconcile PATCHes an annotation onto each object: one API
  write per reconcile, end to end).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from typing import Any

from prometheus_client import CollectorRegistry

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import load_config
from pyclientgo.controller import Manager, ManagerOptions, Request, Result
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.workqueue import NoopMetricsProvider, PrometheusMetricsProvider, Queue, RateLimitingQueue
from testserver.testing import TestServer

NS = "bench"


async def queue_rate(items: int, workers: int, *, metrics: bool, rate_limiting: bool = False) -> float:
    provider = PrometheusMetricsProvider(CollectorRegistry()) if metrics else NoopMetricsProvider()
    name = "bench" if metrics else ""
    q: Any = (
        RateLimitingQueue(name=name, metrics_provider=provider)
        if rate_limiting
        else Queue(name=name, metrics_provider=provider)
    )
    done = 0
    finished = asyncio.Event()

    async def worker() -> None:
        nonlocal done
        while True:
            item = await q.get()
            if rate_limiting:
                q.forget(item)
            q.done(item)
            done += 1
            if done == items:
                finished.set()

    async def producer() -> None:
        for i in range(items):
            q.add(i)
            if i % 64 == 0:
                await asyncio.sleep(0)  # interleave with the workers, as informer handlers do

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await producer()
    await finished.wait()
    elapsed = time.perf_counter() - t0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return items / elapsed


async def create_objects(cs: AsyncClientset, n: int) -> float:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": NS}))
    sem = asyncio.Semaphore(64)
    cms = cs.core_v1.config_maps(NS)

    async def one(i: int) -> None:
        async with sem:
            await cms.create(ConfigMap(metadata={"name": f"cm-{i:05d}"}, data={"i": str(i)}))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


async def controller_rate(cs: AsyncClientset, n: int, workers: int, *, write: bool, tag: str) -> float:
    mgr = Manager(cs, ManagerOptions(registry=CollectorRegistry(), namespace=NS))
    cms = mgr.informer_factory.core_v1.configmaps()
    seen: set[Request] = set()
    all_done = asyncio.Event()
    api = cs.core_v1.config_maps(NS)

    async def reconcile(req: Request) -> Result:
        cm = cms.lister.config_maps(req.namespace).get(req.name)
        if write and ((cm.metadata and cm.metadata.annotations) or {}).get("bench/tag") != tag:
            await api.patch(req.name, {"metadata": {"annotations": {"bench/tag": tag}}}, patch_type="merge")
        seen.add(req)
        if len(seen) >= n:
            all_done.set()
        return Result()

    mgr.new_controller(f"bench-{tag}", reconcile, max_concurrent_reconciles=workers).for_(cms.informer)
    t0 = time.perf_counter()
    task = asyncio.create_task(mgr.run())
    await asyncio.wait_for(all_done.wait(), 600)
    elapsed = time.perf_counter() - t0
    mgr.stop()
    await task
    return n / elapsed


async def main(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"items": args.items, "queue_workers": 8}
    out["queue_items_per_s"] = round(await queue_rate(args.items, 8, metrics=False))
    out["queue_items_per_s_with_metrics"] = round(await queue_rate(args.items, 8, metrics=True))
    out["rate_limiting_queue_items_per_s"] = round(
        await queue_rate(args.items, 8, metrics=False, rate_limiting=True)
    )
    with TestServer() as server:
        config = dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
        async with AsyncClientset(config) as cs:
            out["objects"] = args.objects
            out["controller_workers"] = args.workers
            out["create_per_s"] = round(await create_objects(cs, args.objects), 1)
            out["controller_noop_reconciles_per_s"] = round(
                await controller_rate(cs, args.objects, args.workers, write=False, tag="noop"), 1
            )
            out["controller_write_reconciles_per_s"] = round(
                await controller_rate(cs, args.objects, args.workers, write=True, tag="write"), 1
            )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=8)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
