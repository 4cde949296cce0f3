"""Server CPU time per request for a fixed workload against a real API server. Prints one JSON object.

Throughput on a shared machine moves with everyone else's load; the CPU time the server process itself
spends (user + system, from /proc/<pid>/stat) does much less, so this is the figure to compare two
versions of the server with (run it in each checkout). One client, keep-alive, TLS, memory storage:
``--objects`` ConfigMaps are created, each fetched twice, the namespace listed 20 times, each object
merge-patched and deleted. Reported per phase in microseconds of server CPU per request.

Run: ``uv run python tests/benchmarks/apiserver_cpu_per_request.py [--objects N]``
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from testserver.testing import TestServer

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15 of stat)


def measure(pid: int, n: int, fn: Callable[[int], None]) -> float:
    """Microseconds of server CPU per call of ``fn(i)`` for i in range(n)."""
    before = cpu_seconds(pid)
    for i in range(n):
        fn(i)
    return (cpu_seconds(pid) - before) / n * 1e6


def main(objects: int) -> dict[str, Any]:
    with TestServer() as server:
        ctx = ssl.create_default_context(cafile=str(server.ca_cert))
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, verify=ctx, headers=headers, timeout=60) as c:
            base = "/api/v1/namespaces/default/configmaps"
            data = {"payload": "x" * 200}

            def ok(r: httpx.Response) -> None:
                if r.status_code >= 300:
                    raise RuntimeError(f"{r.request.method} {r.request.url}: {r.status_code} {r.text}")

            def create(i: int) -> None:
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i:05d}"},
                    "data": data,
                }
                ok(c.post(base, json=body))

            merge = {"content-type": "application/merge-patch+json"}
            pid = server.pid
            out: dict[str, Any] = {"objects": objects}
            out["create_cpu_us"] = round(measure(pid, objects, create), 1)
            out["get_cpu_us"] = round(
                measure(pid, 2 * objects, lambda i: ok(c.get(f"{base}/cm-{i // 2:05d}"))), 1
            )
            out["list_cpu_us"] = round(measure(pid, 20, lambda i: ok(c.get(base))), 1)
            out["patch_cpu_us"] = round(
                measure(
                    pid,
                    objects,
                    lambda i: ok(c.patch(f"{base}/cm-{i:05d}", content=b'{"data":{"k":"v"}}', headers=merge)),
                ),
                1,
            )
            out["delete_cpu_us"] = round(
                measure(pid, objects, lambda i: ok(c.delete(f"{base}/cm-{i:05d}"))), 1
            )
            out["cpu_tick_us"] = round(1e6 / _TICKS)
            return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    print(json.dumps(main(parser.parse_args().objects)))
