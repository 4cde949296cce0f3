"""The DaemonSet controller in a real controller-manager process, against a real API server, with the
scheduler binding the daemon pods and fake kubelets running them; user paths with the real kubectl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from controller_manager_fixture import eventually
from sets_fixture import SetsCluster, sets_cluster

from pyclientgo.api.apps.v1 import DaemonSet
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess

TIMEOUT = 120.0


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetsCluster]:
    with sets_cluster(tmp_path_factory.mktemp("ds"), node_name="dsn", nodes=3) as c:
        yield c


@pytest.fixture
def cs(sc: SetsCluster) -> Iterator[Clientset]:
    with Clientset(sc.config()) as client:
        yield client


def _items(lst: Any) -> list[Any]:
    return list(lst.items or [])


def _ds_status(cs: Clientset, ns: str, name: str) -> Any:
    return cs.apps_v1.daemon_sets(ns).get(name).status


def _ds(name: str, *, image: str = "agent:1", **spec: Any) -> DaemonSet:
    tpl_spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}], **spec.pop("pod_spec", {})}
    return DaemonSet.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": tpl_spec},
                **spec,
            },
        }
    )


def _pods(cs: Clientset, ns: str, app: str) -> list[Any]:
    return _items(cs.core_v1.pods(ns).list(label_selector=f"app={app}"))


def _ready(pod: Any) -> bool:
    conds = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conds)


def _by_node(pods: list[Any]) -> dict[str, Any]:
    return {p.spec.node_name: p for p in pods if p.spec.node_name and not p.metadata.deletion_timestamp}


def _ns(cs: Clientset, name: str) -> str:
    cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


def test_one_pod_per_node_with_tolerations_affinity_and_status(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "ds-basic")
    cs.apps_v1.daemon_sets(ns).create(_ds("agent", pod_spec={"hostNetwork": True}))

    def all_ready() -> Any:
        pods = _pods(cs, ns, "agent")
        nodes = _by_node(pods)
        return nodes if len(pods) == 3 and set(nodes) == set(sc.nodes) and all(map(_ready, pods)) else None

    nodes = eventually(all_ready, timeout=TIMEOUT, what="one ready pod per node")
    pod = nodes[sc.nodes[1]]
    terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    assert [f.to_dict() for f in terms[0].match_fields] == [
        {"key": "metadata.name", "operator": "In", "values": [sc.nodes[1]]}
    ]
    tolerations = {(t.key, t.operator, t.effect, t.toleration_seconds) for t in pod.spec.tolerations}
    assert tolerations >= {
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute", None),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute", None),
        ("node.kubernetes.io/disk-pressure", "Exists", "NoSchedule", None),
        ("node.kubernetes.io/memory-pressure", "Exists", "NoSchedule", None),
        ("node.kubernetes.io/pid-pressure", "Exists", "NoSchedule", None),
        ("node.kubernetes.io/unschedulable", "Exists", "NoSchedule", None),
        ("node.kubernetes.io/network-unavailable", "Exists", "NoSchedule", None),
    }
    ref = pod.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.controller) == ("DaemonSet", "agent", True)
    revs = _items(cs.apps_v1.controller_revisions(ns).list())
    assert len(revs) == 1 and revs[0].revision == 1
    hash_ = revs[0].metadata.labels["controller-revision-hash"]
    assert revs[0].metadata.name == f"agent-{hash_}"
    assert pod.metadata.labels["controller-revision-hash"] == hash_

    def status() -> Any:
        st = _ds_status(cs, ns, "agent")
        return st if st and st.number_available == 3 else None

    st = eventually(status, timeout=TIMEOUT, what="status")
    assert (st.desired_number_scheduled, st.current_number_scheduled, st.number_ready) == (3, 3, 3)
    assert (st.updated_number_scheduled, st.number_misscheduled, st.observed_generation) == (3, 0, 1)
    events = {(e.reason, e.message) for e in _items(cs.core_v1.events(ns).list())}
    assert ("SuccessfulCreate", f"Created pod: {pod.metadata.name}") in events
    sc.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=60s")


def test_tainted_node_and_node_selector(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "ds-taint")
    tainted = sc.nodes[0]
    sc.kubectl("taint", "nodes", tainted, "dedicated=infra:NoSchedule")
    try:
        cs.apps_v1.daemon_sets(ns).create(_ds("plain"))
        cs.apps_v1.daemon_sets(ns).create(
            _ds(
                "tolerant",
                pod_spec={
                    "tolerations": [
                        {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}
                    ]
                },
            )
        )

        def placed() -> bool:
            plain = _by_node(_pods(cs, ns, "plain"))
            tolerant = _by_node(_pods(cs, ns, "tolerant"))
            return set(plain) == set(sc.nodes[1:]) and set(tolerant) == set(sc.nodes)

        eventually(placed, timeout=TIMEOUT, what="plain skips the tainted node, tolerant does not")
        st = eventually(
            lambda: (s := _ds_status(cs, ns, "plain")) and s.desired_number_scheduled == 2 and s,
            what="desired 2",
        )
        assert st.number_misscheduled == 0
        # a NoExecute taint evicts the daemon pod that does not tolerate it
        sc.kubectl("taint", "nodes", sc.nodes[2], "evict=now:NoExecute")
        try:
            eventually(
                lambda: set(_by_node(_pods(cs, ns, "plain"))) == {sc.nodes[1]},
                timeout=TIMEOUT,
                what="plain pod on the NoExecute node removed",
            )
        finally:
            sc.kubectl("taint", "nodes", sc.nodes[2], "evict=now:NoExecute-")
        eventually(
            lambda: set(_by_node(_pods(cs, ns, "plain"))) == set(sc.nodes[1:]),
            timeout=TIMEOUT,
            what="plain pod back once the taint is gone",
        )
        # a nodeSelector limits the set to labelled nodes
        sc.kubectl("label", "node", sc.nodes[1], "role=edge")
        cs.apps_v1.daemon_sets(ns).create(_ds("edge", pod_spec={"nodeSelector": {"role": "edge"}}))
        eventually(
            lambda: set(_by_node(_pods(cs, ns, "edge"))) == {sc.nodes[1]}, timeout=TIMEOUT, what="edge only"
        )
        sc.kubectl("label", "node", sc.nodes[1], "role-")
        eventually(lambda: not _by_node(_pods(cs, ns, "edge")), timeout=TIMEOUT, what="edge pod removed")
    finally:
        sc.kubectl("taint", "nodes", tainted, "dedicated=infra:NoSchedule-")


def test_node_added_and_removed(sc: SetsCluster, cs: Clientset, tmp_path: Any) -> None:
    ns = _ns(cs, "ds-nodes")
    cs.apps_v1.daemon_sets(ns).create(_ds("follow"))
    eventually(
        lambda: set(_by_node(_pods(cs, ns, "follow"))) == set(sc.nodes), timeout=TIMEOUT, what="3 pods"
    )
    extra = KubeletProcess(
        sc.kubeconfig, node_name="extra", fake=True, data_dir=tmp_path / "kubelet", startup_timeout=90
    )
    with extra:
        eventually(
            lambda: (p := _by_node(_pods(cs, ns, "follow")).get("extra")) is not None and _ready(p),
            timeout=TIMEOUT,
            what="a pod on the added node",
        )
    try:
        cs.core_v1.nodes().delete("extra")
    except NotFound:
        pass  # the kubelet removed its node on exit
    eventually(
        lambda: (
            "extra" not in {p.spec.node_name for p in _pods(cs, ns, "follow")}
            and (s := _ds_status(cs, ns, "follow")) is not None
            and s.desired_number_scheduled == 3
        ),
        timeout=TIMEOUT,
        what="the removed node's pod gone (podgc collects pods of deleted nodes)",
    )


def test_rolling_update_history_and_undo(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "ds-roll")
    cs.apps_v1.daemon_sets(ns).create(
        _ds("roll", updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}})
    )
    sc.kubectl("rollout", "status", "daemonset/roll", "-n", ns, "--timeout=120s", timeout=150)
    sc.kubectl("set", "image", "daemonset/roll", "c=agent:2", "-n", ns)

    # maxUnavailable 1: never two nodes without an available pod
    def rolled() -> bool:
        pods = _pods(cs, ns, "roll")
        live = [p for p in pods if not p.metadata.deletion_timestamp and _ready(p)]
        assert len({p.spec.node_name for p in live}) >= 2 or len(pods) < 2, "two nodes unavailable at once"
        return len(live) == 3 and all(p.spec.containers[0].image == "agent:2" for p in live)

    eventually(rolled, timeout=TIMEOUT, what="all pods on agent:2")
    sc.kubectl("rollout", "status", "daemonset/roll", "-n", ns, "--timeout=60s")
    history = sc.kubectl("rollout", "history", "daemonset/roll", "-n", ns).stdout
    rows = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert rows == ["1", "2"], history
    sc.kubectl("rollout", "undo", "daemonset/roll", "-n", ns)
    eventually(
        lambda: (
            len(live := [p for p in _pods(cs, ns, "roll") if _ready(p) and not p.metadata.deletion_timestamp])
            == 3
            and all(p.spec.containers[0].image == "agent:1" for p in live)
        ),
        timeout=TIMEOUT,
        what="rolled back to agent:1",
    )
    revs = {r.revision for r in _items(cs.apps_v1.controller_revisions(ns).list())}
    assert revs == {2, 3}


def test_surge_and_on_delete(sc: SetsCluster, cs: Clientset) -> None:
    ns = _ns(cs, "ds-surge")
    cs.apps_v1.daemon_sets(ns).create(
        _ds(
            "surge",
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        )
    )
    cs.apps_v1.daemon_sets(ns).create(_ds("manual", updateStrategy={"type": "OnDelete"}))
    eventually(
        lambda: all(
            len(_by_node(_pods(cs, ns, a))) == 3 and all(map(_ready, _pods(cs, ns, a)))
            for a in ("surge", "manual")
        ),
        timeout=TIMEOUT,
        what="both ready",
    )
    sc.kubectl("set", "image", "daemonset/surge", "daemonset/manual", "c=agent:2", "-n", ns)

    # maxSurge: the new pod starts next to the old one, never fewer than 3 ready pods
    def surged() -> bool:
        pods = _pods(cs, ns, "surge")
        assert sum(1 for p in pods if _ready(p)) >= 3 or len(pods) < 3, "availability dropped during surge"
        live = [p for p in pods if not p.metadata.deletion_timestamp]
        return len(live) == 3 and all(p.spec.containers[0].image == "agent:2" and _ready(p) for p in live)

    eventually(surged, timeout=TIMEOUT, what="surge rollout done")
    eventually(lambda: (s := _ds_status(cs, ns, "manual")) and s.observed_generation == 2, what="observed")
    assert {p.spec.containers[0].image for p in _pods(cs, ns, "manual")} == {"agent:1"}
    victim = _by_node(_pods(cs, ns, "manual"))[sc.nodes[0]]
    cs.core_v1.pods(ns).delete(victim.metadata.name)
    eventually(
        lambda: (
            (p := _by_node(_pods(cs, ns, "manual")).get(sc.nodes[0])) is not None
            and p.spec.containers[0].image == "agent:2"
        ),
        timeout=TIMEOUT,
        what="OnDelete: replaced at the new revision",
    )
    st = eventually(
        lambda: (s := _ds_status(cs, ns, "manual")) and s.updated_number_scheduled == 1 and s,
        what="1 updated",
    )
    assert st.desired_number_scheduled == 3
