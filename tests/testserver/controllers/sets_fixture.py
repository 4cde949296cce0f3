"""A cluster for the StatefulSet and DaemonSet controller tests: API server, controller-manager
(statefulset, daemonset, serviceaccount, garbagecollector, podgc), the scheduler and fake kubelets, so pods are
really bound and run; helpers for the real kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from controller_manager_fixture import Cluster, eventually, start_cluster, stop_cluster

from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess
from testserver.scheduler.testing import SchedulerProcess

__all__ = ["SetsCluster", "sets_cluster"]


class SetsCluster:
    """The cluster of one test module."""

    def __init__(self, cluster: Cluster, kubelet: KubeletProcess, home: Path, nodes: list[str]) -> None:
        self.cluster = cluster
        self.kubelet = kubelet
        self.home = home
        self.nodes = nodes

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    def config(self) -> Any:
        return self.cluster.config()

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 90.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against the cluster."""
        binary = shutil.which("kubectl")
        assert binary is not None, "kubectl is not on PATH"
        result = subprocess.run(
            [binary, *args],
            env=self.cluster.kubectl_env(self.home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result


@contextmanager
def sets_cluster(data_dir: Path, *, node_name: str, nodes: int = 3) -> Iterator[SetsCluster]:
    """Start everything; stop everything (also on failure)."""
    cluster = start_cluster(
        data_dir, "--controllers", "statefulset,daemonset,serviceaccount,garbagecollector,podgc"
    )
    kubelet: KubeletProcess | None = None
    scheduler: SchedulerProcess | None = None
    try:
        kubelet = KubeletProcess(
            cluster.kubeconfig,
            node_name=node_name,
            nodes=nodes,
            fake=True,
            data_dir=data_dir / "kubelet",
            startup_timeout=90,
        )
        kubelet.start()
        scheduler = SchedulerProcess(cluster.kubeconfig, data_dir=data_dir / "scheduler", startup_timeout=90)
        scheduler.start()
        names = [f"{node_name}-{i}" for i in range(nodes)] if nodes > 1 else [node_name]
        with Clientset(cluster.config()) as cs:
            eventually(
                lambda: len(cs.core_v1.nodes().list().items or []) >= nodes,
                timeout=90,
                what="nodes registered",
            )
        home = data_dir / "home"
        os.makedirs(home, exist_ok=True)
        yield SetsCluster(cluster, kubelet, home, names)
    finally:
        try:
            if scheduler is not None:
                scheduler.cleanup()
        finally:
            try:
                if kubelet is not None:
                    kubelet.cleanup()
            finally:
                stop_cluster(cluster)
