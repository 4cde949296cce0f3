"""StatefulSet and DaemonSet controller benchmark: the daemonset and statefulset controllers of a real
``testserver controller-manager`` process against a private test server, with the real scheduler and
one fake kubelet process serving ``--nodes`` fake nodes. Prints one JSON object:

- ``daemonset_seconds``: from a DaemonSet's create until ``numberReady`` equals the node count (one
  ready pod on each of the ``--nodes`` nodes, the pods bound by the scheduler);
- ``statefulset_seconds``: from a Parallel StatefulSet of ``--replicas`` create until ``readyReplicas``
  equals ``--replicas``;
- ``*_pods_per_s``: pods per second over those times; ``qps``: the controller-manager's
  ``--kube-api-qps`` (default kube's 20; ``-1`` unthrottled); ``load_average_1m`` of the machine.

Run: ``uv run python tests/benchmarks/sets.py [--nodes 200] [--replicas 200] [--qps 20]``
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
from pathlib import Path
from typing import Any

from pyclientgo.api.apps.v1 import DaemonSet, StatefulSet
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from testserver.kubelet.testing import KubeletProcess
from testserver.scheduler.testing import SchedulerProcess
from testserver.testing import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testserver" / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager

_TEMPLATE = {
    "metadata": {"labels": {"app": "bench"}},
    "spec": {"containers": [{"name": "c", "image": "bench:1"}]},
}


async def _wait(probe: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached after {timeout}s")
        await asyncio.sleep(0.2)


async def _run(kubeconfig: Path, nodes: int, replicas: int, timeout: float) -> dict[str, Any]:
    async with AsyncClientset(load_config(kubeconfig=str(kubeconfig))) as cs:

        async def nodes_registered() -> bool:
            return len((await cs.core_v1.nodes().list()).items or []) >= nodes

        await _wait(nodes_registered, 300, "nodes registered")
        out: dict[str, Any] = {}
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": "ds"}))
        start = time.monotonic()
        await cs.apps_v1.daemon_sets("ds").create(
            DaemonSet.from_dict(
                {
                    "metadata": {"name": "bench"},
                    "spec": {"selector": {"matchLabels": {"app": "bench"}}, "template": _TEMPLATE},
                }
            )
        )

        async def ds_ready() -> bool:
            st = (await cs.apps_v1.daemon_sets("ds").get("bench")).status
            return st is not None and (st.number_ready or 0) >= nodes

        await _wait(ds_ready, timeout, "DaemonSet ready")
        out["daemonset_seconds"] = round(time.monotonic() - start, 2)
        out["daemonset_pods_per_s"] = round(nodes / out["daemonset_seconds"], 1)
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": "sts"}))
        start = time.monotonic()
        await cs.apps_v1.stateful_sets("sts").create(
            StatefulSet.from_dict(
                {
                    "metadata": {"name": "bench"},
                    "spec": {
                        "replicas": replicas,
                        "podManagementPolicy": "Parallel",
                        "serviceName": "bench",
                        "selector": {"matchLabels": {"app": "bench"}},
                        "template": _TEMPLATE,
                    },
                }
            )
        )

        async def sts_ready() -> bool:
            st = (await cs.apps_v1.stateful_sets("sts").get("bench")).status
            return st is not None and (st.ready_replicas or 0) >= replicas

        await _wait(sts_ready, timeout, "StatefulSet ready")
        out["statefulset_seconds"] = round(time.monotonic() - start, 2)
        out["statefulset_pods_per_s"] = round(replicas / out["statefulset_seconds"], 1)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=200)
    parser.add_argument("--qps", type=str, default="20")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    result: dict[str, Any] = {"nodes": args.nodes, "replicas": args.replicas, "qps": args.qps}
    with (
        tempfile.TemporaryDirectory(prefix="sets-bench-") as tmp,
        TestServer(data_dir=Path(tmp) / "api") as server,
    ):
        kubeconfig = Path(server.kubeconfig)
        extra = ["--kube-api-qps", args.qps]
        if args.qps == "-1":
            extra += ["--kube-api-burst", "1000"]
        cm = ControllerManager(
            kubeconfig,
            "--controllers",
            "daemonset,statefulset,serviceaccount",
            *extra,
            data_dir=Path(tmp) / "cm",
        )
        kubelet: KubeletProcess | None = None
        scheduler: SchedulerProcess | None = None
        try:
            cm.start()
            kubelet = KubeletProcess(
                kubeconfig,
                node_name="bench",
                nodes=args.nodes,
                extra_args=["--max-pods", "110"],
                data_dir=Path(tmp) / "kubelet",
                startup_timeout=300,
            )
            kubelet.start()
            scheduler = SchedulerProcess(kubeconfig, data_dir=Path(tmp) / "scheduler", startup_timeout=120)
            scheduler.start()
            result.update(asyncio.run(_run(kubeconfig, args.nodes, args.replicas, args.timeout)))
        finally:
            if scheduler is not None:
                scheduler.cleanup()
            if kubelet is not None:
                kubelet.cleanup()
            cm.cleanup()
    result["load_average_1m"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
