"""The ReplicationController controller (the ReplicaSet engine on v1 ReplicationControllers) in a real
controller-manager process, pods run by the fake kubelet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.core.v1 import Namespace, Pod, ReplicationController
from pyclientgo.kubernetes import AsyncClientset


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(
        tmp_path_factory.mktemp("rc"), "replicationcontroller,serviceaccount", nodes=1
    ) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


def controller(name: str, replicas: int) -> ReplicationController:
    return ReplicationController.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"app": name},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )


async def live_pods(cs: AsyncClientset, ns: str, selector: str) -> list[Pod]:
    return [
        p
        for p in (await cs.core_v1.pods(ns).list(label_selector=selector)).items or []
        if p.metadata is not None and p.metadata.deletion_timestamp is None
    ]


async def wait_status(cs: AsyncClientset, ns: str, name: str, **want: int) -> ReplicationController:
    async def probe() -> ReplicationController | None:
        rc = await cs.core_v1.replication_controllers(ns).get(name)
        st = rc.status.to_dict() if rc.status is not None else {}
        return rc if all(int(st.get(k) or 0) == v for k, v in want.items()) else None

    return await wait_until(probe, timeout=60, what=f"{ns}/{name} status {want}")


async def test_replication_controller_pods_status_and_scale(wc: WorkloadCluster, cs: AsyncClientset) -> None:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": "rc-one"}))
    created = await cs.core_v1.replication_controllers("rc-one").create(controller("web", 2))
    await wait_status(
        cs,
        "rc-one",
        "web",
        replicas=2,
        fullyLabeledReplicas=2,
        readyReplicas=2,
        availableReplicas=2,
        observedGeneration=1,
    )
    pods = await live_pods(cs, "rc-one", "app=web")
    assert len(pods) == 2
    for pod in pods:
        assert pod.metadata is not None and pod.metadata.generate_name == "web-"
        refs: list[dict[str, Any]] = [r.to_dict() for r in pod.metadata.owner_references or []]
        assert refs == [
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "name": "web",
                "uid": created.metadata.uid if created.metadata else None,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]

    async def create_events() -> list[Any] | None:
        found = [
            e
            for e in (await cs.core_v1.events("rc-one").list()).items or []
            if e.reason == "SuccessfulCreate" and e.involved_object is not None
        ]
        return found if len(found) == 2 else None

    events = await wait_until(create_events, what="two SuccessfulCreate events")
    assert {e.involved_object.kind for e in events} == {"ReplicationController"}
    assert {e.source.component for e in events if e.source is not None} == {"replication-controller"}

    out = wc.kubectl("-n", "rc-one", "scale", "rc/web", "--replicas=1")
    assert "scaled" in out.stdout
    await wait_status(cs, "rc-one", "web", replicas=1, readyReplicas=1)

    async def one_left() -> bool:
        return len(await live_pods(cs, "rc-one", "app=web")) == 1

    await wait_until(one_left, what="scaled down to one pod")
