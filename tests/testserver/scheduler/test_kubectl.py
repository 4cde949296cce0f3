"""End to end with the real kubectl: nodes from a fake kubelet, labelled and tainted with kubectl,
pods applied with nodeSelector, tolerations and requests; ``kubectl get pod -o wide`` shows where
they run, ``kubectl describe pod`` and ``kubectl get events`` show the scheduler's events."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scheduler_process import SchedCluster, SchedulerProcess, eventually

from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

KUBECTL = shutil.which("kubectl")

PODS = """\
apiVersion: v1
kind: Pod
metadata:
  name: on-ssd
spec:
  nodeSelector:
    disk: ssd
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
---
apiVersion: v1
kind: Pod
metadata:
  name: gpu-job
spec:
  tolerations:
  - key: dedicated
    operator: Equal
    value: gpu
    effect: NoSchedule
  nodeSelector:
    kubernetes.io/hostname: e2e-0
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources:
      requests:
        cpu: "1"
        memory: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: too-big
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources:
      requests:
        cpu: "3"
"""


class Kubectl:
    def __init__(self, kubeconfig: Path, home: Path) -> None:
        assert KUBECTL is not None, "kubectl is not on PATH"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        self.env.update(KUBECONFIG=str(kubeconfig), HOME=str(home), KUBECTL_NO_COLOR="1")

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        assert KUBECTL is not None
        proc = subprocess.run(
            [KUBECTL, *args], input=stdin, env=self.env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, f"kubectl {' '.join(args)} failed: {proc.stderr}"
        return proc.stdout


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SchedCluster, Kubectl]]:
    data = tmp_path_factory.mktemp("kubectl-e2e")
    with TestServer(data_dir=data / "apiserver", bookmark_interval=1.0) as server:
        kubelet = KubeletProcess(
            server.kubeconfig,
            node_name="e2e",
            nodes=2,
            extra_args=["--cpu", "2", "--memory", "4Gi"],
            data_dir=data / "kubelet",
        )
        with kubelet, SchedulerProcess(server.kubeconfig, data_dir=data / "scheduler") as process:
            cluster = SchedCluster(Path(server.kubeconfig), process)
            try:
                cluster.ensure_namespace("default")
                yield cluster, Kubectl(Path(server.kubeconfig), data / "home")
            finally:
                cluster.close()


def test_kubectl_apply_get_wide_describe_events(e2e: tuple[SchedCluster, Kubectl]) -> None:
    cluster, kubectl = e2e
    eventually(lambda: "e2e-1" in kubectl("get", "nodes", "-o", "name"), what="nodes registered")
    kubectl("label", "node", "e2e-1", "disk=ssd")
    kubectl("taint", "nodes", "e2e-0", "dedicated=gpu:NoSchedule")
    eventually(
        lambda: cluster.metrics().get('scheduler_cache_size{type="nodes"}') == 2.0, what="nodes in the cache"
    )
    out = kubectl("apply", "-f", "-", stdin=PODS)
    assert "pod/on-ssd created" in out and "pod/too-big created" in out

    def wide(name: str) -> list[str] | None:
        rows = kubectl("get", "pod", name, "-o", "wide", "--no-headers").split()
        return rows if rows[2] == "Running" else None

    ssd = eventually(lambda: wide("on-ssd"), what="on-ssd running")
    assert ssd[6] == "e2e-1"  # NAME READY STATUS RESTARTS AGE IP NODE ...
    gpu = eventually(lambda: wide("gpu-job"), what="gpu-job running")
    assert gpu[6] == "e2e-0"

    described = kubectl("describe", "pod", "on-ssd")
    assert "Node:             e2e-1/" in described
    assert "PodScheduled                True" in described

    # kube-scheduler writes events.k8s.io/v1 Events (as this scheduler does).
    def scheduler_events(name: str, reason: str) -> str | None:
        rows = kubectl("get", "events.v1.events.k8s.io", "-o", "wide").splitlines()
        found = [r for r in rows if f"pod/{name}" in r and reason in r]
        return "\n".join(found) or None

    scheduled = eventually(lambda: scheduler_events("on-ssd", "Scheduled"), what="Scheduled event")
    assert "Successfully assigned default/on-ssd to e2e-1" in scheduled
    assert "default-scheduler" in scheduled

    message = cluster.wait_unschedulable("too-big")
    assert message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )
    pending = kubectl("get", "pod", "too-big", "--no-headers").split()
    assert pending[2] == "Pending"

    described = kubectl("describe", "pod", "too-big")
    assert "PodScheduled   False" in described
    failed = eventually(
        lambda: scheduler_events("too-big", "FailedScheduling"), what="FailedScheduling event"
    )
    assert "Warning" in failed and "default-scheduler" in failed
    assert "0/2 nodes are available: 1 Insufficient cpu" in failed
