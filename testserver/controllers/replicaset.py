"""The ReplicaSet controller (kube's ``pkg/controller/replicaset``), also the engine of the
ReplicationController controller (:mod:`testserver.controllers.replicationcontroller`), as in kube.

Informer handlers → work queue → :meth:`ReplicaSetController.sync` from the listers:

- the pod handlers lower the :class:`~testserver.controllers.controller_utils.ControllerExpectations`
  of the pod's controller (creations and deletions seen) and queue it; an orphan pod queues every
  set whose selector matches it; a pod turning ready queues its set again after ``minReadySeconds``;
- ``sync`` claims the namespace's active pods (adopts matching orphans, releases owned pods that no
  longer match, ownerReferences ``controller``/``blockOwnerDeletion`` true), then — only when the
  expectations of the set are satisfied, so that a stale cache never doubles a creation — creates
  the missing pods in slow-start batches (1, 2, 4, ..., at most 500 per sync, ``generateName``
  ``<set>-``) or deletes the surplus in kube's ranking order, and writes the status (replicas,
  fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration, the ``ReplicaFailure``
  condition with reason ``FailedCreate``/``FailedDelete`` when a create or delete failed).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyclientgo.api.apps.v1 import ReplicaSet
from pyclientgo.api.core.v1 import Pod, ReplicationController
from pyclientgo.apimachinery.labels import Selector, nothing, selector_from_label_selector, selector_from_set
from pyclientgo.apimachinery.model import format_time
from pyclientgo.component_helpers.pod import is_pod_available, is_pod_ready
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, has_status_cause, is_not_found
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.cache import SharedIndexInformer
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import (
    BURST_REPLICAS,
    SLOW_START_INITIAL_BATCH_SIZE,
    ControllerExpectations,
    ControllerRefManager,
    PodControl,
    active_pods_deletion_order,
    add_pod_controller_uid_index,
    controller_ref_of,
    filter_active_pods,
    new_controller_ref,
    pod_key,
    pods_owned_or_orphaned,
    slow_start_batch,
)

__all__ = [
    "CONTROLLER_NAME",
    "REPLICA_SET_KIND",
    "ReplicaSetController",
    "SetKind",
    "new_replicaset_controller",
]

CONTROLLER_NAME = "replicaset-controller"
STATUS_UPDATE_RETRIES = 1
"""kube's ``statusUpdateRetries``."""
MAX_IN_FLIGHT_WRITES = 24
"""Pod creations and deletions one controller has in flight at once. kube multiplexes its writes over
one HTTP/2 connection; over HTTP/1.1 every concurrent request needs a connection, and beyond the
client's keep-alive pool (25) each batch would open and close TLS connections. Below the pool size
the batches stay as kube's (1, 2, 4, ... up to 500) and only queue here."""


@dataclass(frozen=True, kw_only=True)
class SetKind:
    """What differs between ReplicaSets and ReplicationControllers for the shared engine (kube builds
    the ReplicationManager from the ReplicaSet controller with conversions; this is the same idea)."""

    kind: str
    """Kind written into pods' controller references."""
    api_version: str
    """API version of those references."""
    queue_name: str
    """Work queue (and controller) name, as kube's."""
    event_component: str
    """Component of the recorded events."""
    model: type[Any]
    """The typed model of the kind."""
    informer: Callable[[ControllerContext], Any]
    """The typed informer of the kind from the context's factory."""
    namespace_lister: Callable[[Any, str], Any]
    """(lister, namespace) → the namespace lister."""
    client: Callable[[AsyncClientset, str], Any]
    """(clientset, namespace) → the typed resource client."""
    selector: Callable[[Any], Selector]
    """The label selector of a set (kube: an empty selector selects nothing)."""
    workers: Callable[[ControllerContext], int]
    """``--concurrent-*-syncs``."""


def _rs_selector(rs: Any) -> Selector:
    sel = rs.spec.selector if rs.spec is not None else None
    if sel is None:
        return nothing()
    selector = selector_from_label_selector(sel.to_dict())
    return nothing() if selector.empty() else selector


REPLICA_SET_KIND = SetKind(
    kind="ReplicaSet",
    api_version="apps/v1",
    queue_name="replicaset",
    event_component=CONTROLLER_NAME,
    model=ReplicaSet,
    informer=lambda ctx: ctx.informer_factory.apps_v1.replica_sets(),
    namespace_lister=lambda lister, ns: lister.replica_sets(ns),
    client=lambda cs, ns: cs.apps_v1.replica_sets(ns),
    selector=_rs_selector,
    workers=lambda ctx: ctx.options.concurrent_replicaset_syncs,
)


def _rc_selector(rc: Any) -> Selector:
    sel = rc.spec.selector if rc.spec is not None else None
    return selector_from_set(sel) if sel else nothing()


REPLICATION_CONTROLLER_KIND = SetKind(
    kind="ReplicationController",
    api_version="v1",
    queue_name="replicationmanager",
    event_component="replication-controller",
    model=ReplicationController,
    informer=lambda ctx: ctx.informer_factory.core_v1.replication_controllers(),
    namespace_lister=lambda lister, ns: lister.replication_controllers(ns),
    client=lambda cs, ns: cs.core_v1.replication_controllers(ns),
    selector=_rc_selector,
    workers=lambda ctx: ctx.options.concurrent_rc_syncs,
)


def _key(ns: str, name: str) -> str:
    return f"{ns}/{name}"


def _labels(obj: Any) -> dict[str, str]:
    return dict(obj.metadata.labels or {}) if obj.metadata is not None else {}


def _replicas(obj: Any) -> int:
    r = obj.spec.replicas if obj.spec is not None else None
    return 1 if r is None else int(r)


def _min_ready(obj: Any) -> int:
    return int((obj.spec.min_ready_seconds if obj.spec is not None else None) or 0)


class _SetHandler:
    """Set events: queue the set; a deleted set's expectations are dropped (kube's ``deleteRS``)."""

    def __init__(self, owner: ReplicaSetController) -> None:
        self.owner = owner

    def create(self, obj: Any, queue: RequestQueue) -> None:
        queue.add(Request(obj.metadata.namespace, obj.metadata.name))

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        if _replicas(old) != _replicas(new):
            self.owner.log.debug(
                "%s %s/%s updated: replicas %d -> %d",
                self.owner.set_kind.kind,
                new.metadata.namespace,
                new.metadata.name,
                _replicas(old),
                _replicas(new),
            )
        queue.add(Request(new.metadata.namespace, new.metadata.name))

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        ns, name = obj.metadata.namespace, obj.metadata.name
        self.owner.expectations.delete_expectations(_key(ns, name))
        queue.add(Request(ns, name))


class _PodHandler:
    """Pod events (kube's ``addPod``/``updatePod``/``deletePod``): expectations and queueing."""

    def __init__(self, owner: ReplicaSetController) -> None:
        self.owner = owner

    def create(self, pod: Pod, queue: RequestQueue) -> None:
        meta = pod.metadata
        if meta is None:
            return
        if meta.deletion_timestamp is not None:
            # a restarted controller sees a pod that is already being deleted: a deletion
            self.delete(pod, queue)
            return
        ref = controller_ref_of(pod)
        if ref is not None:
            owner = self.owner.resolve_controller_ref(meta.namespace or "", ref)
            if owner is None:
                return
            self.owner.expectations.creation_observed(_key(meta.namespace or "", owner.metadata.name))
            queue.add(Request(meta.namespace or "", owner.metadata.name))
            return
        for owner in self.owner.sets_for_pod(pod):
            queue.add(Request(meta.namespace or "", owner.metadata.name))

    def update(self, old: Pod, cur: Pod, queue: RequestQueue) -> None:
        om, cm = old.metadata, cur.metadata
        if om is None or cm is None or om.resource_version == cm.resource_version:
            return  # a resync: nothing changed
        ns = cm.namespace or ""
        label_changed = (om.labels or {}) != (cm.labels or {})
        if cm.deletion_timestamp is not None:
            # graceful deletion started: count it as the deletion (kube does the same)
            self.delete(cur, queue)
            if label_changed:
                self.delete(old, queue)
            return
        cur_ref, old_ref = controller_ref_of(cur), controller_ref_of(old)
        ref_changed = (cur_ref.uid if cur_ref else None) != (old_ref.uid if old_ref else None)
        if ref_changed and old_ref is not None:
            previous = self.owner.resolve_controller_ref(ns, old_ref)
            if previous is not None:
                queue.add(Request(ns, previous.metadata.name))
        if cur_ref is not None:
            owner = self.owner.resolve_controller_ref(ns, cur_ref)
            if owner is None:
                return
            queue.add(Request(ns, owner.metadata.name))
            min_ready = _min_ready(owner)
            if not is_pod_ready(old) and is_pod_ready(cur) and min_ready > 0:
                # look again when the pod becomes available
                self.owner.controller.queue.add_after(Request(ns, owner.metadata.name), min_ready + 1)
            return
        if label_changed or ref_changed:
            for owner in self.owner.sets_for_pod(cur):
                queue.add(Request(ns, owner.metadata.name))

    def delete(self, pod: Pod, queue: RequestQueue) -> None:
        meta = pod.metadata
        if meta is None:
            return
        ref = controller_ref_of(pod)
        if ref is None:
            return
        ns = meta.namespace or ""
        owner = self.owner.resolve_controller_ref(ns, ref)
        if owner is None:
            return
        key = _key(ns, owner.metadata.name)
        self.owner.expectations.deletion_observed(key, pod_key(pod))
        queue.add(Request(ns, owner.metadata.name))


class ReplicaSetController:
    """Keeps ``spec.replicas`` pods of every set (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext, set_kind: SetKind = REPLICA_SET_KIND) -> None:
        self.set_kind = set_kind
        self.client = ctx.clientset
        self.log = ctx.logger(set_kind.event_component)
        self.expectations = ControllerExpectations()
        self.burst_replicas = BURST_REPLICAS
        informer = set_kind.informer(ctx)
        pods = ctx.informer_factory.core_v1.pods()
        self.set_lister = informer.lister
        self.set_informer: SharedIndexInformer = informer.informer
        self.pod_lister = pods.lister
        self.pod_informer: SharedIndexInformer = pods.informer
        add_pod_controller_uid_index(pods.informer)
        self._recorder_ctx = ctx
        self._pod_control: PodControl | None = None
        self._selectors: dict[tuple[str, int], Selector] = {}
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT_WRITES)
        self.controller = Controller(
            set_kind.queue_name,
            self.sync,
            ControllerOptions(max_concurrent_reconciles=max(1, set_kind.workers(ctx)), clock=ctx.clock),
        )
        self.controller.watch(self.set_informer, _SetHandler(self))
        self.controller.watch(pods.informer, _PodHandler(self))

    @property
    def pod_control(self) -> PodControl:
        if self._pod_control is None:
            self._pod_control = PodControl(
                self.client, self._recorder_ctx.event_recorder(self.set_kind.event_component)
            )
        return self._pod_control

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    # -- lookups ----------------------------------------------------------------------------------

    def selector_of(self, obj: Any) -> Selector:
        """The set's selector (cached per uid and generation)."""
        meta = obj.metadata
        cache_key = (meta.uid or "", int(meta.generation or 0))
        sel = self._selectors.get(cache_key)
        if sel is None:
            if len(self._selectors) > 10000:
                self._selectors.clear()
            sel = self._selectors[cache_key] = self.set_kind.selector(obj)
        return sel

    def resolve_controller_ref(self, namespace: str, ref: Any) -> Any:
        """The set a controller reference names, if it is of our kind and the uid matches."""
        if ref.kind != self.set_kind.kind:
            return None
        try:
            owner = self.set_kind.namespace_lister(self.set_lister, namespace).get(ref.name)
        except NotFound:
            return None
        return owner if owner.metadata.uid == ref.uid else None

    def sets_for_pod(self, pod: Pod) -> list[Any]:
        """Sets in the pod's namespace whose selector matches its labels (kube's ``GetPodReplicaSets``)."""
        labels = _labels(pod)
        if not labels or pod.metadata is None:
            return []
        found = [
            s
            for s in self.set_kind.namespace_lister(self.set_lister, pod.metadata.namespace or "").list()
            if self.selector_of(s).matches(labels)
        ]
        if len(found) > 1:
            self.log.info(
                "user error: more than one %s selects pod %s: %s",
                self.set_kind.kind,
                pod_key(pod),
                ", ".join(s.metadata.name for s in found),
            )
        return found

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """Bring one set to its replica count and write its status (kube's ``syncReplicaSet``)."""
        ns, name = request.namespace, request.name
        key = _key(ns, name)
        try:
            owner = self.set_kind.namespace_lister(self.set_lister, ns).get(name)
        except NotFound:
            self.expectations.delete_expectations(key)
            return Result()
        needs_sync = self.expectations.satisfied_expectations(key)
        selector = self.selector_of(owner)
        # kube lists every pod of the namespace; only our own pods and orphans can be claimed, so
        # the index gives the same set without walking the pods of other controllers
        active = filter_active_pods(pods_owned_or_orphaned(self.pod_informer, ns, str(owner.metadata.uid)))
        pods = await self._claim_pods(owner, selector, active)
        manage_err: BaseException | None = None
        if needs_sync and owner.metadata.deletion_timestamp is None:
            manage_err = await self.manage_replicas(pods, owner, key)
        updated = await self.update_status(owner, self.calculate_status(owner, pods, manage_err))
        if manage_err is not None:
            raise manage_err
        st = updated.status if updated is not None else None
        min_ready = _min_ready(owner)
        if (
            st is not None
            and min_ready > 0
            and (st.ready_replicas or 0) == _replicas(owner)
            and (st.available_replicas or 0) != _replicas(owner)
        ):
            return Result(requeue_after=float(min_ready))
        return Result()

    async def _claim_pods(self, owner: Any, selector: Selector, pods: list[Pod]) -> list[Pod]:
        ref = new_controller_ref(owner, self.set_kind.api_version, self.set_kind.kind)
        ns = owner.metadata.namespace

        async def can_adopt() -> None:
            fresh = await self.set_kind.client(self.client, ns).get(owner.metadata.name)
            if fresh.metadata.uid != owner.metadata.uid:
                raise RuntimeError(
                    f"original {self.set_kind.kind} {ns}/{owner.metadata.name} is gone: "
                    f"got uid {fresh.metadata.uid}, wanted {owner.metadata.uid}"
                )
            if fresh.metadata.deletion_timestamp is not None:
                raise RuntimeError(
                    f"{self.set_kind.kind} {ns}/{owner.metadata.name} has just been deleted at "
                    f"{fresh.metadata.deletion_timestamp}"
                )

        async def patch(pod_ns: str, pod_name: str, body: dict[str, Any]) -> Any:
            return await self.client.core_v1.pods(pod_ns).patch(pod_name, body)

        manager = ControllerRefManager(owner, selector, ref, patch, can_adopt)
        claimed: list[Pod] = await manager.claim(pods)
        return claimed

    async def manage_replicas(self, pods: list[Pod], owner: Any, key: str) -> BaseException | None:
        """Create or delete pods toward ``spec.replicas`` (kube's ``manageReplicas``); returns the
        first error (the set is then retried with back-off)."""
        diff = len(pods) - _replicas(owner)
        ns = owner.metadata.namespace
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            self.expectations.expect_creations(key, count)
            self.log.info(
                "too few replicas for %s %s: need %d, creating %d",
                self.set_kind.kind,
                key,
                _replicas(owner),
                count,
            )
            template = owner.spec.template.to_dict() if owner.spec.template is not None else {}
            ref = new_controller_ref(owner, self.set_kind.api_version, self.set_kind.kind)

            async def create() -> None:
                try:
                    async with self._in_flight:
                        await self.pod_control.create_pod_with_controller_ref(ns, template, owner, ref)
                except Exception as err:
                    if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                        return  # every create fails in a terminating namespace
                    raise

            successes, err = await slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, create)
            for _ in range(count - successes):
                # creations that failed or were skipped will never be observed
                self.expectations.creation_observed(key)
            return err
        if diff > 0:
            count = min(diff, self.burst_replicas)
            self.log.info(
                "too many replicas for %s %s: need %d, deleting %d",
                self.set_kind.kind,
                key,
                _replicas(owner),
                count,
            )
            victims = self.pods_to_delete(pods, self.related_pods(owner), count)
            self.expectations.expect_deletions(key, [pod_key(p) for p in victims])

            async def delete(pod: Pod) -> None:
                try:
                    async with self._in_flight:
                        await self.pod_control.delete_pod(
                            ns, (pod.metadata.name if pod.metadata else None) or "", owner
                        )
                except Exception as err:
                    # the deletion will not be observed
                    self.expectations.deletion_observed(key, pod_key(pod))
                    if not is_not_found(err):
                        raise

            results = await asyncio.gather(*(delete(p) for p in victims), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    return r
        return None

    @staticmethod
    def pods_to_delete(pods: list[Pod], related: list[Pod], count: int) -> list[Pod]:
        """The ``count`` pods to delete first (kube's ``getPodsToDelete``)."""
        if count < len(pods):
            return active_pods_deletion_order(pods, related)[:count]
        return pods[:count]

    def related_pods(self, owner: Any) -> list[Pod]:
        """Pods of every set with the same controller as ``owner`` (kube's
        ``getIndirectlyRelatedPods``): they rank pods by how crowded their node is."""
        ref = controller_ref_of(owner)
        if ref is None:
            return []
        ns = owner.metadata.namespace
        seen: set[str] = set()
        related: list[Pod] = []
        for other in self.set_kind.namespace_lister(self.set_lister, ns).list():
            other_ref = controller_ref_of(other)
            if other_ref is None or other_ref.uid != ref.uid:
                continue
            selector = self.selector_of(other)
            for pod in self.pod_lister.pods(ns).list(selector):
                uid = pod.metadata.uid if pod.metadata else None
                if uid in seen:
                    continue
                seen.add(uid or "")
                related.append(pod)
        return related

    # -- status -----------------------------------------------------------------------------------

    def calculate_status(
        self, owner: Any, pods: list[Pod], manage_err: BaseException | None
    ) -> dict[str, Any]:
        """The new status (wire dict) of ``owner`` (kube's ``calculateStatus``)."""
        template_meta = owner.spec.template.metadata if owner.spec.template is not None else None
        template_labels = selector_from_set((template_meta.labels if template_meta else None) or {})
        min_ready = _min_ready(owner)
        now = _dt.datetime.now(_dt.UTC)
        fully = ready = available = 0
        for pod in pods:
            if template_labels.matches(_labels(pod)):
                fully += 1
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(pod, min_ready, now):
                    available += 1
        old = owner.status.to_dict() if owner.status is not None else {}
        conditions: list[dict[str, Any]] = list(old.get("conditions") or [])
        failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
        if manage_err is not None and failure is None:
            reason = "FailedCreate" if len(pods) - _replicas(owner) < 0 else "FailedDelete"
            conditions.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": format_time(now),
                    "reason": reason,
                    "message": str(manage_err),
                }
            )
        elif manage_err is None and failure is not None:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        status: dict[str, Any] = {"replicas": len(pods)}
        for field_name, value in (
            ("fullyLabeledReplicas", fully),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("observedGeneration", int(old.get("observedGeneration") or 0)),
        ):
            if value:
                status[field_name] = value
        if conditions:
            status["conditions"] = conditions
        return status

    async def update_status(self, owner: Any, status: dict[str, Any]) -> Any:
        """Write ``status`` with ``observedGeneration`` = generation unless nothing changed (kube's
        ``updateReplicaSetStatus``, one retry on a fresh read)."""
        generation = int(owner.metadata.generation or 0)
        if generation:
            status["observedGeneration"] = generation
        current = owner.status.to_dict() if owner.status is not None else {}
        current.setdefault("replicas", 0)
        if _strip_zero(current) == _strip_zero(status):
            return owner
        client = self.set_kind.client(self.client, owner.metadata.namespace)
        obj = owner
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            body = {**obj.to_dict(), "status": status}
            try:
                return await client.update_status(self.set_kind.model.from_dict(body))
            except NotFound:
                return None
            except Exception:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
                obj = await client.get(owner.metadata.name)
        return None


def _strip_zero(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if v not in (0, None, [], {}) or k == "replicas"}


def new_replicaset_controller(ctx: ControllerContext) -> ReplicaSetController:
    """The registry's init function."""
    return ReplicaSetController(ctx, REPLICA_SET_KIND)
