"""The Job controller in a real controller-manager process against a real API server; pods bound by the
test's stand-in scheduler and run by the fake kubelet, whose annotations make containers exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.batch.v1 import Job
from pyclientgo.api.core.v1 import Namespace, Pod
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.job import (
    OrderedIntervals,
    backoff_remaining,
    match_pod_failure_policy,
)

EXIT_AFTER = "kubelet.testserver.io/fake-exit-after"
EXIT_CODE = "kubelet.testserver.io/fake-exit-code"
FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(
        tmp_path_factory.mktemp("job"), "job,garbagecollector,serviceaccount", nodes=2
    ) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


async def namespace(cs: AsyncClientset, name: str) -> str:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


def job(
    name: str,
    *,
    exit_after: float | None = 0.3,
    exit_code: int = 0,
    restart_policy: str = "Never",
    **spec: Any,
) -> Job:
    annotations = {}
    if exit_after is not None:
        annotations = {EXIT_AFTER: str(exit_after), EXIT_CODE: str(exit_code)}
    return Job.from_dict(
        {
            "metadata": {"name": name},
            "spec": {
                "template": {
                    "metadata": {"annotations": annotations},
                    "spec": {
                        "restartPolicy": restart_policy,
                        "containers": [{"name": "main", "image": "busybox"}],
                    },
                },
                **spec,
            },
        }
    )


def condition(j: Job, ctype: str) -> Any:
    for c in (j.status.conditions if j.status is not None else None) or []:
        if c.type == ctype and c.status == "True":
            return c
    return None


async def finished(cs: AsyncClientset, ns: str, name: str, ctype: str, timeout: float = 45.0) -> Job:
    async def probe() -> Job | None:
        j = await cs.batch_v1.jobs(ns).get(name)
        return j if condition(j, ctype) is not None else None

    return await wait_until(probe, timeout=timeout, what=f"job {ns}/{name} {ctype}")


async def job_pods(cs: AsyncClientset, ns: str, name: str) -> list[Pod]:
    return list(
        (await cs.core_v1.pods(ns).list(label_selector=f"batch.kubernetes.io/job-name={name}")).items or []
    )


async def event_reasons(cs: AsyncClientset, ns: str, name: str) -> dict[str, str]:
    events = (await cs.core_v1.events(ns).list()).items or []
    return {
        str(e.reason): str(e.message)
        for e in events
        if e.involved_object is not None
        and e.involved_object.name == name
        and e.involved_object.kind == "Job"
    }


# -- unit tests of the helpers -------------------------------------------------------------------------


def test_ordered_intervals_round_trip() -> None:
    iv = OrderedIntervals.parse("0,2-4,9", 8)
    assert str(iv) == "0,2-4"
    assert iv.total() == 4
    assert str(iv.with_ordered_indexes([1, 5, 7])) == "0-5,7"
    assert iv.has(3) and not iv.has(1)
    assert str(OrderedIntervals.parse("x,1", 3)) == "1"
    assert str(OrderedIntervals.parse("0-1,5", 8)) == "0,1,5"
    assert OrderedIntervals.parse("0,1,2", 8).intervals == [(0, 2)]


def test_backoff_doubles_and_caps() -> None:
    import datetime as dt

    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert backoff_remaining(0, t, t) == 0
    assert backoff_remaining(1, t, t) == 10
    assert backoff_remaining(3, t, t + dt.timedelta(seconds=5)) == 35
    assert backoff_remaining(20, t, t) == 360
    assert backoff_remaining(1, t, t + dt.timedelta(seconds=11)) == 0


def test_pod_failure_policy_matching() -> None:
    pod = Pod.from_dict(
        {
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {
                "phase": "Failed",
                "containerStatuses": [
                    {
                        "name": "main",
                        "image": "x",
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {"terminated": {"exitCode": 42}},
                    }
                ],
                "conditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
        }
    )
    fail = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    assert match_pod_failure_policy(fail, pod) == (
        "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0",
        True,
        "FailJob",
    )
    ignore = {
        "rules": [
            {"action": "Count", "onExitCodes": {"operator": "In", "values": [1]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ]
    }
    assert match_pod_failure_policy(ignore, pod) == (None, False, "Ignore")
    not_in = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [42]}}]}
    assert match_pod_failure_policy(not_in, pod) == (None, True, None)


# -- live tests ----------------------------------------------------------------------------------------


async def test_completions_with_parallelism(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-complete")
    await cs.batch_v1.jobs(ns).create(job("pi", completions=3, parallelism=2))
    max_active = 0

    async def probe() -> Job | None:
        nonlocal max_active
        j = await cs.batch_v1.jobs(ns).get("pi")
        max_active = max(max_active, int((j.status.active if j.status else 0) or 0))
        return j if condition(j, "Complete") is not None else None

    done = await wait_until(probe, timeout=45, what="job complete")
    st = done.status
    assert st is not None
    assert st.succeeded == 3 and not st.failed and not st.active
    assert st.ready == 0 and st.terminating == 0
    assert st.start_time is not None and st.completion_time is not None
    assert max_active <= 2
    met = condition(done, "SuccessCriteriaMet")
    complete = condition(done, "Complete")
    assert met is not None and met.reason == "CompletionsReached"
    assert complete.reason == "CompletionsReached"
    assert complete.message == "Reached expected number of succeeded pods"
    pods = await job_pods(cs, ns, "pi")
    assert len(pods) == 3
    for p in pods:
        assert p.metadata is not None and p.status is not None
        assert p.status.phase == "Succeeded"
        assert FINALIZER not in (p.metadata.finalizers or [])  # counted, then released
        labels = p.metadata.labels or {}
        assert labels["batch.kubernetes.io/job-name"] == "pi" and labels["job-name"] == "pi"
        assert labels["batch.kubernetes.io/controller-uid"] == done.metadata.uid  # type: ignore[union-attr]
        assert p.metadata.generate_name == "pi-"
        ref = p.metadata.owner_references[0]  # type: ignore[index]
        assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == ("Job", "pi", True, True)

    async def events() -> dict[str, str] | None:
        reasons = await event_reasons(cs, ns, "pi")
        return reasons if {"SuccessfulCreate", "Completed"} <= set(reasons) else None

    reasons = await wait_until(events, what="events")
    assert reasons["Completed"] == "Job completed"
    assert reasons["SuccessfulCreate"].startswith("Created pod: pi-")


async def test_backoff_limit_exceeded(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-backoff")
    await cs.batch_v1.jobs(ns).create(job("fails", exit_code=1, backoffLimit=1))
    done = await finished(cs, ns, "fails", "Failed", timeout=60)
    st = done.status
    assert st is not None and st.failed == 2 and not st.succeeded and not st.active
    failed = condition(done, "Failed")
    assert (failed.reason, failed.message) == (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    target = condition(done, "FailureTarget")
    assert target is not None and target.reason == "BackoffLimitExceeded"
    assert st.completion_time is None
    pods = await job_pods(cs, ns, "fails")
    assert len(pods) == 2 and all(p.status and p.status.phase == "Failed" for p in pods)
    # the second pod waited for the 10 s back-off after the first failure
    created = sorted(
        p.metadata.creation_timestamp for p in pods if p.metadata and p.metadata.creation_timestamp
    )
    assert (created[1] - created[0]).total_seconds() >= 9

    async def events() -> dict[str, str] | None:
        reasons = await event_reasons(cs, ns, "fails")
        return reasons if "BackoffLimitExceeded" in reasons else None

    reasons = await wait_until(events, what="BackoffLimitExceeded event")
    assert reasons["BackoffLimitExceeded"] == "Job has reached the specified backoff limit"


async def test_active_deadline_exceeded(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-deadline")
    await cs.batch_v1.jobs(ns).create(
        job("slow", exit_after=None, parallelism=2, completions=4, activeDeadlineSeconds=3)
    )
    done = await finished(cs, ns, "slow", "Failed", timeout=45)
    failed = condition(done, "Failed")
    assert (failed.reason, failed.message) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    st = done.status
    assert st is not None and not st.active and st.terminating == 0
    assert st.failed == 2  # the two running pods were killed and counted as failed

    async def pods_gone() -> bool:
        return all(
            FINALIZER not in ((p.metadata.finalizers if p.metadata else None) or [])
            for p in await job_pods(cs, ns, "slow")
        )

    await wait_until(pods_gone, what="finalizers removed")
    reasons = await wait_until(
        lambda: _reasons_with(cs, ns, "slow", "DeadlineExceeded"), what="DeadlineExceeded event"
    )
    assert "SuccessfulDelete" in reasons


async def _reasons_with(cs: AsyncClientset, ns: str, name: str, reason: str) -> dict[str, str] | None:
    reasons = await event_reasons(cs, ns, name)
    return reasons if reason in reasons else None


async def test_pod_failure_policy_fail_job_on_exit_code(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-pfp")
    policy = {
        "rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}
        ]
    }
    await cs.batch_v1.jobs(ns).create(job("pfp", exit_code=42, backoffLimit=6, podFailurePolicy=policy))
    done = await finished(cs, ns, "pfp", "Failed", timeout=45)
    failed = condition(done, "Failed")
    pods = await job_pods(cs, ns, "pfp")
    assert len(pods) == 1  # no retry: the rule failed the Job at once
    pod_name = pods[0].metadata.name  # type: ignore[union-attr]
    assert failed.reason == "PodFailurePolicy"
    assert failed.message == (
        f"Container main for pod {ns}/{pod_name} failed with exit code 42 matching FailJob rule at index 0"
    )
    assert done.status is not None and done.status.failed == 1


async def test_pod_failure_policy_ignore_does_not_count(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-pfp-ignore")
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]}
    # every pod exits 3: ignored failures are replaced without counting against backoffLimit 0 (kube still
    # applies the pod-failure back-off to them: 10 s before the replacement)
    await cs.batch_v1.jobs(ns).create(job("ign", exit_code=3, backoffLimit=0, podFailurePolicy=policy))

    async def replaced() -> list[Pod] | None:
        pods = await job_pods(cs, ns, "ign")
        failed = [p for p in pods if p.status and p.status.phase == "Failed"]
        return pods if len(pods) >= 2 and failed else None

    await wait_until(replaced, timeout=45, what="a replacement pod")
    j = await cs.batch_v1.jobs(ns).get("ign")
    assert j.status is not None and not j.status.failed
    assert condition(j, "Failed") is None
    await cs.batch_v1.jobs(ns).delete("ign", propagation_policy="Background")


async def test_indexed_job(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-indexed")
    await cs.batch_v1.jobs(ns).create(job("ix", completions=3, parallelism=3, completionMode="Indexed"))
    done = await finished(cs, ns, "ix", "Complete")
    assert done.status is not None
    assert done.status.completed_indexes == "0-2" and done.status.succeeded == 3
    pods = sorted(await job_pods(cs, ns, "ix"), key=lambda p: int((p.metadata.annotations or {})[INDEX]))  # type: ignore[union-attr]
    assert [(p.metadata.annotations or {})[INDEX] for p in pods] == ["0", "1", "2"]  # type: ignore[union-attr]
    for i, p in enumerate(pods):
        assert p.metadata is not None and p.spec is not None
        assert (p.metadata.labels or {})[INDEX] == str(i)
        assert p.metadata.generate_name == f"ix-{i}-"
        assert p.spec.hostname == f"ix-{i}"
        env = {e.name: e for e in (p.spec.containers or [])[0].env or []}
        ref = env["JOB_COMPLETION_INDEX"].value_from.field_ref  # type: ignore[union-attr]
        assert ref.field_path == f"metadata.annotations['{INDEX}']"  # type: ignore[union-attr]


async def test_suspend_and_resume(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-suspend")
    await cs.batch_v1.jobs(ns).create(job("sus", exit_after=1.0, suspend=True, completions=1))

    async def suspended() -> Job | None:
        j = await cs.batch_v1.jobs(ns).get("sus")
        return j if condition(j, "Suspended") is not None else None

    j = await wait_until(suspended, what="Suspended condition")
    sus = condition(j, "Suspended")
    assert (sus.reason, sus.message) == ("JobSuspended", "Job suspended")
    assert j.status is not None and j.status.start_time is None
    assert await job_pods(cs, ns, "sus") == []
    await cs.batch_v1.jobs(ns).patch("sus", {"spec": {"suspend": False}}, patch_type="merge")
    done = await finished(cs, ns, "sus", "Complete")
    conds = {c.type: c for c in (done.status.conditions if done.status else None) or []}
    assert conds["Suspended"].status == "False" and conds["Suspended"].reason == "JobResumed"
    reasons = await wait_until(lambda: _reasons_with(cs, ns, "sus", "Resumed"), what="Resumed event")
    assert reasons["Suspended"] == "Job suspended" and reasons["Resumed"] == "Job resumed"


async def test_suspend_running_job_deletes_pods(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-suspend-running")
    await cs.batch_v1.jobs(ns).create(job("run", exit_after=None, parallelism=2, completions=2))

    async def running() -> bool:
        j = await cs.batch_v1.jobs(ns).get("run")
        return bool(j.status and j.status.active == 2)

    await wait_until(running, what="two active pods")
    await cs.batch_v1.jobs(ns).patch("run", {"spec": {"suspend": True}}, patch_type="merge")

    async def emptied() -> Job | None:
        j = await cs.batch_v1.jobs(ns).get("run")
        pods = await job_pods(cs, ns, "run")
        ok = condition(j, "Suspended") is not None and not (j.status and j.status.active) and not pods
        return j if ok else None

    j = await wait_until(emptied, what="suspended with its pods gone")
    assert j.status is not None and not j.status.failed  # deleted for suspension: not failures


def test_kubectl_get_and_wait(wc: WorkloadCluster) -> None:
    wc.kubectl("create", "namespace", "job-kubectl")
    manifest = job("kc", completions=2, parallelism=2).to_dict()
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "batch/v1", "kind": "Job", **manifest}, f)
    wc.kubectl("-n", "job-kubectl", "apply", "-f", f.name)
    waited = wc.kubectl(
        "-n", "job-kubectl", "wait", "--for=condition=complete", "job/kc", "--timeout=45s", timeout=60
    )
    assert "job.batch/kc condition met" in waited.stdout
    out = wc.kubectl("-n", "job-kubectl", "get", "jobs").stdout.splitlines()
    header = out[0].split()
    assert header[:4] == ["NAME", "STATUS", "COMPLETIONS", "DURATION"] or header[:3] == [
        "NAME",
        "COMPLETIONS",
        "DURATION",
    ]
    row = out[1].split()
    assert row[0] == "kc" and "2/2" in row
    describe = wc.kubectl("-n", "job-kubectl", "describe", "job", "kc").stdout
    assert "Pods Statuses:" in describe and "2 Succeeded" in describe


async def test_backoff_limit_per_index_fails_indexes(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "job-per-index")
    await cs.batch_v1.jobs(ns).create(
        job("pi", exit_code=1, completions=2, parallelism=2, completionMode="Indexed", backoffLimitPerIndex=0)
    )
    done = await finished(cs, ns, "pi", "Failed")
    failed = condition(done, "Failed")
    assert (failed.reason, failed.message) == ("FailedIndexes", "Job has failed indexes")
    assert done.status is not None and done.status.failed_indexes == "0,1" and done.status.failed == 2
    pods = await job_pods(cs, ns, "pi")
    assert len(pods) == 2  # no retries within an index
    assert all(
        (p.metadata.annotations or {}).get("batch.kubernetes.io/job-index-failure-count") == "0"
        for p in pods
        if p.metadata
    )


def test_backoff_record_resets_after_success() -> None:
    from testserver.controllers.job import BackoffRecord, new_backoff_record

    def pod(phase: str, finished: str) -> Pod:
        return Pod.from_dict(
            {
                "metadata": {"name": "p"},
                "status": {
                    "phase": phase,
                    "containerStatuses": [
                        {
                            "name": "c",
                            "image": "x",
                            "imageID": "",
                            "ready": False,
                            "restartCount": 0,
                            "state": {"terminated": {"exitCode": 1, "finishedAt": finished}},
                        }
                    ],
                },
            }
        )

    r = new_backoff_record(None, [], [pod("Failed", "2026-01-01T00:00:05Z")])
    assert r.failures_after_last_success == 1
    r = new_backoff_record(
        r, [], [pod("Failed", "2026-01-01T00:00:09Z"), pod("Failed", "2026-01-01T00:00:07Z")]
    )
    assert r.failures_after_last_success == 3 and r.last_failure_time is not None
    assert r.last_failure_time.second == 9
    r = new_backoff_record(
        r, [pod("Succeeded", "2026-01-01T00:00:20Z")], [pod("Failed", "2026-01-01T00:00:10Z")]
    )
    assert r == BackoffRecord()


async def test_deleted_job_releases_its_pods(cs: AsyncClientset) -> None:
    """A Job deleted while its pods run: the tracking finalizer must not keep the pods forever, whether the
    garbage collector deletes them (Background) or orphans them (Orphan)."""
    ns = await namespace(cs, "job-delete")
    for name in ("bg", "orph"):
        await cs.batch_v1.jobs(ns).create(job(name, exit_after=None, parallelism=2, completions=2))

    async def running(name: str) -> list[Pod] | None:
        pods = [p for p in await job_pods(cs, ns, name) if p.status and p.status.phase == "Running"]
        return pods if len(pods) == 2 else None

    for name in ("bg", "orph"):
        await wait_until(lambda n=name: running(n), timeout=45, what=f"{name} pods running")  # type: ignore[misc]
    await cs.batch_v1.jobs(ns).delete("bg", propagation_policy="Background")
    await cs.batch_v1.jobs(ns).delete("orph", propagation_policy="Orphan")

    async def bg_released() -> bool:
        # deleted by the garbage collector and not held by the tracking finalizer (the final removal of
        # the object is the kubelet's)
        return all(
            p.metadata is not None
            and p.metadata.deletion_timestamp is not None
            and FINALIZER not in (p.metadata.finalizers or [])
            for p in await job_pods(cs, ns, "bg")
        )

    await wait_until(bg_released, timeout=45, what="the deleted Job's pods deleted without the finalizer")

    async def orphans_released() -> list[Pod] | None:
        pods = await job_pods(cs, ns, "orph")
        ok = len(pods) == 2 and all(
            p.metadata is not None
            and not p.metadata.owner_references
            and FINALIZER not in (p.metadata.finalizers or [])
            for p in pods
        )
        return pods if ok else None

    pods = await wait_until(orphans_released, timeout=45, what="orphaned pods without the tracking finalizer")
    assert all(p.status is not None and p.status.phase == "Running" for p in pods)  # orphaned, not killed
