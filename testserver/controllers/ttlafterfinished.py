"""The TTL-after-finished controller (kube's ``pkg/controller/ttlafterfinished``).

A Job with ``spec.ttlSecondsAfterFinished`` whose ``Complete`` or ``Failed`` condition is True is
deleted that many seconds after the condition's ``lastTransitionTime``, with ``Foreground``
propagation (its pods go first) and a UID precondition. Job events queue the Job; one whose TTL has
not expired yet is queued again at its expiry (no polling). Before deleting, the Job is read again
from the API server (not the cache) and its TTL re-checked, as kube does, so that a TTL changed
meanwhile is honoured.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from pyclientgo.api.batch.v1 import Job
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound
from testserver.controllers._util import unwrap
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "TTLAfterFinishedController",
    "job_finish_time",
    "needs_cleanup",
    "new_ttl_after_finished_controller",
    "time_left",
]

CONTROLLER_NAME = "ttl-after-finished-controller"


def job_finish_time(job: Job) -> _dt.datetime | None:
    """``lastTransitionTime`` of the Job's True ``Complete``/``Failed`` condition (kube's
    ``jobFinishTime``); None when it is not finished."""
    for c in (job.status.conditions if job.status is not None else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.last_transition_time
    return None


def needs_cleanup(job: Job) -> bool:
    """The Job has a TTL and is finished (kube's ``needsCleanup``)."""
    ttl = job.spec.ttl_seconds_after_finished if job.spec is not None else None
    return ttl is not None and job_finish_time(job) is not None


def time_left(job: Job, now: _dt.datetime) -> tuple[float, _dt.datetime] | None:
    """(seconds until the Job expires, when it expires), None when it needs no cleanup or its finish
    time is unknown (kube's ``timeLeft``)."""
    finished = job_finish_time(job)
    ttl = job.spec.ttl_seconds_after_finished if job.spec is not None else None
    if finished is None or ttl is None:
        return None
    expire_at = finished + _dt.timedelta(seconds=int(ttl))
    return (expire_at - now).total_seconds(), expire_at


class _JobHandler:
    """Queues finished Jobs with a TTL that are not being deleted (kube's ``addJob``/``updateJob``)."""

    def _add(self, job: Any, queue: RequestQueue) -> None:
        job = unwrap(job)
        if job.metadata is None or job.metadata.deletion_timestamp is not None or not needs_cleanup(job):
            return
        queue.add(Request(job.metadata.namespace or "", job.metadata.name or ""))

    def create(self, obj: Any, queue: RequestQueue) -> None:
        self._add(obj, queue)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        self._add(new, queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        return None


class TTLAfterFinishedController:
    """Deletes finished Jobs once their TTL has passed (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        jobs = ctx.informer_factory.batch_v1.jobs()
        self.job_lister = jobs.lister
        self.controller = Controller(
            "ttl_jobs_to_delete",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_ttl_after_finished_syncs),
                clock=ctx.clock,
            ),
        )
        self.controller.watch(jobs.informer, _JobHandler())

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def _process_ttl(self, job: Job) -> tuple[bool, float]:
        """(expired, seconds left when not) — kube's ``processTTL``."""
        if job.metadata is None or job.metadata.deletion_timestamp is not None or not needs_cleanup(job):
            return False, 0.0
        now = _dt.datetime.now(_dt.UTC)
        finished = job_finish_time(job)
        if finished is not None and finished > now:
            self.log.info(
                "Warning: Found Job finished in the future. This is likely due to time skew in the "
                "cluster. Job cleanup will be deferred. job=%s/%s",
                job.metadata.namespace,
                job.metadata.name,
            )
        left = time_left(job, now)
        if left is None:
            return False, 0.0
        if left[0] <= 0:
            return True, 0.0
        return False, left[0]

    async def sync(self, request: Request) -> Result:
        """Delete the Job if its TTL expired, else look again at the expiry (kube's ``processJob``)."""
        ns, name = request.namespace, request.name
        try:
            job = self.job_lister.jobs(ns).get(name)
        except NotFound:
            return Result()
        expired, left = self._process_ttl(job)
        if not expired:
            return Result(requeue_after=left) if left > 0 else Result()
        # the cache may be stale (the TTL changed meanwhile): check the live object
        try:
            fresh = await self.client.batch_v1.jobs(ns).get(name)
        except NotFound:
            return Result()
        expired, left = self._process_ttl(fresh)
        if not expired:
            return Result(requeue_after=left) if left > 0 else Result()
        uid = fresh.metadata.uid if fresh.metadata is not None else None
        self.log.info("Cleaning up Job %s/%s", ns, name)
        try:
            await self.client.batch_v1.jobs(ns).delete(
                name, propagation_policy="Foreground", preconditions={"uid": uid}
            )
        except NotFound:
            return Result()
        return Result()


def new_ttl_after_finished_controller(ctx: ControllerContext) -> TTLAfterFinishedController:
    """The registry's init function."""
    return TTLAfterFinishedController(ctx)
