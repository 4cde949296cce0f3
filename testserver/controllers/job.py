"""The Job controller (kube's ``pkg/controller/job``: ``job_controller.go``, ``backoff_utils.go``,
``indexed_job_utils.go``, ``pod_failure_policy.go``, ``tracking_utils.go``).

Informer handlers → work queue → :meth:`JobController.sync` from the listers, as kube 1.32:

- pods are created from the template with the ``batch.kubernetes.io/job-tracking`` finalizer, an owner
  reference and (Indexed mode) the ``batch.kubernetes.io/job-completion-index`` annotation and label,
  hostname ``<job>-<index>``, ``generateName`` ``<job>-<index>-`` and the ``JOB_COMPLETION_INDEX`` env;
  at most ``parallelism`` active pods and never more than the completions still missing, in slow-start
  batches under :class:`~testserver.controllers.controller_utils.ControllerExpectations`;
- finished pods are counted through ``status.uncountedTerminatedPods``: their UIDs are written first, then
  the finalizers removed, then the UIDs moved into ``succeeded``/``failed`` (finalizer-based tracking);
  Indexed jobs count ``completedIndexes`` instead;
- failures: ``backoffLimit`` (pod creation held back 10 s doubling to 6 min after failures,
  ``BackoffLimitExceeded``), ``activeDeadlineSeconds`` (``DeadlineExceeded``, requeued at the deadline),
  ``podFailurePolicy`` (FailJob / Ignore / Count / FailIndex on exit codes and pod conditions,
  ``PodFailurePolicy``), ``backoffLimitPerIndex``/``maxFailedIndexes`` (``failedIndexes``);
- the interim conditions ``FailureTarget`` / ``SuccessCriteriaMet`` come first; ``Failed`` / ``Complete``
  (with ``completionTime``) once every pod is counted and none is terminating; events ``Completed``
  "Job completed" or the failure reason with its message; ``suspend`` deletes the active pods and sets
  ``Suspended`` (``JobSuspended``/``JobResumed``, events ``Suspended``/``Resumed``).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as _dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from pyclientgo.api.batch.v1 import Job
from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery.labels import Selector, nothing, selector_from_label_selector
from pyclientgo.apimachinery.meta import get_controller_of_no_copy
from pyclientgo.apimachinery.model import format_time
from pyclientgo.component_helpers.pod import is_pod_active, is_pod_ready
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, has_status_cause, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE, unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import (
    SLOW_START_INITIAL_BATCH_SIZE,
    ControllerExpectations,
    ControllerRefManager,
    PodControl,
    active_pods_deletion_order,
    get_pod_from_template,
    new_controller_ref,
    pod_key,
)

__all__ = [
    "COMPLETION_INDEX_ANNOTATION",
    "CONTROLLER_NAME",
    "DEFAULT_JOB_POD_FAILURE_BACKOFF",
    "JOB_TRACKING_FINALIZER",
    "MAX_JOB_POD_FAILURE_BACKOFF",
    "JobController",
    "OrderedIntervals",
    "backoff_remaining",
    "match_pod_failure_policy",
    "new_job_controller",
]

CONTROLLER_NAME = "job-controller"
JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
DEFAULT_JOB_POD_FAILURE_BACKOFF = 10.0
"""kube's ``DefaultJobPodFailureBackOff``: the first delay after a failed pod."""
MAX_JOB_POD_FAILURE_BACKOFF = 360.0
"""kube's ``MaxJobPodFailureBackOff`` (6 minutes)."""
SYNC_JOB_BATCH_PERIOD = 1.0
"""kube's ``syncJobBatchPeriod``: pod events queue their Job this much later, collapsing bursts."""
MAX_UNCOUNTED_PODS = 500
"""kube's ``MaxUncountedPods``: finished pods recorded in ``uncountedTerminatedPods`` per sync."""
MAX_POD_CREATE_DELETE_PER_SYNC = 500
"""kube's ``MaxPodCreateDeletePerSync``."""
MAX_IN_FLIGHT_WRITES = 24
"""Pod writes one controller has in flight at once (below the client's keep-alive pool, as the
ReplicaSet controller)."""

_UNKNOWN_INDEX = -1


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _parse_time(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# -- indexes (indexed_job_utils.go) -----------------------------------------------------------------


class OrderedIntervals:
    """Sorted, disjoint, inclusive intervals of completion indexes (kube's ``orderedIntervals``),
    written as ``1,3-5,7``."""

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        self.intervals: list[tuple[int, int]] = list(intervals)

    @classmethod
    def parse(cls, text: str | None, completions: int) -> OrderedIntervals:
        """Parse ``text``, dropping indexes at or beyond ``completions`` and anything malformed."""
        out: list[tuple[int, int]] = []
        for part in (text or "").split(","):
            if not part:
                continue
            first, _, last = part.partition("-")
            try:
                lo = int(first)
                hi = int(last) if last else lo
            except ValueError:
                continue
            if lo >= completions or lo > hi:
                continue
            hi = min(hi, completions - 1)
            if out and lo <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        return cls(out)

    def with_ordered_indexes(self, new: Iterable[int]) -> OrderedIntervals:
        """These intervals with ``new`` indexes added (kube's ``withOrderedIndexes``)."""
        points = sorted(set(new))
        merged: list[tuple[int, int]] = []
        items = sorted(self.intervals + [(i, i) for i in points])
        for lo, hi in items:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return OrderedIntervals(merged)

    def total(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.intervals)

    def has(self, ix: int) -> bool:
        return any(lo <= ix <= hi for lo, hi in self.intervals)

    def __str__(self) -> str:
        # kube writes two consecutive indexes as "1,2" and longer runs as "1-3"
        parts = []
        for lo, hi in self.intervals:
            parts.append(str(lo) if lo == hi else f"{lo},{hi}" if hi == lo + 1 else f"{lo}-{hi}")
        return ",".join(parts)


def completion_index(pod: Pod) -> int:
    """The pod's completion index annotation (the label as fallback), -1 when absent or invalid."""
    meta = pod.metadata
    if meta is None:
        return _UNKNOWN_INDEX
    value = (meta.annotations or {}).get(COMPLETION_INDEX_ANNOTATION)
    if value is None:
        value = (meta.labels or {}).get(COMPLETION_INDEX_ANNOTATION)
    if value is None:
        return _UNKNOWN_INDEX
    try:
        ix = int(value)
    except ValueError:
        return _UNKNOWN_INDEX
    return ix if ix >= 0 and str(ix) == value else _UNKNOWN_INDEX


def _index_failure_count(pod: Pod, annotation: str) -> int:
    value = ((pod.metadata.annotations if pod.metadata else None) or {}).get(annotation, "0")
    try:
        return max(0, int(value))
    except ValueError:
        return 0


# -- pod failure policy (pod_failure_policy.go) ------------------------------------------------------


def _terminated_exit_code(status: Any) -> int | None:
    state = status.state
    term = state.terminated if state is not None else None
    return None if term is None else int(term.exit_code or 0)


def _match_exit_codes(pod: Pod, req: dict[str, Any]) -> Any:
    st = pod.status
    if st is None:
        return None
    values = set(req.get("values") or [])
    operator = req.get("operator")
    name = req.get("containerName")
    for statuses in (st.container_statuses or [], st.init_container_statuses or []):
        for cs in statuses:
            code = _terminated_exit_code(cs)
            if code is None or code == 0:
                continue
            if name is not None and name != cs.name:
                continue
            if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
                return cs
    return None


def _match_pod_conditions(pod: Pod, patterns: list[dict[str, Any]]) -> Any:
    st = pod.status
    for cond in (st.conditions if st is not None else None) or []:
        for pattern in patterns:
            if cond.type == pattern.get("type") and cond.status == pattern.get("status", "True"):
                return cond
    return None


def match_pod_failure_policy(policy: dict[str, Any], pod: Pod) -> tuple[str | None, bool, str | None]:
    """(FailJob message, whether the failure counts against backoffLimit, the matched action) for a
    failed pod (kube's ``matchPodFailurePolicy``)."""
    meta = pod.metadata
    ns, name = (meta.namespace, meta.name) if meta is not None else ("", "")
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        on_exit = rule.get("onExitCodes")
        on_conditions = rule.get("onPodConditions")
        if on_exit is not None:
            cs = _match_exit_codes(pod, on_exit)
            if cs is None:
                continue
            if action == "FailJob":
                msg = (
                    f"Container {cs.name} for pod {ns}/{name} failed with exit code "
                    f"{_terminated_exit_code(cs)} matching FailJob rule at index {index}"
                )
                return msg, True, action
        elif on_conditions is not None:
            cond = _match_pod_conditions(pod, on_conditions)
            if cond is None:
                continue
            if action == "FailJob":
                msg = f"Pod {ns}/{name} has condition {cond.type} matching FailJob rule at index {index}"
                return msg, True, action
        else:
            continue
        if action == "Ignore":
            return None, False, action
        if action in ("Count", "FailIndex"):
            return None, True, action
    return None, True, None


# -- back-off (backoff_utils.go) ---------------------------------------------------------------------


@dataclass
class BackoffRecord:
    """Failures since the last success and when the last one happened (kube's ``backoffRecord``)."""

    failures_after_last_success: int = 0
    last_failure_time: _dt.datetime | None = None


def pod_finished_time(pod: Pod) -> _dt.datetime:
    """When a pod finished: its containers' latest ``finishedAt``, else the Ready=False transition,
    else its deletion timestamp, else now (kube's ``getFinishedTime``)."""
    st = pod.status
    latest: _dt.datetime | None = None
    if st is not None:
        for cs in st.container_statuses or []:
            term = cs.state.terminated if cs.state is not None else None
            if term is not None and term.finished_at is not None:
                t = _parse_time(term.finished_at)
                if t is not None and (latest is None or t > latest):
                    latest = t
        if latest is None:
            for c in st.conditions or []:
                if c.type == "Ready" and c.status == "False" and c.last_transition_time is not None:
                    latest = _parse_time(c.last_transition_time)
    if latest is None and pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
        latest = _parse_time(pod.metadata.deletion_timestamp)
    return latest or _now()


def backoff_remaining(
    failures: int,
    last_failure: _dt.datetime | None,
    now: _dt.datetime,
    *,
    default: float = DEFAULT_JOB_POD_FAILURE_BACKOFF,
    maximum: float = MAX_JOB_POD_FAILURE_BACKOFF,
) -> float:
    """Seconds until pods may be created again after ``failures`` failures (kube's
    ``getRemainingTimeForFailuresCount``: ``default`` doubling per further failure, capped)."""
    if failures <= 0 or last_failure is None:
        return 0.0
    delay = default
    for _ in range(1, failures):
        delay *= 2
        if delay >= maximum:
            delay = maximum
            break
    elapsed = (now - last_failure).total_seconds()
    return 0.0 if delay < elapsed else delay - elapsed


def new_backoff_record(
    previous: BackoffRecord | None, succeeded: list[Pod], failed: list[Pod]
) -> BackoffRecord:
    """The record after the newly finished pods (kube's ``newBackoffRecord``)."""
    record = BackoffRecord() if previous is None else copy.copy(previous)
    if not succeeded:
        if not failed:
            return record
        last = max(pod_finished_time(p) for p in failed)
        record.failures_after_last_success += len(failed)
        if record.last_failure_time is None or last > record.last_failure_time:
            record.last_failure_time = last
        return record
    last_success = max(pod_finished_time(p) for p in succeeded)
    after = [pod_finished_time(p) for p in failed if pod_finished_time(p) > last_success]
    if not after:
        return BackoffRecord()
    return BackoffRecord(failures_after_last_success=len(after), last_failure_time=max(after))


# -- finalizer expectations (tracking_utils.go) -------------------------------------------------------


class _FinalizerExpectations:
    """Pod UIDs per Job whose tracking-finalizer removal was sent but not yet seen (kube's
    ``uidTrackingExpectations``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: dict[str, set[str]] = {}

    def expected(self, key: str) -> set[str]:
        with self._lock:
            return set(self._store.get(key, ()))

    def expect_removed(self, key: str, uids: Iterable[str]) -> None:
        with self._lock:
            self._store.setdefault(key, set()).update(uids)

    def observed(self, key: str, uid: str) -> None:
        with self._lock:
            uids = self._store.get(key)
            if uids is not None:
                uids.discard(uid)

    def delete(self, key: str) -> None:
        with self._lock:
            self._store.pop(key, None)


# -- small predicates -----------------------------------------------------------------------------------


def _has_finalizer(pod: Pod) -> bool:
    meta = pod.metadata
    return meta is not None and JOB_TRACKING_FINALIZER in (meta.finalizers or [])


def _uid(pod: Pod) -> str:
    return (pod.metadata.uid if pod.metadata is not None else None) or ""


def _phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status is not None else None) or ""


def _deleting(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _conditions(job: dict[str, Any]) -> list[dict[str, Any]]:
    conds: list[dict[str, Any]] = job.setdefault("status", {}).setdefault("conditions", [])
    return conds


def _find_condition(job: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return dict(c)
    return None


def is_job_finished(job: dict[str, Any]) -> bool:
    """A Complete or Failed condition is True (kube's ``IsJobFinished``)."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return True
    return False


def _finished(job: Job) -> bool:
    """:func:`is_job_finished` of a typed Job."""
    for c in (job.status.conditions if job.status is not None else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return True
    return False


def _new_condition(
    ctype: str, reason: str, message: str, now: _dt.datetime, status: str = "True"
) -> dict[str, Any]:
    ts = format_time(now)
    return {
        "type": ctype,
        "status": status,
        "lastProbeTime": ts,
        "lastTransitionTime": ts,
        "reason": reason,
        "message": message,
    }


def _ensure_condition(
    job: dict[str, Any], ctype: str, status: str, reason: str, message: str, now: _dt.datetime
) -> bool:
    """kube's ``ensureJobConditionStatus``: set or add the condition; a False condition is never added."""
    conds = _conditions(job)
    for i, c in enumerate(conds):
        if c.get("type") == ctype:
            if c.get("status") != status or c.get("reason") != reason or c.get("message") != message:
                conds[i] = _new_condition(ctype, reason, message, now, status)
                return True
            return False
    if status != "False":
        conds.append(_new_condition(ctype, reason, message, now, status))
        return True
    return False


def _spec(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job.get("spec") or {}
    return spec


def _is_indexed(job: dict[str, Any]) -> bool:
    return _spec(job).get("completionMode") == "Indexed"


def _suspended(job: dict[str, Any]) -> bool:
    return bool(_spec(job).get("suspend"))


def _backoff_limit_per_index(job: dict[str, Any]) -> int | None:
    v = _spec(job).get("backoffLimitPerIndex")
    return None if v is None else int(v)


def _only_replace_failed(job: dict[str, Any]) -> bool:
    """``podReplacementPolicy: Failed`` (kube: also implied by a podFailurePolicy)."""
    spec = _spec(job)
    if spec.get("podReplacementPolicy") == "Failed":
        return True
    return spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: Pod, job: dict[str, Any]) -> bool:
    """Failed, or (unless only failed pods are replaced) deleted before succeeding (kube's ``isPodFailed``)."""
    if _phase(pod) == "Failed":
        return True
    if _only_replace_failed(job):
        return False
    return _deleting(pod) and _phase(pod) != "Succeeded"


@dataclass
class _SyncCtx:
    """kube's ``syncJobCtx``."""

    job: dict[str, Any]
    pods: list[Pod]
    active_pods: list[Pod]
    ready: int
    terminating: int
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    expected_rm_finalizers: set[str]
    succeeded: int = 0
    failed: int = 0
    finished_condition: dict[str, Any] | None = None
    prev_succeeded_indexes: OrderedIntervals | None = None
    succeeded_indexes: OrderedIntervals | None = None
    failed_indexes: OrderedIntervals | None = None
    backoff: BackoffRecord | None = None


# -- handlers -------------------------------------------------------------------------------------------


class _JobHandler:
    def __init__(self, owner: JobController) -> None:
        self.owner = owner

    def create(self, obj: Any, queue: RequestQueue) -> None:
        queue.add(Request(obj.metadata.namespace, obj.metadata.name))
        if _finished(obj):
            self.owner.enqueue_orphans_of(obj)  # kube's cleanupPodFinalizers (a backup)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        """A spec change syncs at once; a status-only update (same generation, typically our own
        write) is batched as pod events are (kube's ``updateJob``)."""
        ns, name = new.metadata.namespace, new.metadata.name
        if (old.metadata.generation or 0) == (new.metadata.generation or 0):
            self.owner.controller.queue.add_after(Request(ns, name), SYNC_JOB_BATCH_PERIOD)
        else:
            queue.add(Request(ns, name))
        if _finished(new):
            self.owner.enqueue_orphans_of(new)
        # a changed activeDeadlineSeconds is checked again at the new deadline
        spec, old_spec = new.spec, old.spec
        ads = spec.active_deadline_seconds if spec is not None else None
        old_ads = old_spec.active_deadline_seconds if old_spec is not None else None
        start = new.status.start_time if new.status is not None else None
        if ads is not None and ads != old_ads and start is not None:
            left = float(ads) - (_now() - start).total_seconds()
            self.owner.controller.queue.add_after(Request(ns, name), max(left, 0.0))

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        obj = unwrap(obj)
        ns, name = obj.metadata.namespace, obj.metadata.name
        queue.add(Request(ns, name))
        # pods still carrying the finalizer are cleaned as orphans
        self.owner.enqueue_orphans_of(obj)


class _PodHandler:
    def __init__(self, owner: JobController) -> None:
        self.owner = owner

    def _batched(self, job: Any) -> None:
        self.owner.controller.queue.add_after(
            Request(job.metadata.namespace, job.metadata.name), SYNC_JOB_BATCH_PERIOD
        )

    def create(self, pod: Pod, queue: RequestQueue) -> None:
        if _deleting(pod):
            self.delete(pod, queue, final=False)
            return
        ref = get_controller_of_no_copy(pod)
        ns = (pod.metadata.namespace if pod.metadata else None) or ""
        if ref is not None:
            job = self.owner.resolve_controller_ref(ns, ref)
            if job is None:
                return
            self.owner.expectations.creation_observed(f"{ns}/{job.metadata.name}")
            self._batched(job)
            return
        for job in self.owner.jobs_for_pod(pod):
            self._batched(job)

    def update(self, old: Pod, cur: Pod, queue: RequestQueue) -> None:
        om, cm = old.metadata, cur.metadata
        if om is None or cm is None or om.resource_version == cm.resource_version:
            return
        if cm.deletion_timestamp is not None:
            self.delete(cur, queue, final=False)
            return
        ns = cm.namespace or ""
        finalizer_removed = not _has_finalizer(cur)
        cur_ref, old_ref = get_controller_of_no_copy(cur), get_controller_of_no_copy(old)
        ref_changed = (cur_ref.uid if cur_ref else None) != (old_ref.uid if old_ref else None)
        if ref_changed and old_ref is not None:
            job = self.owner.resolve_controller_ref(ns, old_ref)
            if job is not None:
                if finalizer_removed:
                    self.owner.finalizer_expectations.observed(f"{ns}/{job.metadata.name}", cm.uid or "")
                self._batched(job)
        if cur_ref is not None:
            job = self.owner.resolve_controller_ref(ns, cur_ref)
            if job is None:
                return
            if finalizer_removed:
                self.owner.finalizer_expectations.observed(f"{ns}/{job.metadata.name}", cm.uid or "")
            self._batched(job)
            return
        if (om.labels or {}) != (cm.labels or {}) or ref_changed:
            for job in self.owner.jobs_for_pod(cur):
                self._batched(job)

    def delete(self, obj: Any, queue: RequestQueue, final: bool = True) -> None:
        pod = unwrap(obj)
        meta = pod.metadata
        if meta is None:
            return
        ns = meta.namespace or ""
        ref = get_controller_of_no_copy(pod)
        has_finalizer = _has_finalizer(pod)
        if ref is None:
            return
        job = self.owner.resolve_controller_ref(ns, ref)
        if job is None or _finished(job):
            return
        key = f"{ns}/{job.metadata.name}"
        self.owner.expectations.deletion_observed(key, pod_key(pod))
        if final or not has_finalizer:
            self.owner.finalizer_expectations.observed(key, meta.uid or "")
        self._batched(job)


# -- the controller -------------------------------------------------------------------------------------


class JobController:
    """Runs Jobs' pods to completion (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self.expectations = ControllerExpectations()
        self.finalizer_expectations = _FinalizerExpectations()
        self.backoff_store: dict[str, BackoffRecord] = {}
        jobs = ctx.informer_factory.batch_v1.jobs()
        pods = ctx.informer_factory.core_v1.pods()
        self.job_lister = jobs.lister
        self.pod_lister = pods.lister
        self._ctx = ctx
        self._recorder: EventRecorder | None = None
        self._pod_control: PodControl | None = None
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT_WRITES)
        self.controller = Controller(
            "job",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_job_syncs), clock=ctx.clock
            ),
        )
        self.controller.watch(jobs.informer, _JobHandler(self))
        self.controller.watch(pods.informer, _PodHandler(self))
        self.orphan_controller = Controller(
            "job_orphan_pod",
            self.sync_orphan_pod,
            ControllerOptions(max_concurrent_reconciles=1, clock=ctx.clock),
        )
        self.orphan_controller.watches(pods.informer, self._orphan_requests)

    @property
    def recorder(self) -> EventRecorder:
        if self._recorder is None:
            self._recorder = self._ctx.event_recorder(CONTROLLER_NAME)
        return self._recorder

    @property
    def pod_control(self) -> PodControl:
        if self._pod_control is None:
            self._pod_control = PodControl(self.client, self.recorder)
        return self._pod_control

    async def run(self) -> None:
        await asyncio.gather(self.controller.run(), self.orphan_controller.run())

    def need_leader_election(self) -> bool:
        return True

    # -- lookups ----------------------------------------------------------------------------------

    def resolve_controller_ref(self, namespace: str, ref: Any) -> Any:
        if ref.kind != "Job":
            return None
        try:
            job = self.job_lister.jobs(namespace).get(ref.name)
        except NotFound:
            return None
        return job if job.metadata is not None and job.metadata.uid == ref.uid else None

    @staticmethod
    def selector_of(job: Any) -> Selector:
        sel = job.spec.selector if job.spec is not None else None
        if sel is None:
            return nothing()
        selector = selector_from_label_selector(sel.to_dict())
        return nothing() if selector.empty() else selector

    def jobs_for_pod(self, pod: Pod) -> list[Any]:
        labels = (pod.metadata.labels if pod.metadata else None) or {}
        if not labels or pod.metadata is None:
            return []
        return [
            j
            for j in self.job_lister.jobs(pod.metadata.namespace or "").list()
            if self.selector_of(j).matches(labels)
        ]

    def _orphan_requests(self, obj: Any) -> list[Request]:
        """A pod with the tracking finalizer that no live, unfinished Job tracks (kube queues these
        from its pod handlers as ``enqueueOrphanPod``)."""
        pod = unwrap(obj)
        meta = pod.metadata
        if meta is None or not _has_finalizer(pod):
            return []
        ref = get_controller_of_no_copy(pod)
        if ref is not None:
            job = self.resolve_controller_ref(meta.namespace or "", ref)
            if job is not None and not _finished(job):
                return []
        return [Request(meta.namespace or "", meta.name or "")]

    def enqueue_orphan(self, pod: Pod) -> None:
        meta = pod.metadata
        if meta is not None:
            self.orphan_controller.queue.add(Request(meta.namespace or "", meta.name or ""))

    def enqueue_orphans_of(self, job: Any) -> None:
        ns = job.metadata.namespace
        for pod in self.pod_lister.pods(ns).list():
            ref = get_controller_of_no_copy(pod)
            if ref is not None and ref.uid == job.metadata.uid and _has_finalizer(pod):
                self.enqueue_orphan(pod)

    async def sync_orphan_pod(self, request: Request) -> Result:
        """Remove the tracking finalizer from a pod no live, unfinished Job tracks (kube's
        ``syncOrphanPod``)."""
        try:
            pod = self.pod_lister.pods(request.namespace).get(request.name)
        except NotFound:
            return Result()
        if not _has_finalizer(pod):
            return Result()
        ref = get_controller_of_no_copy(pod)
        if ref is not None:
            job = self.resolve_controller_ref(request.namespace, ref)
            if job is not None and not _finished(job):
                return Result()  # the Job's sync removes it
        try:
            await self.client.core_v1.pods(request.namespace).patch(request.name, _remove_finalizer_patch())
        except NotFound:
            pass
        return Result()

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """One Job (kube's ``syncJob``)."""
        ns, name = request.namespace, request.name
        key = f"{ns}/{name}"
        try:
            shared = self.job_lister.jobs(ns).get(name)
        except NotFound:
            self.expectations.delete_expectations(key)
            self.finalizer_expectations.delete(key)
            self.backoff_store.pop(key, None)
            return Result()
        if shared.spec is not None and shared.spec.managed_by not in (None, "kubernetes.io/job-controller"):
            return Result()
        job_obj: Job = shared
        job = copy.deepcopy(shared.to_dict())
        if is_job_finished(job):
            self.backoff_store.pop(key, None)
            return Result()
        spec = _spec(job)
        mode = spec.get("completionMode")
        if mode not in (None, "NonIndexed", "Indexed"):
            self.recorder.event(
                job_obj,
                EVENT_TYPE_WARNING,
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )
            return Result()
        status = job.setdefault("status", {})
        uncounted = status.get("uncountedTerminatedPods") or {}
        status["uncountedTerminatedPods"] = {
            k: list(v) for k, v in uncounted.items() if k in ("succeeded", "failed") and v
        }
        satisfied = self.expectations.satisfied_expectations(key)
        pods = await self._pods_for_job(shared)
        active_pods = [p for p in pods if is_pod_active(p)]
        jc = _SyncCtx(
            job=job,
            pods=pods,
            active_pods=active_pods,
            ready=sum(1 for p in active_pods if is_pod_ready(p)),
            terminating=sum(1 for p in pods if _deleting(p) and _phase(p) not in ("Succeeded", "Failed")),
            uncounted_succeeded=set(uncounted.get("succeeded") or []),
            uncounted_failed=set(uncounted.get("failed") or []),
            expected_rm_finalizers=self.finalizer_expectations.expected(key),
        )
        active = len(active_pods)
        new_succeeded, new_failed = self._new_finished_pods(jc)
        policy = spec.get("podFailurePolicy")
        non_ignored = len(new_failed)
        if policy is not None:
            non_ignored = sum(1 for p in new_failed if match_pod_failure_policy(policy, p)[1])
        jc.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(jc.uncounted_succeeded)
        jc.failed = int(status.get("failed") or 0) + non_ignored + len(jc.uncounted_failed)
        now = _now()
        if status.get("startTime") is None and not _suspended(job):
            status["startTime"] = format_time(now)
        jc.backoff = new_backoff_record(self.backoff_store.get(key), new_succeeded, new_failed)
        requeue_after = 0.0

        backoff_limit = int(spec["backoffLimit"]) if spec.get("backoffLimit") is not None else 6
        exceeds_backoff_limit = jc.failed > backoff_limit
        jc.finished_condition = _find_true(job, "SuccessCriteriaMet")
        if jc.finished_condition is None:
            target = _find_true(job, "FailureTarget")
            if target is not None:
                jc.finished_condition = _new_condition(
                    "Failed", target.get("reason", ""), target.get("message", ""), now
                )
            else:
                message = self._fail_job_message(job, pods)
                if message is not None:
                    jc.finished_condition = _new_condition("FailureTarget", "PodFailurePolicy", message, now)
        if jc.finished_condition is None:
            if exceeds_backoff_limit or _past_backoff_limit_on_failure(job, pods, backoff_limit):
                jc.finished_condition = _new_condition(
                    "FailureTarget",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    now,
                )
            elif self._past_active_deadline(job, now):
                jc.finished_condition = _new_condition(
                    "FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now
                )
            elif spec.get("activeDeadlineSeconds") is not None and not _suspended(job):
                start = _parse_time(status.get("startTime")) or now
                left = float(spec["activeDeadlineSeconds"]) - (now - start).total_seconds()
                requeue_after = max(left, 0.001)

        if _is_indexed(job):
            completions = int(spec.get("completions") or 0)
            jc.prev_succeeded_indexes, jc.succeeded_indexes = _calculate_succeeded_indexes(
                job, pods, completions
            )
            jc.succeeded = jc.succeeded_indexes.total()
            if _backoff_limit_per_index(job) is not None:
                jc.failed_indexes = _calculate_failed_indexes(job, pods, completions)
                if jc.finished_condition is None:
                    max_failed = spec.get("maxFailedIndexes")
                    if max_failed is not None and jc.failed_indexes.total() > int(max_failed):
                        jc.finished_condition = _new_condition(
                            "FailureTarget",
                            "MaxFailedIndexesExceeded",
                            "Job has exceeded the specified maximal number of failed indexes",
                            now,
                        )
                    elif (
                        jc.failed_indexes.total() > 0
                        and jc.failed_indexes.total() + jc.succeeded_indexes.total() >= completions
                    ):
                        jc.finished_condition = _new_condition(
                            "FailureTarget", "FailedIndexes", "Job has failed indexes", now
                        )

        suspend_changed = False
        manage_err: BaseException | None = None
        if jc.finished_condition is not None:
            deleted_ready, deleted, manage_err = await self._delete_active_pods(job_obj, jc.active_pods)
            if deleted != active or not satisfied:
                jc.finished_condition = None
            active -= deleted
            jc.terminating += deleted
            jc.ready -= deleted_ready
        else:
            manage_called = False
            if satisfied and job["metadata"].get("deletionTimestamp") is None:
                active, manage_err, delay = await self._manage_job(job_obj, jc, key)
                if delay > 0:
                    requeue_after = delay if requeue_after <= 0 else min(requeue_after, delay)
                manage_called = True
            completions_spec = spec.get("completions")
            if completions_spec is None:
                complete = jc.succeeded > 0 and active == 0
            else:
                complete = jc.succeeded >= int(completions_spec) and active == 0
            if complete:
                jc.finished_condition = _new_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
            elif manage_called:
                if _suspended(job):
                    if _ensure_condition(job, "Suspended", "True", "JobSuspended", "Job suspended", now):
                        suspend_changed = True
                        self.recorder.event(job_obj, EVENT_TYPE_NORMAL, "Suspended", "Job suspended")
                elif _ensure_condition(job, "Suspended", "False", "JobResumed", "Job resumed", now):
                    suspend_changed = True
                    self.recorder.event(job_obj, EVENT_TYPE_NORMAL, "Resumed", "Job resumed")
                    status["startTime"] = format_time(now)

        needs_update = (
            suspend_changed
            or active != int(status.get("active") or 0)
            or status.get("ready") != jc.ready
            or status.get("terminating") != jc.terminating
        )
        _set_or_drop(status, "active", active)
        status["ready"] = jc.ready
        status["terminating"] = jc.terminating
        await self._track_status_and_remove_finalizers(job_obj, jc, key, needs_update)
        if manage_err is not None:
            raise manage_err
        if requeue_after > 0:
            return Result(requeue_after=requeue_after)
        return Result()

    # -- pods -------------------------------------------------------------------------------------

    async def _pods_for_job(self, job: Any) -> list[Pod]:
        """The Job's pods after adopting orphans (with the tracking finalizer) and releasing pods that
        no longer match (kube's ``getPodsForJob``)."""
        ns = job.metadata.namespace
        selector = self.selector_of(job)
        pods = self.pod_lister.pods(ns).list()
        ref = new_controller_ref(job, "batch/v1", "Job")

        async def can_adopt() -> None:
            fresh = await self.client.batch_v1.jobs(ns).get(job.metadata.name)
            if fresh.metadata is None or fresh.metadata.uid != job.metadata.uid:
                raise RuntimeError(f"original Job {ns}/{job.metadata.name} is gone")
            if fresh.metadata.deletion_timestamp is not None:
                raise RuntimeError(f"Job {ns}/{job.metadata.name} has just been deleted")

        async def patch(pod_ns: str, pod_name: str, body: dict[str, Any]) -> Any:
            refs = body.get("metadata", {}).get("ownerReferences") or []
            if refs and "$patch" not in refs[0]:
                body["metadata"]["finalizers"] = [JOB_TRACKING_FINALIZER]  # adoption adds it
            return await self.client.core_v1.pods(pod_ns).patch(pod_name, body)

        manager = ControllerRefManager(job, selector, ref, patch, can_adopt)
        claimed: list[Pod] = await manager.claim(pods)
        out: list[Pod] = []
        for p in claimed:
            owned = any(
                r.uid == job.metadata.uid for r in (p.metadata.owner_references if p.metadata else None) or []
            )
            if not owned and not _has_finalizer(p):
                d = p.to_dict()
                d["metadata"]["finalizers"] = [
                    *(d["metadata"].get("finalizers") or []),
                    JOB_TRACKING_FINALIZER,
                ]
                p = Pod.from_dict(d)
            out.append(p)
        return out

    def _valid_pods(self, jc: _SyncCtx, uncounted: set[str], pred: Any) -> list[Pod]:
        completions = int(_spec(jc.job).get("completions") or 0)
        indexed = _is_indexed(jc.job)
        out: list[Pod] = []
        for p in jc.pods:
            uid = _uid(p)
            if not _has_finalizer(p) or uid in uncounted or uid in jc.expected_rm_finalizers:
                continue
            if indexed:
                ix = completion_index(p)
                if ix == _UNKNOWN_INDEX or ix >= completions:
                    continue
            if pred(p):
                out.append(p)
        return out

    def _new_finished_pods(self, jc: _SyncCtx) -> tuple[list[Pod], list[Pod]]:
        succeeded = self._valid_pods(jc, jc.uncounted_succeeded, lambda p: _phase(p) == "Succeeded")
        failed = self._valid_pods(jc, jc.uncounted_failed, lambda p: is_pod_failed(p, jc.job))
        return succeeded, failed

    @staticmethod
    def _fail_job_message(job: dict[str, Any], pods: list[Pod]) -> str | None:
        policy = _spec(job).get("podFailurePolicy")
        if policy is None:
            return None
        for p in pods:
            if is_pod_failed(p, job):
                message, _, _ = match_pod_failure_policy(policy, p)
                if message is not None:
                    return message
        return None

    @staticmethod
    def _past_active_deadline(job: dict[str, Any], now: _dt.datetime) -> bool:
        ads = _spec(job).get("activeDeadlineSeconds")
        start = _parse_time((job.get("status") or {}).get("startTime"))
        if ads is None or start is None or _suspended(job):
            return False
        return (now - start).total_seconds() >= float(ads)

    async def _delete_active_pods(
        self, job_obj: Job, pods: list[Pod]
    ) -> tuple[int, int, BaseException | None]:
        """Delete the active pods keeping their finalizers (kube's ``deleteActivePods``)."""
        ns = job_obj.metadata.namespace if job_obj.metadata else ""

        async def one(pod: Pod) -> bool:
            try:
                async with self._in_flight:
                    await self.pod_control.delete_pod(
                        ns or "", (pod.metadata.name if pod.metadata else None) or "", job_obj
                    )
            except Exception as err:
                if not is_not_found(err):
                    raise
            return is_pod_ready(pod)

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        deleted = sum(1 for r in results if not isinstance(r, BaseException))
        ready = sum(1 for r in results if r is True)
        err = next((r for r in results if isinstance(r, BaseException)), None)
        return ready, deleted, err

    async def _delete_job_pods(
        self, job_obj: Job, key: str, pods: list[Pod]
    ) -> tuple[int, int, BaseException | None]:
        """Remove the finalizer, then delete (kube's ``deleteJobPods``); failures are not expected."""
        ns = (job_obj.metadata.namespace if job_obj.metadata else None) or ""

        async def one(pod: Pod) -> bool:
            name = (pod.metadata.name if pod.metadata else None) or ""
            try:
                async with self._in_flight:
                    if _has_finalizer(pod):
                        await self.client.core_v1.pods(ns).patch(name, _remove_finalizer_patch())
                    await self.pod_control.delete_pod(ns, name, job_obj)
            except Exception as err:
                self.expectations.deletion_observed(key, pod_key(pod))
                if not is_not_found(err):
                    raise
            return is_pod_ready(pod)

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        ready = sum(1 for r in results if r is True)
        return ready, len(pods) - len(errors), errors[0] if errors else None

    def _pods_for_removal(self, job: dict[str, Any], pods: list[Pod], rm_at_least: int) -> list[Pod]:
        """kube's ``activePodsForRemoval``: duplicated or invalid indexes first, then the least
        advanced pods."""
        rm: list[Pod] = []
        left = list(pods)
        if _is_indexed(job):
            completions = int(_spec(job).get("completions") or 0)
            left = []
            by_index: dict[int, list[Pod]] = {}
            for p in pods:
                ix = completion_index(p)
                if ix == _UNKNOWN_INDEX or ix >= completions:
                    rm.append(p)
                else:
                    by_index.setdefault(ix, []).append(p)
            for ix in sorted(by_index):
                group = active_pods_deletion_order(by_index[ix], [])
                rm.extend(group[:-1])
                left.append(group[-1])
        if len(rm) < rm_at_least:
            rm.extend(active_pods_deletion_order(left, [])[: rm_at_least - len(rm)])
        return rm

    async def _manage_job(
        self, job_obj: Job, jc: _SyncCtx, key: str
    ) -> tuple[int, BaseException | None, float]:
        """Create or delete pods toward the wanted active count (kube's ``manageJob``): returns the
        active count, an error and a delay to look again (back-off)."""
        job = jc.job
        spec = _spec(job)
        active = len(jc.active_pods)
        parallelism = int(spec["parallelism"]) if spec.get("parallelism") is not None else 1
        if _suspended(job):
            victims = self._pods_for_removal(job, jc.active_pods, active)
            self.expectations.expect_deletions(key, [pod_key(p) for p in victims])
            ready, removed, err = await self._delete_job_pods(job_obj, key, victims)
            jc.terminating += removed
            jc.ready -= ready
            return active - removed, err, 0.0
        completions = spec.get("completions")
        if completions is None:
            want = active if jc.succeeded > 0 else parallelism
        else:
            want = max(0, min(int(completions) - jc.succeeded, parallelism))
        rm_at_least = max(0, active - want)
        victims = self._pods_for_removal(job, jc.active_pods, rm_at_least)[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if victims:
            self.expectations.expect_deletions(key, [pod_key(p) for p in victims])
            ready, removed, err = await self._delete_job_pods(job_obj, key, victims)
            jc.terminating += removed
            jc.ready -= ready
            return active - removed, err, 0.0
        terminating = jc.terminating if _only_replace_failed(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None, 0.0
        if _backoff_limit_per_index(job) is None and jc.backoff is not None:
            remaining = backoff_remaining(
                jc.backoff.failures_after_last_success, jc.backoff.last_failure_time, _now()
            )
            if remaining > 0:
                return 0, None, remaining
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int] = []
        if _is_indexed(job):
            indexes = _first_pending_indexes(jc, diff, int(completions or 0))
            if _backoff_limit_per_index(job) is not None:
                indexes, remaining = self._indexes_ready_to_create(jc, indexes)
                if remaining > 0:
                    return 0, None, remaining
            diff = len(indexes)
        if diff <= 0:
            return active, None, 0.0
        self.expectations.expect_creations(key, diff)
        template: dict[str, Any] = copy.deepcopy(spec.get("template") or {})
        if _is_indexed(job):
            _add_completion_index_env(template)
        tmeta = template.setdefault("metadata", {})
        finalizers = list(tmeta.get("finalizers") or [])
        if JOB_TRACKING_FINALIZER not in finalizers:
            finalizers.append(JOB_TRACKING_FINALIZER)
        tmeta["finalizers"] = finalizers
        ref = new_controller_ref(job_obj, "batch/v1", "Job")
        ref_dict: dict[str, Any] = ref
        ns = (job_obj.metadata.namespace if job_obj.metadata else None) or ""
        name = (job_obj.metadata.name if job_obj.metadata else None) or ""
        failed_count: dict[int, Pod] = {}
        if _backoff_limit_per_index(job) is not None:
            failed_count = _last_failed_pod_per_index(jc)
        pending = list(indexes)
        active += diff
        errors: list[BaseException] = []
        batch = min(diff, SLOW_START_INITIAL_BATCH_SIZE)
        remaining_count = diff
        while remaining_count > 0:
            batch_indexes = [pending.pop(0) if pending else _UNKNOWN_INDEX for _ in range(batch)]

            async def create(ix: int) -> None:
                tpl = template
                parent = name
                if ix != _UNKNOWN_INDEX:
                    tpl = copy.deepcopy(template)
                    m = tpl.setdefault("metadata", {})
                    m.setdefault("annotations", {})[COMPLETION_INDEX_ANNOTATION] = str(ix)
                    m.setdefault("labels", {})[COMPLETION_INDEX_ANNOTATION] = str(ix)
                    tpl.setdefault("spec", {})["hostname"] = f"{name}-{ix}"
                    parent = f"{name}-{ix}"
                    if ix in failed_count or _backoff_limit_per_index(job) is not None:
                        _add_index_failure_count(tpl, failed_count.get(ix), job)
                await self._create_pod(ns, tpl, parent, job_obj, ref_dict)

            results = await asyncio.gather(*(create(ix) for ix in batch_indexes), return_exceptions=True)
            batch_errors = []
            for r in results:
                if isinstance(r, BaseException):
                    if isinstance(r, asyncio.CancelledError):
                        raise r
                    self.expectations.creation_observed(key)
                    active -= 1
                    if not has_status_cause(r, NAMESPACE_TERMINATING_CAUSE):
                        batch_errors.append(r)
            errors.extend(batch_errors)
            remaining_count -= batch
            if batch_errors and remaining_count > 0:
                for _ in range(remaining_count):
                    self.expectations.creation_observed(key)
                active -= remaining_count
                break
            batch = min(2 * batch, remaining_count)
        return active, errors[0] if errors else None, 0.0

    async def _create_pod(
        self, ns: str, template: dict[str, Any], parent: str, job_obj: Job, ref: dict[str, Any]
    ) -> None:
        """Create one pod (``generateName`` ``<parent>-``) and record kube's events (kube's
        ``CreatePodsWithGenerateName``)."""
        pod = get_pod_from_template(template, parent, ref)
        try:
            async with self._in_flight:
                created = await self.client.core_v1.pods(ns).create(Pod.from_json(orjson.dumps(pod)))
        except Exception as err:
            if not has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                self.recorder.eventf(job_obj, EVENT_TYPE_WARNING, "FailedCreate", "Error creating: %s", err)
            raise
        self.recorder.eventf(
            job_obj,
            EVENT_TYPE_NORMAL,
            "SuccessfulCreate",
            "Created pod: %s",
            created.metadata.name if created.metadata else "",
        )

    def _indexes_ready_to_create(self, jc: _SyncCtx, indexes: list[int]) -> tuple[list[int], float]:
        last = _last_failed_pod_per_index(jc)
        now = _now()
        ready: list[int] = []
        min_left: float | None = None
        for ix in indexes:
            pod = last.get(ix)
            left = 0.0
            if pod is not None:
                failures = _index_failure_count(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION) + 1
                left = backoff_remaining(failures, pod_finished_time(pod), now)
            if left <= 0:
                ready.append(ix)
            elif min_left is None or left < min_left:
                min_left = left
        if ready:
            return ready, 0.0
        return [], min_left or 0.0

    # -- status tracking --------------------------------------------------------------------------

    async def _track_status_and_remove_finalizers(
        self, job_obj: Job, jc: _SyncCtx, key: str, needs_flush: bool
    ) -> None:
        """kube's ``trackJobStatusAndRemoveFinalizers`` (module docstring)."""
        job = jc.job
        status = job["status"]
        indexed = _is_indexed(job)
        completions = int(_spec(job).get("completions") or 0)
        pods = sorted(jc.pods, key=completion_index) if indexed else jc.pods
        with_finalizer = {
            _uid(p) for p in pods if _has_finalizer(p) and _uid(p) not in jc.expected_rm_finalizers
        }
        if _clean_uncounted(status, with_finalizer):
            needs_flush = True
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        to_remove: list[Pod] = []
        new_succeeded_indexes: list[int] = []
        reached_max = False
        policy = _spec(job).get("podFailurePolicy")
        for pod in pods:
            uid = _uid(pod)
            if not _has_finalizer(pod) or uid in jc.expected_rm_finalizers:
                continue
            failed = is_pod_failed(pod, job)
            if not self._can_remove_finalizer(jc, pod, failed):
                continue
            to_remove.append(pod)
            if _phase(pod) == "Succeeded" and uid not in jc.uncounted_failed:
                if indexed:
                    ix = completion_index(pod)
                    prev = jc.prev_succeeded_indexes
                    if ix != _UNKNOWN_INDEX and ix < completions and (prev is None or not prev.has(ix)):
                        new_succeeded_indexes.append(ix)
                        needs_flush = True
                elif uid not in jc.uncounted_succeeded:
                    needs_flush = True
                    uncounted.setdefault("succeeded", []).append(uid)
            elif failed or (
                jc.finished_condition is not None and jc.finished_condition["type"] != "SuccessCriteriaMet"
            ):
                ix = completion_index(pod)
                if uid not in jc.uncounted_failed and (
                    not indexed or (ix != _UNKNOWN_INDEX and ix < completions)
                ):
                    counts = True if policy is None else match_pod_failure_policy(policy, pod)[1]
                    if counts:
                        needs_flush = True
                        uncounted.setdefault("failed", []).append(uid)
            n = (
                len(new_succeeded_indexes)
                + len(uncounted.get("succeeded") or [])
                + len(uncounted.get("failed") or [])
            )
            if n >= MAX_UNCOUNTED_PODS:
                reached_max = True
                break
        if indexed:
            base = jc.succeeded_indexes or OrderedIntervals()
            jc.succeeded_indexes = base.with_ordered_indexes(new_succeeded_indexes)
            text = str(jc.succeeded_indexes)
            if text != (status.get("completedIndexes") or ""):
                needs_flush = True
            _set_or_drop(status, "succeeded", jc.succeeded_indexes.total())
            status["completedIndexes"] = text
            failed_text = None if jc.failed_indexes is None else str(jc.failed_indexes)
            if status.get("failedIndexes") != failed_text:
                needs_flush = True
                if failed_text is None:
                    status.pop("failedIndexes", None)
                else:
                    status["failedIndexes"] = failed_text
        fc = jc.finished_condition
        if fc is not None and fc["type"] == "FailureTarget":
            _conditions(job).append(fc)
            needs_flush = True
            jc.finished_condition = _new_condition("Failed", fc["reason"], fc["message"], _now())
        elif fc is not None and fc["type"] == "SuccessCriteriaMet":
            if _find_true(job, "SuccessCriteriaMet") is None:
                _conditions(job).append(fc)
                needs_flush = True
            jc.finished_condition = _new_condition("Complete", fc["reason"], fc["message"], _now())

        # 1. flush the new uncounted UIDs (and the interim conditions)
        if needs_flush:
            job = await self._update_status(jc)
            if jc.backoff is not None:
                self.backoff_store[key] = jc.backoff
            needs_flush = False
        # 2. remove the finalizers
        rm_err: BaseException | None = None
        if to_remove:
            self.finalizer_expectations.expect_removed(key, [_uid(p) for p in to_remove])
            ns = (job_obj.metadata.namespace if job_obj.metadata else None) or ""

            async def remove(pod: Pod) -> bool:
                name = (pod.metadata.name if pod.metadata else None) or ""
                try:
                    async with self._in_flight:
                        await self.client.core_v1.pods(ns).patch(name, _remove_finalizer_patch())
                except Exception as err:
                    self.finalizer_expectations.observed(key, _uid(pod))
                    if not is_not_found(err):
                        raise
                return True

            results = await asyncio.gather(*(remove(p) for p in to_remove), return_exceptions=True)
            for pod, r in zip(to_remove, results, strict=True):
                if r is True:
                    with_finalizer.discard(_uid(pod))
                elif isinstance(r, BaseException) and rm_err is None:
                    rm_err = r
        # 3. count the pods whose finalizer is gone
        if _clean_uncounted(jc.job["status"], with_finalizer):
            needs_flush = True
        if rm_err is not None:
            if needs_flush:
                await self._update_status(jc)
            raise rm_err
        finished = not reached_max and self._enact_job_finished(jc)
        if finished:
            needs_flush = True
        if needs_flush:
            await self._update_status(jc)
            if finished and jc.finished_condition is not None:
                self._record_job_finished(job_obj, jc)
        del job

    @staticmethod
    def _can_remove_finalizer(jc: _SyncCtx, pod: Pod, failed: bool) -> bool:
        if jc.job["metadata"].get("deletionTimestamp") is not None or jc.finished_condition is not None:
            return True
        if _phase(pod) == "Succeeded":
            return True
        if not failed:
            return False
        if _backoff_limit_per_index(jc.job) is not None:
            ix = completion_index(pod)
            if ix != _UNKNOWN_INDEX:
                delayed = _pods_with_delayed_deletion(jc)
                p = delayed.get(ix)
                if p is not None and _uid(p) == _uid(pod):
                    return False
        return True

    def _enact_job_finished(self, jc: _SyncCtx) -> bool:
        fc = jc.finished_condition
        if fc is None:
            return False
        uncounted = jc.job["status"].get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed"):
            return False
        if jc.terminating > 0:
            return False
        now = _now()
        _ensure_condition(jc.job, fc["type"], fc["status"], fc["reason"], fc["message"], now)
        if fc["type"] == "Complete":
            jc.job["status"]["completionTime"] = _find_condition(jc.job, "Complete")["lastTransitionTime"]  # type: ignore[index]
        return True

    def _record_job_finished(self, job_obj: Job, jc: _SyncCtx) -> None:
        fc = jc.finished_condition
        assert fc is not None
        if fc["type"] == "Complete":
            completions = _spec(jc.job).get("completions")
            succeeded = int(jc.job["status"].get("succeeded") or 0)
            if completions is not None and succeeded > int(completions):
                self.recorder.event(
                    job_obj,
                    EVENT_TYPE_WARNING,
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.recorder.event(job_obj, EVENT_TYPE_NORMAL, "Completed", "Job completed")
        else:
            self.recorder.event(job_obj, EVENT_TYPE_WARNING, fc["reason"], fc["message"])

    async def _update_status(self, jc: _SyncCtx) -> dict[str, Any]:
        """Write ``jc.job``'s status (the resourceVersion it was read at: a conflict retries the sync)."""
        job = jc.job
        status = job["status"]
        body = {**job, "status": _wire_status(status)}
        updated = await self.client.batch_v1.jobs(job["metadata"]["namespace"]).update_status(
            Job.from_dict(body)
        )
        if updated.metadata is not None:
            job["metadata"]["resourceVersion"] = updated.metadata.resource_version
        return job


# -- helpers of sync ---------------------------------------------------------------------------------------


def _remove_finalizer_patch() -> dict[str, Any]:
    return {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


def _find_true(job: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    c = _find_condition(job, ctype)
    return c if c is not None and c.get("status") == "True" else None


def _set_or_drop(status: dict[str, Any], key: str, value: int) -> None:
    if value:
        status[key] = value
    else:
        status.pop(key, None)


def _wire_status(status: dict[str, Any]) -> dict[str, Any]:
    out = dict(status)
    uncounted = out.get("uncountedTerminatedPods") or {}
    out["uncountedTerminatedPods"] = {k: v for k, v in uncounted.items() if v}
    for k in ("succeeded", "failed", "active"):
        if not out.get(k):
            out.pop(k, None)
    if not out.get("conditions"):
        out.pop("conditions", None)
    return out


def _clean_uncounted(status: dict[str, Any], with_finalizer: set[str]) -> bool:
    """Move uncounted UIDs whose pods lost the finalizer into the counters (kube's
    ``cleanUncountedPodsWithoutFinalizers``)."""
    updated = False
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    for field_name, counter in (("succeeded", "succeeded"), ("failed", "failed")):
        uids = list(uncounted.get(field_name) or [])
        keep = [u for u in uids if u in with_finalizer]
        if len(keep) != len(uids):
            updated = True
            status[counter] = int(status.get(counter) or 0) + len(uids) - len(keep)
            uncounted[field_name] = keep
    return updated


def _past_backoff_limit_on_failure(job: dict[str, Any], pods: list[Pod], backoff_limit: int) -> bool:
    """Container restarts of running/pending pods reach backoffLimit (restartPolicy OnFailure only)."""
    tspec = (_spec(job).get("template") or {}).get("spec") or {}
    if tspec.get("restartPolicy") != "OnFailure":
        return False
    total = 0
    for p in pods:
        if _phase(p) in ("Running", "Pending") and p.status is not None:
            for cs in [*(p.status.init_container_statuses or []), *(p.status.container_statuses or [])]:
                total += int(cs.restart_count or 0)
    if backoff_limit == 0:
        return total > 0
    return total >= backoff_limit


def _calculate_succeeded_indexes(
    job: dict[str, Any], pods: list[Pod], completions: int
) -> tuple[OrderedIntervals, OrderedIntervals]:
    prev = OrderedIntervals.parse((job.get("status") or {}).get("completedIndexes"), completions)
    new = {
        ix
        for p in pods
        if _phase(p) == "Succeeded"
        and _has_finalizer(p)
        and (ix := completion_index(p)) != _UNKNOWN_INDEX
        and ix < completions
    }
    return prev, prev.with_ordered_indexes(new)


def _calculate_failed_indexes(job: dict[str, Any], pods: list[Pod], completions: int) -> OrderedIntervals:
    """kube's ``calculateFailedIndexes``: indexes whose pod failed past backoffLimitPerIndex or matched
    a FailIndex rule."""
    prev = OrderedIntervals.parse((job.get("status") or {}).get("failedIndexes"), completions)
    limit = _backoff_limit_per_index(job) or 0
    policy = _spec(job).get("podFailurePolicy")
    new: set[int] = set()
    for p in pods:
        if not _has_finalizer(p) or not is_pod_failed(p, job):
            continue
        ix = completion_index(p)
        if ix == _UNKNOWN_INDEX or ix >= completions:
            continue
        action = match_pod_failure_policy(policy, p)[2] if policy is not None else None
        if action == "FailIndex" or (
            action != "Ignore" and _index_failure_count(p, JOB_INDEX_FAILURE_COUNT_ANNOTATION) >= limit
        ):
            new.add(ix)
    return prev.with_ordered_indexes(new)


def _last_failed_pod_per_index(jc: _SyncCtx) -> dict[int, Pod]:
    out: dict[int, Pod] = {}
    completions = int(_spec(jc.job).get("completions") or 0)
    for p in jc.pods:
        if not is_pod_failed(p, jc.job):
            continue
        ix = completion_index(p)
        if ix == _UNKNOWN_INDEX or ix >= completions:
            continue
        cur = out.get(ix)
        if cur is None or pod_finished_time(p) > pod_finished_time(cur):
            out[ix] = p
    return out


def _pods_with_delayed_deletion(jc: _SyncCtx) -> dict[int, Pod]:
    """Failed pods (with the finalizer) of indexes that will be retried: their failure counts pass to
    the replacement before the finalizer goes (kube's ``getPodsWithDelayedDeletionPerIndex``)."""
    failed = jc.failed_indexes or OrderedIntervals()
    succeeded = jc.succeeded_indexes or OrderedIntervals()
    out: dict[int, Pod] = {}
    for ix, pod in _last_failed_pod_per_index(jc).items():
        if _has_finalizer(pod) and not failed.has(ix) and not succeeded.has(ix):
            out[ix] = pod
    return out


def _first_pending_indexes(jc: _SyncCtx, count: int, completions: int) -> list[int]:
    """The lowest indexes neither succeeded, failed nor held by an active (or, with podReplacementPolicy
    Failed, terminating) pod (kube's ``firstPendingIndexes``)."""
    taken: set[int] = set()
    for p in jc.active_pods:
        taken.add(completion_index(p))
    if _only_replace_failed(jc.job):
        for p in jc.pods:
            if _deleting(p) and _phase(p) not in ("Succeeded", "Failed"):
                taken.add(completion_index(p))
    done = jc.succeeded_indexes or OrderedIntervals()
    failed = jc.failed_indexes or OrderedIntervals()
    out: list[int] = []
    for ix in range(completions):
        if len(out) >= count:
            break
        if ix in taken or done.has(ix) or failed.has(ix):
            continue
        out.append(ix)
    return out


def _add_completion_index_env(template: dict[str, Any]) -> None:
    spec = template.setdefault("spec", {})
    env_var = {
        "name": COMPLETION_INDEX_ENV,
        "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"}},
    }
    for group in ("initContainers", "containers"):
        for c in spec.get(group) or []:
            env = c.setdefault("env", [])
            if not any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                env.append(copy.deepcopy(env_var))


def _add_index_failure_count(template: dict[str, Any], last_failed: Pod | None, job: dict[str, Any]) -> None:
    """The replacement pod carries the index's failure counts (kube's ``addIndexFailureCountAnnotation``)."""
    annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
    failures = ignored = 0
    if last_failed is not None:
        failures = _index_failure_count(last_failed, JOB_INDEX_FAILURE_COUNT_ANNOTATION)
        ignored = _index_failure_count(last_failed, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)
        policy = _spec(job).get("podFailurePolicy")
        action = match_pod_failure_policy(policy, last_failed)[2] if policy is not None else None
        if action == "Ignore":
            ignored += 1
        else:
            failures += 1
    annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = str(failures)
    if ignored:
        annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)


def new_job_controller(ctx: ControllerContext) -> JobController:
    """The registry's init function."""
    return JobController(ctx)
