"""The TTL-after-finished controller in a real controller-manager process (with the job controller and
the garbage collector, which carries out the Foreground deletion), pods run by the fake kubelet."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.batch.v1 import Job
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.ttlafterfinished import needs_cleanup, time_left

EXIT_AFTER = "kubelet.testserver.io/fake-exit-after"
HOLD = "example.com/hold"
FOREGROUND = "foregroundDeletion"


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(
        tmp_path_factory.mktemp("ttl"), "job,ttl-after-finished,garbagecollector,serviceaccount", nodes=1
    ) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


def job(name: str, ttl: int | None) -> Job:
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"annotations": {EXIT_AFTER: "0.2"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]},
        }
    }
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return Job.from_dict({"metadata": {"name": name}, "spec": spec})


def test_time_left_from_the_finished_condition() -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    finished = Job.from_dict(
        {
            "metadata": {"name": "j"},
            "spec": {"ttlSecondsAfterFinished": 30, "template": {}},
            "status": {
                "conditions": [
                    {
                        "type": "SuccessCriteriaMet",
                        "status": "True",
                        "lastTransitionTime": "2025-01-01T00:00:00Z",
                    },
                    {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                ]
            },
        }
    )
    assert needs_cleanup(finished)
    assert time_left(finished, t + dt.timedelta(seconds=10)) == (20.0, t + dt.timedelta(seconds=30))
    running = Job.from_dict(
        {"metadata": {"name": "j"}, "spec": {"ttlSecondsAfterFinished": 30, "template": {}}}
    )
    assert not needs_cleanup(running) and time_left(running, t) is None


async def gone(cs: AsyncClientset, ns: str, name: str) -> bool:
    try:
        await cs.batch_v1.jobs(ns).get(name)
    except NotFound:
        return True
    return False


async def test_finished_job_deleted_after_ttl_foreground(cs: AsyncClientset) -> None:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": "ttl-a"}))
    # the pod keeps a finalizer of the test's: a Foreground deletion must wait for it
    held = job("short", 3).to_dict()
    held["spec"]["template"]["metadata"]["finalizers"] = [HOLD]
    await cs.batch_v1.jobs("ttl-a").create(Job.from_dict(held))
    await cs.batch_v1.jobs("ttl-a").create(job("keep", None))
    await wait_until(lambda: _complete("ttl-a", "short", cs), timeout=40, what="job complete")
    done = await cs.batch_v1.jobs("ttl-a").get("short")
    finished_at = next(c.last_transition_time for c in done.status.conditions if c.type == "Complete")  # type: ignore[union-attr]

    async def foreground() -> Job | None:
        j = await cs.batch_v1.jobs("ttl-a").get("short")
        meta = j.metadata
        ok = (
            meta is not None and meta.deletion_timestamp is not None and FOREGROUND in (meta.finalizers or [])
        )
        return j if ok else None

    await wait_until(foreground, timeout=30, what="job deleted in the foreground after its TTL")
    assert finished_at is not None and (dt.datetime.now(dt.UTC) - finished_at).total_seconds() >= 3

    async def pod_deleting() -> Any:
        pods = (
            await cs.core_v1.pods("ttl-a").list(label_selector="batch.kubernetes.io/job-name=short")
        ).items
        return pods if pods and all(p.metadata and p.metadata.deletion_timestamp for p in pods) else None

    pods = await wait_until(pod_deleting, what="the garbage collector deleting the pod first")
    for p in pods:
        await cs.core_v1.pods("ttl-a").patch(
            p.metadata.name, {"metadata": {"$deleteFromPrimitiveList/finalizers": [HOLD]}}
        )
    await wait_until(lambda: gone(cs, "ttl-a", "short"), timeout=30, what="job gone after its pods")
    # a finished Job without a TTL stays
    await wait_until(lambda: _complete("ttl-a", "keep", cs), what="second job complete")
    assert not await gone(cs, "ttl-a", "keep")


async def _complete(ns: str, name: str, cs: AsyncClientset) -> bool:
    j = await cs.batch_v1.jobs(ns).get(name)
    return any(
        c.type == "Complete" and c.status == "True" for c in (j.status.conditions if j.status else None) or []
    )


async def test_ttl_set_after_finish_and_zero_ttl(cs: AsyncClientset) -> None:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": "ttl-b"}))
    await cs.batch_v1.jobs("ttl-b").create(job("later", None))
    await cs.batch_v1.jobs("ttl-b").create(job("zero", 0))
    await wait_until(lambda: gone(cs, "ttl-b", "zero"), timeout=40, what="ttl 0 job deleted")
    await wait_until(lambda: _complete("ttl-b", "later", cs), timeout=40, what="job complete")
    assert not await gone(cs, "ttl-b", "later")
    await cs.batch_v1.jobs("ttl-b").patch(
        "later", {"spec": {"ttlSecondsAfterFinished": 1}}, patch_type="merge"
    )
    await wait_until(lambda: gone(cs, "ttl-b", "later"), timeout=30, what="job deleted once a TTL was set")
