"""The CronJob controller: schedule math as unit tests, and live tests in a real controller-manager
process (with the job controller) against a real API server, pods run by the fake kubelet.

A schedule that fires every minute is slow to wait for, so most live tests put ``status.lastScheduleTime``
a few minutes back (through the status subresource, as any client may): the controller then sees
missed schedule times and starts the most recent one at once, exactly as kube's ``mostRecentScheduleTime``
does. One test waits for a real minute boundary (Forbid and Replace), at most ~60 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from workloads_fixture import WorkloadCluster, workload_cluster

from pyclientgo.api.batch.v1 import CronJob, Job
from pyclientgo.api.core.v1 import Namespace
from pyclientgo.apimachinery.model import format_time
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.cronjob import (
    MissedSchedules,
    ScheduleError,
    job_name_for,
    most_recent_schedule_time,
    next_schedule_time_duration,
    parse_schedule,
)

EXIT_AFTER = "kubelet.testserver.io/fake-exit-after"
EXIT_CODE = "kubelet.testserver.io/fake-exit-code"
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"
UTC = dt.UTC


def T(h: int, m: int, s: int = 0, day: int = 8) -> dt.datetime:
    return dt.datetime(2026, 12, day, h, m, s, tzinfo=UTC)


def cronjob_model(
    schedule: str, created: dt.datetime, last: dt.datetime | None = None, **spec: Any
) -> CronJob:
    body: dict[str, Any] = {
        "metadata": {"name": "cj", "creationTimestamp": format_time(created)},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {}}}, **spec},
    }
    if last is not None:
        body["status"] = {"lastScheduleTime": format_time(last)}
    return CronJob.from_dict(body)


# -- unit tests: schedules --------------------------------------------------------------------------------


def test_parse_schedule_forms() -> None:
    assert parse_schedule("*/5 * * * *").next(T(10, 2, 30)) == T(10, 5)
    assert parse_schedule("@hourly").next(T(10, 2)) == T(11, 0)
    assert parse_schedule("@daily").next(T(10, 2)) == T(0, 0, day=9)
    assert parse_schedule("@every 90s").next(T(10, 0, 0)) == T(10, 1, 30)
    berlin = parse_schedule("0 9 * * *", "Europe/Berlin")
    assert berlin.next(T(7, 0)) == T(8, 0)  # 09:00 CET is 08:00 UTC in December
    assert parse_schedule("TZ=America/New_York 0 9 * * *").next(T(7, 0)) == T(14, 0)
    for bad in ("* * * * * *", "61 * * * *", "@fortnightly", "", "* * *"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)
    with pytest.raises(ScheduleError):
        parse_schedule("* * * * *", "Mars/Olympus")


def test_most_recent_schedule_time() -> None:
    sched = parse_schedule("* * * * *")
    cj = cronjob_model("* * * * *", T(10, 0, 30))
    assert most_recent_schedule_time(cj, T(10, 0, 50), sched, True) == (
        T(10, 0, 30),
        None,
        MissedSchedules.NONE,
    )
    assert most_recent_schedule_time(cj, T(10, 1, 10), sched, True) == (
        T(10, 0, 30),
        T(10, 1),
        MissedSchedules.NONE,
    )
    assert most_recent_schedule_time(cj, T(10, 5, 10), sched, True)[1:] == (T(10, 5), MissedSchedules.FEW)
    # lastScheduleTime wins over the creation time
    cj = cronjob_model("* * * * *", T(9, 0), last=T(10, 3))
    assert most_recent_schedule_time(cj, T(10, 3, 40), sched, True)[1] is None
    # more than 100 missed
    assert most_recent_schedule_time(cj, T(13, 0, 5), sched, True)[1:] == (T(13, 0), MissedSchedules.MANY)
    # startingDeadlineSeconds moves the earliest time considered
    late = cronjob_model("* * * * *", T(9, 0), last=T(10, 0), startingDeadlineSeconds=90)
    earliest, recent, missed = most_recent_schedule_time(late, T(13, 0, 5), sched, True)
    assert earliest == T(12, 58, 35) and recent == T(13, 0) and missed == MissedSchedules.FEW
    # irregular schedule: the most recent time is found by walking the schedule
    irregular = parse_schedule("30 6-16/4 * * 1-5")
    cj = cronjob_model("30 6-16/4 * * 1-5", T(0, 0, day=7))  # Monday 2026-12-07
    assert most_recent_schedule_time(cj, T(15, 0, day=8), irregular, True)[1] == T(14, 30, day=8)


def test_never_firing_schedule_is_invalid() -> None:
    sched = parse_schedule("59 23 31 2 *")
    with pytest.raises(ScheduleError):
        most_recent_schedule_time(cronjob_model("59 23 31 2 *", T(10, 0)), T(10, 5), sched, True)


def test_next_schedule_time_duration_and_names() -> None:
    sched = parse_schedule("*/10 * * * *")
    cj = cronjob_model("*/10 * * * *", T(10, 0, 30), last=T(10, 0))
    assert next_schedule_time_duration(cj, T(10, 4), sched) == pytest.approx(6 * 60 + 0.1)
    # several times missed: aim at the next time after now
    assert next_schedule_time_duration(cj, T(10, 35), sched) == pytest.approx(5 * 60 + 0.1)
    assert job_name_for("hello", T(10, 5)) == f"hello-{int(T(10, 5).timestamp()) // 60}"


# -- live tests ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkloadCluster]:
    with workload_cluster(tmp_path_factory.mktemp("cronjob"), "job,cronjob,serviceaccount", nodes=2) as c:
        yield c


@pytest.fixture
async def cs(wc: WorkloadCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(wc.config()) as client:
        yield client


def job_template(exit_after: float | None = 0.2, exit_code: int = 0) -> dict[str, Any]:
    annotations = {} if exit_after is None else {EXIT_AFTER: str(exit_after), EXIT_CODE: str(exit_code)}
    return {
        "metadata": {"labels": {"from": "cron"}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]},
            },
        },
    }


def cronjob(name: str, schedule: str = "* * * * *", **spec: Any) -> CronJob:
    tpl = spec.pop("jobTemplate", None) or job_template()
    return CronJob.from_dict(
        {"metadata": {"name": name}, "spec": {"schedule": schedule, "jobTemplate": tpl, **spec}}
    )


async def namespace(cs: AsyncClientset, name: str) -> str:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def start_now(
    cs: AsyncClientset, ns: str, name: str, back: dt.timedelta = dt.timedelta(minutes=3)
) -> None:
    """Put lastScheduleTime ``back`` in the past (whole minutes) and unsuspend: the most recent missed
    schedule time is started at once."""
    now = dt.datetime.now(UTC)
    cj = await cs.batch_v1.cron_jobs(ns).get(name)
    body = cj.to_dict()
    body["status"] = {"lastScheduleTime": format_time((now - back).replace(second=0, microsecond=0))}
    await cs.batch_v1.cron_jobs(ns).update_status(CronJob.from_dict(body))
    await cs.batch_v1.cron_jobs(ns).patch(name, {"spec": {"suspend": False}}, patch_type="merge")


async def events_of(cs: AsyncClientset, ns: str, name: str) -> list[tuple[str, str]]:
    items = (await cs.core_v1.events(ns).list()).items or []
    return [
        (str(e.reason), str(e.message))
        for e in items
        if e.involved_object is not None
        and e.involved_object.kind == "CronJob"
        and e.involved_object.name == name
    ]


async def jobs_of(cs: AsyncClientset, ns: str) -> list[Job]:
    return list((await cs.batch_v1.jobs(ns).list()).items or [])


async def test_missed_schedule_starts_a_job_and_tracks_it(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "cron-run")
    # hourly: the run of this hour's :00 is missed (lastScheduleTime two hours back), none is due during the test
    await cs.batch_v1.cron_jobs(ns).create(cronjob("hello", "@hourly", suspend=True))
    await start_now(cs, ns, "hello", dt.timedelta(hours=2))
    hour = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    async def created() -> list[Job] | None:
        jobs = await jobs_of(cs, ns)
        return jobs or None

    jobs = await wait_until(created, what="a job from the cronjob")
    assert len(jobs) == 1
    j = jobs[0]
    assert j.metadata is not None
    assert j.metadata.name == job_name_for("hello", hour)
    scheduled = dt.datetime.fromisoformat((j.metadata.annotations or {})[SCHEDULED].replace("Z", "+00:00"))
    assert j.metadata.name == job_name_for("hello", scheduled)
    assert (j.metadata.annotations or {})[SCHEDULED].endswith("Z")
    assert (j.metadata.labels or {})["from"] == "cron"
    ref = (j.metadata.owner_references or [])[0]
    assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == ("CronJob", "hello", True, True)

    async def saw_completed() -> CronJob | None:
        cj = await cs.batch_v1.cron_jobs(ns).get("hello")
        st = cj.status
        ok = st is not None and not st.active and st.last_successful_time is not None
        return cj if ok else None

    cj = await wait_until(saw_completed, timeout=40, what="job seen completed")
    assert cj.status is not None and cj.status.last_schedule_time == scheduled
    events = await wait_until(
        lambda: _with_reason(cs, ns, "hello", "SawCompletedJob"), what="SawCompletedJob event"
    )
    assert ("SuccessfulCreate", f"Created job {j.metadata.name}") in events
    assert ("SawCompletedJob", f"Saw completed job: {j.metadata.name}, condition: Complete") in events


async def _with_reason(cs: AsyncClientset, ns: str, name: str, reason: str) -> list[tuple[str, str]] | None:
    events = await events_of(cs, ns, name)
    return events if any(r == reason for r, _ in events) else None


async def test_active_list_while_running(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "cron-active")
    await cs.batch_v1.cron_jobs(ns).create(
        cronjob("long", "@hourly", suspend=True, jobTemplate=job_template(None))
    )
    await start_now(cs, ns, "long", dt.timedelta(hours=2))

    async def active() -> CronJob | None:
        cj = await cs.batch_v1.cron_jobs(ns).get("long")
        return cj if cj.status is not None and cj.status.active else None

    cj = await wait_until(active, what="status.active")
    refs = cj.status.active  # type: ignore[union-attr]
    assert refs is not None and len(refs) == 1
    job = await cs.batch_v1.jobs(ns).get(refs[0].name)  # type: ignore[arg-type]
    assert (refs[0].kind, refs[0].api_version, refs[0].uid) == ("Job", "batch/v1", job.metadata.uid)  # type: ignore[union-attr]
    # a Job that goes missing leaves the active list
    await cs.batch_v1.jobs(ns).delete(refs[0].name, propagation_policy="Background")  # type: ignore[arg-type]

    async def cleared() -> bool:
        c = await cs.batch_v1.cron_jobs(ns).get("long")
        return c.status is not None and not c.status.active

    await wait_until(cleared, what="active list cleared")


async def test_history_limits(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "cron-history")
    cj = await cs.batch_v1.cron_jobs(ns).create(
        cronjob("hist", suspend=True, successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1)
    )
    owner = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": "hist",
        "uid": cj.metadata.uid,  # type: ignore[union-attr]
        "controller": True,
        "blockOwnerDeletion": True,
    }
    refs: list[dict[str, Any]] = []
    for i, (code, name) in enumerate([(0, "ok-a"), (0, "ok-b"), (0, "ok-c"), (1, "bad-a"), (1, "bad-b")]):
        tpl = job_template(0.2 + 0.3 * i, code)
        body = {"metadata": {"name": name, "ownerReferences": [owner]}, "spec": tpl["spec"]}
        created = await cs.batch_v1.jobs(ns).create(Job.from_dict(body))
        refs.append(
            {
                "kind": "Job",
                "apiVersion": "batch/v1",
                "namespace": ns,
                "name": name,
                "uid": created.metadata.uid if created.metadata else None,
            }
        )
        await asyncio.sleep(0.05)  # distinct start times in creation order (not a synchronisation)
    # listed as active, as if the controller had started them (an unlisted unfinished Job draws an
    # UnexpectedJob warning on every sync, and kube's event spam filter would then drop later events)
    fresh = (await cs.batch_v1.cron_jobs(ns).get("hist")).to_dict()
    fresh["status"] = {"active": refs}
    await cs.batch_v1.cron_jobs(ns).update_status(CronJob.from_dict(fresh))

    async def pruned() -> list[str] | None:
        names = sorted(j.metadata.name for j in await jobs_of(cs, ns) if j.metadata and j.metadata.name)
        return names if len(names) == 2 else None

    names = await wait_until(pruned, timeout=45, what="history pruned to one success and one failure")
    assert names == ["bad-b", "ok-c"]
    await wait_until(
        lambda: _deleted_all(cs, ns, "hist", ["ok-a", "ok-b", "bad-a"]), timeout=20, what="all delete events"
    )


async def _deleted_all(cs: AsyncClientset, ns: str, name: str, jobs: list[str]) -> bool:
    deleted = {m for r, m in await events_of(cs, ns, name) if r == "SuccessfulDelete"}
    return all(f"Deleted job {j}" in deleted for j in jobs)


async def test_unparseable_schedule_event(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "cron-bad")
    await cs.batch_v1.cron_jobs(ns).create(cronjob("bad", schedule="61 * * * *"))
    events = await wait_until(lambda: _with_reason(cs, ns, "bad", "UnparseableSchedule"), what="warning")
    message = next(m for r, m in events if r == "UnparseableSchedule")
    assert message.startswith('unparseable schedule: "61 * * * *" : ')
    assert await jobs_of(cs, ns) == []


async def test_forbid_and_replace_at_the_next_minute(cs: AsyncClientset) -> None:
    """Waits for a real minute boundary (< 62 s)."""
    ns = await namespace(cs, "cron-policy")
    long_tpl = job_template(None)
    for name, policy in (("forbid", "Forbid"), ("replace", "Replace")):
        await cs.batch_v1.cron_jobs(ns).create(
            cronjob(name, suspend=True, concurrencyPolicy=policy, jobTemplate=long_tpl)
        )
        await start_now(cs, ns, name)

    async def both_active() -> dict[str, str] | None:
        out = {}
        for name in ("forbid", "replace"):
            cj = await cs.batch_v1.cron_jobs(ns).get(name)
            if not (cj.status and cj.status.active):
                return None
            out[name] = str(cj.status.active[0].name)
        return out

    first = await wait_until(both_active, what="both running")

    async def next_minute() -> tuple[list[Any], list[Any]] | None:
        f = await _with_reason(cs, ns, "forbid", "JobAlreadyActive")
        r = await cs.batch_v1.cron_jobs(ns).get("replace")
        active = [a.name for a in (r.status.active if r.status else None) or []]
        if f and active and active != [first["replace"]]:
            return f, active
        return None

    forbid_events, replace_active = await wait_until(next_minute, timeout=75, what="the next minute's run")
    assert (
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    ) in forbid_events
    assert len(replace_active) == 1
    replace_events = await wait_until(
        lambda: _with_reason(cs, ns, "replace", "SuccessfulDelete"), what="the replaced job's delete event"
    )
    assert ("SuccessfulDelete", f"Deleted job {first['replace']}") in replace_events

    async def created_event() -> bool:
        return ("SuccessfulCreate", f"Created job {replace_active[0]}") in await events_of(cs, ns, "replace")

    await wait_until(created_event, what="the new job's create event")
    names = {
        j.metadata.name for j in await jobs_of(cs, ns) if j.metadata and not j.metadata.deletion_timestamp
    }
    assert first["forbid"] in names and first["replace"] not in names
    assert sum(1 for n in names if n and n.startswith("forbid-")) == 1


def test_kubectl_create_job_from_cronjob(wc: WorkloadCluster, tmp_path: Any) -> None:
    wc.kubectl("create", "namespace", "cron-kubectl")
    manifest = {"apiVersion": "batch/v1", "kind": "CronJob", **cronjob("nightly", "0 3 * * *").to_dict()}
    path = tmp_path / "cj.json"
    path.write_text(json.dumps(manifest))
    wc.kubectl("-n", "cron-kubectl", "apply", "-f", str(path))
    out = wc.kubectl("-n", "cron-kubectl", "create", "job", "--from=cronjob/nightly", "manual-1").stdout
    assert "job.batch/manual-1 created" in out
    wc.kubectl(
        "-n", "cron-kubectl", "wait", "--for=condition=complete", "job/manual-1", "--timeout=45s", timeout=60
    )
    got = json.loads(wc.kubectl("-n", "cron-kubectl", "get", "job", "manual-1", "-o", "json").stdout)
    assert got["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert got["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    table = wc.kubectl("-n", "cron-kubectl", "get", "cronjobs").stdout.splitlines()
    assert table[0].split()[:2] == ["NAME", "SCHEDULE"] and table[1].split()[0] == "nightly"


async def test_too_many_missed_start_times(cs: AsyncClientset) -> None:
    ns = await namespace(cs, "cron-missed")
    await cs.batch_v1.cron_jobs(ns).create(cronjob("often", suspend=True))
    await start_now(cs, ns, "often", dt.timedelta(hours=3))  # 180 missed minutes
    events = await wait_until(lambda: _with_reason(cs, ns, "often", "TooManyMissedTimes"), what="warning")
    assert (
        "TooManyMissedTimes",
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
    ) in events
    # the most recent time still runs
    await wait_until(lambda: _with_reason(cs, ns, "often", "SuccessfulCreate"), what="the most recent run")
