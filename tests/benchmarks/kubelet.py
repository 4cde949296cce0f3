"""Kubelet benchmark: pod start latency of the process runtime, and one fake-runtime process hosting
many nodes. Prints ONE JSON object:

- ``process_start_latency_p50_s`` / ``_p99_s`` / ``_max_s``: for ``--pods`` pods (``registry.k8s.io/pause``
  → ``sleep infinity``) created already bound (``spec.nodeName``) to one process-runtime kubelet, one
  every ``--interval`` seconds: from the create call returning to a pod informer seeing
  ``phase: Running`` with the container running;
  ``process_burst_*``: the same with all pods created at once (queueing in the kubelet included);
- ``fake_nodes``: nodes hosted by one ``testserver kubelet --fake --nodes N`` process;
  ``fake_register_seconds``: from its start until every Node is Ready;
  every Lease is then listed once a second for ``--window`` seconds: ``fake_lease_renewals_seen``
  (distinct ``renewTime``s seen, vs ``_expected`` = nodes x window / 10 s);
  ``fake_lease_lateness_max_s`` / ``_p99_s``: over all samples and leases, how far past its 10 s
  renewal interval (``0.25 x leaseDurationSeconds``) a Lease's last ``renewTime`` was (0 when on time);
  ``fake_rss_mb``: the kubelet's resident memory at the end (VmRSS), ``fake_cpu_cores``: its CPU time
  (user + system) over the window divided by the window.

Run: ``uv run python tests/benchmarks/kubelet.py [--pods 100] [--nodes 1000] [--window 60]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import time
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap, Pod, ServiceAccount
from pyclientgo.config import load_config
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.kubernetes import AsyncClientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _proc_stat(pid: int) -> tuple[float, float]:
    """(cpu seconds user+system, rss MB) of ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    return cpu, rss


def _pod(name: str, node: str) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {"name": name, "labels": {"bench": "kubelet"}},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 0,
                "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}],
            },
        }
    )


def _running(pod: Any) -> bool:
    st = pod.to_dict().get("status") or {}
    return st.get("phase") == "Running" and any(
        "running" in (c.get("state") or {}) for c in st.get("containerStatuses") or []
    )


async def process_latency(kubeconfig: str, node: str, pods: int, interval: float, prefix: str) -> list[float]:
    """Seconds from create to Running for each pod (module docstring)."""
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    done = asyncio.Event()
    async with AsyncClientset(load_config(kubeconfig=kubeconfig)) as cs:
        factory = SharedInformerFactory(cs)
        informer = factory.core_v1.pods()

        def seen(obj: Any) -> None:
            name = obj.metadata.name
            if name.startswith(prefix) and name not in running and _running(obj):
                running[name] = time.monotonic()
                if len(running) == pods:
                    done.set()

        informer.informer.add_event_handler(on_add=lambda o, *_: seen(o), on_update=lambda _o, n: seen(n))
        factory.start()
        await factory.wait_for_cache_sync()
        api = cs.core_v1.pods("default")

        async def create(i: int) -> None:
            name = f"{prefix}{i:03d}"
            await api.create(_pod(name, node))
            created[name] = time.monotonic()

        if interval > 0:
            for i in range(pods):
                t0 = time.monotonic()
                await create(i)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - t0)))
        else:
            await asyncio.gather(*(create(i) for i in range(pods)))
        async with asyncio.timeout(120 + pods):
            await done.wait()
        await factory.shutdown()
        names = list(created)
        for name in names:
            await api.delete(name, grace_period_seconds=0)
    return [max(0.0, running[n] - created[n]) for n in names]


async def fake_nodes(kubeconfig: str, proc: KubeletProcess, nodes: int, window: float) -> dict[str, Any]:
    """Register, then sample every Lease once a second for ``window`` seconds (module docstring)."""
    t_start = time.monotonic()
    interval = 10.0
    async with AsyncClientset(load_config(kubeconfig=kubeconfig)) as cs:
        async with asyncio.timeout(900):
            while True:
                items = (await cs.core_v1.nodes().list()).to_dict().get("items") or []
                ready = sum(
                    1
                    for d in items
                    if any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in (d.get("status") or {}).get("conditions") or []
                    )
                )
                if ready >= nodes:
                    break
                await asyncio.sleep(1.0)
        registered = time.monotonic() - t_start
        await asyncio.sleep(2 * interval)  # settle: every node has renewed at least once
        leases = cs.coordination_v1.leases("kube-node-lease")
        seen: dict[str, set[str]] = {}
        overdue: list[float] = []
        cpu0, _ = _proc_stat(proc.pid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < window:
            items = (await leases.list()).to_dict().get("items") or []
            now = dt.datetime.now(dt.UTC)
            for d in items:
                renew = (d.get("spec") or {}).get("renewTime")
                if not renew:
                    continue
                when = dt.datetime.fromisoformat(str(renew).replace("Z", "+00:00"))
                seen.setdefault(d["metadata"]["name"], set()).add(str(renew))
                overdue.append(max(0.0, (now - when).total_seconds() - interval))
            await asyncio.sleep(1.0)
        cpu1, rss = _proc_stat(proc.pid)
        elapsed = time.monotonic() - t0
    return {
        "fake_nodes": nodes,
        "fake_register_seconds": round(registered, 2),
        "fake_lease_renewals_seen": sum(len(v) - 1 for v in seen.values()),
        "fake_lease_renewals_expected": int(nodes * elapsed / interval),
        "fake_lease_lateness_max_s": round(max(overdue), 3) if overdue else None,
        "fake_lease_lateness_p99_s": round(_quantile(overdue, 0.99), 3) if overdue else None,
        "fake_rss_mb": round(rss, 1),
        "fake_cpu_cores": round((cpu1 - cpu0) / elapsed, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between paced creates")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--skip-process", action="store_true")
    ap.add_argument("--skip-fake", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {"load_average_1m_start": os.getloadavg()[0]}
    with TestServer() as server:
        kubeconfig = str(server.kubeconfig)
        asyncio.run(_controllers_stand_in(kubeconfig, (server.data_dir / "pki" / "ca.crt").read_text()))
        if not args.skip_process:
            with KubeletProcess(
                server.kubeconfig, node_name="bench-proc", fake=False, extra_args=["--max-pods", "1000"]
            ) as proc:
                asyncio.run(_wait_node(kubeconfig, "bench-proc"))
                paced = asyncio.run(
                    process_latency(kubeconfig, "bench-proc", args.pods, args.interval, "paced-")
                )
                burst = asyncio.run(process_latency(kubeconfig, "bench-proc", args.pods, 0.0, "burst-"))
                del proc
            out.update(
                process_pods=args.pods,
                process_start_latency_p50_s=round(statistics.median(paced), 3),
                process_start_latency_p99_s=round(_quantile(paced, 0.99), 3),
                process_start_latency_max_s=round(max(paced), 3),
                process_burst_latency_p50_s=round(statistics.median(burst), 3),
                process_burst_latency_p99_s=round(_quantile(burst, 0.99), 3),
            )
        if not args.skip_fake:
            with KubeletProcess(
                server.kubeconfig,
                node_name="bench-fake",
                nodes=args.nodes,
                extra_args=["--kube-api-qps", "1000", "--kube-api-burst", "2000"],
                startup_timeout=120,
            ) as proc:
                out.update(asyncio.run(fake_nodes(kubeconfig, proc, args.nodes, args.window)))
    out["load_average_1m_end"] = os.getloadavg()[0]
    print(json.dumps(out))


async def _controllers_stand_in(kubeconfig: str, ca: str) -> None:
    """What the serviceaccount and root-ca-cert-publisher controllers would do (no controller-manager
    here): the default ServiceAccount and the kube-root-ca.crt the kube-api-access volume projects."""
    async with AsyncClientset(load_config(kubeconfig=kubeconfig)) as cs:
        await cs.core_v1.service_accounts("default").create(ServiceAccount(metadata={"name": "default"}))
        await cs.core_v1.configmaps("default").create(
            ConfigMap(metadata={"name": "kube-root-ca.crt"}, data={"ca.crt": ca})
        )


async def _wait_node(kubeconfig: str, name: str) -> None:
    async with AsyncClientset(load_config(kubeconfig=kubeconfig)) as cs:
        async with asyncio.timeout(60):
            while True:
                try:
                    await cs.core_v1.nodes().get(name)
                    return
                except Exception:
                    await asyncio.sleep(0.1)


if __name__ == "__main__":
    main()
