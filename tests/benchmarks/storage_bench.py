"""Storage micro-benchmark: ``uv run python tests/benchmarks/storage_bench.py [--n N] [--backend B]``.

Prints one JSON object: figures per backend. Writes are issued the way the API server issues
them: ``--concurrency`` requests in flight at once, each awaiting its own write (so the SQLite
backend can group-commit); ``sequential_creates_per_s`` is one writer awaiting each write in
turn (the worst case for SQLite). Values are ~1 KiB of JSON, about a small Pod.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from testserver.storage import MemoryStorage, SqliteStorage, Storage, key_for, prefix_for

VALUE = json.dumps(
    {"metadata": {"labels": {f"l{i}": "x" * 20 for i in range(20)}}, "spec": "y" * 300}
).encode()


async def _concurrently(n: int, concurrency: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Run op(0..n-1) with ``concurrency`` workers; ops per second."""
    next_i = 0

    async def worker() -> None:
        nonlocal next_i
        while next_i < n:
            i = next_i
            next_i += 1
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def _bench(storage: Storage, n: int, concurrency: int) -> dict[str, float]:
    def key(i: int) -> str:
        return key_for("pods", f"ns{i % 10}", f"pod-{i:06}")

    out: dict[str, float] = {}
    out["creates_per_s"] = await _concurrently(n, concurrency, lambda i: storage.create(key(i), VALUE))
    start = time.perf_counter()
    for i in range(n, n + min(n, 2000)):
        await storage.create(key(i), VALUE)
    out["sequential_creates_per_s"] = min(n, 2000) / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        await storage.get(key(i))
    out["gets_per_s"] = n / (time.perf_counter() - start)
    old_revision = storage.current_revision()
    out["updates_per_s"] = await _concurrently(n, concurrency, lambda i: storage.update(key(i), VALUE + b" "))

    # A resource with exactly 2000 objects, among everything above.
    for i in range(2000):
        await storage.create(key_for("configmaps", "default", f"cm-{i:05}"), VALUE)
    cm_old = storage.current_revision()
    await _concurrently(
        2000, concurrency, lambda i: storage.update(key_for("configmaps", "default", f"cm-{i:05}"), b"x")
    )

    async def best_ms(fn: Callable[[], Awaitable[object]], repeat: int = 20) -> float:
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            await fn()
            best = min(best, time.perf_counter() - t)
        return round(best * 1000, 3)

    prefix = prefix_for("configmaps")
    latest = await storage.list(prefix)
    assert len(latest.items) == 2000
    out["list_2000_latest_ms"] = await best_ms(lambda: storage.list(prefix))
    out["list_2000_old_revision_ms"] = await best_ms(lambda: storage.list(prefix, revision=cm_old))

    async def paged() -> None:
        page = await storage.list(prefix, limit=500)
        while page.more:
            page = await storage.list(prefix, revision=page.revision, limit=500, continue_key=page.next_key)

    out["list_2000_in_pages_of_500_ms"] = await best_ms(paged, repeat=5)
    out["list_all_pods_ms"] = await best_ms(lambda: storage.list(prefix_for("pods")), repeat=5)
    out["pods_listed_at_old_revision"] = float(
        len((await storage.list(prefix_for("pods"), revision=old_revision)).items)
    )

    # 100 watchers of the written prefix, each drained by its own task (as watch handlers do).
    watches = [await storage.watch(prefix_for("secrets"), storage.current_revision()) for _ in range(100)]
    m = min(n, 5000)
    received = [0] * len(watches)

    async def drain(j: int) -> None:
        async for _ in watches[j]:
            received[j] += 1
            if received[j] == m:
                return

    drains = [asyncio.create_task(drain(j)) for j in range(len(watches))]
    start = time.perf_counter()
    await _concurrently(m, concurrency, lambda i: storage.create(key_for("secrets", "ns", f"s{i}"), VALUE))
    await asyncio.wait_for(asyncio.gather(*drains), 60)
    out["creates_per_s_with_100_draining_watchers"] = m / (time.perf_counter() - start)
    assert received == [m] * len(watches)
    for w in watches:
        await w.aclose()
    return {k: round(v, 3) if k.endswith("_ms") else round(v) for k, v in out.items()}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--backend", choices=["memory", "sqlite", "all"], default="all")
    args = parser.parse_args()
    result: dict[str, object] = {"n": args.n, "concurrency": args.concurrency}
    if args.backend in ("memory", "all"):
        memory = MemoryStorage(history_window=100_000)
        result["memory"] = await _bench(memory, args.n, args.concurrency)
        await memory.close()
    if args.backend in ("sqlite", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = await SqliteStorage.open(Path(tmp) / "bench.db", history_window=100_000)
            result["sqlite"] = await _bench(sqlite, args.n, args.concurrency)
            await sqlite.close()
            start = time.perf_counter()
            reopened = await SqliteStorage.open(Path(tmp) / "bench.db")
            result["sqlite_reopen_ms"] = round((time.perf_counter() - start) * 1000, 1)
            await reopened.close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
