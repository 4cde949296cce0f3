"""What the API server's request metrics cost per request, measured in process. Prints one JSON object.

The real :class:`testserver.apiserver.app.ApiServerApp` (memory storage, built-in registry) is called
as an ASGI application, without sockets, for a GET of one ConfigMap, a LIST of 20 and a server-side
apply: once through the metrics wrapper (``app(...)``, what the server runs) and once past it
(``app._http_or_fault``), in alternating rounds so that a busy machine slows both alike. The figure is
the median over the rounds of the per-request difference, in microseconds. (End-to-end throughput,
with sockets and clients, is tests/benchmarks/apiserver_load.py.)

Run: ``uv run python tests/benchmarks/apiserver_metrics_overhead.py [--requests N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyclientgo.api import builtin_registry
from testserver.apiserver.app import ApiServerApp
from testserver.storage.memory import MemoryStorage

TOKEN = "bench-token"
ASGICall = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope(method: str, path: str, query: bytes = b"", content_type: bytes = b"") -> dict[str, Any]:
    headers = [(b"authorization", b"Bearer " + TOKEN.encode()), (b"accept", b"application/json")]
    if content_type:
        headers.append((b"content-type", content_type))
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
    }


async def run(call: ASGICall, request: dict[str, Any], body: bytes, n: int) -> float:
    """Seconds per request for ``n`` sequential requests."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    t0 = time.perf_counter()
    for _ in range(n):
        await call(request, receive, send)
    elapsed = time.perf_counter() - t0
    bad = [s for s in statuses if s >= 300]
    if bad:
        raise RuntimeError(f"unexpected statuses {sorted(set(bad))}")
    return elapsed / n


async def main(requests: int, rounds: int) -> dict[str, Any]:
    app = ApiServerApp(storage_factory=MemoryStorage, registry_factory=builtin_registry, token=TOKEN)
    await app.startup()
    try:
        cms = "/api/v1/namespaces/default/configmaps"
        for i in range(20):
            created = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}})
            await run(app, scope("POST", cms, content_type=b"application/json"), created.encode(), 1)
        apply = json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-0"}, "data": {"k": "v"}}
        ).encode()
        cases: dict[str, tuple[dict[str, Any], bytes]] = {
            "get": (scope("GET", f"{cms}/cm-1"), b""),
            "list_20": (scope("GET", cms), b""),
            "apply": (
                scope("PATCH", f"{cms}/cm-0", b"fieldManager=bench", b"application/apply-patch+yaml"),
                apply,
            ),
        }
        out: dict[str, Any] = {"requests_per_round": requests, "rounds": rounds}
        for name, (request, body) in cases.items():
            await run(app, request, body, requests)  # warm up both paths
            await run(app._http_or_fault, request, body, requests)
            with_metrics: list[float] = []
            without: list[float] = []
            for _ in range(rounds):
                with_metrics.append(await run(app, request, body, requests))
                without.append(await run(app._http_or_fault, request, body, requests))
            base = statistics.median(without)
            diffs = [w - b for w, b in zip(with_metrics, without, strict=True)]
            out[f"{name}_us_without_metrics"] = round(base * 1e6, 1)
            out[f"{name}_us_with_metrics"] = round(statistics.median(with_metrics) * 1e6, 1)
            out[f"{name}_metrics_overhead_us"] = round(statistics.median(diffs) * 1e6, 1)
            out[f"{name}_metrics_overhead_percent"] = round(100 * statistics.median(diffs) / base, 1)
        return out
    finally:
        await app.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.requests, args.rounds))))
