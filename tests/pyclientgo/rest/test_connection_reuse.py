"""A client that holds many watches still reuses its idle connection for requests.

httpcore compares the number of *all* connections, not the idle ones, with
``max_keepalive_connections``; with a cap of 25 a controller holding 30 watches closed its idle
connection after every request and paid a new TLS handshake for the next. The SDK's pool keeps idle
connections (bounded by ``keepalive_expiry``) instead.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest._async.client import DEFAULT_LIMITS
from testserver.testing import TestServer

WATCHES = 30


def _pool(cs: AsyncClientset) -> Any:
    return cs.rest._http._transport._pool  # httpx's connection pool (httpcore), for counting only


async def test_requests_reuse_a_connection_beside_thirty_watches(apiserver: TestServer) -> None:
    assert DEFAULT_LIMITS.max_keepalive_connections is None
    async with AsyncClientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as cs:
        ns = f"reuse-{uuid.uuid4().hex[:8]}"
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
        await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "c"}))
        started = asyncio.Event()
        opened = 0

        async def hold() -> None:
            nonlocal opened
            async for _ in cs.core_v1.config_maps(ns).watch(timeout_seconds=60):
                opened += 1
                if opened == WATCHES:
                    started.set()

        tasks = [asyncio.create_task(hold()) for _ in range(WATCHES)]
        try:
            await asyncio.wait_for(started.wait(), 30)  # every watch sent its initial ADDED event
            seen: set[int] = set()
            for _ in range(10):
                await cs.core_v1.config_maps(ns).get("c")
                idle = [c for c in _pool(cs).connections if c.is_idle()]
                assert idle, "the idle connection was closed after the request"
                seen.update(id(c) for c in idle)
            assert len(seen) == 1  # the same connection every time
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
