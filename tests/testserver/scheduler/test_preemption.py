"""Scheduling onto nodes a real ``testserver kubelet --fake`` runs (pods really start and stop), and
DefaultPreemption: victims of lower priority get DisruptionTarget and are deleted gracefully, the
preemptor is nominated then bound; PodDisruptionBudgets and ``preemptionPolicy: Never`` respected."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from scheduler_process import SchedCluster, SchedulerProcess, eventually

from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.api.scheduling.v1 import PriorityClass
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

NODES = ("kn-0", "kn-1")


@pytest.fixture(scope="module")
def kubelet_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchedCluster]:
    data = tmp_path_factory.mktemp("preemption")
    with TestServer(data_dir=data / "apiserver", bookmark_interval=1.0) as server:
        kubelet = KubeletProcess(
            server.kubeconfig,
            node_name="kn",
            nodes=2,
            extra_args=["--cpu", "2", "--memory", "8Gi"],
            data_dir=data / "kubelet",
        )
        with kubelet, SchedulerProcess(server.kubeconfig, data_dir=data / "scheduler") as process:
            cluster = SchedCluster(Path(server.kubeconfig), process)
            try:
                cluster.ensure_namespace("default")
                for name, value, policy in (
                    ("low", 10, "PreemptLowerPriority"),
                    ("high", 1000, "PreemptLowerPriority"),
                    ("high-never", 1000, "Never"),
                ):
                    cluster.cs.scheduling_v1.priority_classes().create(
                        PriorityClass.from_dict(
                            {"metadata": {"name": name}, "value": value, "preemptionPolicy": policy}
                        )
                    )
                eventually(
                    lambda: cluster.metrics().get('scheduler_cache_size{type="nodes"}') == 2.0,
                    what="both kubelet nodes in the scheduler's cache",
                )
                yield cluster
            finally:
                cluster.close()


@pytest.fixture
def cluster(kubelet_cluster: SchedCluster) -> Iterator[SchedCluster]:
    try:
        yield kubelet_cluster
    finally:
        cs = kubelet_cluster.cs
        for p in cs.core_v1.pods("default").list().items or []:
            if p.metadata and p.metadata.name:
                cs.core_v1.pods("default").delete(p.metadata.name, grace_period_seconds=0)
        for pdb in cs.policy_v1.pod_disruption_budgets("default").list().items or []:
            if pdb.metadata and pdb.metadata.name:
                cs.policy_v1.pod_disruption_budgets("default").delete(pdb.metadata.name)
        eventually(
            lambda: kubelet_cluster.metrics().get('scheduler_cache_size{type="pods"}') == 0.0,
            what="no pods left in the scheduler's cache",
        )


def phase(cluster: SchedCluster, name: str) -> str:
    return str((cluster.pod(name).get("status") or {}).get("phase"))


def running(cluster: SchedCluster, name: str) -> bool:
    return phase(cluster, name) == "Running"


def fill_nodes(cluster: SchedCluster, labels: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """One low-priority 1500m pod on each node, running; pod name → node."""
    placed = {}
    for i in range(len(NODES)):
        name = f"low-{i}"
        cluster.create_pod(
            name,
            cpu="1500m",
            labels=(labels or {}).get(name, {"tier": "batch"}),
            priorityClassName="low",
            terminationGracePeriodSeconds=1,
        )
        placed[name] = cluster.wait_bound(name)
    assert sorted(placed.values()) == list(NODES)
    for name in placed:
        eventually(partial(running, cluster, name), what=f"{name} running")
    return placed


def test_pods_run_on_the_nodes_they_are_bound_to(cluster: SchedCluster) -> None:
    for i in range(4):
        cluster.create_pod(f"web-{i}", cpu="200m")
    nodes = {cluster.wait_bound(f"web-{i}") for i in range(4)}
    assert nodes <= set(NODES)
    for i in range(4):
        eventually(partial(running, cluster, f"web-{i}"), what=f"web-{i} running")
        condition = cluster.scheduled_condition(f"web-{i}")
        assert condition is not None and condition["status"] == "True"


def test_priority_preemption_nominates_then_binds(cluster: SchedCluster) -> None:
    placed = fill_nodes(cluster)
    cluster.create_pod("vip", cpu="1500m", priorityClassName="high")
    message = cluster.wait_unschedulable("vip")
    # Preemption found a node: no PostFilter message, the pod is nominated to the victim's node.
    assert message == "0/2 nodes are available: 2 Insufficient cpu."
    nominated = eventually(lambda: (cluster.pod("vip").get("status") or {}).get("nominatedNodeName"))
    victim = next(name for name, node in placed.items() if node == nominated)
    vip_uid = cluster.pod("vip")["metadata"]["uid"]
    event = cluster.wait_event(victim, "Preempted")
    assert event["note"] == f"Preempted by pod {vip_uid} on node {nominated}"
    assert event["related"]["name"] == "vip"
    assert cluster.wait_bound("vip", timeout=60) == nominated
    survivor = next(name for name in placed if name != victim)
    assert phase(cluster, survivor) == "Running"
    assert not cluster.events(survivor, "Preempted")


def test_victims_get_the_disruption_target_condition(cluster: SchedCluster) -> None:
    placed = fill_nodes(cluster)
    pods = cluster.cs.core_v1.pods("default")
    rv = pods.list().metadata.resource_version  # type: ignore[union-attr]
    cluster.create_pod("vip", cpu="1500m", priorityClassName="high")
    # The victim may be gone soon after: read the condition from the watch of its updates.
    condition = None
    for event in pods.watch(resource_version=rv, label_selector="tier=batch", timeout_seconds=60):
        obj = event.object.to_dict()
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c.get("type") == "DisruptionTarget":
                condition = dict(
                    c, pod=obj["metadata"]["name"], deleting="deletionTimestamp" in obj["metadata"]
                )
        if condition is not None:
            break
    assert condition is not None, "no victim got the DisruptionTarget condition"
    assert condition["pod"] in placed
    assert condition["status"] == "True"
    assert condition["reason"] == "PreemptionByScheduler"
    assert condition["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    # The condition is written before the (graceful) delete, as kube does.
    assert condition["deleting"] is False
    cluster.wait_bound("vip", timeout=60)


def test_pod_disruption_budget_steers_the_choice(cluster: SchedCluster) -> None:
    placed = fill_nodes(cluster, {"low-0": {"app": "protected"}, "low-1": {"app": "free"}})
    pdb = {
        "metadata": {"name": "protect"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "protected"}}},
    }
    cluster.cs.policy_v1.pod_disruption_budgets("default").create(PodDisruptionBudget.from_dict(pdb))
    cluster.create_pod("vip", cpu="1500m", priorityClassName="high")
    # Without a disruption controller the budget allows no disruption: evicting low-0 would violate
    # it, so the pod on the other node is the victim.
    assert cluster.wait_bound("vip", timeout=60) == placed["low-1"]
    assert phase(cluster, "low-0") == "Running"


def test_preemption_policy_never(cluster: SchedCluster) -> None:
    fill_nodes(cluster)
    cluster.create_pod("polite", cpu="1500m", priorityClassName="high-never")
    assert cluster.wait_unschedulable("polite") == (
        "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    )
    assert not cluster.events("low-0", "Preempted") and not cluster.events("low-1", "Preempted")


def test_no_lower_priority_victims(cluster: SchedCluster) -> None:
    for i in range(len(NODES)):
        cluster.create_pod(f"peer-{i}", cpu="1500m", priorityClassName="high")
        cluster.wait_bound(f"peer-{i}")
    cluster.create_pod("equal", cpu="1500m", priorityClassName="high")
    assert cluster.wait_unschedulable("equal") == (
        "0/2 nodes are available: 2 Insufficient cpu. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    )
