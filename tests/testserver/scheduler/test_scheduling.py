"""``testserver scheduler`` against a real API server: binding, what users see, each filter plugin,
the queue's moves, a second profile and scheduling gates."""

from __future__ import annotations

from typing import Any

from scheduler_process import SchedCluster, eventually

from pyclientgo.api.core.v1 import Pod

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"


def test_binds_with_the_binding_subresource_and_records_scheduled(sched: SchedCluster) -> None:
    sched.create_node("n1")
    sched.create_pod("web")
    assert sched.wait_bound("web") == "n1"
    event = sched.wait_event("web", "Scheduled")
    assert event["note"] == "Successfully assigned default/web to n1"
    assert event["type"] == "Normal"
    assert event["action"] == "Binding"
    assert event["reportingController"] == "default-scheduler"
    assert event["regarding"]["kind"] == "Pod"
    # The binding subresource (not an update of spec.nodeName) sets PodScheduled=True.
    condition = sched.scheduled_condition("web")
    assert condition is not None and condition["status"] == "True"
    m = sched.metrics()
    assert m['scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"}'] >= 1


def test_failed_scheduling_message_condition_and_event(sched: SchedCluster) -> None:
    sched.create_node("gpu", cpu="8", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    sched.create_node("small-1", cpu="1")
    sched.create_node("small-2", cpu="1")
    sched.create_pod("big", cpu="2")
    message = sched.wait_unschedulable("big")
    assert message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. "
        f"preemption: 0/3 nodes are available: 1 {NOT_HELPFUL}, 2 {NO_VICTIMS}."
    )
    event = sched.wait_event("big", "FailedScheduling")
    assert event["type"] == "Warning"
    assert event["action"] == "Scheduling"
    assert event["note"] == message
    m = sched.metrics()
    assert m['scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"}'] >= 1
    assert m['scheduler_pending_pods{queue="unschedulable"}'] == 1


def test_no_nodes(sched: SchedCluster) -> None:
    sched.create_pod("alone")
    assert sched.wait_unschedulable("alone") == "no nodes available to schedule pods"


def test_node_selector(sched: SchedCluster) -> None:
    sched.create_node("ssd", labels={"disk": "ssd"})
    sched.create_node("hdd", labels={"disk": "hdd"})
    sched.create_pod("wants-ssd", nodeSelector={"disk": "ssd"})
    assert sched.wait_bound("wants-ssd") == "ssd"
    sched.create_pod("wants-nvme", nodeSelector={"disk": "nvme"})
    assert sched.wait_unschedulable("wants-nvme") == (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
        f"preemption: 0/2 nodes are available: 2 {NOT_HELPFUL}."
    )


def test_required_node_affinity_and_match_fields(sched: SchedCluster) -> None:
    for name, zone in (("a", "z1"), ("b", "z2"), ("c", "z3")):
        sched.create_node(name, labels={"topology.kubernetes.io/zone": zone})
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "topology.kubernetes.io/zone",
                                "operator": "NotIn",
                                "values": ["z1", "z2"],
                            }
                        ]
                    }
                ]
            }
        }
    }
    sched.create_pod("not-z1-z2", affinity=affinity)
    assert sched.wait_bound("not-z1-z2") == "c"
    by_name = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}
                ]
            }
        }
    }
    sched.create_pod("on-b", affinity=by_name)
    assert sched.wait_bound("on-b") == "b"
    missing = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["nowhere"]}]}
                ]
            }
        }
    }
    sched.create_pod("on-nowhere", affinity=missing)
    # The PreFilter narrowed the nodes to {nowhere}: kube reports the nodes left out as absent.
    assert sched.wait_unschedulable("on-nowhere") == (
        "0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        f"preemption: 0/3 nodes are available: 3 {NOT_HELPFUL}."
    )


def test_preferred_node_affinity_picks_the_heavier_term(sched: SchedCluster) -> None:
    sched.create_node("plain")
    sched.create_node("fast", labels={"speed": "fast"})
    sched.create_node("medium", labels={"speed": "medium"})
    affinity = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 10,
                    "preference": {
                        "matchExpressions": [{"key": "speed", "operator": "In", "values": ["medium"]}]
                    },
                },
                {
                    "weight": 90,
                    "preference": {
                        "matchExpressions": [{"key": "speed", "operator": "In", "values": ["fast"]}]
                    },
                },
            ]
        }
    }
    for i in range(3):
        sched.create_pod(f"prefers-fast-{i}", affinity=affinity)
    assert {sched.wait_bound(f"prefers-fast-{i}") for i in range(3)} == {"fast"}


def test_taints_and_tolerations(sched: SchedCluster) -> None:
    sched.create_node("tainted", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    sched.create_pod("intolerant")
    assert sched.wait_unschedulable("intolerant") == (
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. "
        f"preemption: 0/1 nodes are available: 1 {NOT_HELPFUL}."
    )
    sched.create_pod(
        "tolerant",
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
    )
    assert sched.wait_bound("tolerant") == "tainted"
    sched.create_pod("tolerates-all", tolerations=[{"operator": "Exists"}])
    assert sched.wait_bound("tolerates-all") == "tainted"


def test_prefer_no_schedule_taint_is_avoided(sched: SchedCluster) -> None:
    sched.create_node("soft", taints=[{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}])
    sched.create_node("clean")
    for i in range(3):
        sched.create_pod(f"p{i}")
    assert {sched.wait_bound(f"p{i}") for i in range(3)} == {"clean"}


def test_node_unschedulable(sched: SchedCluster) -> None:
    sched.create_node("cordoned", unschedulable=True)
    sched.create_pod("plain")
    assert sched.wait_unschedulable("plain") == (
        "0/1 nodes are available: 1 node(s) were unschedulable. "
        f"preemption: 0/1 nodes are available: 1 {NOT_HELPFUL}."
    )
    sched.create_pod(
        "tolerates-cordon",
        tolerations=[
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
        ],
    )
    assert sched.wait_bound("tolerates-cordon") == "cordoned"


def test_node_name_pods_are_not_scheduled_but_counted(sched: SchedCluster) -> None:
    sched.create_node("only", cpu="1")
    # A pod that names its node is not the scheduler's to place, but it uses the node's CPU.
    sched.create_pod("pinned", cpu="800m", nodeName="only")
    eventually(
        lambda: sched.metrics().get('scheduler_cache_size{type="pods"}') == 1.0, what="pinned pod cached"
    )
    sched.create_pod("wants-cpu", cpu="500m")
    assert sched.wait_unschedulable("wants-cpu") == (
        f"0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 {NO_VICTIMS}."
    )
    assert not sched.events("pinned", "Scheduled")


def test_resources_fit_and_least_allocated(sched: SchedCluster) -> None:
    sched.create_node("n-small", cpu="2", memory="4Gi")
    sched.create_node("n-big", cpu="16", memory="64Gi")
    # LeastAllocated: the emptier (bigger) node scores higher.
    sched.create_pod("first", cpu="1", memory="1Gi")
    assert sched.wait_bound("first") == "n-big"
    sched.create_pod("too-much-memory", memory="100Gi")
    assert sched.wait_unschedulable("too-much-memory") == (
        f"0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 {NO_VICTIMS}."
    )


def test_too_many_pods(sched: SchedCluster) -> None:
    sched.create_node("tiny", pods="1")
    sched.create_pod("one")
    assert sched.wait_bound("one") == "tiny"
    sched.create_pod("two")
    assert sched.wait_unschedulable("two") == (
        f"0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 {NO_VICTIMS}."
    )


def test_extended_resources(sched: SchedCluster) -> None:
    sched.create_node("plain")
    sched.create_node("with-gpu", extended={"example.com/gpu": "2"})
    pod: dict[str, Any] = {"limits": {"example.com/gpu": "1"}, "requests": {"example.com/gpu": "1"}}
    body = Pod.from_dict(
        {
            "metadata": {"name": "gpu-user"},
            "spec": {"containers": [{"name": "c", "image": "cuda", "resources": pod}]},
        }
    )
    sched.cs.core_v1.pods("default").create(body)
    assert sched.wait_bound("gpu-user") == "with-gpu"


def test_node_ports(sched: SchedCluster) -> None:
    sched.create_node("only")
    ports = [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8080}]}]
    sched.create_pod("port-a", containers=ports)
    assert sched.wait_bound("port-a") == "only"
    sched.create_pod("port-b", containers=ports)
    assert sched.wait_unschedulable("port-b") == (
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
        f"preemption: 0/1 nodes are available: 1 {NO_VICTIMS}."
    )
    other = [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8081}]}]
    sched.create_pod("port-c", containers=other)
    assert sched.wait_bound("port-c") == "only"
    # Deleting the pod that holds the port moves port-b back (NodePorts registers assigned-pod deletes).
    sched.cs.core_v1.pods("default").delete("port-a", grace_period_seconds=0)
    assert sched.wait_bound("port-b") == "only"


def test_unschedulable_pod_moves_when_a_node_is_added(sched: SchedCluster) -> None:
    sched.create_node("full", cpu="1")
    sched.create_pod("waits", cpu="2")
    sched.wait_unschedulable("waits")
    assert sched.metrics()['scheduler_pending_pods{queue="unschedulable"}'] == 1
    sched.create_node("roomy", cpu="4")
    assert sched.wait_bound("waits") == "roomy"


def test_unschedulable_pod_moves_when_a_taint_is_removed(sched: SchedCluster) -> None:
    sched.create_node("t", taints=[{"key": "maintenance", "value": "yes", "effect": "NoSchedule"}])
    sched.create_pod("blocked")
    sched.wait_unschedulable("blocked")
    sched.cs.core_v1.nodes().patch("t", {"spec": {"taints": []}}, patch_type="merge")
    assert sched.wait_bound("blocked") == "t"


def test_second_profile_by_scheduler_name(sched: SchedCluster) -> None:
    sched.create_node("empty", cpu="8", memory="16Gi")
    sched.create_node("busy", cpu="8", memory="16Gi")
    sched.create_pod("filler", cpu="4", memory="8Gi", nodeName="busy")
    eventually(lambda: sched.metrics().get('scheduler_cache_size{type="pods"}') == 1.0, what="filler cached")
    # MostAllocated packs onto the busier node; the default profile (LeastAllocated) spreads.
    sched.create_pod("packed", cpu="1", memory="1Gi", scheduler_name="bin-packing-scheduler")
    assert sched.wait_bound("packed") == "busy"
    event = sched.wait_event("packed", "Scheduled")
    assert event["reportingController"] == "bin-packing-scheduler"
    sched.create_pod("spread", cpu="1", memory="1Gi")
    assert sched.wait_bound("spread") == "empty"
    # A pod for a scheduler nobody runs stays pending, untouched.
    sched.create_pod("orphan", scheduler_name="no-such-scheduler")
    sched.create_pod("canary")
    sched.wait_bound("canary")
    assert not sched.pod("orphan")["spec"].get("nodeName")
    assert sched.scheduled_condition("orphan") is None


def test_scheduling_gates(sched: SchedCluster) -> None:
    unschedulable = 'scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"}'
    before = sched.metrics().get(unschedulable, 0)
    sched.create_node("n")
    sched.create_pod("gated", schedulingGates=[{"name": "example.com/quota"}, {"name": "example.com/ready"}])
    eventually(lambda: sched.metrics().get('scheduler_pending_pods{queue="gated"}') == 1.0, what="pod gated")
    sched.create_pod("canary")
    sched.wait_bound("canary")
    # A gated pod never enters a scheduling cycle: no attempt, no FailedScheduling, no condition by us.
    assert not sched.pod("gated")["spec"].get("nodeName")
    assert not sched.events("gated", "FailedScheduling")
    condition = sched.scheduled_condition("gated")
    assert condition is None or condition.get("reason") == "SchedulingGated"
    assert sched.metrics().get(unschedulable, 0) == before
    # Deleting it leaves the gated pods.
    sched.cs.core_v1.pods("default").delete("gated", grace_period_seconds=0)
    eventually(lambda: sched.metrics().get('scheduler_pending_pods{queue="gated"}') == 0.0, what="gate gone")


def _spread(when: str, max_skew: int = 1, key: str = ZONE, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": max_skew,
            "topologyKey": key,
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "spread"}},
            **extra,
        }
    ]


def _zoned_nodes(sched: SchedCluster) -> None:
    sched.create_node("a1", labels={ZONE: "za"})
    sched.create_node("a2", labels={ZONE: "za"})
    sched.create_node("b1", labels={ZONE: "zb"})


def _seed(sched: SchedCluster, name: str, node: str) -> None:
    sched.create_pod(name, labels={"app": "spread"}, nodeName=node)


def _cached_pods(sched: SchedCluster, n: int) -> None:
    eventually(
        lambda: sched.metrics().get('scheduler_cache_size{type="pods"}') == float(n), what=f"{n} pods cached"
    )


def test_topology_spread_do_not_schedule(sched: SchedCluster) -> None:
    _zoned_nodes(sched)
    _seed(sched, "seed", "a1")
    _cached_pods(sched, 1)
    # za has 1 matching pod, zb none: za would reach skew 2 > 1.
    sched.create_pod("s1", labels={"app": "spread"}, topologySpreadConstraints=_spread("DoNotSchedule"))
    assert sched.wait_bound("s1") == "b1"
    # 1 and 1: either zone.
    sched.create_pod("s2", labels={"app": "spread"}, topologySpreadConstraints=_spread("DoNotSchedule"))
    assert sched.wait_bound("s2") in {"a1", "a2", "b1"}


def test_topology_spread_unsatisfiable_message(sched: SchedCluster) -> None:
    _zoned_nodes(sched)
    sched.cs.core_v1.nodes().patch("b1", {"spec": {"unschedulable": True}}, patch_type="merge")
    _seed(sched, "seed", "a1")
    _cached_pods(sched, 1)
    sched.create_pod("s1", labels={"app": "spread"}, topologySpreadConstraints=_spread("DoNotSchedule"))
    assert sched.wait_unschedulable("s1") == (
        "0/3 nodes are available: 1 node(s) were unschedulable, "
        "2 node(s) didn't match pod topology spread constraints. "
        f"preemption: 0/3 nodes are available: 1 {NOT_HELPFUL}, 2 {NO_VICTIMS}."
    )


def test_topology_spread_missing_label_and_min_domains(sched: SchedCluster) -> None:
    sched.create_node("zoned", labels={ZONE: "za"})
    sched.create_node("unzoned")
    # minDomains 2 with one domain: the global minimum counts as 0, so one pod fits, a second not.
    constraint = _spread("DoNotSchedule", minDomains=2)
    sched.create_pod("m1", labels={"app": "spread"}, topologySpreadConstraints=constraint)
    assert sched.wait_bound("m1") == "zoned"
    sched.create_pod("m2", labels={"app": "spread"}, topologySpreadConstraints=constraint)
    assert sched.wait_unschedulable("m2") == (
        "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, "
        "1 node(s) didn't match pod topology spread constraints (missing required label). "
        f"preemption: 0/2 nodes are available: 1 {NO_VICTIMS}, 1 {NOT_HELPFUL}."
    )


def test_topology_spread_schedule_anyway_prefers_the_emptier_zone(sched: SchedCluster) -> None:
    _zoned_nodes(sched)
    _seed(sched, "seed-1", "a1")
    _seed(sched, "seed-2", "a1")
    _cached_pods(sched, 2)
    for i in range(2):
        sched.create_pod(
            f"soft-{i}", labels={"app": "spread"}, topologySpreadConstraints=_spread("ScheduleAnyway")
        )
        # za has 2 (then still 2 with the soft pods going to zb first): zb scores higher.
        assert sched.wait_bound(f"soft-{i}") == "b1"


def _term(labels: dict[str, str], key: str, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": key, **extra}


def test_required_pod_affinity_follows_the_zone(sched: SchedCluster) -> None:
    _zoned_nodes(sched)
    sched.create_pod("db", labels={"app": "db"}, nodeName="a1")
    _cached_pods(sched, 1)
    affinity = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "db"}, ZONE)]}
    }
    for i in range(3):
        sched.create_pod(f"near-db-{i}", affinity=affinity)
        assert sched.wait_bound(f"near-db-{i}") in {"a1", "a2"}
    # Affinity to pods that do not exist (and the pod does not match its own term).
    lonely = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "cache"}, ZONE)]}
    }
    sched.create_pod("lonely", affinity=lonely)
    assert sched.wait_unschedulable("lonely") == (
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. "
        f"preemption: 0/3 nodes are available: 3 {NOT_HELPFUL}."
    )
    # The first pod of a group with affinity to its own labels is let in.
    group = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "group"}, ZONE)]}
    }
    sched.create_pod("first", labels={"app": "group"}, affinity=group)
    sched.wait_bound("first")


def test_required_pod_anti_affinity_one_per_node(sched: SchedCluster) -> None:
    _zoned_nodes(sched)
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "web"}, HOSTNAME)]
        }
    }
    for i in range(3):
        sched.create_pod(f"web-{i}", labels={"app": "web"}, affinity=anti)
    assert {sched.wait_bound(f"web-{i}") for i in range(3)} == {"a1", "a2", "b1"}
    sched.create_pod("web-3", labels={"app": "web"}, affinity=anti)
    assert sched.wait_unschedulable("web-3") == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
        f"preemption: 0/3 nodes are available: 3 {NO_VICTIMS}."
    )
    # Existing pods' anti-affinity keeps a pod without any rule of its own away.
    sched.create_pod("intruder", labels={"app": "web"}, nodeSelector={HOSTNAME: "a1"})
    assert sched.wait_unschedulable("intruder") == (
        "0/3 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules, "
        "2 node(s) didn't match Pod's node affinity/selector. "
        f"preemption: 0/3 nodes are available: 1 {NO_VICTIMS}, 2 {NOT_HELPFUL}."
    )
    # Deleting one of them moves the waiting pods (InterPodAffinity registers pod deletes).
    sched.cs.core_v1.pods("default").delete("web-0", grace_period_seconds=0)
    freed = sched.wait_bound("web-3")
    assert freed in {"a1", "a2", "b1"}


def test_preferred_pod_anti_affinity_spreads(sched: SchedCluster) -> None:
    sched.create_node("p1")
    sched.create_node("p2")
    soft = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": _term({"app": "soft"}, HOSTNAME)}
            ]
        }
    }
    sched.create_pod("soft-0", labels={"app": "soft"}, affinity=soft)
    first = sched.wait_bound("soft-0")
    sched.create_pod("soft-1", labels={"app": "soft"}, affinity=soft)
    assert sched.wait_bound("soft-1") != first


def test_pod_affinity_namespace_selector(sched: SchedCluster) -> None:
    from pyclientgo.api.core.v1 import Namespace

    sched.cs.core_v1.namespaces().create(
        Namespace.from_dict({"metadata": {"name": "team-a", "labels": {"team": "a"}}})
    )
    sched.ensure_namespace("team-a")
    _zoned_nodes(sched)
    sched.create_pod("svc", namespace="team-a", labels={"app": "svc"}, nodeName="b1")
    _cached_pods(sched, 1)
    # A term without namespaces only looks in the pod's own namespace: nothing matches there.
    own_ns = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term({"app": "svc"}, ZONE)]}
    }
    sched.create_pod("same-ns-only", affinity=own_ns)
    sched.wait_unschedulable("same-ns-only")
    selected = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                _term({"app": "svc"}, ZONE, namespaceSelector={"matchLabels": {"team": "a"}})
            ]
        }
    }
    sched.create_pod("by-selector", affinity=selected)
    assert sched.wait_bound("by-selector") == "b1"


def test_image_locality_prefers_the_node_with_the_image(sched: SchedCluster) -> None:
    big = [{"names": ["registry.example/app/big:1.0"], "sizeBytes": 800 * 1024 * 1024}]
    sched.create_node("plain-1")
    sched.create_node("has-image", images=big)
    sched.create_node("plain-2")
    for i in range(3):
        sched.create_pod(f"img-{i}", containers=[{"name": "c", "image": "registry.example/app/big:1.0"}])
    assert {sched.wait_bound(f"img-{i}") for i in range(3)} == {"has-image"}


def test_balanced_allocation_outweighs_packing(sched: SchedCluster) -> None:
    # MostAllocated alone prefers cpu-heavy (31 vs 25); the balance of cpu and memory (81 vs 100)
    # tips the total to the node where both would be a quarter used.
    sched.create_node("cpu-tight", cpu="2", memory="8Gi")
    sched.create_node("balanced", cpu="4", memory="4Gi")
    sched.create_pod("bal", cpu="1", memory="1Gi", scheduler_name="bin-packing-scheduler")
    assert sched.wait_bound("bal") == "balanced"
