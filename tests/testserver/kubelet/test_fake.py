"""``testserver kubelet --fake`` against a real API server: node registration and Lease renewal, pods
running and finishing per annotation, restart with CrashLoopBackOff, admission, graceful deletion,
many nodes in one process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pyclientgo.api.core.v1 import Pod
from pyclientgo.config import load_config
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer


def wait_for(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture(scope="module")
def cs(apiserver: TestServer) -> Iterator[Clientset]:
    with Clientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as c:
        yield c


@pytest.fixture(scope="module")
def kubelet(apiserver: TestServer) -> Iterator[KubeletProcess]:
    proc = KubeletProcess(
        apiserver.kubeconfig,
        node_name="fake-a",
        extra_args=[
            "--node-lease-duration-seconds", "4",
            "--crash-loop-backoff-initial", "0.5",
            "--crash-loop-backoff-max", "2",
            "--cpu", "4", "--memory", "8Gi",
            "--node-labels", "tier=test",
        ],
    )  # fmt: skip
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


def _pod(name: str, node: str = "fake-a", annotations: dict[str, str] | None = None, **spec: Any) -> Pod:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}], **spec},
    }
    return Pod.model_validate(body)


def _status(cs: Clientset, name: str) -> dict[str, Any]:
    return cs.core_v1.pods("default").get(name).to_dict().get("status") or {}


def test_node_registered_with_status_and_lease_renewed(cs: Clientset, kubelet: KubeletProcess) -> None:
    node = wait_for(lambda: _try(lambda: cs.core_v1.nodes().get("fake-a")), what="node")
    d = wait_for(
        lambda: (n := cs.core_v1.nodes().get("fake-a").to_dict()).get("status", {}).get("conditions") and n
    )
    labels = d["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "fake-a" and labels["kubernetes.io/os"] == "linux"
    assert labels["tier"] == "test"
    conds = d["status"]["conditions"]
    assert [c["type"] for c in conds] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    ready = conds[-1]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    )
    assert d["status"]["capacity"]["cpu"] == "4" and d["status"]["capacity"]["pods"] == "110"
    assert d["status"]["allocatable"]["memory"] == "8092Mi"  # 8Gi - 100Mi hard eviction
    assert {"type": "InternalIP", "address": "127.0.0.1"} in d["status"]["addresses"]
    lease = wait_for(
        lambda: _try(lambda: cs.coordination_v1.leases("kube-node-lease").get("fake-a")), what="lease"
    )
    ld = lease.to_dict()
    assert ld["spec"]["holderIdentity"] == "fake-a" and ld["spec"]["leaseDurationSeconds"] == 4
    assert ld["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert ld["metadata"]["ownerReferences"][0]["uid"] == node.metadata.uid
    first = ld["spec"]["renewTime"]
    wait_for(
        lambda: (
            cs.coordination_v1.leases("kube-node-lease").get("fake-a").to_dict()["spec"]["renewTime"] != first
        ),
        what="lease renewal",
    )


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except NotFound:
        return None


def test_pod_runs_then_deleted_gracefully(cs: Clientset, kubelet: KubeletProcess) -> None:
    cs.core_v1.pods("default").create(_pod("run1"))
    st = wait_for(lambda: (s := _status(cs, "run1")).get("phase") == "Running" and s, what="Running")
    assert [c["type"] for c in st["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled",
    ]  # fmt: skip
    assert all(c["status"] == "True" for c in st["conditions"])
    cstat = st["containerStatuses"][0]
    assert cstat["ready"] and cstat["started"] and "running" in cstat["state"] and cstat["restartCount"] == 0
    assert st["podIP"] == "127.0.0.1" and st["hostIP"] == "127.0.0.1" and st["qosClass"] == "BestEffort"
    cs.core_v1.pods("default").delete("run1")
    wait_for(lambda: _try(lambda: cs.core_v1.pods("default").get("run1")) is None, what="pod gone")


def test_pod_exits_per_annotation(cs: Clientset, kubelet: KubeletProcess) -> None:
    cs.core_v1.pods("default").create(
        _pod("done1", annotations={"kubelet.testserver.io/fake-exit-after": "0.2"}, restartPolicy="Never")
    )
    st = wait_for(lambda: (s := _status(cs, "done1")).get("phase") == "Succeeded" and s, what="Succeeded")
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "PodCompleted"
    cs.core_v1.pods("default").create(
        _pod(
            "fail1",
            annotations={
                "kubelet.testserver.io/fake-exit-after": "0.1",
                "kubelet.testserver.io/fake-exit-code": "3",
            },
            restartPolicy="Never",
        )
    )
    st = wait_for(lambda: (s := _status(cs, "fail1")).get("phase") == "Failed" and s, what="Failed")
    assert st["containerStatuses"][0]["state"]["terminated"]["reason"] == "Error"


def test_crash_loop_backoff(cs: Clientset, kubelet: KubeletProcess) -> None:
    cs.core_v1.pods("default").create(
        _pod(
            "crash1",
            annotations={
                "kubelet.testserver.io/fake-exit-after": "0.05",
                "kubelet.testserver.io/fake-exit-code": "1",
            },
        )
    )
    st = wait_for(
        lambda: (
            (s := _status(cs, "crash1")).get("containerStatuses")
            and s["containerStatuses"][0]["restartCount"] >= 2
            and "waiting" in s["containerStatuses"][0]["state"]
            and s
        ),
        what="CrashLoopBackOff",
    )
    c = st["containerStatuses"][0]
    assert c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert "restarting failed container=main pod=crash1_default" in c["state"]["waiting"]["message"]
    assert c["lastState"]["terminated"]["exitCode"] == 1
    assert st["phase"] == "Running"


def test_init_and_sidecar(cs: Clientset, kubelet: KubeletProcess) -> None:
    cs.core_v1.pods("default").create(
        _pod(
            "init1",
            initContainers=[
                {"name": "setup", "image": "busybox"},
                {"name": "side", "image": "busybox", "restartPolicy": "Always"},
            ],
        )
    )
    st = wait_for(lambda: (s := _status(cs, "init1")).get("phase") == "Running" and s, what="Running")
    inits = {c["name"]: c for c in st["initContainerStatuses"]}
    assert inits["setup"]["state"]["terminated"]["reason"] == "Completed"
    assert "running" in inits["side"]["state"] and inits["side"]["ready"]


def test_admission_out_of_cpu(cs: Clientset, kubelet: KubeletProcess) -> None:
    cs.core_v1.pods("default").create(
        _pod(
            "big1",
            containers=[{"name": "main", "image": "busybox", "resources": {"requests": {"cpu": "64"}}}],
        )
    )
    st = wait_for(lambda: (s := _status(cs, "big1")).get("phase") == "Failed" and s, what="Failed")
    assert st["reason"] == "OutOfcpu" and "didn't have enough resource: cpu" in st["message"]


def test_many_fake_nodes(apiserver: TestServer, cs: Clientset) -> None:
    with KubeletProcess(
        apiserver.kubeconfig,
        node_name="many",
        nodes=200,
        extra_args=["--kube-api-qps", "500", "--kube-api-burst", "1000"],
    ):  # entering starts it (a second start() would leak a second 200-node kubelet)

        def ready_count() -> int:
            n = 0
            for d in cs.core_v1.nodes().list().to_dict().get("items") or []:
                if d["metadata"]["name"].startswith("many-") and any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in (d.get("status") or {}).get("conditions") or []
                ):
                    n += 1
            return n

        wait_for(lambda: ready_count() == 200, timeout=60, what="200 Ready nodes")

        def lease_count() -> int:
            leases = cs.coordination_v1.leases("kube-node-lease").list().to_dict().get("items") or []
            return sum(1 for lease in leases if lease["metadata"]["name"].startswith("many-"))

        wait_for(lambda: lease_count() == 200, timeout=60, what="200 leases")
        cs.core_v1.pods("default").create(_pod("onmany", node="many-17"))
        wait_for(lambda: _status(cs, "onmany").get("phase") == "Running", what="pod on many-17")
