"""The pod garbage collector in a real controller-manager (``--terminated-pod-gc-threshold 2``) against
a real API server and a fake kubelet: terminated pods over the threshold go oldest first; pods bound
to a node that does not exist are set Failed with ``DisruptionTarget``/``DeletionByPodGC`` and
force-deleted after the 40 s quarantine, while pods on the live node stay."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from controller_manager_fixture import Cluster, eventually, health, start_cluster, stop_cluster

from pyclientgo.api.core.v1 import Namespace, Node, Pod
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess

NODE = "gc-node"
GHOST = "ghost-node"
HOLD = "example.com/hold"


@dataclass
class PodGCCluster:
    cluster: Cluster
    cs: Clientset
    ns: str
    orphans_created: float
    """time.monotonic() when the orphaned pods were created (their quarantine runs from then)."""


def pod(name: str, node: str, **extra_meta: Any) -> Pod:
    meta: dict[str, Any] = {"name": name, **extra_meta}
    return Pod.from_dict(
        {
            "metadata": meta,
            "spec": {
                "nodeName": node,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "containers": [{"name": "c", "image": "busybox"}],
            },
        }
    )


def get_pod(cs: Clientset, ns: str, name: str) -> Pod | None:
    try:
        return cs.core_v1.pods(ns).get(name)
    except NotFound:
        return None


@pytest.fixture(scope="module")
def podgc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodGCCluster]:
    data: Path = tmp_path_factory.mktemp("podgc")
    cluster = start_cluster(
        data, "--controllers", "podgc,serviceaccount", "--terminated-pod-gc-threshold", "2"
    )
    kubelet: KubeletProcess | None = None
    cs: Clientset | None = None
    try:
        kubelet = KubeletProcess(cluster.kubeconfig, node_name=NODE, data_dir=data / "kubelet")
        kubelet.start()
        cs = Clientset(cluster.config())
        client = cs
        eventually(lambda: get_node(client, NODE), what="node registered")
        ns = f"podgc-{uuid.uuid4().hex[:6]}"
        cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": ns}}))
        eventually(lambda: client.core_v1.service_accounts(ns).get("default"), what="default ServiceAccount")
        # orphans first, so their quarantine runs while the other tests do
        cs.core_v1.pods(ns).create(pod("orphan-a", GHOST))
        cs.core_v1.pods(ns).create(pod("orphan-held", GHOST, finalizers=[HOLD]))
        cs.core_v1.pods(ns).create(pod("on-live-node", NODE))
        yield PodGCCluster(cluster, cs, ns, time.monotonic())
    finally:
        try:
            if cs is not None:
                cs.close()
            if kubelet is not None:
                kubelet.cleanup()
        finally:
            stop_cluster(cluster)


def get_node(cs: Clientset, name: str) -> bool:
    try:
        cs.core_v1.nodes().get(name)
    except NotFound:
        return False
    return True


def test_health(podgc: PodGCCluster) -> None:
    code, text = health(podgc.cluster.manager.url, "/healthz/pod-garbage-collector-controller")
    assert code == 200, text


def test_terminated_pods_over_threshold_oldest_first(podgc: PodGCCluster) -> None:
    cs, ns = podgc.cs, podgc.ns
    names = [f"done-{i}" for i in range(5)]
    for name in names:
        cs.core_v1.pods(ns).create(
            pod(name, NODE, annotations={"kubelet.testserver.io/fake-exit-after": "0.1"})
        )
        time.sleep(1.05)  # distinct creationTimestamps (second resolution), so "oldest" is well defined

    def phases() -> dict[str, str | None]:
        found = {}
        for name in names:
            p = get_pod(cs, ns, name)
            if p is not None:
                found[name] = p.status.phase if p.status else None
        return found

    # the kubelet runs them to completion; then only the two youngest terminated pods remain
    eventually(lambda: set(phases()) == {"done-3", "done-4"}, timeout=60, what="the three oldest collected")
    assert set(phases().values()) == {"Succeeded"}
    # the running pod on the live node is not terminated: never collected
    assert get_pod(cs, ns, "on-live-node") is not None


def test_orphaned_pods_after_quarantine(podgc: PodGCCluster) -> None:
    cs, ns = podgc.cs, podgc.ns
    held = eventually(
        lambda: (
            (p := get_pod(cs, ns, "orphan-held")) is not None
            and p.metadata
            and p.metadata.deletion_timestamp
            and p
        ),
        timeout=90,
        what="the orphaned pod force-deleted",
    )
    assert isinstance(held, Pod)
    # not before the 40 s quarantine
    assert time.monotonic() - podgc.orphans_created >= 39.0
    assert held.status is not None and held.status.phase == "Failed"
    cond = next(c for c in held.status.conditions or [] if c.type == "DisruptionTarget")
    assert (cond.status, cond.reason, cond.message) == (
        "True",
        "DeletionByPodGC",
        "PodGC: node no longer exists",
    )
    assert held.metadata is not None and held.metadata.deletion_grace_period_seconds == 0
    eventually(lambda: get_pod(cs, ns, "orphan-a") is None, timeout=30, what="orphan-a gone")
    assert get_pod(cs, ns, "on-live-node") is not None
    # release the held one
    cs.core_v1.pods(ns).patch("orphan-held", {"metadata": {"finalizers": None}}, patch_type="merge")
    eventually(lambda: get_pod(cs, ns, "orphan-held") is None, what="held orphan gone")


def test_terminating_pods_on_out_of_service_nodes(podgc: PodGCCluster) -> None:
    cs, ns = podgc.cs, podgc.ns
    for name, taints in (
        ("oos-node", [{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}]),
        ("down-node", []),
    ):
        # nodes whose kubelet is gone: registered once, now NotReady (no kubelet serves them)
        cs.core_v1.nodes().create(
            Node.from_dict(
                {
                    "metadata": {"name": name},
                    "spec": {"taints": taints},
                    "status": {
                        "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]
                    },
                }
            )
        )
    for name, node in (("oos-pod", "oos-node"), ("down-pod", "down-node")):
        created = pod(name, node)
        assert created.spec is not None
        created.spec.termination_grace_period_seconds = 300
        cs.core_v1.pods(ns).create(created)
        cs.core_v1.pods(ns).delete(name)  # graceful: stays terminating, no kubelet will finish it
    eventually(
        lambda: get_pod(cs, ns, "oos-pod") is None, timeout=60, what="out-of-service pod force-deleted"
    )
    # the same round saw the pod on the node without the taint and left it terminating
    down = get_pod(cs, ns, "down-pod")
    assert down is not None and down.metadata is not None and down.metadata.deletion_timestamp is not None
    assert down.status is not None and down.status.phase == "Pending"


def test_metrics(podgc: PodGCCluster) -> None:
    """kube's counters, by namespace and reason, for what the tests above had collected."""
    text = httpx.get(podgc.cluster.manager.url + "/metrics", timeout=10).text
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("pod_gc_collector_force_delete_pods_total{") and f'namespace="{podgc.ns}"' in line:
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            counts[reason] = float(line.rsplit(" ", 1)[1])
    assert counts.get("terminated") == 3.0
    assert counts.get("orphaned", 0) >= 2.0
    assert counts.get("out-of-service", 0) >= 1.0
    assert "pod_gc_collector_force_delete_pod_errors_total" in text
