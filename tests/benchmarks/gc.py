"""Garbage collector benchmark: a real ``testserver controller-manager --controllers garbagecollector``
against a private test server. Prints one JSON object:

- ``cascade_<qps>``: one owner ConfigMap with ``--dependents`` (1000) dependent ConfigMaps; the time
  from the owner's DELETE (Background) until every dependent is gone, at the controller-manager's
  default client limit (``--kube-api-qps 20 --kube-api-burst 30``: each dependent costs a GET and a
  DELETE, so 1000 dependents are bound by ~100 s) and effectively unthrottled (10000/10000);
- ``graph_memory``: resident memory of the controller-manager process before and after
  ``--objects`` (10,000) more ConfigMaps, each owned by a live owner, entered its informer cache and
  the graph; ``rss_per_10000_objects_mib`` scales the difference to 10,000 objects.

Before a measurement starts the benchmark waits until the collector has observed everything created:
a *sentinel* ConfigMap created last, owned by an owner that does not exist, is deleted by the
collector only once its informer delivered it — and the ConfigMap informer delivers in order.

Run: ``uv run python tests/benchmarks/gc.py [--dependents 1000] [--objects 10000] [--skip-memory]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import load_config
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.testing import TestServer


def _fixture_module() -> Any:
    """The tests' ``controller_manager_fixture`` (a plain module beside the controller tests)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testserver" / "controllers"))
    return importlib.import_module("controller_manager_fixture")


ControllerManager: Any = _fixture_module().ControllerManager

CONCURRENCY = 32


def client_config(server: TestServer) -> Any:
    """The benchmark's own client: no client-side limit to speak of."""
    config = load_config(kubeconfig=str(server.kubeconfig))
    config.qps, config.burst = 10000.0, 10000
    return config


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def create_many(
    cs: AsyncClientset, ns: str, names: list[str], owner: dict[str, Any], label: str
) -> None:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> None:
        async with sem:
            await cs.core_v1.config_maps(ns).create(
                ConfigMap.from_dict(
                    {
                        "metadata": {"name": name, "labels": {"set": label}, "ownerReferences": [owner]},
                        "data": {"k": "v"},
                    }
                )
            )

    await asyncio.gather(*(one(n) for n in names))


async def sentinel_barrier(cs: AsyncClientset, ns: str, timeout: float = 600.0) -> float:
    """Create a ConfigMap owned by an absent owner; return seconds until the collector deleted it."""
    name = f"sentinel-{uuid.uuid4().hex[:6]}"
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": str(uuid.uuid4())}
    await cs.core_v1.config_maps(ns).create(
        ConfigMap.from_dict({"metadata": {"name": name, "ownerReferences": [ghost]}})
    )
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            await cs.core_v1.config_maps(ns).get(name)
        except NotFound:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise TimeoutError("the garbage collector did not delete the sentinel")


async def cascade(server: TestServer, tmp: Path, dependents: int, qps: str, burst: str) -> dict[str, Any]:
    cm = ControllerManager(
        server.kubeconfig,
        "--controllers",
        "garbagecollector",
        "--kube-api-qps",
        qps,
        "--kube-api-burst",
        burst,
        data_dir=tmp / f"cm-{qps}",
    )
    with cm.start():
        async with AsyncClientset(client_config(server)) as cs:
            ns = f"bench-{uuid.uuid4().hex[:6]}"
            await cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": ns}}))
            owner = await cs.core_v1.config_maps(ns).create(
                ConfigMap.from_dict({"metadata": {"name": "owner"}})
            )
            assert owner.metadata is not None
            ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
            t = time.monotonic()
            await create_many(cs, ns, [f"dep-{i:05d}" for i in range(dependents)], ref, "deps")
            create_s = time.monotonic() - t
            await sentinel_barrier(cs, ns)
            assert cm.process is not None
            cpu = cpu_seconds(cm.process.pid)
            t = time.monotonic()
            await cs.core_v1.config_maps(ns).delete("owner", propagation_policy="Background")
            while True:
                left = await cs.core_v1.config_maps(ns).list(label_selector="set=deps", limit=1)
                if not left.items:
                    break
                await asyncio.sleep(0.05)
            seconds = time.monotonic() - t
            cpu = cpu_seconds(cm.process.pid) - cpu
    return {
        "kube_api_qps": float(qps),
        "dependents": dependents,
        "create_seconds": round(create_s, 2),
        "owner_delete_to_all_gone_seconds": round(seconds, 2),
        "dependents_per_second": round(dependents / seconds, 1),
        "controller_manager_cpu_seconds": round(cpu, 2),
    }


async def graph_memory(server: TestServer, tmp: Path, objects: int) -> dict[str, Any]:
    cm = ControllerManager(
        server.kubeconfig,
        "--controllers",
        "garbagecollector",
        "--kube-api-qps",
        "10000",
        "--kube-api-burst",
        "10000",
        data_dir=tmp / "cm-memory",
    )
    with cm.start():
        assert cm.process is not None
        pid = cm.process.pid
        async with AsyncClientset(client_config(server)) as cs:
            ns = f"mem-{uuid.uuid4().hex[:6]}"
            await cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": ns}}))
            await sentinel_barrier(cs, ns)
            before = rss_kib(pid)
            owner = await cs.core_v1.config_maps(ns).create(
                ConfigMap.from_dict({"metadata": {"name": "owner"}})
            )
            assert owner.metadata is not None
            ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
            t = time.monotonic()
            await create_many(cs, ns, [f"obj-{i:05d}" for i in range(objects)], ref, "mem")
            create_s = time.monotonic() - t
            barrier_s = await sentinel_barrier(cs, ns)
            after = rss_kib(pid)
    per = (after - before) / objects * 10000 / 1024
    return {
        "objects": objects,
        "create_seconds": round(create_s, 2),
        "observed_after_create_seconds": round(barrier_s, 2),
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "rss_per_10000_objects_mib": round(per, 1),
    }


async def main(dependents: int, objects: int, skip_memory: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "garbagecollector", "load_average_1m_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with TestServer(data_dir=tmp / "api") as server:
            result["cascade_qps20"] = await cascade(server, tmp, dependents, "20", "30")
            result["cascade_unthrottled"] = await cascade(server, tmp, dependents, "10000", "10000")
            if not skip_memory:
                result["graph_memory"] = await graph_memory(server, tmp, objects)
    result["load_average_1m_at_end"] = os.getloadavg()[0]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dependents", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=10000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.dependents, args.objects, args.skip_memory))))
