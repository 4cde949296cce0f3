"""Controller-manager benchmark: a 1000-replica Deployment through the deployment and replicaset
controllers of a real ``testserver controller-manager`` process against a private test server.
Prints one JSON object:

- ``qps20_create_seconds`` / ``qps20_pods_per_s``: from the Deployment's create until all its pods
  exist (seen by a watch), at kube's default ``--kube-api-qps 20 --kube-api-burst 30``;
  ``qps20_bound_seconds`` is what the client rate limit alone allows for the writes the controllers
  must make (pods + ReplicaSet + a few status writes, minus the burst), ``qps20_vs_bound`` the ratio;
- ``unthrottled_create_seconds`` / ``unthrottled_pods_per_s``: the same with ``--kube-api-qps -1``
  (no client-side limit);
- ``unthrottled_cpu_ms_per_pod`` / ``unthrottled_pods_per_cpu_second``: CPU the controller-manager process
  spent per pod in that phase, and the rate one free core would sustain (the machine is shared);
- ``rollout_seconds``: with pods bound (a stand-in scheduler binds them round robin) and run by fake
  kubelets, from ``kubectl set image``'s equivalent (a template patch) until the rolling update is
  complete (updated = available = replicas, generation observed; default 25 %/25 %), unthrottled;
- ``rollout_cpu_seconds``: CPU seconds of the controller-manager, the fake kubelet process and the
  API server over the initial start-up and the rolling update (where the time goes);
- ``rollout_initial_ready_seconds``: how long the unthrottled Deployment took to become fully available
  before the update (binding + fake kubelet start-up included).

Run: ``uv run python tests/benchmarks/controller_manager.py [--replicas 1000] [--nodes 4]``
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

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset, Clientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

# the controller tests' helpers: the controller-manager child process and the stand-in scheduler
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testserver" / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager
Binder: Any = importlib.import_module("workloads_fixture").Binder


def _deployment(name: str, replicas: int) -> Deployment:
    return Deployment.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
                },
            },
        }
    )


async def _wait_for_sa(cs: AsyncClientset, ns: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            await cs.core_v1.service_accounts(ns).get("default")
            return
        except Exception:
            await asyncio.sleep(0.05)
    raise TimeoutError(f"no default ServiceAccount in {ns}")


async def _time_to_pods(cs: AsyncClientset, ns: str, name: str, replicas: int, timeout: float) -> float:
    """Create the Deployment and return the seconds until ``replicas`` of its pods were ADDED."""
    listed = await cs.core_v1.pods(ns).list()
    seen: set[str] = set()
    done = asyncio.Event()

    async def watch() -> None:
        rv = listed.metadata.resource_version if listed.metadata else None
        async for ev in cs.core_v1.pods(ns).watch(resource_version=rv):
            if ev.type == "ADDED":
                seen.add(str(ev.object.metadata.name))  # type: ignore[union-attr]
                if len(seen) >= replicas:
                    done.set()
                    return

    task = asyncio.create_task(watch())
    try:
        start = time.monotonic()
        await cs.apps_v1.deployments(ns).create(_deployment(name, replicas))
        async with asyncio.timeout(timeout):
            await done.wait()
        return time.monotonic() - start
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _wait_complete(cs: AsyncClientset, ns: str, name: str, replicas: int, timeout: float) -> float:
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        d = await cs.apps_v1.deployments(ns).get(name)
        st: Any = d.status
        meta: Any = d.metadata
        if (
            st is not None
            and (st.observed_generation or 0) >= (meta.generation or 0)
            and (st.updated_replicas or 0) == replicas
            and (st.replicas or 0) == replicas
            and (st.available_replicas or 0) == replicas
        ):
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise TimeoutError(f"deployment {ns}/{name} did not complete in {timeout}s")


async def _phase(kubeconfig: Path, ns: str, replicas: int, timeout: float) -> float:
    async with AsyncClientset(load_config(kubeconfig=str(kubeconfig))) as cs:
        await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
        await _wait_for_sa(cs, ns)
        return await _time_to_pods(cs, ns, "web", replicas, timeout)


async def _rollout(kubeconfig: Path, ns: str, replicas: int, timeout: float) -> tuple[float, float]:
    async with AsyncClientset(load_config(kubeconfig=str(kubeconfig))) as cs:
        ready = await _wait_complete(cs, ns, "web", replicas, timeout)
        start = time.monotonic()
        await cs.apps_v1.deployments(ns).patch(
            "web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}}
        )
        await _wait_complete(cs, ns, "web", replicas, timeout)
        return ready, time.monotonic() - start


def _cpu_seconds(process: Any) -> float:
    """User + system CPU seconds a child process used so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{process.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _progress(result: dict[str, Any], **figures: Any) -> None:
    """Record figures and show them on stderr as each phase ends."""
    result.update(figures)
    print(json.dumps(figures), file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--skip-qps20", action="store_true")
    args = parser.parse_args()
    controllers = "deployment,replicaset,serviceaccount"
    result: dict[str, Any] = {"replicas": args.replicas, "nodes": args.nodes}
    with (
        tempfile.TemporaryDirectory(prefix="cm-bench-") as tmp,
        TestServer(data_dir=Path(tmp) / "api") as server,
    ):
        kubeconfig = Path(server.kubeconfig)
        if not args.skip_qps20:
            cm = ControllerManager(kubeconfig, "--controllers", controllers, data_dir=Path(tmp) / "cm20")
            cm.start()
            try:
                seconds = asyncio.run(_phase(kubeconfig, "bench-qps20", args.replicas, args.timeout))
            finally:
                cm.cleanup()
            # writes: the pods, the ReplicaSet, the Deployment's status and revision writes, a few RS
            # status writes; the bucket starts with 30 tokens
            bound = (args.replicas + 1 - 30) / 20.0
            _progress(
                result,
                qps20_create_seconds=round(seconds, 2),
                qps20_pods_per_s=round(args.replicas / seconds, 1),
                qps20_bound_seconds=round(bound, 2),
                qps20_vs_bound=round(seconds / bound, 3),
            )
            # no garbage collector runs here: delete the Deployment, its ReplicaSet and the pods, so
            # that the next controller-manager does not recreate them
            with Clientset(load_config(kubeconfig=str(kubeconfig))) as cs:
                cs.apps_v1.deployments("bench-qps20").delete("web")
                cs.apps_v1.replica_sets("bench-qps20").delete_collection()
                cs.core_v1.pods("bench-qps20").delete_collection(grace_period_seconds=0)
        cm = ControllerManager(
            kubeconfig,
            "--controllers",
            controllers,
            "--kube-api-qps",
            "-1",
            "--kube-api-burst",
            "1000",
            data_dir=Path(tmp) / "cm-unthrottled",
        )
        cm.start()
        kubelet: KubeletProcess | None = None
        binder: Any = None
        try:
            cpu_before = _cpu_seconds(cm.process)
            seconds = asyncio.run(_phase(kubeconfig, "bench-fast", args.replicas, args.timeout))
            cpu_ms = (_cpu_seconds(cm.process) - cpu_before) * 1000 / args.replicas
            _progress(
                result,
                unthrottled_cpu_ms_per_pod=round(cpu_ms, 2),
                unthrottled_pods_per_cpu_second=round(1000 / cpu_ms, 1) if cpu_ms else None,
                unthrottled_create_seconds=round(seconds, 2),
                unthrottled_pods_per_s=round(args.replicas / seconds, 1),
            )
            per_node = args.replicas * 2 // args.nodes + 10
            kubelet = KubeletProcess(
                kubeconfig,
                node_name="bench",
                nodes=args.nodes,
                extra_args=["--max-pods", str(per_node)],
                data_dir=Path(tmp) / "kubelet",
            )
            kubelet.start()
            names = [f"bench-{i}" for i in range(args.nodes)] if args.nodes > 1 else ["bench"]
            binder = Binder(load_config(kubeconfig=str(kubeconfig)), names, interval=0.1).start()
            procs = {
                "controller_manager": cm.process,
                "kubelet": kubelet.process,
                "apiserver": server.process,
            }
            cpu0 = {k: _cpu_seconds(p) for k, p in procs.items()}
            try:
                ready, rollout = asyncio.run(_rollout(kubeconfig, "bench-fast", args.replicas, args.timeout))
                _progress(
                    result,
                    rollout_initial_ready_seconds=round(ready, 2),
                    rollout_seconds=round(rollout, 2),
                    rollout_cpu_seconds={k: round(_cpu_seconds(p) - cpu0[k], 1) for k, p in procs.items()},
                )
            except TimeoutError as err:
                _progress(result, rollout_error=str(err))
        finally:
            if binder is not None:
                binder.stop()
            if kubelet is not None:
                kubelet.cleanup()
            cm.cleanup()
    result["load_average_1m"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
