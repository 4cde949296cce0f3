"""The CronJob controller (kube's ``pkg/controller/cronjob``: ``cronjob_controllerv2.go``, ``utils.go``).

CronJob events queue the CronJob; a Job event queues the CronJob controlling it. ``sync`` (kube's
``sync`` → ``cleanupFinishedJobs`` + ``syncCronJob``) reads the CronJob's Jobs from the lister and:

- keeps ``status.active`` true (``SawCompletedJob`` "Saw completed job: <name>, condition: <type>"
  when an active Job finished, ``MissingJob`` when one is gone, ``UnexpectedJob`` for an unfinished Job
  it did not create) and ``status.lastSuccessfulTime``;
- deletes the oldest finished Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit``
  (background propagation, ``SuccessfulDelete`` "Deleted job <name>");
- unless suspended or being deleted, finds the most recent unmet schedule time since
  ``lastScheduleTime`` (or the creation time) with the schedule parsed as robfig/cron's
  ``ParseStandard`` (5 fields or ``@hourly``-style descriptors, ``@every <duration>``) evaluated by
  croniter in ``spec.timeZone`` (zoneinfo); a ``CRON_TZ=``/``TZ=`` prefix gets kube's
  ``UnsupportedSchedule`` warning; more than 100 missed times the ``TooManyMissedTimes`` warning;
  a time older than ``startingDeadlineSeconds`` ``MissSchedule``;
- applies ``concurrencyPolicy`` (Forbid: ``JobAlreadyActive``; Replace: the active Jobs are deleted first)
  and creates the Job ``<cronjob>-<scheduled time in minutes since the epoch>`` from ``jobTemplate``
  with the ``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation and a controller reference
  (``SuccessfulCreate`` "Created job <name>"), then records it in ``status.active`` and
  ``lastScheduleTime``;
- is queued again at the next schedule time (plus kube's 100 ms), never polled.
"""

from __future__ import annotations

import datetime as _dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from croniter import croniter
from croniter.croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError

from pyclientgo.api.batch.v1 import CronJob, Job
from pyclientgo.apimachinery.meta import get_controller_of_no_copy, is_controlled_by
from pyclientgo.apimachinery.model import format_time
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, has_status_cause, is_already_exists, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE, unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import new_controller_ref

__all__ = [
    "CONTROLLER_NAME",
    "SCHEDULED_TIMESTAMP_ANNOTATION",
    "CronJobController",
    "CronSchedule",
    "MissedSchedules",
    "ScheduleError",
    "job_name_for",
    "most_recent_schedule_time",
    "new_cronjob_controller",
    "next_schedule_time_duration",
    "parse_schedule",
]

CONTROLLER_NAME = "cronjob-controller"
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1
"""kube's ``nextScheduleDelta``: requeues land 100 ms after the schedule time (clock skew)."""
MANY_MISSED = 100

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScheduleError(ValueError):
    """A schedule that does not parse (kube's ``UnparseableSchedule``) or never fires."""


class MissedSchedules:
    """kube's ``missedSchedulesType``."""

    NONE = 0
    FEW = 1
    MANY = 2


def _go_duration(text: str) -> float:
    pos = 0
    total = 0.0
    if not text:
        raise ScheduleError("empty duration")
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None:
            raise ScheduleError(f"time: invalid duration {text!r}")
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return total


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule (robfig/cron's ``Schedule``): :meth:`next` is the first activation strictly
    after a time, computed in ``location``."""

    expression: str
    """The 5-field expression (descriptors expanded); empty for ``@every``."""
    location: _dt.tzinfo
    """Where the fields are evaluated (``spec.timeZone`` or a ``TZ=`` prefix; UTC otherwise)."""
    every: float = 0.0
    """``@every``'s interval in whole seconds (0 for cron expressions)."""

    def next(self, t: _dt.datetime) -> _dt.datetime:
        """The next activation after ``t`` (aware, UTC result)."""
        if self.every:
            base = t.replace(microsecond=0)
            return (base + _dt.timedelta(seconds=self.every)).astimezone(_dt.UTC)
        start = t.astimezone(self.location).replace(microsecond=0)
        try:
            nxt = croniter(self.expression, start).get_next(_dt.datetime)
        except CroniterBadDateError as err:
            raise ScheduleError(str(err)) from err
        result: _dt.datetime = nxt.astimezone(_dt.UTC)
        return result


def parse_schedule(schedule: str, time_zone: str | None = None) -> CronSchedule:
    """kube's ``formatSchedule`` + ``cron.ParseStandard``: an optional ``CRON_TZ=``/``TZ=`` prefix, then a
    descriptor, ``@every <duration>`` or exactly 5 fields. Raises :class:`ScheduleError`."""
    text = schedule.strip()
    location: _dt.tzinfo = _dt.UTC
    zone_name = time_zone
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        prefix, _, text = text.partition(" ")
        zone_name = prefix.split("=", 1)[1]
        text = text.strip()
    if zone_name:
        try:
            location = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ScheduleError(f"provided bad location {zone_name}: {err}") from err
    if not text:
        raise ScheduleError("empty spec string")
    if text.startswith("@every "):
        seconds = _go_duration(text[len("@every ") :].strip())
        if seconds < 1:
            seconds = 1.0
        return CronSchedule("", location, every=float(int(seconds)))
    if text.startswith("@"):
        expr = _DESCRIPTORS.get(text)
        if expr is None:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        return CronSchedule(expr, location)
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    try:
        croniter(text)
    except (CroniterBadCronError, CroniterNotAlphaError, ValueError) as err:
        raise ScheduleError(str(err)) from err
    return CronSchedule(text, location)


def _creation_time(cj: CronJob) -> _dt.datetime:
    ts = cj.metadata.creation_timestamp if cj.metadata is not None else None
    return ts or _dt.datetime.now(_dt.UTC)


def most_recent_schedule_time(
    cj: CronJob, now: _dt.datetime, schedule: CronSchedule, include_starting_deadline: bool
) -> tuple[_dt.datetime, _dt.datetime | None, int]:
    """(earliest time considered, the most recent unmet schedule time or None, how many were missed:
    :class:`MissedSchedules`) — kube's ``mostRecentScheduleTime``. Raises :class:`ScheduleError` for a
    schedule that fires less than a second apart or never."""
    earliest = _creation_time(cj)
    last = cj.status.last_schedule_time if cj.status is not None else None
    if last is not None:
        earliest = last
    deadline = cj.spec.starting_deadline_seconds if cj.spec is not None else None
    if include_starting_deadline and deadline is not None:
        scheduling_deadline = now - _dt.timedelta(seconds=int(deadline))
        if scheduling_deadline > earliest:
            earliest = scheduling_deadline
    t1 = schedule.next(earliest)
    t2 = schedule.next(t1)
    if now < t1:
        return earliest, None, MissedSchedules.NONE
    if now < t2:
        return earliest, t1, MissedSchedules.NONE
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ScheduleError("time difference between two schedules is less than 1 second")
    elapsed = int((now - t1).total_seconds())
    missed = elapsed // between + 1
    potential = t1 + _dt.timedelta(seconds=(missed - 2) * between)
    most_recent: _dt.datetime | None = None
    t = schedule.next(potential)
    while t <= now:
        most_recent = t
        t = schedule.next(t)
    kind = MissedSchedules.MANY if missed > MANY_MISSED else MissedSchedules.FEW
    return earliest, most_recent, kind


def next_schedule_time_duration(cj: CronJob, now: _dt.datetime, schedule: CronSchedule) -> float:
    """Seconds until the sync after the next schedule time (kube's ``nextScheduleTimeDuration``)."""
    try:
        earliest, recent, missed = most_recent_schedule_time(cj, now, schedule, False)
    except ScheduleError:
        recent = now
    else:
        if recent is None:
            recent = earliest if missed == MissedSchedules.NONE else now
    try:
        nxt = schedule.next(recent)
    except ScheduleError:
        return 3600.0
    return (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA


def job_name_for(cronjob_name: str, scheduled: _dt.datetime) -> str:
    """``<cronjob>-<minutes since the epoch>`` (kube's ``getJobName``)."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def _rfc3339(t: _dt.datetime) -> str:
    if t.utcoffset() == _dt.timedelta(0):
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.replace(microsecond=0).isoformat()


def _finished_condition(job: Job) -> str | None:
    for c in (job.status.conditions if job.status is not None else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return str(c.type)
    return None


class _Clock(Protocol):
    def __call__(self) -> _dt.datetime: ...


# -- handlers ------------------------------------------------------------------------------------------


class _CronJobHandler:
    def __init__(self, owner: CronJobController) -> None:
        self.owner = owner

    def create(self, obj: Any, queue: RequestQueue) -> None:
        queue.add(Request(obj.metadata.namespace, obj.metadata.name))

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        """A changed schedule or time zone requeues at the new next time (kube's ``updateCronJob``)."""
        ns, name = new.metadata.namespace, new.metadata.name
        os_, ns_ = old.spec, new.spec
        if (
            os_ is not None
            and ns_ is not None
            and (os_.schedule, os_.time_zone) != (ns_.schedule, ns_.time_zone)
        ):
            try:
                sched = parse_schedule(ns_.schedule or "", ns_.time_zone)
            except ScheduleError:
                self.owner.recorder.eventf(
                    new,
                    EVENT_TYPE_WARNING,
                    "UnParseableCronJobSchedule",
                    "unparseable schedule for cronjob: %s",
                    ns_.schedule,
                )
                return
            delay = next_schedule_time_duration(new, self.owner.now(), sched)
            self.owner.controller.queue.add_after(Request(ns, name), max(delay, 0.0))
            return
        queue.add(Request(ns, name))

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        obj = unwrap(obj)
        queue.add(Request(obj.metadata.namespace, obj.metadata.name))


class _JobHandler:
    """A Job event queues the CronJob controlling it (kube's ``addJob``/``updateJob``/``deleteJob``)."""

    def __init__(self, owner: CronJobController) -> None:
        self.owner = owner

    def _enqueue(self, job: Any, queue: RequestQueue) -> None:
        job = unwrap(job)
        if job.metadata is None:
            return
        ref = get_controller_of_no_copy(job)
        if ref is None or ref.kind != "CronJob":
            return
        ns = job.metadata.namespace or ""
        cj = self.owner.resolve_controller_ref(ns, ref)
        if cj is not None:
            queue.add(Request(ns, cj.metadata.name))

    def create(self, obj: Any, queue: RequestQueue) -> None:
        if obj.metadata is not None and obj.metadata.deletion_timestamp is not None:
            return  # a restarted controller sees a Job already being deleted
        self._enqueue(obj, queue)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        om, nm = old.metadata, new.metadata
        if om is not None and nm is not None and om.resource_version == nm.resource_version:
            return
        old_ref, new_ref = get_controller_of_no_copy(old), get_controller_of_no_copy(new)
        if (old_ref.uid if old_ref else None) != (new_ref.uid if new_ref else None) and old_ref is not None:
            self._enqueue(old, queue)
        self._enqueue(new, queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        self._enqueue(obj, queue)


# -- the controller ---------------------------------------------------------------------------------------


class CronJobController:
    """Creates Jobs on CronJobs' schedules (module docstring); a Runnable. ``now`` is the wall clock
    (injectable for tests)."""

    def __init__(self, ctx: ControllerContext, *, now: Callable[[], _dt.datetime] | None = None) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self.now: Callable[[], _dt.datetime] = now or (lambda: _dt.datetime.now(_dt.UTC))
        cronjobs = ctx.informer_factory.batch_v1.cron_jobs()
        jobs = ctx.informer_factory.batch_v1.jobs()
        self.cronjob_lister = cronjobs.lister
        self.job_lister = jobs.lister
        self._ctx = ctx
        self._recorder: EventRecorder | None = None
        self.controller = Controller(
            "cronjob",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_cron_job_syncs), clock=ctx.clock
            ),
        )
        self.controller.watch(cronjobs.informer, _CronJobHandler(self))
        self.controller.watch(jobs.informer, _JobHandler(self))

    @property
    def recorder(self) -> EventRecorder:
        if self._recorder is None:
            self._recorder = self._ctx.event_recorder(CONTROLLER_NAME)
        return self._recorder

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def resolve_controller_ref(self, namespace: str, ref: Any) -> Any:
        if ref.kind != "CronJob":
            return None
        try:
            cj = self.cronjob_lister.cron_jobs(namespace).get(ref.name)
        except NotFound:
            return None
        return cj if cj.metadata is not None and cj.metadata.uid == ref.uid else None

    def jobs_of(self, cj: CronJob) -> list[Job]:
        """The Jobs the CronJob controls (kube's ``getJobsToBeReconciled``)."""
        ns = cj.metadata.namespace if cj.metadata is not None else ""
        uid = cj.metadata.uid if cj.metadata is not None else None
        out: list[Job] = []
        for job in self.job_lister.jobs(ns or "").list():
            ref = get_controller_of_no_copy(job)
            if ref is not None and ref.uid == uid:
                out.append(job)
        return out

    async def sync(self, request: Request) -> Result:
        """One CronJob (kube's ``sync``)."""
        try:
            shared = self.cronjob_lister.cron_jobs(request.namespace).get(request.name)
        except NotFound:
            return Result()
        jobs = self.jobs_of(shared)
        cj = CronJob.from_dict(shared.to_dict())
        status = cj.to_dict().get("status") or {}
        state = _State(cj=cj, status=status)
        updated = await self._cleanup_finished_jobs(state, jobs)
        requeue: float | None = None
        sync_err: BaseException | None = None
        try:
            requeue, changed = await self._sync_cronjob(state, jobs)
            updated = updated or changed
        except Exception as err:
            sync_err = err
            updated = updated or state.changed
        if updated:
            body = {**shared.to_dict(), "status": _wire_status(state.status)}
            await self.client.batch_v1.cron_jobs(request.namespace).update_status(CronJob.from_dict(body))
        if requeue is not None:
            return Result(requeue_after=max(requeue, 0.001))
        if sync_err is not None:
            raise sync_err
        return Result()

    # -- history ----------------------------------------------------------------------------------

    async def _cleanup_finished_jobs(self, state: _State, jobs: list[Job]) -> bool:
        spec = state.cj.spec
        if spec is None:
            return False
        success_limit = spec.successful_jobs_history_limit
        failed_limit = spec.failed_jobs_history_limit
        if success_limit is None and failed_limit is None:
            return False
        succeeded = [j for j in jobs if _finished_condition(j) == "Complete"]
        failed = [j for j in jobs if _finished_condition(j) == "Failed"]
        changed = False
        if success_limit is not None and await self._remove_oldest(state, succeeded, int(success_limit)):
            changed = True
        if failed_limit is not None and await self._remove_oldest(state, failed, int(failed_limit)):
            changed = True
        return changed

    async def _remove_oldest(self, state: _State, jobs: list[Job], limit: int) -> bool:
        n = len(jobs) - limit
        if n <= 0:
            return False
        far_future = _dt.datetime.max.replace(tzinfo=_dt.UTC)

        def key(j: Job) -> tuple[_dt.datetime, str]:
            start = j.status.start_time if j.status is not None else None
            return (start or far_future, (j.metadata.name if j.metadata else None) or "")

        changed = False
        for job in sorted(jobs, key=key)[:n]:
            if await self._delete_job(state, job):
                changed = True
        return changed

    async def _delete_job(self, state: _State, job: Job) -> bool:
        """kube's ``deleteJob``: background propagation, then out of the active list."""
        meta = job.metadata
        assert meta is not None
        try:
            await self.client.batch_v1.jobs(meta.namespace or "").delete(
                meta.name or "", propagation_policy="Background"
            )
        except Exception as err:
            if not is_not_found(err):
                self.recorder.eventf(state.cj, EVENT_TYPE_WARNING, "FailedDelete", "Deleted job: %s", err)
                return False
        state.remove_active(meta.uid or "")
        self.recorder.eventf(state.cj, EVENT_TYPE_NORMAL, "SuccessfulDelete", "Deleted job %s", meta.name)
        return True

    # -- scheduling -------------------------------------------------------------------------------

    async def _sync_cronjob(self, state: _State, jobs: list[Job]) -> tuple[float | None, bool]:
        """kube's ``syncCronJob``: (requeue after, whether the status changed)."""
        cj = state.cj
        meta, spec = cj.metadata, cj.spec
        assert meta is not None and spec is not None
        ns, name = meta.namespace or "", meta.name or ""
        now = self.now()
        children: set[str] = set()
        for j in jobs:
            uid = (j.metadata.uid if j.metadata else None) or ""
            children.add(uid)
            found = state.in_active(uid)
            finished = _finished_condition(j)
            if not found and finished is None:
                fresh = await self.client.batch_v1.cron_jobs(ns).get(name)
                fresh_active = {a.uid for a in (fresh.status.active if fresh.status else None) or []}
                if uid in fresh_active:
                    state.cj = fresh
                    state.status = fresh.to_dict().get("status") or {}
                    continue
                self.recorder.eventf(
                    cj,
                    EVENT_TYPE_WARNING,
                    "UnexpectedJob",
                    "Saw a job that the controller did not create or forgot: %s",
                    j.metadata.name if j.metadata else "",
                )
            elif found and finished is not None:
                state.remove_active(uid)
                self.recorder.eventf(
                    cj,
                    EVENT_TYPE_NORMAL,
                    "SawCompletedJob",
                    "Saw completed job: %s, condition: %s",
                    j.metadata.name if j.metadata else "",
                    finished,
                )
                state.changed = True
            elif finished is not None:
                completion = j.status.completion_time if j.status is not None else None
                last = _parse(state.status.get("lastSuccessfulTime"))
                if completion is not None and (last is None or completion > last):
                    state.status["lastSuccessfulTime"] = format_time(completion)
                    state.changed = True
        for ref in list(state.status.get("active") or []):
            if ref.get("uid") in children:
                continue
            try:
                await self.client.batch_v1.jobs(ref.get("namespace") or ns).get(ref.get("name") or "")
            except NotFound:
                self.recorder.eventf(
                    cj, EVENT_TYPE_NORMAL, "MissingJob", "Active job went missing: %s", ref.get("name")
                )
                state.remove_active(ref.get("uid") or "")
                state.changed = True
        if meta.deletion_timestamp is not None:
            return None, state.changed
        if spec.time_zone is not None:
            try:
                zoneinfo.ZoneInfo(spec.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
                self.recorder.eventf(
                    cj,
                    EVENT_TYPE_WARNING,
                    "UnknownTimeZone",
                    'invalid timeZone: "%s": %s',
                    spec.time_zone,
                    err,
                )
                return None, state.changed
        if spec.suspend:
            return None, state.changed
        schedule_text = spec.schedule or ""
        if "TZ" in schedule_text:
            self.recorder.eventf(
                cj,
                EVENT_TYPE_WARNING,
                "UnsupportedSchedule",
                'CRON_TZ or TZ used in schedule "%s" is not officially supported, see '
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                schedule_text,
            )
        try:
            sched = parse_schedule(schedule_text, None if "TZ" in schedule_text else spec.time_zone)
        except ScheduleError as err:
            self.recorder.eventf(
                cj,
                EVENT_TYPE_WARNING,
                "UnparseableSchedule",
                'unparseable schedule: "%s" : %s',
                schedule_text,
                err,
            )
            return None, state.changed
        cj_now = self._with_status(state)
        try:
            _, scheduled, missed = most_recent_schedule_time(cj_now, now, sched, True)
        except ScheduleError as err:
            self.recorder.eventf(
                cj, EVENT_TYPE_WARNING, "InvalidSchedule", "invalid schedule: %s : %s", schedule_text, err
            )
            return None, state.changed
        if scheduled is not None and missed == MissedSchedules.MANY:
            self.recorder.event(
                cj,
                EVENT_TYPE_WARNING,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            )
        if scheduled is None or scheduled > now:
            return next_schedule_time_duration(cj_now, now, sched), state.changed
        deadline = spec.starting_deadline_seconds
        if deadline is not None and scheduled + _dt.timedelta(seconds=int(deadline)) < now:
            self.recorder.eventf(
                cj,
                EVENT_TYPE_WARNING,
                "MissSchedule",
                "Missed scheduled time to start a job: %s",
                scheduled.astimezone(_dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            )
            return next_schedule_time_duration(cj_now, now, sched), state.changed
        job_name = job_name_for(name, scheduled)
        last_schedule = _parse(state.status.get("lastScheduleTime"))
        if state.in_active_by_name(job_name) or last_schedule == scheduled:
            return next_schedule_time_duration(cj_now, now, sched), state.changed
        policy = spec.concurrency_policy or "Allow"
        if policy == "Forbid" and state.status.get("active"):
            self.recorder.event(
                cj,
                EVENT_TYPE_NORMAL,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
            return next_schedule_time_duration(cj_now, now, sched), state.changed
        if policy == "Replace":
            for ref in list(state.status.get("active") or []):
                try:
                    running = await self.client.batch_v1.jobs(ref.get("namespace") or ns).get(
                        ref.get("name") or ""
                    )
                except Exception as err:
                    self.recorder.eventf(cj, EVENT_TYPE_WARNING, "FailedGet", "Get job: %s", err)
                    raise
                if not await self._delete_job(state, running):
                    raise RuntimeError(f"could not replace job {ns}/{ref.get('name')}")
                state.changed = True
        body = self._job_from_template(cj, job_name, scheduled, sched)
        try:
            created = await self.client.batch_v1.jobs(ns).create(Job.from_dict(body))
            self.recorder.eventf(cj, EVENT_TYPE_NORMAL, "SuccessfulCreate", "Created job %s", job_name)
        except Exception as err:
            if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                raise
            if not is_already_exists(err):
                self.recorder.eventf(cj, EVENT_TYPE_WARNING, "FailedCreate", "Error creating job: %s", err)
                raise
            created = await self.client.batch_v1.jobs(ns).get(job_name)
            if not is_controlled_by(created, cj):
                return None, state.changed
            if state.in_active((created.metadata.uid if created.metadata else None) or ""):
                return None, state.changed
            self.log.info("Job already exists: cronjob=%s/%s job=%s", ns, name, job_name)
        cm = created.metadata
        assert cm is not None
        state.status.setdefault("active", []).append(
            {
                "kind": "Job",
                "namespace": cm.namespace,
                "name": cm.name,
                "uid": cm.uid,
                "apiVersion": "batch/v1",
                "resourceVersion": cm.resource_version,
            }
        )
        state.status["lastScheduleTime"] = format_time(scheduled)
        state.changed = True
        return next_schedule_time_duration(self._with_status(state), now, sched), True

    @staticmethod
    def _with_status(state: _State) -> CronJob:
        return CronJob.from_dict({**state.cj.to_dict(), "status": _wire_status(state.status)})

    @staticmethod
    def _job_from_template(
        cj: CronJob, name: str, scheduled: _dt.datetime, sched: CronSchedule
    ) -> dict[str, Any]:
        """kube's ``getJobFromTemplate2``."""
        template = (cj.to_dict().get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = _rfc3339(scheduled.astimezone(sched.location))
        metadata: dict[str, Any] = {
            "name": name,
            "annotations": annotations,
            "ownerReferences": [new_controller_ref(cj, "batch/v1", "CronJob")],
        }
        if tmeta.get("labels"):
            metadata["labels"] = dict(tmeta["labels"])
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata,
            "spec": template.get("spec") or {},
        }


@dataclass
class _State:
    """The CronJob being synced and its status as it will be written."""

    cj: CronJob
    status: dict[str, Any]
    changed: bool = False

    def in_active(self, uid: str) -> bool:
        return any(a.get("uid") == uid for a in self.status.get("active") or [])

    def in_active_by_name(self, name: str) -> bool:
        return any(a.get("name") == name for a in self.status.get("active") or [])

    def remove_active(self, uid: str) -> None:
        active = [a for a in self.status.get("active") or [] if a.get("uid") != uid]
        if active:
            self.status["active"] = active
        else:
            self.status.pop("active", None)


def _parse(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _wire_status(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if v not in (None, [], {})}


def new_cronjob_controller(ctx: ControllerContext) -> CronJobController:
    """The registry's init function."""
    return CronJobController(ctx)
