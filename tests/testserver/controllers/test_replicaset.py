"""The ReplicaSet controller in a real controller-manager process, against a real API server, pods run
by the fake kubelet (bound by the test's stand-in scheduler)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.apps.v1 import ReplicaSet
from pyclientgo.api.core.v1 import Namespace, Pod, ResourceQuota
from pyclientgo.kubernetes import AsyncClientset


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(tmp_path_factory.mktemp("rs"), "replicaset,serviceaccount", nodes=2) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


def replica_set(name: str, replicas: int, *, labels: dict[str, str] | None = None, **spec: Any) -> ReplicaSet:
    labels = labels or {"app": name}
    return ReplicaSet.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
                **spec,
            },
        }
    )


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


async def namespace(cs: AsyncClientset, name: str) -> str:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def pods_of(cs: AsyncClientset, ns: str, selector: str) -> list[Pod]:
    return [
        p
        for p in (await cs.core_v1.pods(ns).list(label_selector=selector)).items or []
        if p.metadata is not None and p.metadata.deletion_timestamp is None
    ]


async def wait_status(cs: AsyncClientset, ns: str, name: str, **want: int) -> ReplicaSet:
    async def probe() -> ReplicaSet | None:
        rs = await cs.apps_v1.replica_sets(ns).get(name)
        st = rs.status.to_dict() if rs.status is not None else {}
        ok = all(int(st.get(k) or 0) == v for k, v in want.items())
        return rs if ok else None

    return await wait_until(probe, timeout=60, what=f"{ns}/{name} status {want}")


async def events_for(cs: AsyncClientset, ns: str, name: str) -> list[Any]:
    return [
        e
        for e in (await cs.core_v1.events(ns).list()).items or []
        if e.involved_object is not None and e.involved_object.name == name
    ]


async def test_creates_pods_with_controller_refs_status_and_events(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "rs-basic")
    created = await cs.apps_v1.replica_sets(ns).create(replica_set("web", 3))
    rs = await wait_status(
        cs,
        ns,
        "web",
        replicas=3,
        fullyLabeledReplicas=3,
        readyReplicas=3,
        availableReplicas=3,
        observedGeneration=1,
    )
    pods = await pods_of(cs, ns, "app=web")
    assert len(pods) == 3
    for pod in pods:
        assert pod.metadata is not None
        assert pod.metadata.generate_name == "web-"
        assert pod.metadata.name is not None and len(pod.metadata.name) == len("web-") + 5
        refs = [r.to_dict() for r in pod.metadata.owner_references or []]
        assert refs == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": created.metadata.uid,  # type: ignore[union-attr]
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    assert rs.status is not None and not rs.status.conditions

    async def create_events() -> list[str] | None:
        msgs = sorted(e.message for e in await events_for(cs, ns, "web") if e.reason == "SuccessfulCreate")
        return msgs if len(msgs) == 3 else None

    messages = await wait_until(create_events, what="SuccessfulCreate events")
    assert messages == sorted(f"Created pod: {p.metadata.name}" for p in pods)  # type: ignore[union-attr]

    # a deleted pod is replaced
    victim = _name(pods[0])
    await cs.core_v1.pods(ns).delete(victim, grace_period_seconds=0)

    async def replaced() -> bool:
        names = {p.metadata.name for p in await pods_of(cs, ns, "app=web")}  # type: ignore[union-attr]
        return len(names) == 3 and victim not in names

    await wait_until(replaced, what="pod replaced")


async def test_expectations_no_double_creation(cs: AsyncClientset) -> None:
    """Every pod add and status write requeues the set while creations are in flight; expectations keep
    the controller from creating again before its cache has seen its own pods."""
    ns = await namespace(cs, "rs-expect")
    seen: set[str] = set()
    listed = await cs.core_v1.pods(ns).list()
    stop = asyncio.Event()

    async def watch() -> None:
        async for event in cs.core_v1.pods(ns).watch(resource_version=listed.metadata.resource_version):  # type: ignore[union-attr]
            if event.type == "ADDED":
                seen.add(str(event.object.metadata.uid))  # type: ignore[union-attr]
            if stop.is_set():
                return

    task = asyncio.create_task(watch())
    try:
        await cs.apps_v1.replica_sets(ns).create(replica_set("many", 40))
        await wait_status(cs, ns, "many", replicas=40, readyReplicas=40)
        # a further round of events (a scale to the same count and a label-free update) changes nothing
        rs = await cs.apps_v1.replica_sets(ns).get("many")
        await cs.apps_v1.replica_sets(ns).patch("many", {"metadata": {"annotations": {"touch": "1"}}})
        await wait_until(lambda: _observed(cs, ns, "many", rs), what="status after touch")
        await wait_until(lambda: _count_is(seen, 40), what="40 pods seen")
        assert len(await pods_of(cs, ns, "app=many")) == 40
        assert len(seen) == 40
    finally:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _count_is(seen: set[str], n: int) -> bool:
    return len(seen) == n


async def _observed(cs: AsyncClientset, ns: str, name: str, before: ReplicaSet) -> bool:
    now = await cs.apps_v1.replica_sets(ns).get(name)
    return bool(
        now.metadata and before.metadata and now.metadata.resource_version != before.metadata.resource_version
    )


async def test_adoption_and_deletion_order(cs: AsyncClientset) -> None:
    """Orphans that match are adopted; scale-down deletes the unscheduled, then the pending pods, and
    keeps the ready ones."""
    ns = await namespace(cs, "rs-order")
    await cs.apps_v1.replica_sets(ns).create(replica_set("web", 2))
    await wait_status(cs, ns, "web", replicas=2, readyReplicas=2)
    ready_names = {p.metadata.name for p in await pods_of(cs, ns, "app=web")}  # type: ignore[union-attr]
    container = {"containers": [{"name": "c", "image": "nginx"}]}
    # assigned to a node no kubelet runs: stays Pending
    await cs.core_v1.pods(ns).create(
        Pod.from_dict(
            {
                "metadata": {"name": "pending", "labels": {"app": "web"}},
                "spec": {**container, "nodeName": "ghost"},
            }
        )
    )
    # unschedulable for the binder: no node named like its nodeSelector... the stand-in binds everything,
    # so give it a scheduling gate (the binder and the API server leave gated pods unbound)
    await cs.core_v1.pods(ns).create(
        Pod.from_dict(
            {
                "metadata": {"name": "unscheduled", "labels": {"app": "web"}},
                "spec": {**container, "schedulingGates": [{"name": "test/hold"}]},
            }
        )
    )

    async def settled() -> bool:
        names = {p.metadata.name for p in await pods_of(cs, ns, "app=web")}  # type: ignore[union-attr]
        return names == ready_names

    await wait_until(settled, timeout=60, what="orphans adopted then deleted first")

    async def two_deletes() -> list[str] | None:
        found = sorted(e.message for e in await events_for(cs, ns, "web") if e.reason == "SuccessfulDelete")
        return found if len(found) >= 2 else None

    # events are written in the background: wait for both
    deleted = await wait_until(two_deletes, what="two SuccessfulDelete events")
    assert deleted == ["Deleted pod: pending", "Deleted pod: unscheduled"]


async def test_release_of_pod_that_stops_matching(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "rs-release")
    created = await cs.apps_v1.replica_sets(ns).create(replica_set("web", 2))
    await wait_status(cs, ns, "web", replicas=2, readyReplicas=2)
    pod = (await pods_of(cs, ns, "app=web"))[0]
    name = _name(pod)
    await cs.core_v1.pods(ns).patch(name, {"metadata": {"labels": {"app": "other"}}})

    async def released() -> Pod | None:
        p = await cs.core_v1.pods(ns).get(name)
        return p if p.metadata is not None and not p.metadata.owner_references else None

    await wait_until(released, what="pod released")

    # the status may still say 2 from before the release: wait for the replacement itself
    async def replaced() -> list[Pod] | None:
        pods = await pods_of(cs, ns, "app=web")
        return pods if len(pods) == 2 and name not in {_name(p) for p in pods} else None

    pods = await wait_until(replaced, what="a replacement for the released pod")
    await wait_status(cs, ns, "web", replicas=2, readyReplicas=2)
    for p in pods:
        assert p.metadata is not None and p.metadata.owner_references is not None
        assert p.metadata.owner_references[0].uid == created.metadata.uid  # type: ignore[union-attr]


async def test_failed_create_by_quota(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "rs-quota")
    quota = await cs.core_v1.resource_quotas(ns).create(
        ResourceQuota.from_dict({"metadata": {"name": "pods"}, "spec": {"hard": {"pods": "2"}}})
    )
    # no quota controller runs here: give the quota its status as the controller would
    await cs.core_v1.resource_quotas(ns).update_status(
        ResourceQuota.from_dict({**quota.to_dict(), "status": {"hard": {"pods": "2"}, "used": {"pods": "0"}}})
    )
    await cs.apps_v1.replica_sets(ns).create(replica_set("web", 3))

    async def failure() -> Any:
        rs = await cs.apps_v1.replica_sets(ns).get("web")
        conds = [c for c in (rs.status.conditions if rs.status else None) or [] if c.type == "ReplicaFailure"]
        return conds[0] if conds else None

    cond = await wait_until(failure, timeout=60, what="ReplicaFailure condition")
    assert cond.status == "True" and cond.reason == "FailedCreate"
    assert "exceeded quota" in cond.message

    async def failed_creates() -> list[Any] | None:
        return [e for e in await events_for(cs, ns, "web") if e.reason == "FailedCreate"] or None

    events = await wait_until(failed_creates, what="FailedCreate event")
    assert events[0].type == "Warning"
    assert events[0].message.startswith("Error creating: ") and "exceeded quota" in events[0].message
    assert len(await pods_of(cs, ns, "app=web")) == 2

    # quota raised: the controller gets the third pod and clears the condition
    fresh = await cs.core_v1.resource_quotas(ns).get("pods")
    await cs.core_v1.resource_quotas(ns).update(
        ResourceQuota.from_dict({**fresh.to_dict(), "spec": {"hard": {"pods": "5"}}})
    )
    fresh = await cs.core_v1.resource_quotas(ns).get("pods")
    await cs.core_v1.resource_quotas(ns).update_status(
        ResourceQuota.from_dict({**fresh.to_dict(), "status": {"hard": {"pods": "5"}, "used": {"pods": "2"}}})
    )
    rs = await wait_status(cs, ns, "web", replicas=3)
    assert rs.status is not None
    await wait_until(lambda: _no_failure(cs, ns), timeout=60, what="ReplicaFailure cleared")


async def _no_failure(cs: AsyncClientset, ns: str) -> bool:
    rs = await cs.apps_v1.replica_sets(ns).get("web")
    return not [c for c in (rs.status.conditions if rs.status else None) or [] if c.type == "ReplicaFailure"]


async def test_kubectl_scale(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    ns = await namespace(cs, "rs-kubectl")
    await cs.apps_v1.replica_sets(ns).create(replica_set("web", 1))
    await wait_status(cs, ns, "web", replicas=1, readyReplicas=1)
    out = wc.kubectl("-n", ns, "scale", "replicaset/web", "--replicas=4")
    assert "scaled" in out.stdout
    await wait_status(cs, ns, "web", replicas=4, readyReplicas=4, availableReplicas=4)
    wc.kubectl("-n", ns, "scale", "rs/web", "--replicas=0")
    await wait_status(cs, ns, "web", replicas=0)
    assert await pods_of(cs, ns, "app=web") == []
    got = wc.kubectl("-n", ns, "get", "rs", "web", "-o", "jsonpath={.status.replicas}").stdout
    assert got == "0"


async def test_min_ready_seconds_delays_availability(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "rs-minready")
    await cs.apps_v1.replica_sets(ns).create(replica_set("web", 2, minReadySeconds=2))
    rs = await wait_status(cs, ns, "web", replicas=2, readyReplicas=2)
    assert rs.status is not None
    # ready at once, available only minReadySeconds later (the controller requeues itself)
    await wait_status(cs, ns, "web", replicas=2, readyReplicas=2, availableReplicas=2)
