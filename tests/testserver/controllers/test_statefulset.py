"""The StatefulSet controller in a real controller-manager process, against a real API server, with the
scheduler and fake kubelets running the pods; user paths with the real kubectl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from controller_manager_fixture import eventually
from sets_fixture import SetsCluster, sets_cluster

from pyclientgo.api.apps.v1 import StatefulSet
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.kubernetes import Clientset

TIMEOUT = 120.0


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetsCluster]:
    with sets_cluster(tmp_path_factory.mktemp("sts"), node_name="sts", nodes=2) as c:
        yield c


@pytest.fixture
def cs(sc: SetsCluster) -> Iterator[Clientset]:
    with Clientset(sc.config()) as client:
        yield client


def _ns(cs: Clientset, name: str) -> str:
    cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


def _sts(name: str, replicas: int, *, image: str = "nginx:1", **spec: Any) -> StatefulSet:
    body: dict[str, Any] = {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }
    return StatefulSet.from_dict(body)


def _items(lst: Any) -> list[Any]:
    return list(lst.items or [])


def _pod(cs: Clientset, ns: str, name: str) -> Any:
    return cs.core_v1.pods(ns).get(name)


def _set(cs: Clientset, ns: str, name: str) -> Any:
    return cs.apps_v1.stateful_sets(ns).get(name)


def _pods(cs: Clientset, ns: str, app: str) -> dict[str, Any]:
    return {p.metadata.name: p for p in _items(cs.core_v1.pods(ns).list(label_selector=f"app={app}"))}


def _ready(pod: Any) -> bool:
    conds = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conds)


def _events(cs: Clientset, ns: str) -> list[tuple[str, str]]:
    return [(e.reason or "", e.message or "") for e in _items(cs.core_v1.events(ns).list())]


def test_ordered_ready_creation_stable_identity_and_status(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "sts-ordered")
    cs.apps_v1.stateful_sets(ns).create(_sts("web", 3))
    # OrderedReady: web-1 never exists before web-0 is Running and Ready
    seen_order: list[str] = []

    def progress() -> bool:
        pods = _pods(cs, ns, "web")
        for name in sorted(pods):
            if name not in seen_order:
                seen_order.append(name)
        if "web-1" in pods:
            assert _ready(pods["web-0"]), "web-1 created before web-0 was ready"
        if "web-2" in pods:
            assert _ready(pods["web-1"]), "web-2 created before web-1 was ready"
        return len(pods) == 3 and all(_ready(p) for p in pods.values())

    eventually(progress, timeout=TIMEOUT, what="3 ready pods in order")
    assert seen_order == ["web-0", "web-1", "web-2"]
    pod = _pod(cs, ns, "web-1")
    labels = pod.metadata.labels or {}
    assert labels["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert labels["apps.kubernetes.io/pod-index"] == "1"
    assert pod.spec.hostname == "web-1" and pod.spec.subdomain == "web"
    ref = pod.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.controller) == ("StatefulSet", "web", True)

    def status_done() -> Any:
        st = _set(cs, ns, "web").status
        return st if st and st.ready_replicas == 3 and st.available_replicas == 3 else None

    st = eventually(status_done, timeout=TIMEOUT, what="status ready 3")
    assert st.replicas == 3 and st.current_replicas == 3 and st.updated_replicas == 3
    assert st.current_revision == st.update_revision and st.current_revision.startswith("web-")
    assert labels["controller-revision-hash"] == st.update_revision
    assert st.observed_generation == 1 and st.collision_count == 0
    revs = _items(cs.apps_v1.controller_revisions(ns).list())
    assert [r.metadata.name for r in revs] == [st.update_revision] and revs[0].revision == 1
    eventually(
        lambda: ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful") in _events(cs, ns),
        what="SuccessfulCreate event",
    )
    sc.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=60s")

    # scale down: the highest ordinal goes first, one at a time
    cs.apps_v1.stateful_sets(ns).patch("web", {"spec": {"replicas": 1}}, patch_type="merge")
    gone: list[str] = []

    def scaled_down() -> bool:
        pods = _pods(cs, ns, "web")
        if "web-2" not in pods and "web-2" not in gone:
            gone.append("web-2")
        if "web-1" not in pods and "web-1" not in gone:
            gone.append("web-1")
        return set(pods) == {"web-0"}

    eventually(scaled_down, timeout=TIMEOUT, what="scaled down to web-0")
    assert gone == ["web-2", "web-1"]
    eventually(
        lambda: ("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful") in _events(cs, ns),
        what="SuccessfulDelete event",
    )


def test_parallel_pvcs_and_ordinals_start(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "sts-pvc")
    claim = {
        "metadata": {"name": "www"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    cs.apps_v1.stateful_sets(ns).create(
        _sts(
            "db",
            3,
            podManagementPolicy="Parallel",
            ordinals={"start": 5},
            volumeClaimTemplates=[claim],
            persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Retain"},
        )
    )
    # Parallel: all three pods are created at once, although none can run (unbound claims)
    eventually(lambda: set(_pods(cs, ns, "db")) == {"db-5", "db-6", "db-7"}, timeout=TIMEOUT, what="3 pods")
    pvcs = {p.metadata.name: p for p in _items(cs.core_v1.persistent_volume_claims(ns).list())}
    assert set(pvcs) == {"www-db-5", "www-db-6", "www-db-7"}
    assert (pvcs["www-db-6"].metadata.labels or {})["app"] == "db"
    owner = pvcs["www-db-6"].metadata.owner_references[0]
    assert (owner.kind, owner.name) == ("StatefulSet", "db")
    pod = _pod(cs, ns, "db-6")
    vols = {v.name: v for v in pod.spec.volumes or []}
    assert vols["www"].persistent_volume_claim.claim_name == "www-db-6"
    eventually(
        lambda: (
            ("SuccessfulCreate", "create Claim www-db-5 Pod db-5 in StatefulSet db success")
            in _events(cs, ns)
        ),
        what="claim event",
    )
    # whenDeleted Delete: deleting the set lets the garbage collector remove the claims
    cs.apps_v1.stateful_sets(ns).delete("db")
    eventually(
        lambda: not (_items(cs.core_v1.persistent_volume_claims(ns).list())),
        timeout=TIMEOUT,
        what="claims collected",
    )


def test_rolling_update_with_partition_then_undo(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "sts-roll")
    cs.apps_v1.stateful_sets(ns).create(
        _sts("web", 3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}})
    )
    sc.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=120s", timeout=150)
    rev1 = _set(cs, ns, "web").status.update_revision
    sc.kubectl("set", "image", "statefulset/web", "c=nginx:2", "-n", ns)

    def partitioned() -> Any:
        st = _set(cs, ns, "web").status
        pods = _pods(cs, ns, "web")
        if (
            st is None
            or st.updated_replicas != 2
            or len(pods) != 3
            or not all(_ready(p) for p in pods.values())
        ):
            return None
        return st, pods

    st, pods = eventually(partitioned, timeout=TIMEOUT, what="ordinals >= 1 updated")
    rev2 = st.update_revision
    assert rev2 != rev1 and st.current_revision == rev1
    images = {n: p.spec.containers[0].image for n, p in pods.items()}
    assert images == {"web-0": "nginx:1", "web-1": "nginx:2", "web-2": "nginx:2"}
    # kubectl rollout status waits for the partitioned rollout
    sc.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=60s")
    # partition 0 finishes the rollout: current becomes the update revision
    cs.apps_v1.stateful_sets(ns).patch(
        "web", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}, patch_type="merge"
    )

    def complete() -> bool:
        st = _set(cs, ns, "web").status
        return bool(
            st and st.current_revision == rev2 and st.updated_replicas == 3 and st.ready_replicas == 3
        )

    eventually(complete, timeout=TIMEOUT, what="rollout complete")
    assert _pod(cs, ns, "web-0").spec.containers[0].image == "nginx:2"
    history = sc.kubectl("rollout", "history", "statefulset/web", "-n", ns).stdout
    rows = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert rows == ["1", "2"], history
    sc.kubectl("rollout", "undo", "statefulset/web", "-n", ns)

    def undone() -> bool:
        pods = _pods(cs, ns, "web")
        st = _set(cs, ns, "web").status
        return bool(
            st
            and st.update_revision == rev1
            and st.current_revision == rev1
            and len(pods) == 3
            and all(p.spec.containers[0].image == "nginx:1" and _ready(p) for p in pods.values())
        )

    eventually(undone, timeout=TIMEOUT, what="rolled back to revision 1")
    revs = {r.metadata.name: r.revision for r in _items(cs.apps_v1.controller_revisions(ns).list())}
    assert revs[rev1] == 3 and revs[rev2] == 2  # the old revision was renumbered


def test_on_delete_waits_for_deletion(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "sts-ondelete")
    cs.apps_v1.stateful_sets(ns).create(
        _sts("od", 2, podManagementPolicy="Parallel", updateStrategy={"type": "OnDelete"})
    )
    eventually(
        lambda: len(_pods(cs, ns, "od")) == 2 and all(_ready(p) for p in _pods(cs, ns, "od").values()),
        timeout=TIMEOUT,
        what="2 ready",
    )
    cs.apps_v1.stateful_sets(ns).patch(
        "od",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}},
        patch_type="strategic",
    )
    eventually(
        lambda: (
            (st := _set(cs, ns, "od").status) is not None
            and st.observed_generation == 2
            and st.update_revision != st.current_revision
        ),
        what="new update revision",
    )
    # OnDelete: nothing changes by itself
    assert {p.spec.containers[0].image for p in _pods(cs, ns, "od").values()} == {"nginx:1"}
    old_uid = _pod(cs, ns, "od-1").metadata.uid
    cs.core_v1.pods(ns).delete("od-1")

    def recreated() -> bool:
        pods = _pods(cs, ns, "od")
        p = pods.get("od-1")
        return bool(p and p.metadata.uid != old_uid and p.spec.containers[0].image == "nginx:2")

    eventually(recreated, timeout=TIMEOUT, what="od-1 recreated at the update revision")
    assert _pod(cs, ns, "od-0").spec.containers[0].image == "nginx:1"
    st = _set(cs, ns, "od").status
    assert st.updated_replicas == 1 and st.current_replicas == 1


def test_when_scaled_delete_removes_claims_of_condemned_pods(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "sts-scaled")
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    cs.apps_v1.stateful_sets(ns).create(
        _sts(
            "kv",
            2,
            podManagementPolicy="Parallel",
            volumeClaimTemplates=[claim],
            persistentVolumeClaimRetentionPolicy={"whenDeleted": "Retain", "whenScaled": "Delete"},
        )
    )

    def claims() -> set[str]:
        return {p.metadata.name for p in _items(cs.core_v1.persistent_volume_claims(ns).list())}

    eventually(lambda: claims() == {"data-kv-0", "data-kv-1"}, timeout=TIMEOUT, what="2 claims")
    # Retain on deletion: no owner on the claims while the pods live
    assert not _items(cs.core_v1.persistent_volume_claims(ns).list())[0].metadata.owner_references
    cs.apps_v1.stateful_sets(ns).patch("kv", {"spec": {"replicas": 1}}, patch_type="merge")
    eventually(lambda: set(_pods(cs, ns, "kv")) == {"kv-0"}, timeout=TIMEOUT, what="kv-1 deleted")
    eventually(lambda: claims() == {"data-kv-0"}, timeout=TIMEOUT, what="the condemned pod's claim collected")
