"""A cluster for the workload controller tests: API server, controller-manager (replicaset,
replicationcontroller, deployment), a fake kubelet, and :class:`Binder`.

:class:`Binder` stands in for the scheduler until it lands: a thread that binds every unscheduled pod
(round robin over the given nodes) with the ``pods/binding`` subresource, as a scheduler does. It
polls a field-selected list (a test helper, not a synchronisation point: tests wait on conditions).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from controller_manager_fixture import Cluster, eventually, start_cluster, stop_cluster

from pyclientgo.errors import ApiError
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess

__all__ = ["Binder", "WorkloadCluster", "kubectl", "workload_cluster"]


class Binder:
    """Binds pods without ``spec.nodeName`` to ``nodes`` (round robin) until stopped."""

    def __init__(self, config: Any, nodes: Sequence[str], *, interval: float = 0.05) -> None:
        # a scheduler binds as fast as it can (kube-scheduler's own QPS is 50; the default 5 would
        # throttle every rollout of more than a few pods)
        self.config = dataclasses.replace(config, qps=-1.0, burst=1000)
        self.nodes = list(nodes)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-binder", daemon=True)
        self.bound = 0

    def start(self) -> Binder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        cycle = itertools.cycle(self.nodes)
        with Clientset(self.config) as cs:
            while not self._stop.is_set():
                try:
                    pending = cs.core_v1.pods().list(field_selector="spec.nodeName=")
                except Exception:
                    self._stop.wait(self.interval)
                    continue
                for pod in pending.items or []:
                    meta = pod.metadata
                    if meta is None or meta.deletion_timestamp is not None:
                        continue
                    if pod.spec is not None and pod.spec.scheduling_gates:
                        continue  # gated: a scheduler leaves it alone
                    binding = {
                        "apiVersion": "v1",
                        "kind": "Binding",
                        "metadata": {"name": meta.name, "namespace": meta.namespace},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": next(cycle)},
                    }
                    try:
                        cs.core_v1.pods(meta.namespace).bind(binding)
                        self.bound += 1
                    except ApiError:
                        pass  # gone or bound meanwhile
                self._stop.wait(self.interval)


class WorkloadCluster:
    """The cluster of one test module."""

    def __init__(self, cluster: Cluster, kubelet: KubeletProcess, binder: Binder, home: Path) -> None:
        self.cluster = cluster
        self.kubelet = kubelet
        self.binder = binder
        self.home = home

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    def config(self) -> Any:
        return self.cluster.config()

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        return kubectl(self, *args, check=check, timeout=timeout)


def kubectl(
    wc: WorkloadCluster, *args: str, check: bool = True, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl against the cluster."""
    binary = shutil.which("kubectl")
    assert binary is not None, "kubectl is not on PATH"
    result = subprocess.run(
        [binary, *args],
        env=wc.cluster.kubectl_env(wc.home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


@contextmanager
def workload_cluster(
    data_dir: Path, controllers: str, *, nodes: int = 2, extra_args: Sequence[str] = ()
) -> Iterator[WorkloadCluster]:
    """Start everything; stop everything (also on failure)."""
    cluster = start_cluster(data_dir, "--controllers", controllers, *extra_args)
    kubelet: KubeletProcess | None = None
    binder: Binder | None = None
    try:
        kubelet = KubeletProcess(
            # start-up on a loaded machine can take a while: a generous deadline, not a sleep
            cluster.kubeconfig,
            node_name="wl",
            nodes=nodes,
            data_dir=data_dir / "kubelet",
            startup_timeout=90,
        )
        kubelet.start()
        names = [f"wl-{i}" for i in range(nodes)] if nodes > 1 else ["wl"]
        with Clientset(cluster.config()) as cs:
            eventually(lambda: len(cs.core_v1.nodes().list().items or []) >= nodes, what="nodes registered")
        binder = Binder(cluster.config(), names).start()
        home = data_dir / "home"
        os.makedirs(home, exist_ok=True)
        yield WorkloadCluster(cluster, kubelet, binder, home)
    finally:
        try:
            if binder is not None:
                binder.stop()
        finally:
            try:
                if kubelet is not None:
                    kubelet.cleanup()
            finally:
                stop_cluster(cluster)
