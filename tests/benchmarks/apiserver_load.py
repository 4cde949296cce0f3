"""Load benchmark of the API server: 2000 configmaps created, fetched, listed, updated and deleted by
16 concurrent clients while 20 watchers count delivered events. Prints one JSON object.

Run: ``uv run python tests/benchmarks/apiserver_load.py [--storage memory|sqlite:state.db]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from typing import Any

import httpx

from testserver.testing import TestServer

N = 2000
CLIENTS = 16
WATCHERS = 20
LISTS = 100
NS = "default"
DATA = {"payload": "x" * 200, "k1": "value-1", "k2": "value-2"}  # ≈250 bytes of data


def make_client(server: TestServer) -> httpx.AsyncClient:
    ctx = ssl.create_default_context(cafile=str(server.ca_cert))
    return httpx.AsyncClient(
        base_url=server.url,
        verify=ctx,
        timeout=60,
        headers={"Authorization": f"Bearer {server.token}"},
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
    )


async def phase(clients: list[httpx.AsyncClient], count: int, op: Any) -> float:
    queue = list(range(count))
    t0 = time.perf_counter()

    async def worker(c: httpx.AsyncClient) -> None:
        while queue:
            i = queue.pop()
            await op(c, i)

    await asyncio.gather(*(worker(c) for c in clients))
    return count / (time.perf_counter() - t0)


async def main(storage: str) -> dict[str, Any]:
    with TestServer(storage=storage) as server:
        clients = [make_client(server) for _ in range(CLIENTS)]
        base = f"/api/v1/namespaces/{NS}/configmaps"
        rv = (await clients[0].get(base)).json()["metadata"]["resourceVersion"]
        counts = [0] * WATCHERS
        expected = N * 3  # ADDED + MODIFIED + DELETED per object

        async def watcher(idx: int) -> None:
            async with (
                make_client(server) as c,
                c.stream(
                    "GET", base, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "600"}
                ) as r,
            ):
                async for line in r.aiter_lines():
                    if line:
                        counts[idx] += 1
                        if counts[idx] >= expected:
                            return

        watch_tasks = [asyncio.create_task(watcher(i)) for i in range(WATCHERS)]
        await asyncio.sleep(0.5)  # let the watches connect (they start from rv, so nothing is missed)

        async def create(c: httpx.AsyncClient, i: int) -> None:
            r = await c.post(
                base,
                json={
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i:05d}"},
                    "data": DATA,
                },
            )
            assert r.status_code == 201, r.text

        async def get(c: httpx.AsyncClient, i: int) -> None:
            r = await c.get(f"{base}/cm-{i:05d}")
            assert r.status_code == 200, r.text

        async def lst(c: httpx.AsyncClient, i: int) -> None:
            r = await c.get(base)
            assert r.status_code == 200 and len(r.json()["items"]) >= N

        async def update(c: httpx.AsyncClient, i: int) -> None:
            r = await c.put(
                f"{base}/cm-{i:05d}",
                json={
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i:05d}"},
                    "data": {**DATA, "k1": "changed"},
                },
            )
            assert r.status_code == 200, r.text

        async def delete(c: httpx.AsyncClient, i: int) -> None:
            r = await c.delete(f"{base}/cm-{i:05d}")
            assert r.status_code == 200, r.text

        result: dict[str, Any] = {
            "storage": storage,
            "objects": N,
            "clients": CLIENTS,
            "watchers": WATCHERS,
            "server_startup_seconds": server.startup_seconds,
            "process_startup_seconds": round(server.wall_startup_seconds, 3),
        }
        result["creates_per_s"] = round(await phase(clients, N, create), 1)
        result["gets_per_s"] = round(await phase(clients, N, get), 1)
        result["full_lists_per_s"] = round(await phase(clients, LISTS, lst), 1)
        result["updates_per_s"] = round(await phase(clients, N, update), 1)
        result["deletes_per_s"] = round(await phase(clients, N, delete), 1)
        try:
            await asyncio.wait_for(asyncio.gather(*watch_tasks), timeout=60)
        except TimeoutError:
            for t in watch_tasks:
                t.cancel()
        result["watch_events_expected_each"] = expected
        result["watch_events_min"] = min(counts)
        result["every_watcher_got_every_event"] = all(c == expected for c in counts)
        for c in clients:
            await c.aclose()
        return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--storage", default="memory")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.storage))))
    sys.exit(0)
