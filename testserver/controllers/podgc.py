"""The pod garbage collector (``pkg/controller/podgc/gc_controller.go``): deletes pods nobody else will.

Every 20 s (kube's ``gcCheckPeriod``), from the pod and node listers, in kube's order:

1. **terminated** pods (phase neither Pending, Running nor Unknown) beyond
   ``--terminated-pod-gc-threshold`` (0 disables this part): the surplus, evicted pods first, then
   oldest first (then by name), is force-deleted;
2. **terminating pods on out-of-service nodes**: a pod being deleted on a node that is not Ready and
   carries the ``node.kubernetes.io/out-of-service`` taint is marked Failed and force-deleted;
3. **orphaned** pods, bound to a node that does not exist: the node name waits a 40 s quarantine in
   a delaying queue (``orphaned_pods_nodes``); once out, a live GET confirms the node is gone and
   each of its pods is set Failed with the condition ``DisruptionTarget`` (reason
   ``DeletionByPodGC``, message ``PodGC: node no longer exists``), then force-deleted;
4. **unscheduled terminating** pods (being deleted, no ``spec.nodeName``) are force-deleted.

"Marked Failed" is kube's ``markFailedAndDeletePodWithCondition``: a pod not yet Succeeded or Failed
gets ``status.phase: Failed`` (and the condition) by a strategic-merge patch of ``pods/status``
with a uid precondition; "force-deleted" is a DELETE with ``gracePeriodSeconds: 0``. Each deletion
counts in ``pod_gc_collector_force_delete_pods_total{namespace, reason}`` (reasons ``terminated``,
``out-of-service``, ``orphaned``, ``unscheduled``), each failure in ``..._pod_errors_total``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from pyclientgo.api.core.v1 import Node, Pod
from pyclientgo.controller.metrics import workqueue_metrics_provider
from pyclientgo.errors import ApiError, is_not_found
from pyclientgo.tools.cache import wait_for_cache_sync
from pyclientgo.util.wait import until
from pyclientgo.workqueue import DelayingQueue
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "GC_CHECK_PERIOD",
    "QUARANTINE_TIME",
    "PodGCController",
    "new_podgc_controller",
]

CONTROLLER_NAME = "pod-garbage-collector-controller"
GC_CHECK_PERIOD = 20.0
"""Seconds between two collections (kube's ``gcCheckPeriod``)."""
QUARANTINE_TIME = 40.0
"""Seconds a node must stay absent before its pods are deleted (kube's ``quarantineTime``)."""
TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
DISRUPTION_TARGET = "DisruptionTarget"


REASON_TERMINATED = "terminated"
REASON_OUT_OF_SERVICE = "out-of-service"
REASON_ORPHANED = "orphaned"
REASON_UNSCHEDULED = "unscheduled"
"""kube's ``PodGCReason*`` label values of the metrics."""


class PodGCMetrics:
    """kube's ``pod_gc_collector_force_delete_pods_total`` / ``..._pod_errors_total`` (namespace, reason)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deleting = Counter(
            "pod_gc_collector_force_delete_pods",
            "Number of pods that are being forcefully deleted since the Pod GC Controller started.",
            ["namespace", "reason"],
            registry=registry,
        )
        self.errors = Counter(
            "pod_gc_collector_force_delete_pod_errors",
            "Number of errors encountered when forcefully deleting the pods since the Pod GC Controller started.",
            ["namespace", "reason"],
            registry=registry,
        )


_metrics: weakref.WeakKeyDictionary[CollectorRegistry, PodGCMetrics] = weakref.WeakKeyDictionary()
_metrics_lock = threading.Lock()


def pod_gc_metrics(registry: CollectorRegistry | None = None) -> PodGCMetrics:
    """The metrics of ``registry`` (the default registry when None), made once per registry."""
    registry = registry if registry is not None else REGISTRY
    with _metrics_lock:
        found = _metrics.get(registry)
        if found is None:
            found = _metrics[registry] = PodGCMetrics(registry)
        return found


def is_pod_terminated(pod: Pod) -> bool:
    """Phase neither Pending, Running nor Unknown (kube's ``isPodTerminated``: an empty phase counts)."""
    phase = pod.status.phase if pod.status else None
    return phase not in ("Pending", "Running", "Unknown")


def is_pod_terminating(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _node_name(pod: Pod) -> str:
    return (pod.spec.node_name if pod.spec else None) or ""


def _is_evicted(pod: Pod) -> bool:
    return pod.status is not None and pod.status.phase == "Failed" and pod.status.reason == "Evicted"


def _created(pod: Pod) -> float:
    stamp = pod.metadata.creation_timestamp if pod.metadata else None
    if isinstance(stamp, _dt.datetime):
        return stamp.timestamp()
    if isinstance(stamp, str) and stamp:
        return _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return 0.0


def by_eviction_and_creation(pods: Iterable[Pod]) -> list[Pod]:
    """Evicted pods first, then oldest first, then by name (kube's ``byEvictionAndCreationTimestamp``)."""
    return sorted(
        pods, key=lambda p: (not _is_evicted(p), _created(p), (p.metadata.name if p.metadata else "") or "")
    )


def is_node_ready(node: Node) -> bool:
    for cond in (node.status.conditions if node.status else None) or []:
        if cond.type == "Ready":
            return cond.status == "True"
    return False


def _has_taint(node: Node, key: str) -> bool:
    return any(t.key == key for t in (node.spec.taints if node.spec else None) or [])


def _pod_key(pod: Pod) -> str:
    meta = pod.metadata
    return f"{meta.namespace}/{meta.name}" if meta else "?"


class PodGCController:
    """kube-controller-manager's ``pod-garbage-collector-controller`` (module docstring)."""

    def __init__(
        self,
        ctx: ControllerContext,
        *,
        terminated_pod_threshold: int | None = None,
        gc_check_period: float = GC_CHECK_PERIOD,
        quarantine_time: float = QUARANTINE_TIME,
    ) -> None:
        self.ctx = ctx
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        pods = ctx.informer_factory.core_v1.pods()
        nodes = ctx.informer_factory.core_v1.nodes()
        self.pod_lister = pods.lister
        self.node_lister = nodes.lister
        self._synced = (pods.informer.has_synced, nodes.informer.has_synced)
        self.terminated_pod_threshold = (
            ctx.options.terminated_pod_gc_threshold
            if terminated_pod_threshold is None
            else terminated_pod_threshold
        )
        self.gc_check_period = gc_check_period
        self.quarantine_time = quarantine_time
        registry = ctx.manager.options.registry if ctx.manager is not None else None
        self.node_queue: DelayingQueue[str] = DelayingQueue(
            name="orphaned_pods_nodes", clock=ctx.clock, metrics_provider=workqueue_metrics_provider(registry)
        )
        self.metrics = pod_gc_metrics(registry)
        self._failure: BaseException | None = None

    def need_leader_election(self) -> bool:
        return True

    def health_check(self) -> None:
        if self._failure is not None:
            raise RuntimeError(f"pod GC stopped: {self._failure}")

    async def run(self) -> None:
        self.log.info("Starting GC controller")
        try:
            if not await wait_for_cache_sync(*self._synced, clock=self.ctx.clock):
                return
            await until(self._gc_safely, self.gc_check_period, clock=self.ctx.clock)
        finally:
            self.node_queue.shut_down()
            self.log.info("Shutting down GC controller")

    async def _gc_safely(self) -> None:
        try:
            await self.gc()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # one bad round must not stop the loop
            self.log.exception("pod GC round failed: %s", err)

    async def gc(self) -> None:
        """One collection (module docstring, 1-4)."""
        pods: list[Pod] = self.pod_lister.list()
        nodes: list[Node] = self.node_lister.list()
        if self.terminated_pod_threshold > 0:
            await self.gc_terminated(pods)
        await self.gc_terminating(pods)
        await self.gc_orphaned(pods, nodes)
        await self.gc_unscheduled_terminating(pods)

    async def gc_terminated(self, pods: list[Pod]) -> None:
        terminated = [p for p in pods if is_pod_terminated(p)]
        delete_count = len(terminated) - self.terminated_pod_threshold
        if delete_count <= 0:
            return
        self.log.info("Garbage collecting pods numPods=%d", delete_count)
        victims = by_eviction_and_creation(terminated)[:delete_count]
        await asyncio.gather(*(self._delete(p, REASON_TERMINATED) for p in victims))

    async def gc_terminating(self, pods: list[Pod]) -> None:
        victims: list[Pod] = []
        for pod in pods:
            if not is_pod_terminating(pod):
                continue
            try:
                node: Node = self.node_lister.get(_node_name(pod))
            except ApiError as err:
                self.log.error("Failed to get node %s: %s", _node_name(pod), err)
                continue
            if not is_node_ready(node) and _has_taint(node, TAINT_NODE_OUT_OF_SERVICE):
                victims.append(pod)
        if not victims:
            return
        self.log.info(
            "Garbage collecting pods that are terminating on node tainted with %s numPods=%d",
            TAINT_NODE_OUT_OF_SERVICE,
            len(victims),
        )
        await asyncio.gather(
            *(self._delete(p, REASON_OUT_OF_SERVICE) for p in by_eviction_and_creation(victims))
        )

    async def gc_orphaned(self, pods: list[Pod], nodes: list[Node]) -> None:
        existing = {n.metadata.name for n in nodes if n.metadata and n.metadata.name}
        for pod in pods:
            name = _node_name(pod)
            if name and name not in existing:
                self.node_queue.add_after(name, self.quarantine_time)
        deleted_nodes = await self._discover_deleted_nodes(existing)
        for pod in pods:
            if _node_name(pod) not in deleted_nodes:
                continue
            self.log.info(
                "Found orphaned Pod %s assigned to the Node %s, deleting", _pod_key(pod), _node_name(pod)
            )
            condition = {
                "type": DISRUPTION_TARGET,
                "status": "True",
                "reason": "DeletionByPodGC",
                "message": "PodGC: node no longer exists",
            }
            if await self._delete(pod, REASON_ORPHANED, condition):
                self.log.info("Forced deletion of orphaned Pod %s succeeded", _pod_key(pod))

    async def _discover_deleted_nodes(self, existing: set[str]) -> set[str]:
        """Node names out of quarantine that a live GET does not find."""
        deleted: set[str] = set()
        while len(self.node_queue) > 0:
            name = await self.node_queue.get()
            try:
                if name not in existing:
                    try:
                        await self.client.core_v1.nodes().get(name)
                    except ApiError as err:
                        if is_not_found(err):
                            deleted.add(name)
                        else:
                            self.log.error("Error while getting node %s: %s", name, err)
            finally:
                self.node_queue.done(name)
        return deleted

    async def gc_unscheduled_terminating(self, pods: list[Pod]) -> None:
        for pod in pods:
            if not is_pod_terminating(pod) or _node_name(pod):
                continue
            self.log.info(
                "Found unscheduled terminating Pod %s not assigned to any Node, deleting", _pod_key(pod)
            )
            if await self._delete(pod, REASON_UNSCHEDULED):
                self.log.info("Forced deletion of unscheduled terminating Pod %s succeeded", _pod_key(pod))

    async def _delete(self, pod: Pod, reason: str, condition: dict[str, Any] | None = None) -> bool:
        """Mark ``pod`` Failed (with ``condition``) unless it has finished, then force-delete it; False
        (logged) on an error."""
        namespace = (pod.metadata.namespace if pod.metadata else None) or ""
        self.metrics.deleting.labels(namespace, reason).inc()
        try:
            await self.mark_failed_and_delete_pod(pod, condition)
        except ApiError as err:
            self.metrics.errors.labels(namespace, reason).inc()
            if is_not_found(err):
                return False
            self.log.error("PodGC failed to delete pod %s: %s", _pod_key(pod), err)
            return False
        return True

    async def mark_failed_and_delete_pod(self, pod: Pod, condition: dict[str, Any] | None = None) -> None:
        assert pod.metadata is not None and pod.metadata.name and pod.metadata.namespace
        self.log.info("PodGC is force deleting Pod %s", _pod_key(pod))
        pods = self.client.core_v1.pods(pod.metadata.namespace)
        phase = pod.status.phase if pod.status else None
        if phase not in ("Succeeded", "Failed"):
            status: dict[str, Any] = {"phase": "Failed"}
            if condition is not None:
                status["conditions"] = [self._updated_condition(pod, condition)]
            patch = {"metadata": {"uid": pod.metadata.uid}, "status": status}
            await pods.patch(pod.metadata.name, patch, patch_type="strategic", subresource="status")
        await pods.delete(pod.metadata.name, grace_period_seconds=0)

    @staticmethod
    def _updated_condition(pod: Pod, condition: dict[str, Any]) -> dict[str, Any]:
        """``condition`` with kube's ``UpdatePodCondition`` transition time (kept when the status stays)."""
        new = dict(condition)
        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        new["lastTransitionTime"] = now
        for old in (pod.status.conditions if pod.status else None) or []:
            if old.type == new["type"] and old.status == new["status"] and old.last_transition_time:
                stamp = old.last_transition_time
                new["lastTransitionTime"] = (
                    stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(stamp, _dt.datetime) else str(stamp)
                )
        return new


def new_podgc_controller(ctx: ControllerContext) -> PodGCController:
    """The registry's init function."""
    return PodGCController(ctx)
