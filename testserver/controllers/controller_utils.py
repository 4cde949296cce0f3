"""What the workload controllers share (kube's ``pkg/controller/controller_utils.go``).

- :class:`ControllerExpectations`: kube's ``UIDTrackingControllerExpectations``. Before a controller
  creates or deletes pods it records how many creations and which deletions it expects; the pod
  informer's handlers lower the counts as the cache sees them. ``sync`` acts only when the
  expectations of its key are satisfied (or older than :data:`EXPECTATIONS_TIMEOUT`), so a controller
  never acts twice on a cache that has not yet seen its own writes.
- :func:`slow_start_batch`: creations in batches 1, 2, 4, ... stopping at the first failure.
- :class:`PodControl`: creates pods from a template with a controller reference (``generateName``
  ``<owner>-``) and deletes pods, recording kube's ``SuccessfulCreate``/``FailedCreate``/
  ``SuccessfulDelete``/``FailedDelete`` events on the owner.
- :class:`ControllerRefManager`: kube's ``BaseControllerRefManager.ClaimObject``: adopt orphans that
  match the selector, release owned objects that no longer match, with kube's strategic merge patches.
- :func:`active_pods_deletion_key`: the order scale-down deletes pods in (``ActivePodsWithRanks``).
- :func:`compute_hash` / :func:`safe_encode_string`: the ``pod-template-hash`` value (FNV-32a,
  collision count appended as kube, encoded with kube's ``SafeEncodeString`` alphabet).

Pod predicates (readiness, availability, activity) and controller references come from the SDK
(:mod:`pyclientgo.component_helpers.pod`, :mod:`pyclientgo.apimachinery.meta`).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import functools
import logging
import math
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery.labels import Selector
from pyclientgo.apimachinery.meta import get_controller_of_no_copy
from pyclientgo.apimachinery.meta import new_controller_ref as _new_controller_ref
from pyclientgo.component_helpers.pod import get_pod_ready_condition, is_pod_active, is_pod_ready
from pyclientgo.errors import has_status_cause, is_invalid, is_not_found
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE

__all__ = [
    "BURST_REPLICAS",
    "EXPECTATIONS_TIMEOUT",
    "SLOW_START_INITIAL_BATCH_SIZE",
    "ControllerExpectations",
    "ControllerRefManager",
    "PodControl",
    "POD_CONTROLLER_UID_INDEX",
    "active_pods_deletion_order",
    "add_pod_controller_uid_index",
    "compute_hash",
    "controller_ref_of",
    "filter_active_pods",
    "get_pod_from_template",
    "new_controller_ref",
    "pod_key",
    "pods_owned_or_orphaned",
    "safe_encode_string",
    "slow_start_batch",
]

EXPECTATIONS_TIMEOUT = 5 * 60.0
"""kube's ``ExpectationsTimeout``: expectations older than this count as satisfied."""
SLOW_START_INITIAL_BATCH_SIZE = 1
"""kube's ``SlowStartInitialBatchSize``."""
BURST_REPLICAS = 500
"""kube's ``BurstReplicas``: at most this many creations or deletions per sync."""

POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

log = logging.getLogger("kube-controller-manager.controller_utils")


# -- expectations ---------------------------------------------------------------------------------


@dataclass
class _Expectee:
    add: int = 0
    delete: int = 0
    timestamp: float = 0.0
    deleting: set[str] = field(default_factory=set)
    """Keys of the pods this controller deleted and has not seen deleted yet (the UID tracking)."""

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class ControllerExpectations:
    """kube's ``UIDTrackingControllerExpectations``: creations and deletions a controller waits to see
    in its cache, per controller key. Thread-safe (listers and handlers may run on other threads)."""

    def __init__(self, *, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._store: dict[str, _Expectee] = {}

    def satisfied_expectations(self, key: str) -> bool:
        """Whether ``key`` may sync: no expectations, fulfilled ones, or expired ones (kube's
        ``SatisfiedExpectations``)."""
        with self._lock:
            exp = self._store.get(key)
            if exp is None:
                return True
            if exp.fulfilled():
                return True
            if self._now() - exp.timestamp > EXPECTATIONS_TIMEOUT:
                log.info("expectations of %s expired (add %d, delete %d)", key, exp.add, exp.delete)
                return True
            return False

    def get(self, key: str) -> tuple[int, int] | None:
        """The (add, delete) counts still expected for ``key``, None when there are none."""
        with self._lock:
            exp = self._store.get(key)
            return None if exp is None else (exp.add, exp.delete)

    def expect_creations(self, key: str, adds: int) -> None:
        """Expect ``adds`` pod creations (replaces earlier expectations, as kube's ``SetExpectations``)."""
        with self._lock:
            self._store[key] = _Expectee(add=adds, timestamp=self._now())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Expect the deletion of these pods (by ``namespace/name``)."""
        keys = set(pod_keys)
        with self._lock:
            self._store[key] = _Expectee(delete=len(keys), timestamp=self._now(), deleting=keys)

    def creation_observed(self, key: str) -> None:
        """One expected creation was seen (or will never happen: a create failed or was skipped)."""
        with self._lock:
            exp = self._store.get(key)
            if exp is not None:
                exp.add -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """The deletion of ``pod_key`` was seen; counted once per pod."""
        with self._lock:
            exp = self._store.get(key)
            if exp is not None and pod_key in exp.deleting:
                exp.deleting.discard(pod_key)
                exp.delete -= 1

    def delete_expectations(self, key: str) -> None:
        """Forget ``key`` (its controller was deleted)."""
        with self._lock:
            self._store.pop(key, None)


# -- batches --------------------------------------------------------------------------------------


async def slow_start_batch(
    count: int, initial_batch_size: int, fn: Callable[[], Awaitable[None]]
) -> tuple[int, BaseException | None]:
    """Call ``fn`` ``count`` times in batches of doubling size, concurrently within a batch; stop
    after the first batch with a failure. Returns (successes, first error) — kube's ``slowStartBatch``."""
    remaining = count
    successes = 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for r in errors:
            if isinstance(r, asyncio.CancelledError):
                raise r
        successes += batch - len(errors)
        if errors:
            return successes, errors[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


# -- pods -----------------------------------------------------------------------------------------


def pod_key(pod: Any) -> str:
    """``namespace/name`` of a pod (kube's ``PodKey``)."""
    meta = pod.metadata
    return f"{meta.namespace}/{meta.name}"


POD_CONTROLLER_UID_INDEX = "workloads/controller-uid"
"""Pod index: ``<namespace>/<controller uid>``, ``<namespace>/`` for orphans (kube's
``PodControllerUIDIndex`` idea: a controller reads its own pods and the orphans it may adopt instead
of every pod of the namespace)."""


def _pod_controller_uid(obj: Any) -> list[str]:
    meta = getattr(obj, "metadata", None)
    if meta is None:
        return []
    ref = get_controller_of_no_copy(obj)
    return [f"{meta.namespace or ''}/{(ref.uid or '') if ref is not None else ''}"]


def add_pod_controller_uid_index(informer: Any) -> None:
    """Add :data:`POD_CONTROLLER_UID_INDEX` to a pod informer (once; the controllers share it)."""
    if POD_CONTROLLER_UID_INDEX not in informer.get_indexer().get_indexers():
        informer.add_indexers({POD_CONTROLLER_UID_INDEX: _pod_controller_uid})


def pods_owned_or_orphaned(informer: Any, namespace: str, uid: str) -> list[Pod]:
    """The cached pods of ``namespace`` controlled by ``uid`` plus the orphans: every pod a claim
    can keep or adopt (pods controlled by others are never claimed)."""
    indexer = informer.get_indexer()
    owned: list[Pod] = indexer.by_index(POD_CONTROLLER_UID_INDEX, f"{namespace}/{uid}")
    orphans: list[Pod] = indexer.by_index(POD_CONTROLLER_UID_INDEX, f"{namespace}/")
    return [*owned, *orphans]


def filter_active_pods(pods: Iterable[Pod]) -> list[Pod]:
    """The active pods of ``pods`` (kube's ``FilterActivePods``)."""
    return [p for p in pods if is_pod_active(p)]


def _pod_ready_time(pod: Pod) -> _dt.datetime | None:
    c = get_pod_ready_condition(pod.status)
    return c.last_transition_time if c is not None and c.status == "True" else None


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_cost(pod: Pod) -> int:
    annotations = (pod.metadata.annotations if pod.metadata is not None else None) or {}
    try:
        return int(annotations.get(POD_DELETION_COST, "0"))
    except ValueError:
        return 0


def _max_container_restarts(pod: Pod) -> tuple[int, int]:
    regular = 0
    sidecar = 0
    status = pod.status
    if status is None:
        return 0, 0
    for cs in status.container_statuses or []:
        regular = max(regular, cs.restart_count or 0)
    sidecars = {
        c.name
        for c in (pod.spec.init_containers if pod.spec is not None else None) or []
        if c.restart_policy == "Always"
    }
    for cs in status.init_container_statuses or []:
        if cs.name in sidecars:
            sidecar = max(sidecar, cs.restart_count or 0)
    return regular, sidecar


def _log2_rank(t: _dt.datetime, now: _dt.datetime) -> int:
    nanos = (now - t) / _dt.timedelta(microseconds=1) * 1000
    return int(math.log2(nanos)) if nanos > 0 else -1


def _after_or_zero(t1: _dt.datetime | None, t2: _dt.datetime | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _compare_times(
    t1: _dt.datetime | None, t2: _dt.datetime | None, uid1: str, uid2: str, now: _dt.datetime
) -> bool:
    """kube's logarithmic comparison of two ready/creation times: True when the first sorts first."""
    if t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log2_rank(t1, now) - _log2_rank(t2, now)
    if diff == 0:
        return uid1 < uid2
    return diff < 0


def _uid(pod: Pod) -> str:
    return (pod.metadata.uid if pod.metadata is not None else None) or ""


def _node(pod: Pod) -> str:
    return (pod.spec.node_name if pod.spec is not None else None) or ""


def _phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status is not None else None) or ""


def _created(pod: Pod) -> _dt.datetime | None:
    return pod.metadata.creation_timestamp if pod.metadata is not None else None


def _less(a: tuple[Pod, int], b: tuple[Pod, int], now: _dt.datetime) -> bool:
    """kube's ``ActivePodsWithRanks.Less`` (pod, rank) with PodDeletionCost and LogarithmicScaleDown."""
    pi, ri = a
    pj, rj = b
    ni, nj = _node(pi), _node(pj)
    if ni != nj and (not ni or not nj):
        return not ni
    oi, oj = _PHASE_ORDINAL.get(_phase(pi), 0), _PHASE_ORDINAL.get(_phase(pj), 0)
    if oi != oj:
        return oi < oj
    readyi, readyj = is_pod_ready(pi), is_pod_ready(pj)
    if readyi != readyj:
        return not readyi
    ci, cj = _deletion_cost(pi), _deletion_cost(pj)
    if ci != cj:
        return ci < cj
    if ri != rj:
        return ri > rj
    if readyi and readyj:
        ti, tj = _pod_ready_time(pi), _pod_ready_time(pj)
        if ti != tj:
            return _compare_times(ti, tj, _uid(pi), _uid(pj), now)
    restarts_i, restarts_j = _max_container_restarts(pi), _max_container_restarts(pj)
    if restarts_i[0] != restarts_j[0]:
        return restarts_i[0] > restarts_j[0]
    if restarts_i[1] != restarts_j[1]:
        return restarts_i[1] > restarts_j[1]
    ci_t, cj_t = _created(pi), _created(pj)
    if ci_t != cj_t:
        return _compare_times(ci_t, cj_t, _uid(pi), _uid(pj), now)
    return False


def active_pods_deletion_order(
    pods: Sequence[Pod], related: Iterable[Pod], *, now: _dt.datetime | None = None
) -> list[Pod]:
    """``pods`` in the order scale-down deletes them (kube's ``getPodsRankedByRelatedPodsOnSameNode``
    then ``ActivePodsWithRanks``): unassigned < pending < unknown < running, not ready < ready, lower
    deletion cost, more active related pods on the same node, ready for less time, more restarts,
    newer (log2 buckets of age, then UID)."""
    on_node: dict[str, int] = {}
    for p in related:
        if is_pod_active(p):
            on_node[_node(p)] = on_node.get(_node(p), 0) + 1
    at = now or _dt.datetime.now(_dt.UTC)
    ranked = [(p, on_node.get(_node(p), 0)) for p in pods]

    def cmp(a: tuple[Pod, int], b: tuple[Pod, int]) -> int:
        if _less(a, b, at):
            return -1
        if _less(b, a, at):
            return 1
        return 0

    ranked.sort(key=functools.cmp_to_key(cmp))
    return [p for p, _ in ranked]


# -- controller references ------------------------------------------------------------------------


def controller_ref_of(obj: Any) -> Any:
    """The controller ownerReference of ``obj`` (typed model), or None (the SDK's
    ``get_controller_of_no_copy``; the handlers only read it)."""
    return get_controller_of_no_copy(obj)


def new_controller_ref(owner: Any, api_version: str, kind: str) -> dict[str, Any]:
    """A controller ownerReference to ``owner`` as a wire dict (the SDK's ``new_controller_ref``:
    ``controller`` and ``blockOwnerDeletion`` true)."""
    return _new_controller_ref(owner, api_version, kind).to_dict()


# -- pod control ----------------------------------------------------------------------------------


def get_pod_from_template(
    template: dict[str, Any], parent_name: str, controller_ref: dict[str, Any] | None
) -> dict[str, Any]:
    """The pod (wire dict) a controller creates from its template (kube's ``GetPodFromTemplate``):
    the template's labels, annotations and finalizers, ``generateName`` ``<parent>-``, the owner
    reference and a copy of the spec."""
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    pod_meta: dict[str, Any] = {"generateName": f"{parent_name}-", "labels": labels}
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    if meta.get("finalizers"):
        pod_meta["finalizers"] = list(meta["finalizers"])
    if controller_ref is not None:
        pod_meta["ownerReferences"] = [controller_ref]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}


class PodControl:
    """Creates and deletes pods for a controller and records kube's events about it on the owner
    (kube's ``RealPodControl``)."""

    def __init__(self, clientset: AsyncClientset, recorder: EventRecorder) -> None:
        self.client = clientset
        self.recorder = recorder

    async def create_pod_with_controller_ref(
        self, namespace: str, template: dict[str, Any], owner: Any, controller_ref: dict[str, Any]
    ) -> Pod:
        """Create one pod from ``template`` owned by ``owner``; events ``SuccessfulCreate`` "Created
        pod: <name>" or ``FailedCreate`` "Error creating: <error>" (not for a terminating namespace)."""
        pod = get_pod_from_template(template, owner.metadata.name, controller_ref)
        if not pod["metadata"]["labels"]:
            raise ValueError("unable to create pods, no labels")
        try:
            # a lazy model of the wire JSON: written back as is, no eager validation of the spec
            created = await self.client.core_v1.pods(namespace).create(Pod.from_json(orjson.dumps(pod)))
        except Exception as err:
            if not has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                self.recorder.eventf(owner, EVENT_TYPE_WARNING, "FailedCreate", "Error creating: %s", err)
            raise
        name = created.metadata.name if created.metadata is not None else ""
        self.recorder.eventf(owner, EVENT_TYPE_NORMAL, "SuccessfulCreate", "Created pod: %s", name)
        return created

    async def delete_pod(self, namespace: str, name: str, owner: Any) -> None:
        """Delete one pod; events ``SuccessfulDelete`` "Deleted pod: <name>" or ``FailedDelete``
        "Error deleting: <error>" (a pod already gone raises NotFound without an event)."""
        try:
            await self.client.core_v1.pods(namespace).delete(name)
        except Exception as err:
            if not is_not_found(err):
                self.recorder.eventf(owner, EVENT_TYPE_WARNING, "FailedDelete", "Error deleting: %s", err)
            raise
        self.recorder.eventf(owner, EVENT_TYPE_NORMAL, "SuccessfulDelete", "Deleted pod: %s", name)


# -- adoption and release -------------------------------------------------------------------------


def _owner_patch(owner_ref: dict[str, Any], uid: str) -> dict[str, Any]:
    return {"metadata": {"ownerReferences": [owner_ref], "uid": uid}}


def _release_patch(owner_uid: str, uid: str) -> dict[str, Any]:
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": uid}}


class ControllerRefManager:
    """Claims objects for a controller (kube's ``BaseControllerRefManager`` +
    ``PodControllerRefManager``/``ReplicaSetControllerRefManager``).

    ``patch(namespace, name, body)`` applies a strategic merge patch to one object; ``can_adopt`` is
    kube's ``RecheckDeletionTimestamp`` (a fresh, uncached read of the controller), asked once before
    the first adoption.
    """

    def __init__(
        self,
        controller: Any,
        selector: Selector,
        controller_ref: dict[str, Any],
        patch: Callable[[str, str, dict[str, Any]], Awaitable[Any]],
        can_adopt: Callable[[], Awaitable[None]],
    ) -> None:
        self.controller = controller
        self.selector = selector
        self.controller_ref = controller_ref
        self.patch = patch
        self._can_adopt = can_adopt
        self._adopt_checked: BaseException | bool | None = False
        self.uid: str = controller.metadata.uid
        self.deleting = controller.metadata.deletion_timestamp is not None

    async def _check_adopt(self) -> None:
        if self._adopt_checked is False:
            try:
                await self._can_adopt()
                self._adopt_checked = None
            except Exception as err:
                self._adopt_checked = err
        if isinstance(self._adopt_checked, BaseException):
            raise self._adopt_checked

    async def claim(self, objects: Iterable[Any]) -> list[Any]:
        """The objects this controller owns after adopting matching orphans and releasing owned
        objects that no longer match; errors of individual objects are collected and the first is
        raised after all were tried (kube's ``ClaimPods``/``ClaimReplicaSets``)."""
        claimed: list[Any] = []
        errors: list[BaseException] = []
        for obj in objects:
            try:
                if await self._claim_one(obj):
                    claimed.append(obj)
            except Exception as err:
                errors.append(err)
        if errors:
            raise errors[0]
        return claimed

    async def _claim_one(self, obj: Any) -> bool:
        meta = obj.metadata
        labels = meta.labels or {}
        ref = controller_ref_of(obj)
        if ref is not None:
            if ref.uid != self.uid:
                return False  # owned by another controller
            if self.selector.matches(labels):
                return True
            if self.deleting:
                return False
            try:
                await self.patch(meta.namespace, meta.name, _release_patch(self.uid, meta.uid))
            except Exception as err:
                if is_not_found(err) or is_invalid(err):
                    # gone, or a new object under the name (the uid precondition failed)
                    return False
                raise
            return False
        # an orphan
        if self.deleting or not self.selector.matches(labels):
            return False
        if meta.deletion_timestamp is not None:
            return False
        await self._check_adopt()
        try:
            await self.patch(meta.namespace, meta.name, _owner_patch(self.controller_ref, meta.uid))
        except Exception as err:
            if is_not_found(err):
                return False
            raise
        return True


# -- pod-template-hash ----------------------------------------------------------------------------

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def _fnv32a(data: bytes, h: int = _FNV32_OFFSET) -> int:
    for byte in data:
        h ^= byte
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    """kube's ``rand.SafeEncodeString``: each byte mapped into ``bcdfghjklmnpqrstvwxz2456789`` (no
    vowels, no ambiguous characters)."""
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in s.encode())


def compute_hash(template: dict[str, Any], collision_count: int | None) -> str:
    """The ``pod-template-hash`` of a pod template (wire dict), kube's ``ComputeHash``: FNV-32a over a
    deterministic dump of the template (kube dumps the Go struct with spew; this dumps canonical JSON
    with sorted keys, so values differ from kube's but are as stable), then the collision count as
    8 bytes (uint32 little-endian + 4 zero bytes) when set, the sum in decimal, safe-encoded."""
    h = _fnv32a(orjson.dumps(template, option=orjson.OPT_SORT_KEYS))
    if collision_count is not None:
        h = _fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\0\0\0\0", h)
    return safe_encode_string(str(h))
