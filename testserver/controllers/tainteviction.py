"""The taint eviction controller (``pkg/controller/tainteviction/taint_eviction.go``).

Deletes the pods of a node with ``NoExecute`` taints they do not tolerate, as kube's taint manager:

- a pod that does not tolerate every NoExecute taint of its node is deleted at once;
- a pod that tolerates them all is deleted after the smallest ``tolerationSeconds`` of the
  tolerations used (never, if none of them sets it), counted from when the eviction was first
  scheduled;
- an eviction is cancelled when the taints go, the pod's tolerations change to cover them, or the pod
  moves or goes; a cancelled eviction records ``TaintManagerEviction`` "Cancelling deletion of Pod
  ns/name", a deletion ``TaintManagerEviction`` "Marking for deletion Pod ns/name";
- before deleting, the pod gets the ``DisruptionTarget`` condition (reason ``DeletionByTaintManager``,
  "Taint manager: deleting due to NoExecute taint").

The timed work queue of kube is the controller's own queue here: a pod whose eviction is due later
is requeued for that moment (``Result.requeue_after``), and node changes requeue the node's pods.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

from pyclientgo.api.core.v1 import Pod, Taint, Toleration
from pyclientgo.apimachinery.model import format_time
from pyclientgo.component_helpers.scheduling import toleration_tolerates_taint
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.errors import NotFound, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_NORMAL
from testserver.controllers.context import ControllerContext
from testserver.controllers.nodelifecycle import ensure_pod_node_name_index, pods_on_node

__all__ = [
    "CONTROLLER_NAME",
    "TaintEvictionController",
    "get_matching_tolerations",
    "min_toleration_seconds",
    "new_taint_eviction_controller",
]

CONTROLLER_NAME = "taint-eviction-controller"


def get_matching_tolerations(
    taints: Sequence[Taint], tolerations: Sequence[Toleration]
) -> tuple[bool, list[Toleration]]:
    """kube's ``GetMatchingTolerations``: whether every taint is tolerated, and the tolerations used."""
    if not taints:
        return True, []
    if not tolerations:
        return False, []
    used: list[Toleration] = []
    for taint in taints:
        matched = [t for t in tolerations if toleration_tolerates_taint(t, taint)]
        if not matched:
            return False, []
        used.extend(matched)
    return True, used


def min_toleration_seconds(tolerations: Sequence[Toleration]) -> float | None:
    """kube's ``getMinTolerationTime``: 0 for none, ``None`` for forever, else the smallest seconds."""
    if not tolerations:
        return 0.0
    smallest: int | None = None
    for toleration in tolerations:
        seconds = toleration.toleration_seconds
        if seconds is None:
            continue
        if seconds <= 0:
            return 0.0
        if smallest is None or seconds < smallest:
            smallest = seconds
    return None if smallest is None else float(smallest)


@dataclass
class _Scheduled:
    created_at: float
    fire_at: float


class TaintEvictionController:
    """Evicts pods from nodes with NoExecute taints (module docstring)."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.clock = ctx.clock
        self.log = ctx.logger(CONTROLLER_NAME)
        self.recorder = ctx.event_recorder(CONTROLLER_NAME) if ctx.manager is not None else None
        nodes = ctx.informer_factory.core_v1.nodes()
        pods = ctx.informer_factory.core_v1.pods()
        self.node_lister = nodes.lister
        self.pod_informer = pods.informer
        ensure_pod_node_name_index(self.pod_informer)
        self.scheduled: dict[str, _Scheduled] = {}
        self.controller = Controller(
            CONTROLLER_NAME, self.sync, ControllerOptions(max_concurrent_reconciles=8, clock=ctx.clock)
        )
        self.controller.for_(pods.informer)
        self.controller.watches(nodes.informer, self._pods_of_node)

    def _pods_of_node(self, node: object) -> list[Request]:
        meta = getattr(node, "metadata", None)
        name = getattr(meta, "name", None) or ""
        return [
            Request(
                (p.metadata.namespace if p.metadata else None) or "",
                (p.metadata.name if p.metadata else None) or "",
            )
            for p in pods_on_node(self.pod_informer, name)
        ]

    def need_leader_election(self) -> bool:
        return True

    async def run(self) -> None:
        await self.controller.run()

    def _cancel(self, key: str, namespace: str, name: str) -> None:
        if self.scheduled.pop(key, None) is not None:
            self._event(namespace, name, f"Cancelling deletion of Pod {key}")

    def _event(self, namespace: str, name: str, message: str) -> None:
        if self.recorder is not None:
            ref = {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace, "name": name}}
            self.recorder.event(ref, EVENT_TYPE_NORMAL, "TaintManagerEviction", message)

    async def sync(self, request: Request) -> Result:
        key = f"{request.namespace}/{request.name}"
        pod: Pod | None = self.pod_informer.get_indexer().get_by_key(key)
        if pod is None or pod.spec is None or not pod.spec.node_name:
            self._cancel(key, request.namespace, request.name)
            return Result()
        if pod.metadata is not None and pod.metadata.deletion_timestamp is not None:
            self.scheduled.pop(key, None)  # already being deleted (kube would delete it again)
            return Result()
        try:
            node = self.node_lister.get(pod.spec.node_name)
        except NotFound:
            self._cancel(key, request.namespace, request.name)
            return Result()
        taints = [t for t in ((node.spec.taints if node.spec else None) or ()) if t.effect == "NoExecute"]
        if not taints:
            self._cancel(key, request.namespace, request.name)
            return Result()
        now = self.clock.now()
        all_tolerated, used = get_matching_tolerations(taints, pod.spec.tolerations or [])
        if not all_tolerated:
            self.scheduled.pop(key, None)
            await self._evict(request.namespace, request.name, key)
            return Result()
        wait = min_toleration_seconds(used)
        if wait is None:
            self._cancel(key, request.namespace, request.name)
            return Result()
        existing = self.scheduled.get(key)
        if existing is not None and existing.created_at + wait <= existing.fire_at:
            # an earlier schedule with a later trigger is replaced from its own start (kube keeps startTime)
            existing.fire_at = existing.created_at + wait
        elif existing is None:
            existing = self.scheduled[key] = _Scheduled(created_at=now, fire_at=now + wait)
        if now >= existing.fire_at:
            del self.scheduled[key]
            await self._evict(request.namespace, request.name, key)
            return Result()
        return Result(requeue_after=existing.fire_at - now)

    async def _evict(self, namespace: str, name: str, key: str) -> None:
        """kube's ``deletePodHandler``: the event, the DisruptionTarget condition, then the delete."""
        self.log.info('"Deleting pod" controller="%s" pod="%s"', CONTROLLER_NAME, key)
        self._event(namespace, name, f"Marking for deletion Pod {key}")
        pods = self.client.core_v1.pods(namespace)
        try:
            live = await pods.get(name)
            data = live.to_dict()
            status = data.setdefault("status", {})
            conditions = status.setdefault("conditions", [])
            if not any(c.get("type") == "DisruptionTarget" and c.get("status") == "True" for c in conditions):
                conditions[:] = [c for c in conditions if c.get("type") != "DisruptionTarget"]
                conditions.append(
                    {
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "DeletionByTaintManager",
                        "message": "Taint manager: deleting due to NoExecute taint",
                        "lastTransitionTime": format_time(_dt.datetime.now(_dt.UTC)),
                    }
                )
                await pods.patch(
                    name, {"status": {"conditions": conditions}}, patch_type="strategic", subresource="status"
                )
            await pods.delete(name)
        except Exception as err:
            if is_not_found(err):
                return
            raise


def new_taint_eviction_controller(ctx: ControllerContext) -> TaintEvictionController:
    """The registry's init function."""
    return TaintEvictionController(ctx)
