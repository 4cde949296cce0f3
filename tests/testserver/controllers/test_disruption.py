"""The disruption controller in a real controller-manager process against a real API server without
stand-ins (the eviction subresource reads and spends the controller's status), pods run by the fake
kubelet. The pods' ReplicaSets are plain objects here (no replicaset controller runs): their
``spec.replicas`` is the scale the controller reads. Readiness is written by the test where it tests a
specific condition; ``kubectl drain`` is the real kubectl."""

from __future__ import annotations

import datetime as _dt
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from endpoints_fixture import NODES, EndpointsCluster, endpoints_cluster, new_pod, set_pod_ready

from pyclientgo.api.apps.v1 import ReplicaSet
from pyclientgo.api.core.v1 import Pod
from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.disruption import build_disrupted_pod_map, count_healthy_pods, scaled_value


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointsCluster]:
    yield from endpoints_cluster(tmp_path_factory.mktemp("disruption"), "disruption")


@pytest.fixture
async def cs(cluster: EndpointsCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


async def _replica_set(
    cs: AsyncClientset, name: str, replicas: int, labels: dict[str, str]
) -> dict[str, Any]:
    rs = await cs.apps_v1.replica_sets("default").create(
        ReplicaSet.from_dict(
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]},
                    },
                },
            }
        )
    )
    meta = rs.metadata
    assert meta is not None
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": name,
        "uid": meta.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


async def _pods(
    cs: AsyncClientset, prefix: str, n: int, labels: dict[str, str], owner: dict[str, Any], node: str
) -> None:
    for i in range(n):
        await cs.core_v1.pods("default").create(new_pod(f"{prefix}-{i}", labels, node=node, owner=owner))


async def _pdb(cs: AsyncClientset, name: str, labels: dict[str, str], **spec: Any) -> None:
    await cs.policy_v1.pod_disruption_budgets("default").create(
        PodDisruptionBudget.from_dict(
            {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": labels}, **spec}}
        )
    )


def _status_is(want: dict[str, Any]) -> Any:
    async def probe(cs: AsyncClientset, name: str) -> dict[str, Any] | None:
        pdb = (await cs.policy_v1.pod_disruption_budgets("default").get(name)).to_dict()
        status = pdb.get("status") or {}
        got = {k: status.get(k, 0) for k in want if k != "condition"}
        cond: dict[str, Any] = next(
            (c for c in status.get("conditions") or [] if c["type"] == "DisruptionAllowed"), {}
        )
        if "condition" in want:
            got["condition"] = (cond.get("status"), cond.get("reason"))
        return pdb if got == want else None

    return probe


async def test_min_available_int_and_readiness(cs: AsyncClientset) -> None:
    labels = {"app": "mi"}
    owner = await _replica_set(cs, "mi", 3, labels)
    await _pods(cs, "mi", 3, labels, owner, NODES[0])
    await _pdb(cs, "mi", labels, minAvailable=2)
    probe = _status_is(
        {"expectedPods": 3, "currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1,
         "condition": ("True", "SufficientPods")}
    )  # fmt: skip
    pdb = await wait_until(lambda: probe(cs, "mi"), what="PDB status 3/2/1")
    status = pdb["status"]
    assert status["observedGeneration"] == pdb["metadata"]["generation"]
    cond = next(c for c in status["conditions"] if c["type"] == "DisruptionAllowed")
    assert cond["observedGeneration"] == pdb["metadata"]["generation"] and cond["lastTransitionTime"]

    # one pod turns not ready: nothing may be disrupted any more
    await set_pod_ready(cs, "default", "mi-0", False)
    probe = _status_is(
        {"currentHealthy": 2, "disruptionsAllowed": 0, "condition": ("False", "InsufficientPods")}
    )
    await wait_until(lambda: probe(cs, "mi"), what="InsufficientPods")

    # a spec change is observed (generation)
    await cs.policy_v1.pod_disruption_budgets("default").patch("mi", {"spec": {"minAvailable": 1}})
    probe = _status_is(
        {"desiredHealthy": 1, "disruptionsAllowed": 1, "condition": ("True", "SufficientPods")}
    )
    pdb = await wait_until(lambda: probe(cs, "mi"), what="new minAvailable observed")
    assert pdb["status"]["observedGeneration"] == pdb["metadata"]["generation"] == 2


async def test_percentages_use_the_controllers_scale(cs: AsyncClientset) -> None:
    labels = {"app": "pct"}
    # the ReplicaSet wants 4, only 3 pods exist: the expected count is the scale (4)
    owner = await _replica_set(cs, "pct", 4, labels)
    await _pods(cs, "pct", 3, labels, owner, NODES[0])
    await _pdb(cs, "pct-max", labels, maxUnavailable="50%")
    probe = _status_is({"expectedPods": 4, "currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1})
    await wait_until(lambda: probe(cs, "pct-max"), what="maxUnavailable 50% of 4")

    # scale change is picked up at the next sync (a pod event)
    await cs.apps_v1.replica_sets("default").patch("pct", {"spec": {"replicas": 6}})
    await set_pod_ready(cs, "default", "pct-2", False)
    probe = _status_is({"expectedPods": 6, "currentHealthy": 2, "desiredHealthy": 3, "disruptionsAllowed": 0})
    await wait_until(lambda: probe(cs, "pct-max"), what="maxUnavailable 50% of 6")
    await cs.policy_v1.pod_disruption_budgets("default").delete("pct-max")

    await _pdb(cs, "pct-min", labels, minAvailable="30%")
    probe = _status_is({"expectedPods": 6, "currentHealthy": 2, "desiredHealthy": 2, "disruptionsAllowed": 0})
    await wait_until(lambda: probe(cs, "pct-min"), what="minAvailable 30% of 6 rounds up to 2")


async def test_unknown_controller_is_sync_failed(cs: AsyncClientset) -> None:
    labels = {"app": "orphan"}
    ghost = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "ghost",
        "uid": "0000-ghost",
        "controller": True,
    }
    await _pods(cs, "orphan", 1, labels, ghost, NODES[0])
    await _pdb(cs, "orphan", labels, maxUnavailable=1)

    async def failed() -> dict[str, Any] | None:
        pdb = (await cs.policy_v1.pod_disruption_budgets("default").get("orphan")).to_dict()
        cond = next(
            (
                c
                for c in (pdb.get("status") or {}).get("conditions") or []
                if c["type"] == "DisruptionAllowed"
            ),
            None,
        )
        return cond if cond is not None and cond["reason"] == "SyncFailed" else None

    cond = await wait_until(failed, what="SyncFailed")
    assert cond["status"] == "False"
    assert cond["message"] == 'found no controllers for pod "orphan-0"'


async def test_kubectl_get_pdb_and_drain(
    cs: AsyncClientset, cluster: EndpointsCluster, tmp_path: Path
) -> None:
    labels = {"app": "dr"}
    owner = await _replica_set(cs, "dr", 3, labels)
    await _pods(cs, "dr", 3, labels, owner, NODES[1])
    await _pdb(cs, "dr", labels, minAvailable=2)
    probe = _status_is({"currentHealthy": 3, "disruptionsAllowed": 1})
    await wait_until(lambda: probe(cs, "dr"), what="dr allows 1")
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = cluster.cluster.kubectl_env(tmp_path)
    out = subprocess.run(
        [kubectl, "get", "pdb", "dr"], env=env, capture_output=True, text=True, timeout=30, check=True
    ).stdout
    header, row = out.strip().splitlines()
    assert header.split() == [
        "NAME",
        "MIN",
        "AVAILABLE",
        "MAX",
        "UNAVAILABLE",
        "ALLOWED",
        "DISRUPTIONS",
        "AGE",
    ]
    assert row.split()[:4] == ["dr", "2", "N/A", "1"]

    log = tmp_path / "drain.log"
    with log.open("w") as sink:
        drain = subprocess.Popen(
            [kubectl, "drain", NODES[1], "--pod-selector=app=dr", "--timeout=180s", "--grace-period=1"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        # the first eviction spends the one allowed disruption; the others are refused with 429
        async def refused() -> bool:
            return "Cannot evict pod as it would violate the pod's disruption budget" in log.read_text()

        await wait_until(refused, timeout=60, what="an eviction refused by the PDB")
        assert drain.poll() is None
        # more healthy pods elsewhere: the budget allows the remaining evictions
        await _pods(cs, "dr-extra", 2, labels, owner, NODES[0])

        async def drained() -> bool:
            return drain.poll() is not None

        await wait_until(drained, timeout=150, what="drain finished")
        text = log.read_text()
        assert drain.returncode == 0, text
        assert f"node/{NODES[1]} drained" in text
        assert "error when evicting pods" in text
    finally:
        if drain.poll() is None:
            drain.kill()
            drain.wait()
    remaining = await cs.core_v1.pods("default").list(
        label_selector="app=dr", field_selector=f"spec.nodeName={NODES[1]}"
    )
    assert all(
        p.metadata is not None and p.metadata.deletion_timestamp is not None for p in remaining.items or []
    )


def test_scaled_value_rounds_as_kube() -> None:
    assert scaled_value(3, 10, round_up=True) == 3
    assert scaled_value("30%", 6, round_up=True) == 2  # 1.8 → 2
    assert scaled_value("30%", 6, round_up=False) == 1
    assert scaled_value("50%", 0, round_up=True) == 0
    with pytest.raises(ValueError, match="not a percentage"):
        scaled_value("3", 10, round_up=True)
    with pytest.raises(ValueError):
        scaled_value("x%", 10, round_up=True)


SCALABLE_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: flocks.test.io
spec:
  group: test.io
  scope: Namespaced
  names: {plural: flocks, singular: flock, kind: Flock}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: test.io/v1
kind: Flock
metadata: {name: birds, namespace: default}
spec: {replicas: 5}
"""


async def test_custom_controller_scale_subresource(
    cs: AsyncClientset, cluster: EndpointsCluster, tmp_path: Path
) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = cluster.cluster.kubectl_env(tmp_path)

    def run(*args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [kubectl, *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return proc.stdout

    run("apply", "-f", "-", stdin=SCALABLE_CRD.split("---")[0])
    run("wait", "--for=condition=Established", "crd/flocks.test.io", "--timeout=30s")
    run("apply", "-f", "-", stdin=SCALABLE_CRD.split("---")[1])
    uid = run("get", "flock", "birds", "-o", "jsonpath={.metadata.uid}").strip()
    owner = {"apiVersion": "test.io/v1", "kind": "Flock", "name": "birds", "uid": uid, "controller": True}
    labels = {"app": "birds"}
    await _pods(cs, "birds", 2, labels, owner, NODES[0])
    await _pdb(cs, "birds", labels, maxUnavailable=1)
    # expected = the Flock's scale (5), desired = 5 - 1, healthy = 2
    probe = _status_is({"expectedPods": 5, "desiredHealthy": 4, "currentHealthy": 2, "disruptionsAllowed": 0})
    await wait_until(lambda: probe(cs, "birds"), what="scale of a custom resource")


def test_disrupted_pods_kept_for_the_deletion_timeout() -> None:
    now = _dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=_dt.UTC)

    def pod(name: str, *, deleting: bool = False) -> Pod:
        meta: dict[str, Any] = {"name": name}
        if deleting:
            meta["deletionTimestamp"] = "2026-01-01T11:59:59Z"
        return Pod.from_dict(
            {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
        )

    pods = [pod("recent"), pod("old"), pod("deleting", deleting=True), pod("healthy")]
    pdb = PodDisruptionBudget.from_dict(
        {
            "metadata": {"name": "b"},
            "status": {
                "disruptedPods": {
                    "recent": "2026-01-01T11:59:30Z",  # 30 s ago: still expected to go
                    "old": "2026-01-01T11:57:00Z",  # 3 min ago: outlived the 2 min timeout
                    "deleting": "2026-01-01T11:59:50Z",  # being deleted: no longer tracked
                },
                "currentHealthy": 0,
                "desiredHealthy": 0,
                "disruptionsAllowed": 0,
                "expectedPods": 0,
            },
        }
    )
    kept, recheck, expired = build_disrupted_pod_map(pdb, pods, now)
    assert list(kept) == ["recent"]
    assert recheck == _dt.datetime(2026, 1, 1, 12, 1, 30, tzinfo=_dt.UTC)
    assert [p.metadata.name for p in expired] == ["old"]  # type: ignore[union-attr]
    # healthy: "old" and "healthy" (ready, not deleting, not recently disrupted)
    assert count_healthy_pods(pods, kept, now) == 2
