"""The Deployment controller in a real controller-manager process (with the replicaset controller),
against a real API server, pods run by the fake kubelet; user paths with the real kubectl."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.apps.v1 import Deployment, ReplicaSet
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.controller_utils import compute_hash
from testserver.controllers.deployment_util import normalize_template

HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(
        tmp_path_factory.mktemp("deploy"), "deployment,replicaset,serviceaccount", nodes=2
    ) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


def deployment(name: str, replicas: int, *, image: str = "nginx", **spec: Any) -> Deployment:
    pod_spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    pod_spec.update(spec.pop("pod_spec", {}))
    return Deployment.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
                **spec,
            },
        }
    )


async def namespace(cs: AsyncClientset, name: str) -> str:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def replica_sets(cs: AsyncClientset, ns: str) -> list[ReplicaSet]:
    return list((await cs.apps_v1.replica_sets(ns).list()).items or [])


def annots(obj: Any) -> dict[str, str]:
    return dict(obj.metadata.annotations or {})


def rs_replicas(rs: ReplicaSet) -> int:
    return int(rs.spec.replicas or 0) if rs.spec is not None else 0


def condition(d: Deployment, type_: str) -> Any:
    for c in (d.status.conditions if d.status is not None else None) or []:
        if c.type == type_:
            return c
    return None


async def events(cs: AsyncClientset, ns: str, name: str, reason: str) -> list[str]:
    return [
        str(e.message)
        for e in (await cs.core_v1.events(ns).list()).items or []
        if e.reason == reason and e.involved_object is not None and e.involved_object.name == name
    ]


def rollout_status(wc: WorkloadCluster, ns: str, name: str, *, check: bool = True) -> str:
    out = wc.kubectl(
        "-n", ns, "rollout", "status", f"deployment/{name}", "--timeout=120s", check=check, timeout=150
    )
    return out.stdout + out.stderr


async def test_kubectl_create_deployment_rolls_out(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "dep-create")
    wc.kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3")
    out = rollout_status(wc, ns, "web")
    assert 'deployment "web" successfully rolled out' in out

    d = await cs.apps_v1.deployments(ns).get("web")
    [rs] = await replica_sets(cs, ns)
    assert rs.metadata is not None and d.metadata is not None and rs.spec is not None
    pod_hash = (rs.metadata.labels or {})[HASH]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.spec.selector is not None and rs.spec.selector.match_labels == {"app": "web", HASH: pod_hash}
    assert rs.spec.template is not None and rs.spec.template.metadata is not None
    assert rs.spec.template.metadata.labels == {"app": "web", HASH: pod_hash}
    assert [r.to_dict() for r in rs.metadata.owner_references or []] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d.metadata.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert annots(rs) == {
        REVISION: "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert annots(d)[REVISION] == "1"
    st = d.status
    assert st is not None
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas) == (3, 3, 3, 3)
    assert st.observed_generation == d.metadata.generation
    available, progressing = condition(d, "Available"), condition(d, "Progressing")
    assert (available.status, available.reason, available.message) == (
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    assert (progressing.status, progressing.reason, progressing.message) == (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "web-{pod_hash}" has successfully progressed.',
    )
    scaled = await wait_until(
        lambda: events(cs, ns, "web", "ScalingReplicaSet"), what="ScalingReplicaSet event"
    )
    assert scaled == [f"Scaled up replica set web-{pod_hash} from 0 to 3"]

    # kubectl scale: the one ReplicaSet follows, annotations too
    wc.kubectl("-n", ns, "scale", "deployment/web", "--replicas=5")
    assert "successfully rolled out" in rollout_status(wc, ns, "web")
    [rs] = await replica_sets(cs, ns)
    assert rs_replicas(rs) == 5
    assert annots(rs)["deployment.kubernetes.io/desired-replicas"] == "5"
    assert annots(rs)["deployment.kubernetes.io/max-replicas"] == "7"
    assert f"Scaled up replica set web-{pod_hash} from 3 to 5" in await events(
        cs, ns, "web", "ScalingReplicaSet"
    )


async def test_set_image_history_and_undo(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "dep-undo")
    wc.kubectl("-n", ns, "create", "deployment", "web", "--image=nginx:1", "--replicas=2")
    rollout_status(wc, ns, "web")
    [first] = await replica_sets(cs, ns)
    first_name = str(first.metadata.name)  # type: ignore[union-attr]

    wc.kubectl("-n", ns, "set", "image", "deployment/web", "nginx=nginx:2")
    wc.kubectl("-n", ns, "annotate", "deployment/web", "kubernetes.io/change-cause=image nginx:2")
    assert "successfully rolled out" in rollout_status(wc, ns, "web")

    async def two_settled() -> dict[str, ReplicaSet] | None:
        rss = {str(rs.metadata.name): rs for rs in await replica_sets(cs, ns)}  # type: ignore[union-attr]
        if len(rss) == 2 and rs_replicas(rss[first_name]) == 0:
            return rss
        return None

    rss = await wait_until(two_settled, what="old ReplicaSet scaled to 0")
    [second_name] = [n for n in rss if n != first_name]
    assert annots(rss[second_name])[REVISION] == "2"
    assert annots(rss[second_name])["kubernetes.io/change-cause"] == "image nginx:2"
    assert rs_replicas(rss[second_name]) == 2

    history = wc.kubectl("-n", ns, "rollout", "history", "deployment/web").stdout
    lines = [line.split() for line in history.splitlines() if line[:1].isdigit()]
    assert [line[0] for line in lines] == ["1", "2"]
    assert "image nginx:2" in history

    out = wc.kubectl("-n", ns, "rollout", "undo", "deployment/web").stdout
    assert "rolled back" in out
    assert "successfully rolled out" in rollout_status(wc, ns, "web")

    async def undone() -> dict[str, ReplicaSet] | None:
        now = {str(rs.metadata.name): rs for rs in await replica_sets(cs, ns)}  # type: ignore[union-attr]
        if rs_replicas(now[first_name]) == 2 and rs_replicas(now[second_name]) == 0:
            return now
        return None

    now = await wait_until(undone, what="rolled back to the first ReplicaSet")
    assert annots(now[first_name])[REVISION] == "3"
    assert annots(now[first_name])["deployment.kubernetes.io/revision-history"] == "1"
    d = await cs.apps_v1.deployments(ns).get("web")
    assert annots(d)[REVISION] == "3"
    assert d.spec is not None and d.spec.template is not None and d.spec.template.spec is not None
    assert [c.image for c in d.spec.template.spec.containers or []] == ["nginx:1"]
    history = wc.kubectl("-n", ns, "rollout", "history", "deployment/web").stdout
    assert [line.split()[0] for line in history.splitlines() if line[:1].isdigit()] == ["2", "3"]


async def test_pause_and_resume(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "dep-pause")
    await cs.apps_v1.deployments(ns).create(deployment("web", 2))
    rollout_status(wc, ns, "web")
    wc.kubectl("-n", ns, "rollout", "pause", "deployment/web")
    wc.kubectl("-n", ns, "set", "image", "deployment/web", "c=nginx:2")

    async def paused() -> Deployment | None:
        d = await cs.apps_v1.deployments(ns).get("web")
        cond = condition(d, "Progressing")
        observed = (
            d.status is not None
            and d.metadata is not None
            and d.status.observed_generation == d.metadata.generation
        )
        return d if observed and cond is not None and cond.reason == "DeploymentPaused" else None

    d = await wait_until(paused, what="Progressing DeploymentPaused")
    cond = condition(d, "Progressing")
    assert (cond.status, cond.message) == ("Unknown", "Deployment is paused")
    assert len(await replica_sets(cs, ns)) == 1  # no rollout while paused

    wc.kubectl("-n", ns, "rollout", "resume", "deployment/web")
    assert "successfully rolled out" in rollout_status(wc, ns, "web")
    rss = await replica_sets(cs, ns)
    assert sorted(rs_replicas(rs) for rs in rss) == [0, 2]
    d = await cs.apps_v1.deployments(ns).get("web")
    assert condition(d, "Progressing").reason == "NewReplicaSetAvailable"


async def test_recreate_stops_old_pods_first(cs: AsyncClientset, wc: WorkloadCluster) -> None:
    ns = await namespace(cs, "dep-recreate")
    await cs.apps_v1.deployments(ns).create(deployment("web", 2, strategy={"type": "Recreate"}))
    rollout_status(wc, ns, "web")
    [old] = await replica_sets(cs, ns)
    old_hash = (old.metadata.labels or {})[HASH]  # type: ignore[union-attr]
    listed = await cs.core_v1.pods(ns).list()
    live: dict[str, str] = {
        str(p.metadata.name): (p.metadata.labels or {}).get(HASH, "")  # type: ignore[union-attr]
        for p in listed.items or []
    }
    overlaps: list[str] = []
    new_pods: set[str] = set()

    async def watch() -> None:
        rv = listed.metadata.resource_version if listed.metadata else None
        async for ev in cs.core_v1.pods(ns).watch(resource_version=rv):
            meta: Any = ev.object.metadata
            name, pod_hash = str(meta.name), (meta.labels or {}).get(HASH, "")
            if ev.type == "DELETED":
                live.pop(name, None)
            elif ev.type == "ADDED":
                if pod_hash != old_hash and any(h == old_hash for h in live.values()):
                    overlaps.append(name)
                live[name] = pod_hash
                if pod_hash != old_hash:
                    new_pods.add(name)

    task = asyncio.create_task(watch())
    try:
        wc.kubectl("-n", ns, "set", "image", "deployment/web", "c=nginx:2")
        assert "successfully rolled out" in rollout_status(wc, ns, "web")
        await wait_until(lambda: _at_least(new_pods, 2), what="new pods seen by the watch")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert overlaps == [], f"new pods created while old pods existed: {overlaps}"
    messages = await events(cs, ns, "web", "ScalingReplicaSet")
    assert f"Scaled down replica set web-{old_hash} from 2 to 0" in messages


async def _at_least(items: set[str], n: int) -> bool:
    return len(items) >= n


async def test_progress_deadline_exceeded(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "dep-deadline")
    # gated pods are never bound, so never ready
    gated = deployment(
        "stuck", 2, progressDeadlineSeconds=3, pod_spec={"schedulingGates": [{"name": "test/hold"}]}
    )
    await cs.apps_v1.deployments(ns).create(gated)

    async def timed_out() -> Deployment | None:
        d = await cs.apps_v1.deployments(ns).get("stuck")
        cond = condition(d, "Progressing")
        return d if cond is not None and cond.reason == "ProgressDeadlineExceeded" else None

    d = await wait_until(timed_out, timeout=60, what="ProgressDeadlineExceeded")
    [rs] = await replica_sets(cs, ns)
    cond = condition(d, "Progressing")
    rs_name = str(rs.metadata.name) if rs.metadata else ""
    assert (cond.status, cond.message) == ("False", f'ReplicaSet "{rs_name}" has timed out progressing.')
    available = condition(d, "Available")
    assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")
    out = rollout_status(wc, ns, "stuck", check=False)
    assert 'deployment "stuck" exceeded its progress deadline' in out


async def test_proportional_scaling_mid_rollout(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    """kube's numbers: 10 replicas (surge 3, unavailable 2) stuck mid-rollout at 8 old + 5 new;
    scaled to 20, the 10 extra replicas split 6/4 by the sets' sizes (max-replicas 13 → 23)."""
    ns = await namespace(cs, "dep-proportion")
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    await cs.apps_v1.deployments(ns).create(deployment("web", 10, strategy=strategy))
    rollout_status(wc, ns, "web")
    [old] = await replica_sets(cs, ns)
    old_name = str(old.metadata.name)  # type: ignore[union-attr]
    # a new template whose pods never become ready (never bound)
    await cs.apps_v1.deployments(ns).patch(
        "web", {"spec": {"template": {"spec": {"schedulingGates": [{"name": "test/hold"}]}}}}
    )

    async def sizes(want: tuple[int, int]) -> bool:
        rss = await replica_sets(cs, ns)
        if len(rss) != 2:
            return False
        by_name = {str(rs.metadata.name): rs_replicas(rs) for rs in rss}  # type: ignore[union-attr]
        new = next(v for k, v in by_name.items() if k != old_name)
        return (by_name[old_name], new) == want

    await wait_until(lambda: sizes((8, 5)), timeout=60, what="rollout stuck at 8 old + 5 new")
    wc.kubectl("-n", ns, "scale", "deployment/web", "--replicas=20")
    await wait_until(lambda: sizes((14, 9)), timeout=60, what="proportionally scaled to 14 old + 9 new")


async def test_revision_history_limit(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "dep-history")
    await cs.apps_v1.deployments(ns).create(deployment("web", 1, revisionHistoryLimit=1))
    rollout_status(wc, ns, "web")
    for tag in ("2", "3", "4"):
        wc.kubectl("-n", ns, "set", "image", "deployment/web", f"c=nginx:{tag}")
        rollout_status(wc, ns, "web")

    async def pruned() -> list[ReplicaSet] | None:
        rss = await replica_sets(cs, ns)
        return rss if len(rss) == 2 else None

    rss = await wait_until(pruned, what="history pruned to the limit")
    assert sorted(annots(rs)[REVISION] for rs in rss) == ["3", "4"]


async def test_hash_collision_bumps_collision_count(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    """A ReplicaSet already named ``<deployment>-<hash>`` with another template: the controller
    counts the collision in ``status.collisionCount`` and names its ReplicaSet with the new hash."""
    ns = await namespace(cs, "dep-collision")
    created = await cs.apps_v1.deployments(ns).create(deployment("web", 1, paused=True))
    template = created.to_dict()["spec"]["template"]
    taken = f"web-{compute_hash(normalize_template(template), None)}"
    squatter = {
        "metadata": {"name": taken},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"other": "x"}},
            "template": {
                "metadata": {"labels": {"other": "x"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    await cs.apps_v1.replica_sets(ns).create(ReplicaSet.from_dict(squatter))
    await cs.apps_v1.deployments(ns).patch("web", {"spec": {"paused": False}})
    assert "successfully rolled out" in rollout_status(wc, ns, "web")
    d = await cs.apps_v1.deployments(ns).get("web")
    assert d.status is not None and d.status.collision_count == 1
    names = sorted(str(rs.metadata.name) for rs in await replica_sets(cs, ns))  # type: ignore[union-attr]
    expected = f"web-{compute_hash(normalize_template(template), 1)}"
    assert names == sorted([taken, expected])
