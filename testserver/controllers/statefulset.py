"""The StatefulSet controller (kube's ``pkg/controller/statefulset``: stateful_set.go,
stateful_set_control.go, stateful_pod_control.go, stateful_set_utils.go).

StatefulSet, pod and ControllerRevision events queue the set; ``sync`` claims the set's pods (adopting
matching orphans), computes the current and update revisions (:mod:`testserver.controllers.history`),
then walks the ordinals ``[start, start + replicas)``:

- a missing pod ``<set>-<ordinal>`` is created (its PVCs ``<claim>-<set>-<ordinal>`` first) from the
  current revision below the partition and the update revision above it; hostname ``<set>-<ordinal>``,
  subdomain ``serviceName``, labels ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index``
  and ``controller-revision-hash`` (the revision name);
- a Failed or Succeeded pod is deleted to be recreated;
- ``OrderedReady`` waits for each pod to be Running and Ready (and available after ``minReadySeconds``)
  before the next ordinal and deletes surplus pods one at a time from the highest ordinal once all are
  healthy; ``Parallel`` does both at once;
- ``RollingUpdate`` deletes, from the highest ordinal down to ``partition``, one pod at a time that is not
  on the update revision, waiting for the recreated pod to be healthy (kube 1.32 without the alpha
  ``MaxUnavailableStatefulSet`` gate: ``maxUnavailable`` is not honoured); ``OnDelete`` leaves pods alone.

``persistentVolumeClaimRetentionPolicy``: ``whenDeleted: Delete`` gives the claims an ownerReference to
the set, ``whenScaled: Delete`` gives a condemned pod's claims one to the pod before it is deleted
(the garbage collector then removes them). The status carries replicas, readyReplicas,
currentReplicas, updatedReplicas, availableReplicas, currentRevision, updateRevision, collisionCount
and observedGeneration; the oldest unused revisions beyond ``revisionHistoryLimit`` are deleted.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as _dt
import re
from typing import Any

from pyclientgo.api.apps.v1 import StatefulSet
from pyclientgo.api.core.v1 import PersistentVolumeClaim, Pod
from pyclientgo.apimachinery.labels import Selector, nothing, selector_from_label_selector
from pyclientgo.component_helpers.pod import is_pod_available, is_pod_ready
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.errors import NotFound, is_already_exists, is_conflict, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers._util import ignorable_create_error, unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import (
    SLOW_START_INITIAL_BATCH_SIZE,
    ControllerRefManager,
    add_pod_controller_uid_index,
    controller_ref_of,
    new_controller_ref,
    pods_owned_or_orphaned,
    slow_start_batch,
)
from testserver.controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    create_controller_revision,
    find_equal_revisions,
    max_revision,
    new_controller_revision,
    owned_revisions,
    template_from_revision,
    template_patch,
    unused_revisions,
)

__all__ = [
    "CONTROLLER_NAME",
    "POD_INDEX_LABEL",
    "STATEFUL_SET_POD_NAME_LABEL",
    "StatefulSetController",
    "new_statefulset_controller",
]

CONTROLLER_NAME = "statefulset-controller"
STATEFUL_SET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_KIND = "StatefulSet"
MAX_IN_FLIGHT_WRITES = 24
"""Pod and claim creations in flight at once (the client's keep-alive pool is 25)."""
_API_VERSION = "apps/v1"


def _spec(sts: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = sts.get("spec") or {}
    return spec


def _replicas(sts: dict[str, Any]) -> int:
    r = _spec(sts).get("replicas")
    return 1 if r is None else int(r)


def _start_ordinal(sts: dict[str, Any]) -> int:
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def _parse_ordinal(set_name: str, pod_name: str) -> int | None:
    m = re.fullmatch(re.escape(set_name) + r"-(\d+)", pod_name)
    return int(m.group(1)) if m else None


def _running_and_ready(pod: Pod) -> bool:
    return pod.status is not None and pod.status.phase == "Running" and is_pod_ready(pod)


def _terminating(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _failed_or_succeeded(pod: Pod) -> bool:
    return pod.status is not None and pod.status.phase in ("Failed", "Succeeded")


def _revision_of(pod: Pod) -> str:
    return str(
        ((pod.metadata.labels if pod.metadata else None) or {}).get(CONTROLLER_REVISION_HASH_LABEL, "")
    )


def claim_name(claim_template: str, set_name: str, ordinal: int) -> str:
    """kube's ``getPersistentVolumeClaimName``: ``<claim>-<set>-<ordinal>``."""
    return f"{claim_template}-{set_name}-{ordinal}"


class StatefulSetController:
    """Runs every StatefulSet's pods and claims (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self._ctx = ctx
        self._recorder: EventRecorder | None = None
        self.clock = ctx.clock
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT_WRITES)
        sets = ctx.informer_factory.apps_v1.stateful_sets()
        pods = ctx.informer_factory.core_v1.pods()
        revisions = ctx.informer_factory.apps_v1.controller_revisions()
        claims = ctx.informer_factory.core_v1.persistent_volume_claims()
        self.set_lister = sets.lister
        self.pod_informer = pods.informer
        self.revision_lister = revisions.lister
        self.claim_lister = claims.lister
        add_pod_controller_uid_index(pods.informer)
        self.controller = Controller(
            "statefulset",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_statefulset_syncs),
                clock=ctx.clock,
            ),
        )
        self.controller.for_(sets.informer)
        self.controller.watches(pods.informer, self._sets_for_pod)
        self.controller.owns(revisions.informer, _KIND, owner_group="apps")
        self.controller.watches(claims.informer, lambda _obj: [])

    @property
    def recorder(self) -> EventRecorder:
        if self._recorder is None:
            self._recorder = self._ctx.event_recorder(CONTROLLER_NAME)
        return self._recorder

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    # -- lookups ----------------------------------------------------------------------------------

    def _selector(self, sts: Any) -> Selector:
        sel = sts.spec.selector if sts.spec is not None else None
        if sel is None:
            return nothing()
        selector = selector_from_label_selector(sel.to_dict())
        return nothing() if selector.empty() else selector

    def _sets_for_pod(self, obj: Any) -> list[Request]:
        pod = unwrap(obj)
        meta = pod.metadata
        if meta is None:
            return []
        ns = meta.namespace or ""
        ref = controller_ref_of(pod)
        if ref is not None:
            return [Request(ns, ref.name)] if ref.kind == _KIND else []
        labels = meta.labels or {}
        if not labels:
            return []
        return [
            Request(ns, str(s.metadata.name) if s.metadata else "")
            for s in self.set_lister.stateful_sets(ns).list()
            if self._selector(s).matches(labels)
        ]

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """Reconcile one StatefulSet (kube's ``syncStatefulSet`` + ``UpdateStatefulSet``)."""
        try:
            sts: Any = self.set_lister.stateful_sets(request.namespace).get(request.name)
        except NotFound:
            return Result()
        selector = self._selector(sts)
        candidates = pods_owned_or_orphaned(self.pod_informer, request.namespace, str(sts.metadata.uid))
        pods = await self._claim_pods(sts, selector, candidates)
        return await self._update_stateful_set(sts, pods)

    async def _claim_pods(self, sts: Any, selector: Selector, pods: list[Pod]) -> list[Pod]:
        ns, name = sts.metadata.namespace, sts.metadata.name
        ref = new_controller_ref(sts, _API_VERSION, _KIND)

        async def can_adopt() -> None:
            fresh: Any = await self.client.apps_v1.stateful_sets(ns).get(name)
            if fresh.metadata.uid != sts.metadata.uid or fresh.metadata.deletion_timestamp is not None:
                raise RuntimeError(f"StatefulSet {ns}/{name} is gone or being deleted")

        async def patch(pod_ns: str, pod_name: str, body: dict[str, Any]) -> Any:
            return await self.client.core_v1.pods(pod_ns).patch(pod_name, body)

        claimed: list[Pod] = await ControllerRefManager(sts, selector, ref, patch, can_adopt).claim(pods)
        return claimed

    async def _revisions(self, sts: Any, d: dict[str, Any]) -> tuple[Any, Any, int]:
        """(current, update, collisionCount) — kube's ``getStatefulSetRevisions``."""
        revisions = owned_revisions(self.revision_lister, sts)
        status = d.get("status") or {}
        collision = int(status.get("collisionCount") or 0)
        tpl = _spec(d).get("template") or {}
        proposed = new_controller_revision(
            sts,
            _API_VERSION,
            _KIND,
            dict((tpl.get("metadata") or {}).get("labels") or {}),
            template_patch(tpl),
            max_revision(revisions) + 1,
            collision,
        )
        equal = find_equal_revisions(revisions, proposed)
        update: Any
        if equal and revisions and equal[-1].metadata.name == revisions[-1].metadata.name:
            update = equal[-1]
        elif equal:
            # an older revision rolled back to: it becomes the newest (kube's UpdateControllerRevision)
            update = await self.client.apps_v1.controller_revisions(sts.metadata.namespace).patch(
                equal[-1].metadata.name, {"revision": proposed["revision"]}, patch_type="merge"
            )
        else:
            update, collision = await create_controller_revision(self.client, sts, proposed, collision)
        current = update
        cur_name = status.get("currentRevision")
        for r in revisions:
            if r.metadata.name == cur_name:
                current = r
        return current, update, collision

    def _new_pod(self, sts: dict[str, Any], revision: Any, ordinal: int) -> dict[str, Any]:
        name = sts["metadata"]["name"]
        tpl = template_from_revision(revision)
        meta = copy.deepcopy(tpl.get("metadata") or {})
        pod_name = f"{name}-{ordinal}"
        labels = dict(meta.get("labels") or {})
        labels[STATEFUL_SET_POD_NAME_LABEL] = pod_name
        labels[POD_INDEX_LABEL] = str(ordinal)
        labels[CONTROLLER_REVISION_HASH_LABEL] = revision.metadata.name
        pod_meta: dict[str, Any] = {
            "name": pod_name,
            "namespace": sts["metadata"]["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": _API_VERSION,
                    "kind": _KIND,
                    "name": name,
                    "uid": sts["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if meta.get("annotations"):
            pod_meta["annotations"] = meta["annotations"]
        spec = copy.deepcopy(tpl.get("spec") or {})
        spec["hostname"] = pod_name
        if _spec(sts).get("serviceName"):
            spec["subdomain"] = _spec(sts)["serviceName"]
        volumes = [v for v in spec.get("volumes") or []]
        for claim in _spec(sts).get("volumeClaimTemplates") or []:
            cname = (claim.get("metadata") or {}).get("name", "")
            volumes = [v for v in volumes if v.get("name") != cname]
            volumes.append(
                {"name": cname, "persistentVolumeClaim": {"claimName": claim_name(cname, name, ordinal)}}
            )
        if volumes:
            spec["volumes"] = volumes
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}

    def _retention(self, d: dict[str, Any]) -> tuple[str, str]:
        policy = _spec(d).get("persistentVolumeClaimRetentionPolicy") or {}
        return str(policy.get("whenDeleted") or "Retain"), str(policy.get("whenScaled") or "Retain")

    async def _create_claims(self, sts: Any, d: dict[str, Any], ordinal: int, pod_name: str) -> None:
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        when_deleted, _ = self._retention(d)
        for claim in _spec(d).get("volumeClaimTemplates") or []:
            cmeta = claim.get("metadata") or {}
            cname = claim_name(cmeta.get("name", ""), name, ordinal)
            try:
                self.claim_lister.persistent_volume_claims(ns).get(cname)
                continue
            except NotFound:
                pass
            labels = dict(cmeta.get("labels") or {})
            labels.update(dict((_spec(d).get("selector") or {}).get("matchLabels") or {}))
            body: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": cname, "namespace": ns, "labels": labels},
                "spec": copy.deepcopy(claim.get("spec") or {}),
            }
            if cmeta.get("annotations"):
                body["metadata"]["annotations"] = cmeta["annotations"]
            if when_deleted == "Delete":
                body["metadata"]["ownerReferences"] = [
                    {"apiVersion": _API_VERSION, "kind": _KIND, "name": name, "uid": d["metadata"]["uid"]}
                ]
            try:
                await self.client.core_v1.persistent_volume_claims(ns).create(
                    PersistentVolumeClaim.from_dict(body)
                )
            except Exception as err:
                if is_already_exists(err):
                    continue
                if not ignorable_create_error(err):
                    self.recorder.eventf(
                        sts,
                        EVENT_TYPE_WARNING,
                        "FailedCreate",
                        "create Claim %s for Pod %s in StatefulSet %s failed error: %s",
                        cname,
                        pod_name,
                        name,
                        err,
                    )
                raise
            self.recorder.eventf(
                sts,
                EVENT_TYPE_NORMAL,
                "SuccessfulCreate",
                "create Claim %s Pod %s in StatefulSet %s success",
                cname,
                pod_name,
                name,
            )

    async def _create_pod(self, sts: Any, d: dict[str, Any], revision: Any, ordinal: int) -> None:
        body = self._new_pod(d, revision, ordinal)
        pod_name = body["metadata"]["name"]
        await self._create_claims(sts, d, ordinal, pod_name)
        try:
            await self.client.core_v1.pods(d["metadata"]["namespace"]).create(Pod.from_dict(body))
        except Exception as err:
            if is_already_exists(err):
                return
            if not ignorable_create_error(err):
                self.recorder.eventf(
                    sts,
                    EVENT_TYPE_WARNING,
                    "FailedCreate",
                    "create Pod %s in StatefulSet %s failed error: %s",
                    pod_name,
                    d["metadata"]["name"],
                    err,
                )
            raise
        self.recorder.eventf(
            sts,
            EVENT_TYPE_NORMAL,
            "SuccessfulCreate",
            "create Pod %s in StatefulSet %s successful",
            pod_name,
            d["metadata"]["name"],
        )

    async def _delete_pod(self, sts: Any, pod: Pod) -> None:
        assert pod.metadata is not None
        name = pod.metadata.name or ""
        try:
            await self.client.core_v1.pods(pod.metadata.namespace).delete(name)
        except Exception as err:
            if is_not_found(err):
                return
            self.recorder.eventf(
                sts,
                EVENT_TYPE_WARNING,
                "FailedDelete",
                "delete Pod %s in StatefulSet %s failed error: %s",
                name,
                sts.metadata.name,
                err,
            )
            raise
        self.recorder.eventf(
            sts,
            EVENT_TYPE_NORMAL,
            "SuccessfulDelete",
            "delete Pod %s in StatefulSet %s successful",
            name,
            sts.metadata.name,
        )

    async def _own_claims_by_pod(self, d: dict[str, Any], pod: Pod, ordinal: int) -> None:
        """whenScaled Delete: the condemned pod becomes an owner of its claims."""
        assert pod.metadata is not None
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        ref = {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name, "uid": pod.metadata.uid}
        for claim in _spec(d).get("volumeClaimTemplates") or []:
            cname = claim_name((claim.get("metadata") or {}).get("name", ""), name, ordinal)
            try:
                pvc: Any = self.claim_lister.persistent_volume_claims(ns).get(cname)
            except NotFound:
                continue
            refs = [r.to_dict() for r in (pvc.metadata.owner_references or [])]
            if any(r.get("uid") == pod.metadata.uid for r in refs):
                continue
            try:
                await self.client.core_v1.persistent_volume_claims(ns).patch(
                    cname, {"metadata": {"ownerReferences": [*refs, ref]}}, patch_type="merge"
                )
            except Exception as err:
                if not is_not_found(err):
                    raise

    async def _update_stateful_set(self, sts: Any, pods: list[Pod]) -> Result:
        d = sts.to_dict()
        current, update, collision = await self._revisions(sts, d)
        spec = _spec(d)
        name = d["metadata"]["name"]
        replica_count = _replicas(d)
        start = _start_ordinal(d)
        min_ready = int(spec.get("minReadySeconds") or 0)
        monotonic = spec.get("podManagementPolicy") != "Parallel"
        strategy = spec.get("updateStrategy") or {}
        strategy_type = strategy.get("type") or "RollingUpdate"
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        now = _dt.datetime.now(_dt.UTC)
        replicas: list[Pod | None] = [None] * replica_count
        condemned: list[tuple[int, Pod]] = []
        for pod in pods:
            ordinal = _parse_ordinal(name, (pod.metadata.name if pod.metadata else "") or "")
            if ordinal is None:
                continue
            if start <= ordinal < start + replica_count:
                replicas[ordinal - start] = pod
            else:
                condemned.append((ordinal, pod))
        condemned.sort(key=lambda t: -t[0])
        requeue: float | None = None

        def healthy(pod: Pod) -> bool:
            return _running_and_ready(pod) and not _terminating(pod) and is_pod_available(pod, min_ready, now)

        deleting = sts.metadata.deletion_timestamp is not None
        waiting = False
        to_create: list[tuple[Any, int]] = []
        if not deleting:
            for i in range(replica_count):
                ordinal = start + i
                slot = replicas[i]
                if slot is not None and _failed_or_succeeded(slot) and not _terminating(slot):
                    await self._delete_pod(sts, slot)
                    replicas[i] = None
                    if monotonic:
                        waiting = True
                        break
                    continue
                if slot is None:
                    # kube's newVersionedStatefulSetPod: below the partition (or, without a
                    # rollingUpdate, below currentReplicas) at the current revision; OnDelete: update
                    if strategy_type != "RollingUpdate":
                        below = False
                    elif strategy.get("rollingUpdate") is None:
                        current_replicas = int((d.get("status") or {}).get("currentReplicas") or 0)
                        below = ordinal < start + current_replicas
                    else:
                        below = ordinal < start + partition
                    if monotonic:
                        await self._create_pod(sts, d, current if below else update, ordinal)
                        waiting = True
                        break
                    to_create.append((current if below else update, ordinal))
                    continue
                if monotonic and (_terminating(slot) or not _running_and_ready(slot)):
                    waiting = True
                    break
                if monotonic and not is_pod_available(slot, min_ready, now):
                    requeue = float(min_ready)
                    waiting = True
                    break
            if to_create:
                await self._create_parallel(sts, d, to_create)
            if not waiting or not monotonic:
                for ordinal, pod in condemned:
                    if _terminating(pod):
                        if monotonic:
                            break
                        continue
                    if monotonic and not all(p is not None and healthy(p) for p in replicas):
                        break
                    _, when_scaled = self._retention(d)
                    if when_scaled == "Delete":
                        await self._own_claims_by_pod(d, pod, ordinal)
                    await self._delete_pod(sts, pod)
                    if monotonic:
                        break
                else:
                    if strategy_type == "RollingUpdate" and all(p is not None for p in replicas):
                        await self._rolling_update(sts, replicas, update, start, partition, healthy)
        status = self._status(d, pods, current, update, collision, now, min_ready)
        await self._update_status(sts, d, status)
        await self._truncate_history(sts, pods, current, update, d)
        if requeue is None and min_ready > 0 and status["readyReplicas"] != status["availableReplicas"]:
            requeue = float(min_ready)
        return Result(requeue_after=requeue) if requeue else Result()

    async def _create_parallel(self, sts: Any, d: dict[str, Any], pending: list[tuple[Any, int]]) -> None:
        """Parallel: create the missing pods in slow-start batches (kube's ``runForAll`` with
        ``slowStartBatch``), at most :data:`MAX_IN_FLIGHT_WRITES` requests at once."""
        work = iter(pending)

        async def create_next() -> None:
            revision, ordinal = next(work)
            async with self._in_flight:
                await self._create_pod(sts, d, revision, ordinal)

        _, err = await slow_start_batch(len(pending), SLOW_START_INITIAL_BATCH_SIZE, create_next)
        if err is not None:
            raise err

    async def _rolling_update(
        self, sts: Any, replicas: list[Pod | None], update: Any, start: int, partition: int, healthy: Any
    ) -> None:
        """Delete the highest pod not on the update revision, once every higher one is healthy."""
        for i in range(len(replicas) - 1, partition - 1 if partition > 0 else -1, -1):
            pod = replicas[i]
            if pod is None or i + start < start + partition:
                return
            if _revision_of(pod) != update.metadata.name and not _terminating(pod):
                await self._delete_pod(sts, pod)
                return
            if not healthy(pod):
                return

    def _status(
        self,
        d: dict[str, Any],
        pods: list[Pod],
        current: Any,
        update: Any,
        collision: int,
        now: _dt.datetime,
        min_ready: int,
    ) -> dict[str, Any]:
        st = {
            "observedGeneration": int(d["metadata"].get("generation") or 0),
            "replicas": 0,
            "readyReplicas": 0,
            "currentReplicas": 0,
            "updatedReplicas": 0,
            "availableReplicas": 0,
            "currentRevision": current.metadata.name,
            "updateRevision": update.metadata.name,
            "collisionCount": collision,
        }
        for pod in pods:
            if (
                _parse_ordinal(d["metadata"]["name"], (pod.metadata.name if pod.metadata else "") or "")
                is None
            ):
                continue
            st["replicas"] += 1
            if _running_and_ready(pod):
                st["readyReplicas"] += 1
                if is_pod_available(pod, min_ready, now):
                    st["availableReplicas"] += 1
            if not _terminating(pod):
                if _revision_of(pod) == current.metadata.name:
                    st["currentReplicas"] += 1
                if _revision_of(pod) == update.metadata.name:
                    st["updatedReplicas"] += 1
        strategy_type = (_spec(d).get("updateStrategy") or {}).get("type") or "RollingUpdate"
        # kube's completeRollingUpdate
        if (
            strategy_type == "RollingUpdate"
            and st["updatedReplicas"] == st["replicas"]
            and st["readyReplicas"] == st["replicas"]
            and st["replicas"] == _replicas(d)
        ):
            st["currentReplicas"] = st["updatedReplicas"]
            st["currentRevision"] = st["updateRevision"]
        # OnDelete: kube never advances currentRevision (completeRollingUpdate is RollingUpdate's only)
        return st

    async def _update_status(self, sts: Any, d: dict[str, Any], status: dict[str, Any]) -> None:
        old = dict(d.get("status") or {})
        merged = {**old, **status}
        if merged == old:
            return
        body = copy.deepcopy(d)
        body["status"] = merged
        api = self.client.apps_v1.stateful_sets(d["metadata"]["namespace"])
        try:
            await api.update_status(StatefulSet.from_dict(body))
        except Exception as err:
            if is_not_found(err):
                return
            if not is_conflict(err):
                raise
            # kube's updateStatefulSetStatus retries on conflict with a fresh copy
            fresh = (await api.get(d["metadata"]["name"])).to_dict()
            fresh["status"] = {**(fresh.get("status") or {}), **status}
            await api.update_status(StatefulSet.from_dict(fresh))

    async def _truncate_history(
        self, sts: Any, pods: list[Pod], current: Any, update: Any, d: dict[str, Any]
    ) -> None:
        limit = _spec(d).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        live = {current.metadata.name, update.metadata.name} | {_revision_of(p) for p in pods}
        revisions = owned_revisions(self.revision_lister, sts)
        for rev in unused_revisions(revisions, live, limit):
            try:
                await self.client.apps_v1.controller_revisions(sts.metadata.namespace).delete(
                    rev.metadata.name
                )
            except Exception as err:
                if not is_not_found(err):
                    raise


def new_statefulset_controller(ctx: ControllerContext) -> StatefulSetController:
    """The registry's init function."""
    return StatefulSetController(ctx)
