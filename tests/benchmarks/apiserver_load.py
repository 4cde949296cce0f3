"""Load benchmark of the API server: 2000 configmaps created, fetched, listed, updated and deleted by
16 concurrent clients while 20 watchers count delivered events. Prints one JSON object.

The clients are pyclientgo's typed ``AsyncClientset`` (one per simulated client, client-side rate
limiting off) or, to compare, raw httpx clients.

Run: ``uv run python tests/benchmarks/apiserver_load.py [--storage memory|sqlite:state.db|etcd://H:P]
[--etcd] [--client pyclientgo|httpx]`` (``--etcd``: start a private etcd and use it as the storage)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from testserver.etcd_process import EtcdProcess
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


def cm_body(i: int, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:05d}"}, "data": data}


class Driver(Protocol):
    """One simulated client: the five verbs on configmaps in NS, and a counting watch."""

    async def create(self, i: int) -> None: ...
    async def get(self, i: int) -> None: ...
    async def list(self) -> int: ...
    async def update(self, i: int) -> None: ...
    async def delete(self, i: int) -> None: ...
    async def resource_version(self) -> str: ...
    async def watch(self, rv: str, expected: int, on_event: Callable[[], None]) -> None: ...
    async def aclose(self) -> None: ...


class HttpxDriver:
    """Raw httpx (JSON in, JSON out)."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.c = make_client(server)
        self.base = f"/api/v1/namespaces/{NS}/configmaps"

    async def create(self, i: int) -> None:
        r = await self.c.post(self.base, json=cm_body(i, DATA))
        assert r.status_code == 201, r.text

    async def get(self, i: int) -> None:
        r = await self.c.get(f"{self.base}/cm-{i:05d}")
        assert r.status_code == 200, r.text

    async def list(self) -> int:
        r = await self.c.get(self.base)
        assert r.status_code == 200, r.text
        return len(r.json()["items"])

    async def update(self, i: int) -> None:
        r = await self.c.put(f"{self.base}/cm-{i:05d}", json=cm_body(i, {**DATA, "k1": "changed"}))
        assert r.status_code == 200, r.text

    async def delete(self, i: int) -> None:
        r = await self.c.delete(f"{self.base}/cm-{i:05d}")
        assert r.status_code == 200, r.text

    async def resource_version(self) -> str:
        return str((await self.c.get(self.base)).json()["metadata"]["resourceVersion"])

    async def watch(self, rv: str, expected: int, on_event: Callable[[], None]) -> None:
        params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "600"}
        seen = 0
        async with make_client(self.server) as c, c.stream("GET", self.base, params=params) as r:
            async for line in r.aiter_lines():
                if line:
                    on_event()
                    seen += 1
                    if seen >= expected:
                        return

    async def aclose(self) -> None:
        await self.c.aclose()


class PyclientgoDriver:
    """pyclientgo's typed AsyncClientset (one per simulated client, no client-side rate limit)."""

    def __init__(self, server: TestServer) -> None:
        self.config = dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
        self.cs = AsyncClientset(self.config)
        self.cms = self.cs.core_v1.config_maps(NS)

    async def create(self, i: int) -> None:
        await self.cms.create(ConfigMap.from_dict(cm_body(i, DATA)))

    async def get(self, i: int) -> None:
        await self.cms.get(f"cm-{i:05d}")

    async def list(self) -> int:
        return len((await self.cms.list()).items or [])

    async def update(self, i: int) -> None:
        await self.cms.update(ConfigMap.from_dict(cm_body(i, {**DATA, "k1": "changed"})))

    async def delete(self, i: int) -> None:
        await self.cms.delete(f"cm-{i:05d}")

    async def resource_version(self) -> str:
        meta = (await self.cms.list()).metadata
        assert meta is not None and meta.resource_version
        return meta.resource_version

    async def watch(self, rv: str, expected: int, on_event: Callable[[], None]) -> None:
        seen = 0
        async with AsyncClientset(self.config) as cs:
            stream: Any = cs.core_v1.config_maps(NS).watch(resource_version=rv, timeout_seconds=600)
            async with contextlib.aclosing(stream) as events:
                async for _ in events:
                    on_event()
                    seen += 1
                    if seen >= expected:
                        return

    async def aclose(self) -> None:
        await self.cs.aclose()


DRIVERS: dict[str, Callable[[TestServer], Driver]] = {"httpx": HttpxDriver, "pyclientgo": PyclientgoDriver}


async def phase(clients: list[Driver], count: int, op: Callable[[Driver, int], Awaitable[None]]) -> float:
    queue = list(range(count))
    t0 = time.perf_counter()

    async def worker(c: Driver) -> None:
        while queue:
            i = queue.pop()
            await op(c, i)

    await asyncio.gather(*(worker(c) for c in clients))
    return count / (time.perf_counter() - t0)


async def main(storage: str, client: str) -> dict[str, Any]:
    with TestServer(storage=storage) as server:
        make = DRIVERS[client]
        clients = [make(server) for _ in range(CLIENTS)]
        rv = await clients[0].resource_version()
        counts = [0] * WATCHERS
        expected = N * 3  # ADDED + MODIFIED + DELETED per object

        def counter(idx: int) -> Callable[[], None]:
            def bump() -> None:
                counts[idx] += 1

            return bump

        watch_tasks = [
            asyncio.create_task(make(server).watch(rv, expected, counter(i))) for i in range(WATCHERS)
        ]
        await asyncio.sleep(0.5)  # let the watches connect (they start from rv, so nothing is missed)

        async def lst(c: Driver, i: int) -> None:
            assert await c.list() >= N

        result: dict[str, Any] = {
            "storage": storage,
            "client": client,
            "objects": N,
            "clients": CLIENTS,
            "watchers": WATCHERS,
            "server_startup_seconds": server.startup_seconds,
            "process_startup_seconds": round(server.wall_startup_seconds, 3),
        }
        result["creates_per_s"] = round(await phase(clients, N, lambda c, i: c.create(i)), 1)
        result["gets_per_s"] = round(await phase(clients, N, lambda c, i: c.get(i)), 1)
        result["full_lists_per_s"] = round(await phase(clients, LISTS, lst), 1)
        result["updates_per_s"] = round(await phase(clients, N, lambda c, i: c.update(i)), 1)
        result["deletes_per_s"] = round(await phase(clients, N, lambda c, i: c.delete(i)), 1)
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
    parser.add_argument("--client", default="pyclientgo", choices=sorted(DRIVERS))
    parser.add_argument("--etcd", action="store_true", help="start a private etcd and use it as the storage")
    args = parser.parse_args()
    with EtcdProcess() if args.etcd else contextlib.nullcontext() as etcd:
        storage = etcd.storage_spec if etcd is not None else args.storage
        print(json.dumps(asyncio.run(main(storage, args.client))))
    sys.exit(0)
