"""The node lifecycle and taint eviction controllers against a real API server, a real controller-manager
and a fake kubelet that is killed (kill -9) and started again."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from controller_manager_fixture import Cluster, start_cluster, stop_cluster, wait_until

from pyclientgo.api.core.v1 import Node, Pod
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.nodelifecycle import ZoneState, compute_zone_state
from testserver.controllers.tainteviction import get_matching_tolerations, min_toleration_seconds
from testserver.kubelet.testing import KubeletProcess

NODE = "lifecycle-node"


def test_zone_states_as_kube_computes_them() -> None:
    assert compute_zone_state(["True", "True"], 0.55) == (0, ZoneState.NORMAL)
    assert compute_zone_state(["False", "Unknown"], 0.55) == (2, ZoneState.FULL_DISRUPTION)
    # two not-ready nodes never make a partial disruption, three out of five do
    assert compute_zone_state(["True", "False", "False"], 0.55) == (2, ZoneState.NORMAL)
    assert compute_zone_state(["True", "True", "False", "Unknown", None], 0.55) == (
        3,
        ZoneState.PARTIAL_DISRUPTION,
    )


def test_toleration_times() -> None:
    from pyclientgo.api.core.v1 import Taint, Toleration

    unreachable = Taint(key="node.kubernetes.io/unreachable", effect="NoExecute")
    forever = Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute")
    brief = Toleration(
        key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute", toleration_seconds=7
    )
    assert get_matching_tolerations([unreachable], []) == (False, [])
    ok, used = get_matching_tolerations([unreachable], [forever, brief])
    assert ok and len(used) == 2
    assert min_toleration_seconds(used) == 7.0
    assert min_toleration_seconds([forever]) is None
    assert min_toleration_seconds([]) == 0.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(
        tmp_path_factory.mktemp("nodelifecycle"),
        "--controllers",
        "nodelifecycle,taint-eviction-controller,serviceaccount",
        "--node-monitor-period",
        "500ms",
        "--node-monitor-grace-period",
        "4s",
        "--node-startup-grace-period",
        "4s",
        "--node-eviction-rate",
        "10",
    )
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture
async def cs(cluster: Cluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


def _kubelet(cluster: Cluster, data_dir: Path, node_name: str = NODE) -> KubeletProcess:
    return KubeletProcess(
        cluster.kubeconfig,
        node_name=node_name,
        data_dir=data_dir,
        extra_args=["--node-lease-duration-seconds", "2", "--node-status-update-frequency", "1"],
    )


async def _ready_status(cs: AsyncClientset) -> str | None:
    node = await cs.core_v1.nodes().get(NODE)
    for condition in (node.status.conditions if node.status else None) or []:
        if condition.type == "Ready":
            return condition.status
    return None


def _taint_keys(node: Node, effect: str) -> set[str]:
    return {t.key or "" for t in ((node.spec.taints if node.spec else None) or []) if t.effect == effect}


async def _events(cs: AsyncClientset, namespace: str, name: str) -> list[tuple[str, str]]:
    listed = await cs.core_v1.events(namespace).list(field_selector=f"involvedObject.name={name}")
    return [(e.reason or "", e.message or "") for e in listed.items or []]


async def test_a_silent_node_goes_unknown_its_pods_not_ready_and_evicted_by_toleration(
    cs: AsyncClientset, cluster: Cluster, tmp_path: Path
) -> None:
    # a second, healthy node: with every node not ready the controller assumes a control-plane
    # problem ("master disruption mode") and taints nothing, as kube does
    healthy_kubelet = _kubelet(cluster, tmp_path / "healthy", "lifecycle-healthy").start()
    kubelet = _kubelet(cluster, tmp_path / "kubelet").start()
    try:
        await wait_until(lambda: _ready_status(cs), timeout=30, what="node registered")
        assert await wait_until(lambda: _ready_status(cs), what="Ready") == "True"
        pods = cs.core_v1.pods("default")
        # the API server's DefaultTolerationSeconds admission gives "stays" 300 s; "leaves" says 2 s;
        # "forever" tolerates the unreachable taint without a limit
        await pods.create(
            Pod.from_dict(
                {
                    "metadata": {"name": "stays"},
                    "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "pause"}]},
                }
            )
        )
        await pods.create(
            Pod.from_dict(
                {
                    "metadata": {"name": "leaves"},
                    "spec": {
                        "nodeName": NODE,
                        "containers": [{"name": "c", "image": "pause"}],
                        "tolerations": [
                            {
                                "key": "node.kubernetes.io/unreachable",
                                "operator": "Exists",
                                "effect": "NoExecute",
                                "tolerationSeconds": 2,
                            },
                            {
                                "key": "node.kubernetes.io/not-ready",
                                "operator": "Exists",
                                "effect": "NoExecute",
                                "tolerationSeconds": 2,
                            },
                        ],
                    },
                }
            )
        )

        async def running(name: str) -> bool:
            pod = await pods.get(name)
            conditions = (pod.status.conditions if pod.status else None) or []
            return any(c.type == "Ready" and c.status == "True" for c in conditions)

        await wait_until(lambda: running("stays"), what="stays Ready")
        await wait_until(lambda: running("leaves"), what="leaves Ready")

        # kill -9: no more status, no more lease renewals
        os.kill(kubelet.pid, signal.SIGKILL)
        assert kubelet.process is not None
        kubelet.process.wait()

        async def unknown() -> bool:
            return await _ready_status(cs) == "Unknown"

        await wait_until(unknown, timeout=30, what="Ready Unknown")
        node = await cs.core_v1.nodes().get(NODE)
        ready = next(c for c in (node.status.conditions or []) if c.type == "Ready")  # type: ignore[union-attr]
        assert (ready.reason, ready.message) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")

        async def tainted() -> bool:
            n = await cs.core_v1.nodes().get(NODE)
            return "node.kubernetes.io/unreachable" in _taint_keys(
                n, "NoExecute"
            ) and "node.kubernetes.io/unreachable" in _taint_keys(n, "NoSchedule")

        await wait_until(tainted, timeout=30, what="unreachable taints")

        async def not_ready(name: str) -> bool:
            return not await running(name)

        await wait_until(lambda: not_ready("stays"), what="stays marked not ready")
        assert ("NodeNotReady", f"Node {NODE} status is now: NodeNotReady") in await _events(
            cs, "default", NODE
        )

        async def terminating(name: str) -> Pod | None:
            pod = await pods.get(name)
            return pod if pod.metadata is not None and pod.metadata.deletion_timestamp is not None else None

        # deleted gracefully: with its kubelet gone it stays Terminating, as on a real cluster
        leaves = await wait_until(lambda: terminating("leaves"), timeout=30, what="leaves evicted after 2 s")
        conditions = {c.type: c for c in (leaves.status.conditions if leaves.status else None) or []}
        target = conditions["DisruptionTarget"]
        assert (target.status, target.reason, target.message) == (
            "True",
            "DeletionByTaintManager",
            "Taint manager: deleting due to NoExecute taint",
        )
        assert ("TaintManagerEviction", "Marking for deletion Pod default/leaves") in await _events(
            cs, "default", "leaves"
        )
        assert await terminating("stays") is None  # 300 s of toleration
        assert ("NodeNotReady", "Node is not ready") in await _events(cs, "default", "stays")
    except BaseException:
        healthy_kubelet.cleanup()
        raise
    finally:
        kubelet.cleanup()

    pods = cs.core_v1.pods("default")
    # the kubelet comes back: Ready again, the controller's taints go, the pending eviction is cancelled
    again = _kubelet(cluster, tmp_path / "kubelet").start()
    try:

        async def healthy() -> bool:
            n = await cs.core_v1.nodes().get(NODE)
            return (
                await _ready_status(cs) == "True"
                and not _taint_keys(n, "NoExecute")
                and not _taint_keys(n, "NoSchedule")
            )

        await wait_until(healthy, timeout=30, what="node healthy and untainted")

        async def gone(name: str) -> bool:
            try:
                await pods.get(name)
            except NotFound:
                return True
            return False

        await wait_until(
            lambda: gone("leaves"), timeout=60, what="the returning kubelet finishes the deletion"
        )
        await wait_until(
            lambda: _has(cs, "stays", ("TaintManagerEviction", "Cancelling deletion of Pod default/stays")),
            what="eviction of stays cancelled",
        )
    finally:
        again.cleanup()
        healthy_kubelet.cleanup()


async def _has(cs: AsyncClientset, pod: str, event: tuple[str, str]) -> bool:
    return event in await _events(cs, "default", pod)


async def test_unschedulable_node_gets_the_unschedulable_taint(cs: AsyncClientset) -> None:
    await cs.core_v1.nodes().create(
        Node.from_dict({"metadata": {"name": "cordoned"}, "spec": {"unschedulable": True}})
    )

    async def has_taint() -> bool:
        node = await cs.core_v1.nodes().get("cordoned")
        return "node.kubernetes.io/unschedulable" in _taint_keys(node, "NoSchedule")

    await wait_until(has_taint, what="unschedulable taint")
    await cs.core_v1.nodes().patch("cordoned", {"spec": {"unschedulable": False}})

    async def untainted() -> bool:
        node = await cs.core_v1.nodes().get("cordoned")
        return "node.kubernetes.io/unschedulable" not in _taint_keys(node, "NoSchedule")

    await wait_until(untainted, what="unschedulable taint removed")
