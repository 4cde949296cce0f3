"""Informer benchmark: 10,000 pods in a private test server, watched through ``SharedInformerFactory``.
Prints one JSON object:

- ``sync_seconds``: from ``factory.start()`` to ``has_synced`` (LIST of every pod, cached, and the
  initial adds delivered to a handler), median of ``--rounds`` fresh factories;
- ``initial_adds_per_s``: initial-list adds delivered to the handler per second of that sync;
- ``replay_events_per_s``: steady-state watch events delivered to a handler when the input is not the
  bottleneck: the reflector watches from an old resourceVersion and the server replays
  ``--updates`` recorded pod updates from its history as fast as it can stream them;
- ``live_events_per_s`` / ``live_writes_per_s`` / ``live_lag_seconds``: the same updates written by
  concurrent clients while the informer runs: delivery rate, write rate, and how long after the
  last write was acknowledged its event reached the handler;
- ``bytes_per_pod_tracemalloc``: Python heap held by the cache per pod (tracemalloc, after gc);
  ``bytes_per_pod_rss``: resident-set growth per pod over the first sync (includes allocator slack).

Run: ``uv run python tests/benchmarks/informer_sync.py [--pods 10000] [--updates 5000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import statistics
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

from pyclientgo.api.core.v1 import Namespace, Pod
from pyclientgo.config import load_config
from pyclientgo.informers import PodInformer, SharedInformerFactory
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import WatchEvent
from pyclientgo.tools.cache import ListOptions, ListWatch, SharedIndexInformer
from testserver.testing import TestServer

NAMESPACES = 10
WRITERS = 32


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _pod(i: int) -> Pod:
    return Pod(
        metadata={
            "name": f"pod-{i:05d}",
            "labels": {"app": f"app-{i % 50}", "tier": "web" if i % 2 else "db", "index": str(i)},
            "annotations": {"bench/owner": "informer-sync"},
        },
        spec={
            "containers": [
                {
                    "name": "main",
                    "image": "registry.example.com/app:1.0",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "MODE", "value": "bench"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
            "nodeName": f"node-{i % 20}",
        },
    )


async def _parallel(n: int, fn: Any) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await fn(i)

    await asyncio.gather(*(worker() for _ in range(WRITERS)))


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.target = 0
        self.done = asyncio.Event()
        self.last = 0.0

    def hit(self) -> None:
        self.n += 1
        self.last = time.perf_counter()
        if self.target and self.n >= self.target:
            self.done.set()

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self.hit()

    def on_update(self, old: Any, new: Any) -> None:
        self.hit()

    def on_delete(self, obj: Any) -> None:
        self.hit()


async def _sync_once(cs: AsyncClientset, pods: int) -> tuple[float, SharedInformerFactory, Counter]:
    factory = SharedInformerFactory(cs)
    informer = factory.core_v1.pods()
    counter = Counter()
    reg = informer.informer.add_event_handler(counter)
    t0 = time.perf_counter()
    factory.start()
    while not reg.has_synced():
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - t0
    assert len(informer.lister.list()) == pods and counter.n == pods
    return elapsed, factory, counter


async def _replay(cs: AsyncClientset, start_rv: str, updates: int) -> float:
    """Watch from ``start_rv`` (an empty list at that RV first): the server replays ``updates`` events."""
    client = cs.core_v1.pods()
    base = ListWatch.from_client(client)

    async def list_func(options: ListOptions) -> Any:
        return {"metadata": {"resourceVersion": start_rv}, "items": []}

    def watch_func(options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        return base.watch(options)

    informer = SharedIndexInformer(ListWatch(list_func=list_func, watch_func=watch_func), Pod)
    counter = Counter()
    counter.target = updates
    informer.add_event_handler(counter)
    t0 = time.perf_counter()
    informer.start()
    await asyncio.wait_for(counter.done.wait(), 300)
    elapsed = counter.last - t0
    await informer.stop()
    return updates / elapsed


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with TestServer(history_window=args.updates * 2 + 1000, standin_controllers=True) as server:
        config = dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
        async with AsyncClientset(config) as cs:
            for k in range(NAMESPACES):
                await cs.core_v1.namespaces().create(Namespace(metadata={"name": f"bench-{k}"}))
            t0 = time.perf_counter()

            async def create(i: int) -> None:
                await cs.core_v1.pods(f"bench-{i % NAMESPACES}").create(_pod(i))

            await _parallel(args.pods, create)
            create_s = time.perf_counter() - t0

            gc.collect()
            rss0 = _rss()
            sync_times: list[float] = []
            first, factory, _ = await _sync_once(cs, args.pods)
            gc.collect()
            rss_per_pod = (_rss() - rss0) / args.pods
            sync_times.append(first)
            await factory.shutdown()
            for _ in range(args.rounds - 1):
                elapsed, factory, _ = await _sync_once(cs, args.pods)
                sync_times.append(elapsed)
                await factory.shutdown()
            del factory
            gc.collect()

            tracemalloc.start()
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            _, factory, _ = await _sync_once(cs, args.pods)
            gc.collect()
            heap_per_pod = (tracemalloc.get_traced_memory()[0] - before) / args.pods
            tracemalloc.stop()
            await factory.shutdown()
            del factory
            gc.collect()

            # live: updates written while an informer runs
            factory = SharedInformerFactory(cs)
            pods_informer: PodInformer = factory.core_v1.pods()
            counter = Counter()
            reg = pods_informer.informer.add_event_handler(counter)
            factory.start()
            while not reg.has_synced():
                await asyncio.sleep(0.01)
            listed = await cs.core_v1.pods().list(limit=1)
            assert listed.metadata is not None and listed.metadata.resource_version
            start_rv = listed.metadata.resource_version
            counter.n, counter.target = 0, args.updates
            counter.done.clear()

            async def update(i: int) -> None:
                j = i % args.pods
                body = {"metadata": {"labels": {"round": str(i // args.pods)}, "annotations": {"u": str(i)}}}
                await cs.core_v1.pods(f"bench-{j % NAMESPACES}").patch(
                    f"pod-{j:05d}", body, patch_type="merge"
                )

            t0 = time.perf_counter()
            await _parallel(args.updates, update)
            written = time.perf_counter()
            await asyncio.wait_for(counter.done.wait(), 300)
            live_events = args.updates / (counter.last - t0)
            live_writes = args.updates / (written - t0)
            lag = max(0.0, counter.last - written)
            await factory.shutdown()

            replay = await _replay(cs, start_rv, args.updates)

    median = statistics.median(sync_times)
    return {
        "pods": args.pods,
        "create_pods_per_s": round(args.pods / create_s, 1),
        "sync_seconds": round(median, 3),
        "sync_seconds_all": [round(s, 3) for s in sync_times],
        "initial_adds_per_s": round(args.pods / median, 1),
        "replay_events_per_s": round(replay, 1),
        "live_events_per_s": round(live_events, 1),
        "live_writes_per_s": round(live_writes, 1),
        "live_lag_seconds": round(lag, 3),
        "updates": args.updates,
        "bytes_per_pod_tracemalloc": round(heap_per_pod),
        "bytes_per_pod_rss": round(rss_per_pod),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
