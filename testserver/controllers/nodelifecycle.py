"""The node lifecycle controller (``pkg/controller/nodelifecycle/node_lifecycle_controller.go``).

Every ``--node-monitor-period`` (5 s) it looks at each Node's health, as kube's ``monitorNodeHealth``:

- A node is heard from when its Ready condition's ``lastHeartbeatTime`` changes or its Lease in
  ``kube-node-lease`` is renewed. A node not heard from for ``--node-monitor-grace-period`` (50 s;
  ``--node-startup-grace-period`` 60 s before its first status) gets Ready, MemoryPressure,
  DiskPressure and PIDPressure set to Unknown — reason ``NodeStatusUnknown``, "Kubelet stopped posting
  node status." (``NodeStatusNeverUpdated``, "Kubelet never posted node status." for a condition the
  kubelet never wrote).
- When Ready leaves True it records ``NodeNotReady`` ("Node n status is now: NodeNotReady") on the
  node and marks every pod on it not ready (Ready False, a ``NodeNotReady`` "Node is not ready" Warning
  event on each pod, as ``MarkPodsNotReady``); pods bound to a not-ready node later are marked too.
- Taint-based eviction: a node whose Ready is False gets the ``node.kubernetes.io/not-ready``
  NoExecute taint, Unknown the ``node.kubernetes.io/unreachable`` one (the two swap at once), through
  a per-zone rate-limited queue (``--node-eviction-rate`` 0.1 nodes/s, burst 1); a Ready node loses
  both. Zones (``topology.kubernetes.io/region`` + ``zone`` labels) are Normal, PartialDisruption (at
  least 3 and ``--unhealthy-zone-threshold`` 55 % not ready: ``--secondary-node-eviction-rate``, or 0
  up to ``--large-cluster-size-threshold`` nodes) or FullDisruption (no ready node); when every zone is
  fully disrupted the controller assumes a control-plane problem, removes the taints and stops
  tainting. The pods themselves are evicted by :mod:`testserver.controllers.tainteviction`.
- NoSchedule condition taints (``not-ready``, ``unreachable``, ``memory-pressure``, ``disk-pressure``,
  ``pid-pressure``, ``network-unavailable``) follow the node's conditions, and
  ``node.kubernetes.io/unschedulable`` follows ``spec.unschedulable`` (kube's
  ``doNoScheduleTaintingPass``); the beta ``kubernetes.io/os``/``arch`` labels follow the stable ones.
- Events ``RegisteredNode`` ("Registered Node n in Controller") and ``RemovingNode`` ("Removing Node n
  from Controller") as nodes come and go; the recorder reports as ``node-controller``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyclientgo.api.coordination.v1 import Lease
from pyclientgo.api.core.v1 import Node, NodeCondition, Pod
from pyclientgo.apimachinery.model import format_time
from pyclientgo.component_helpers.node import get_node_condition
from pyclientgo.controller import Controller, ControllerOptions, Funcs, Request, Result
from pyclientgo.errors import NotFound, is_not_found
from pyclientgo.rest import AsyncTokenBucketRateLimiter
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING
from pyclientgo.util.backoff import Backoff
from pyclientgo.util.retry import retry_on_conflict
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "NOT_READY_TAINT_KEY",
    "UNREACHABLE_TAINT_KEY",
    "NodeLifecycleController",
    "ZoneState",
    "compute_zone_state",
    "new_node_lifecycle_controller",
    "pods_on_node",
]

CONTROLLER_NAME = "node-lifecycle-controller"
EVENT_COMPONENT = "node-controller"

NOT_READY_TAINT_KEY = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT_KEY = "node.kubernetes.io/unreachable"
UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"
NODE_LEASE_NAMESPACE = "kube-node-lease"
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
POD_NODE_NAME_INDEX = "spec.nodeName"

_CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY_TAINT_KEY, "Unknown": UNREACHABLE_TAINT_KEY},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
_CONDITION_TAINT_KEYS = frozenset(
    key for by_status in _CONDITION_TAINTS.values() for key in by_status.values()
)
_UNKNOWN_ON_SILENCE = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
_LABEL_RECONCILE = (
    ("kubernetes.io/os", "beta.kubernetes.io/os"),
    ("kubernetes.io/arch", "beta.kubernetes.io/arch"),
)
_NO_EXECUTE_PASS_PERIOD = 0.1
"""kube runs the NoExecute tainting pass every 100 ms."""
_EVICTION_BURST = 1


class ZoneState:
    """kube's zone states."""

    INITIAL = "Initial"
    NORMAL = "Normal"
    FULL_DISRUPTION = "FullDisruption"
    PARTIAL_DISRUPTION = "PartialDisruption"


def compute_zone_state(ready_statuses: Iterable[str | None], unhealthy_threshold: float) -> tuple[int, str]:
    """kube's ``ComputeZoneState``: (not-ready count, state) from the nodes' Ready statuses."""
    ready = not_ready = 0
    for status in ready_statuses:
        if status == "True":
            ready += 1
        else:
            not_ready += 1
    if ready == 0 and not_ready > 0:
        return not_ready, ZoneState.FULL_DISRUPTION
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_threshold:
        return not_ready, ZoneState.PARTIAL_DISRUPTION
    return not_ready, ZoneState.NORMAL


def zone_key(node: Node) -> str:
    """kube's ``GetZoneKey``: ``region:\\x00:zone`` from the topology labels ("" without them)."""
    labels = (node.metadata.labels if node.metadata is not None else None) or {}
    region = labels.get(REGION_LABEL, "")
    zone = labels.get(ZONE_LABEL, "")
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


def _name(obj: Node | Pod) -> str:
    return (obj.metadata.name if obj.metadata is not None else None) or ""


def _node_condition(node: Node, kind: str) -> NodeCondition | None:
    return get_node_condition(node.status, kind)


def _taints(node: Node) -> list[dict[str, Any]]:
    return [t.to_dict() for t in ((node.spec.taints if node.spec is not None else None) or ())]


def _has_taint(node: Node, key: str, effect: str) -> bool:
    return any(t.get("key") == key and t.get("effect") == effect for t in _taints(node))


def pods_on_node(informer: Any, node_name: str) -> list[Pod]:
    """The cached pods bound to ``node_name`` (by the ``spec.nodeName`` index when the pod informer has it)."""
    indexer = informer.get_indexer()
    if POD_NODE_NAME_INDEX in indexer.get_indexers():
        return list(indexer.by_index(POD_NODE_NAME_INDEX, node_name))
    return [p for p in indexer.list() if p.spec is not None and p.spec.node_name == node_name]


def ensure_pod_node_name_index(informer: Any) -> None:
    """Add the ``spec.nodeName`` index to the shared pod informer unless another controller did."""
    if POD_NODE_NAME_INDEX in informer.get_indexer().get_indexers():
        return

    def by_node(pod: Any) -> list[str]:
        node_name = pod.spec.node_name if pod.spec is not None else None
        return [node_name] if node_name else []

    try:
        informer.add_indexers({POD_NODE_NAME_INDEX: by_node})
    except ValueError:  # added concurrently by another controller
        pass


@dataclass
class _NodeHealth:
    """kube's ``nodeHealthData``: when the node was last heard from, and what it said."""

    probe_timestamp: float
    ready_transition_timestamp: float
    ready_heartbeat: _dt.datetime | None
    ready_transition: _dt.datetime | None
    has_ready: bool
    lease_renew_time: _dt.datetime | None = None


class _RateLimitedTimedQueue:
    """kube's ``RateLimitedTimedQueue``: node names in insertion order, processed at a token rate."""

    def __init__(self, qps: float, clock: Any) -> None:
        self.clock = clock
        self.items: dict[str, str] = {}
        self.limiter: AsyncTokenBucketRateLimiter | None = None
        self.swap_limiter(qps)

    def swap_limiter(self, qps: float) -> None:
        if self.limiter is not None and self.limiter.qps == qps:
            return
        self.limiter = (
            AsyncTokenBucketRateLimiter(qps, _EVICTION_BURST, clock=self.clock) if qps > 0 else None
        )

    def add(self, name: str, uid: str) -> bool:
        if name in self.items:
            return False
        self.items[name] = uid
        return True

    def remove(self, name: str) -> bool:
        return self.items.pop(name, None) is not None

    def take(self) -> list[str]:
        """The names whose turn has come (as many as the limiter allows now), removed from the queue."""
        taken: list[str] = []
        while self.items and self.limiter is not None and self.limiter.try_accept():
            name = next(iter(self.items))
            del self.items[name]
            taken.append(name)
        return taken


class NodeLifecycleController:
    """Node health, condition taints and NoExecute tainting (module docstring)."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.opts = ctx.options
        self.client = ctx.clientset
        self.clock = ctx.clock
        self.log = ctx.logger(CONTROLLER_NAME)
        self.recorder = ctx.event_recorder(EVENT_COMPONENT) if ctx.manager is not None else None
        nodes = ctx.informer_factory.core_v1.nodes()
        pods = ctx.informer_factory.core_v1.pods()
        leases = ctx.informer_factory.coordination_v1.leases()
        self.node_informer = nodes.informer
        self.pod_informer = pods.informer
        self.lease_informer = leases.informer
        self.node_lister = nodes.lister
        self.lease_lister = leases.lister
        ensure_pod_node_name_index(self.pod_informer)
        self.node_health: dict[str, _NodeHealth] = {}
        self.known_nodes: dict[str, Node] = {}
        self.zone_states: dict[str, str] = {}
        self.zone_tainters: dict[str, _RateLimitedTimedQueue] = {}
        self.nodes_to_retry: set[str] = set()
        # NoSchedule taints and labels: a controller over nodes, as kube's nodeUpdateQueue
        self.node_updates = Controller(
            CONTROLLER_NAME, self.sync_node, ControllerOptions(max_concurrent_reconciles=4, clock=ctx.clock)
        )
        self.node_updates.for_(nodes.informer)
        # pods bound to a node that is not ready are marked not ready (kube's podUpdated)
        self.pod_updates = Controller(
            "node-lifecycle-pods",
            self.sync_pod,
            ControllerOptions(max_concurrent_reconciles=4, clock=ctx.clock),
        )
        self.pod_updates.watches(
            pods.informer,
            lambda pod: (
                [Request(pod.metadata.namespace or "", pod.metadata.name or "")]
                if pod.metadata is not None and pod.spec is not None and pod.spec.node_name
                else []
            ),
            predicates=[
                Funcs(
                    update=lambda old, new: (
                        bool(new.spec and new.spec.node_name)
                        and (old.spec is None or old.spec.node_name != new.spec.node_name)
                    ),
                    delete=lambda _: False,
                )
            ],
        )

    def need_leader_election(self) -> bool:
        return True

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.node_updates.run())
            group.create_task(self.pod_updates.run())
            await self._wait_synced()
            group.create_task(self._every(self.opts.node_monitor_period, self.monitor_node_health))
            group.create_task(self._every(_NO_EXECUTE_PASS_PERIOD, self.do_no_execute_tainting_pass))

    async def _wait_synced(self) -> None:
        while not (
            self.node_informer.has_synced()
            and self.pod_informer.has_synced()
            and self.lease_informer.has_synced()
        ):
            await self.clock.sleep(0.05)

    async def _every(self, period: float, fn: Callable[[], Any]) -> None:
        while True:
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("%s failed", getattr(fn, "__name__", fn))
            await self.clock.sleep(period)

    # -- events ---------------------------------------------------------------------------------------

    def _node_event(self, node: Node, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(node, type_, reason, message)

    def _record_status_change(self, node: Node, status: str) -> None:
        self._node_event(node, EVENT_TYPE_NORMAL, status, f"Node {_name(node)} status is now: {status}")

    # -- monitorNodeHealth ----------------------------------------------------------------------------

    async def monitor_node_health(self) -> None:
        nodes = list(self.node_lister.list())
        names = {_name(n) for n in nodes}
        for node in nodes:
            name = _name(node)
            if name not in self.known_nodes:
                self._node_event(
                    node, EVENT_TYPE_NORMAL, "RegisteredNode", f"Registered Node {name} in Controller"
                )
                self.known_nodes[name] = node
                self._add_zone(node)
                await self._mark_node_as_reachable(node)
            elif zone_key(node) not in self.zone_states:
                self._add_zone(node)
        for name in [n for n in self.known_nodes if n not in names]:
            gone = self.known_nodes.pop(name)
            self._node_event(gone, EVENT_TYPE_NORMAL, "RemovingNode", f"Removing Node {name} from Controller")
            self.node_health.pop(name, None)

        zone_conditions: dict[str, list[str | None]] = {}
        for node in nodes:
            try:
                observed, current, node = await self._try_update_node_health(node)
            except Exception as err:
                self.log.error(
                    "Update health of Node %s from Controller error, skipping: %s", _name(node), err
                )
                continue
            labels = (node.metadata.labels if node.metadata is not None else None) or {}
            if EXCLUDE_DISRUPTION_LABEL not in labels:
                zone_conditions.setdefault(zone_key(node), []).append(current)
            if current is None:
                continue
            await self._process_taint_based_eviction(node, observed)
            name = _name(node)
            needs_retry = name in self.nodes_to_retry
            if (current != "True" and observed == "True") or (needs_retry and observed != "True"):
                if current != "True" and observed == "True":
                    self._record_status_change(node, "NodeNotReady")
                try:
                    await self._mark_pods_not_ready(name)
                except Exception as err:
                    self.log.error(
                        "unable to mark all pods NotReady on node %s: %s; queuing for retry", name, err
                    )
                    self.nodes_to_retry.add(name)
                    continue
            self.nodes_to_retry.discard(name)
        await self._handle_disruption(zone_conditions, nodes)

    async def _try_update_node_health(self, node: Node) -> tuple[str, str | None, Node]:
        """kube's ``tryUpdateNodeHealth``: (observed Ready status, current Ready status, node)."""
        name = _name(node)
        now = self.clock.now()
        health = self.node_health.get(name)
        ready = _node_condition(node, "Ready")
        if ready is None:
            observed_status = "Unknown"
            grace = self.opts.node_startup_grace_period
            if health is None:
                health = _NodeHealth(now, now, None, None, False)
        else:
            observed_status = ready.status or "Unknown"
            grace = self.opts.node_monitor_grace_period
        if health is None or (not health.has_ready and ready is not None):
            health = _NodeHealth(
                now,
                now,
                ready.last_heartbeat_time if ready else None,
                ready.last_transition_time if ready else None,
                ready is not None,
            )
        elif health.has_ready and ready is None:
            self.log.error("ReadyCondition was removed from Status of Node %s", name)
            health = _NodeHealth(now, now, None, None, False)
        elif ready is not None and health.ready_heartbeat != ready.last_heartbeat_time:
            transition = (
                now
                if health.ready_transition != ready.last_transition_time
                else health.ready_transition_timestamp
            )
            health = _NodeHealth(
                now,
                transition,
                ready.last_heartbeat_time,
                ready.last_transition_time,
                True,
                health.lease_renew_time,
            )
        try:
            lease: Lease | None = self.lease_lister.leases(NODE_LEASE_NAMESPACE).get(name)
        except NotFound:
            lease = None
        renew = lease.spec.renew_time if lease is not None and lease.spec is not None else None
        if renew is not None and (health.lease_renew_time is None or health.lease_renew_time < renew):
            health.lease_renew_time = renew
            health.probe_timestamp = now
        self.node_health[name] = health

        current_status: str | None = ready.status if ready is not None else None
        if now > health.probe_timestamp + grace:
            data = node.to_dict()
            conditions: list[dict[str, Any]] = data.setdefault("status", {}).setdefault("conditions", [])
            stamp = format_time(_dt.datetime.now(_dt.UTC))
            created = (data.get("metadata") or {}).get("creationTimestamp") or stamp
            changed = False
            for kind in _UNKNOWN_ON_SILENCE:
                existing = next((c for c in conditions if c.get("type") == kind), None)
                if existing is None:
                    conditions.append(
                        {
                            "type": kind,
                            "status": "Unknown",
                            "reason": "NodeStatusNeverUpdated",
                            "message": "Kubelet never posted node status.",
                            "lastHeartbeatTime": created,
                            "lastTransitionTime": stamp,
                        }
                    )
                    changed = True
                elif existing.get("status") != "Unknown":
                    existing.update(
                        status="Unknown",
                        reason="NodeStatusUnknown",
                        message="Kubelet stopped posting node status.",
                        lastTransitionTime=stamp,
                    )
                    changed = True
            new_ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            current_status = new_ready.get("status") if new_ready else None
            if changed and (ready is None or ready.status != current_status):
                node = await self.client.core_v1.nodes().update_status(Node.from_dict(data))
                updated_ready = _node_condition(node, "Ready")
                self.node_health[name] = _NodeHealth(
                    health.probe_timestamp,
                    now,
                    updated_ready.last_heartbeat_time if updated_ready else None,
                    updated_ready.last_transition_time if updated_ready else None,
                    updated_ready is not None,
                    health.lease_renew_time,
                )
        return observed_status, current_status, node

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        """kube's ``MarkPodsNotReady`` for every cached pod on the node."""
        errors: list[BaseException] = []
        for pod in pods_on_node(self.pod_informer, node_name):
            try:
                await self._mark_pod_not_ready(pod)
            except Exception as err:
                errors.append(err)
        if errors:
            raise errors[0]

    async def _mark_pod_not_ready(self, pod: Pod) -> None:
        data = pod.to_dict()
        for condition in (data.get("status") or {}).get("conditions") or []:
            if condition.get("type") != "Ready":
                continue
            if condition.get("status") == "False":
                return
            condition["status"] = "False"
            condition["lastTransitionTime"] = format_time(_dt.datetime.now(_dt.UTC))
            try:
                namespace = (pod.metadata.namespace if pod.metadata is not None else None) or ""
                await self.client.core_v1.pods(namespace).update_status(Pod.from_dict(data))
            except Exception as err:
                if is_not_found(err):
                    return
                raise
            if self.recorder is not None:
                self.recorder.event(pod, EVENT_TYPE_WARNING, "NodeNotReady", "Node is not ready")
            return

    async def sync_pod(self, request: Request) -> Result:
        """kube's ``processPod``: a pod bound to a node that is not ready is marked not ready."""
        pod: Pod | None = self.pod_informer.get_indexer().get_by_key(f"{request.namespace}/{request.name}")
        if pod is None or pod.spec is None or not pod.spec.node_name:
            return Result()
        health = self.node_health.get(pod.spec.node_name)
        if health is None:
            return Result()
        try:
            node = self.node_lister.get(pod.spec.node_name)
        except NotFound:
            return Result(requeue=True)
        ready = _node_condition(node, "Ready")
        if ready is not None and ready.status != "True":
            await self._mark_pod_not_ready(pod)
        return Result()

    # -- taints ---------------------------------------------------------------------------------------

    def _add_zone(self, node: Node) -> None:
        zone = zone_key(node)
        if zone not in self.zone_states:
            self.zone_states[zone] = ZoneState.INITIAL
            self.zone_tainters[zone] = _RateLimitedTimedQueue(self.opts.node_eviction_rate, self.clock)
            self.log.info("Initializing eviction metric for zone %r", zone)

    async def _process_taint_based_eviction(self, node: Node, observed: str) -> None:
        name = _name(node)
        if observed == "False":
            if _has_taint(node, UNREACHABLE_TAINT_KEY, "NoExecute"):
                await self._swap_taints(
                    name, add=[NOT_READY_TAINT_KEY], remove=[UNREACHABLE_TAINT_KEY], effect="NoExecute"
                )
            else:
                self._mark_node_for_tainting(node, "False")
        elif observed == "Unknown":
            if _has_taint(node, NOT_READY_TAINT_KEY, "NoExecute"):
                await self._swap_taints(
                    name, add=[UNREACHABLE_TAINT_KEY], remove=[NOT_READY_TAINT_KEY], effect="NoExecute"
                )
            else:
                self._mark_node_for_tainting(node, "Unknown")
        elif observed == "True" and await self._mark_node_as_reachable(node):
            self.log.info("Node %s is healthy again, removed all taints", name)

    def _mark_node_for_tainting(self, node: Node, status: str) -> bool:
        queue = self.zone_tainters[zone_key(node)]
        name = _name(node)
        if status == "False" and not _has_taint(node, NOT_READY_TAINT_KEY, "NoExecute"):
            queue.remove(name)
        if status == "Unknown" and not _has_taint(node, UNREACHABLE_TAINT_KEY, "NoExecute"):
            queue.remove(name)
        return queue.add(name, (node.metadata.uid if node.metadata else None) or "")

    async def _mark_node_as_reachable(self, node: Node) -> bool:
        name = _name(node)
        if _has_taint(node, UNREACHABLE_TAINT_KEY, "NoExecute") or _has_taint(
            node, NOT_READY_TAINT_KEY, "NoExecute"
        ):
            await self._swap_taints(
                name, add=[], remove=[UNREACHABLE_TAINT_KEY, NOT_READY_TAINT_KEY], effect="NoExecute"
            )
        queue = self.zone_tainters.get(zone_key(node))
        return queue.remove(name) if queue is not None else False

    async def do_no_execute_tainting_pass(self) -> None:
        for queue in list(self.zone_tainters.values()):
            for name in queue.take():
                try:
                    node = self.node_lister.get(name)
                except NotFound:
                    continue
                ready = _node_condition(node, "Ready")
                if ready is None:
                    queue.add(name, "")
                    continue
                if ready.status == "False":
                    add, opposite = NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY
                elif ready.status == "Unknown":
                    add, opposite = UNREACHABLE_TAINT_KEY, NOT_READY_TAINT_KEY
                else:
                    continue  # ready again
                try:
                    await self._swap_taints(name, add=[add], remove=[opposite], effect="NoExecute")
                except Exception as err:
                    self.log.error("tainting node %s: %s", name, err)
                    queue.add(name, "")

    async def _swap_taints(
        self, node_name: str, *, add: Iterable[str], remove: Iterable[str], effect: str
    ) -> None:
        """kube's ``SwapNodeControllerTaint``: add and remove taints (by key and effect) on the live node."""
        to_add = list(add)
        to_remove = set(remove)

        async def attempt() -> None:
            try:
                live = await self.client.core_v1.nodes().get(node_name)
            except NotFound:
                return
            taints = _taints(live)
            kept = [t for t in taints if not (t.get("key") in to_remove and t.get("effect") == effect)]
            stamp = format_time(_dt.datetime.now(_dt.UTC))
            for key in to_add:
                if not any(t.get("key") == key and t.get("effect") == effect for t in kept):
                    kept.append({"key": key, "effect": effect, "timeAdded": stamp})
            if kept == taints:
                return
            data = live.to_dict()
            data.setdefault("spec", {})["taints"] = kept
            await self.client.core_v1.nodes().update(Node.from_dict(data))

        await retry_on_conflict(Backoff(steps=5, duration=0.01, factor=1.0, jitter=0.1), attempt)

    async def sync_node(self, request: Request) -> Result:
        """kube's ``doNoScheduleTaintingPass`` and ``reconcileNodeLabels`` for one node."""
        try:
            node: Node = self.node_lister.get(request.name)
        except NotFound:
            return Result()
        wanted: set[str] = set()
        for condition in (node.status.conditions if node.status is not None else None) or ():
            key = _CONDITION_TAINTS.get(condition.type or "", {}).get(condition.status or "")
            if key:
                wanted.add(key)
        if node.spec is not None and node.spec.unschedulable:
            wanted.add(UNSCHEDULABLE_TAINT_KEY)
        present = {
            t["key"]
            for t in _taints(node)
            if t.get("effect") == "NoSchedule"
            and (t.get("key") in _CONDITION_TAINT_KEYS or t.get("key") == UNSCHEDULABLE_TAINT_KEY)
        }
        if wanted != present:
            await self._swap_taints(
                request.name, add=sorted(wanted - present), remove=present - wanted, effect="NoSchedule"
            )
        await self._reconcile_labels(node)
        return Result()

    async def _reconcile_labels(self, node: Node) -> None:
        labels: Mapping[str, str] = (node.metadata.labels if node.metadata is not None else None) or {}
        if not labels:
            return
        updates = {
            secondary: labels[primary]
            for primary, secondary in _LABEL_RECONCILE
            if primary in labels and labels.get(secondary) != labels[primary]
        }
        if updates:
            await self.client.core_v1.nodes().patch(
                _name(node), {"metadata": {"labels": updates}}, patch_type="strategic"
            )

    # -- handleDisruption -----------------------------------------------------------------------------

    def _zone_qps(self, state: str, zone_size: int) -> float:
        if state == ZoneState.NORMAL:
            return self.opts.node_eviction_rate
        if state == ZoneState.PARTIAL_DISRUPTION:
            return (
                self.opts.secondary_node_eviction_rate
                if zone_size > self.opts.large_cluster_size_threshold
                else 0.0
            )
        return self.opts.node_eviction_rate  # FullDisruption in one zone: kube's HealthyQPSFunc

    async def _handle_disruption(
        self, zone_conditions: dict[str, list[str | None]], nodes: list[Node]
    ) -> None:
        new_states: dict[str, str] = {}
        all_are_fully_disrupted = True
        for zone, statuses in zone_conditions.items():
            _, state = compute_zone_state(statuses, self.opts.unhealthy_zone_threshold)
            if state != ZoneState.FULL_DISRUPTION:
                all_are_fully_disrupted = False
            new_states[zone] = state
            self.zone_states.setdefault(zone, ZoneState.INITIAL)
        all_were_fully_disrupted = True
        for zone in list(self.zone_states):
            if zone not in zone_conditions:
                del self.zone_states[zone]
                continue
            if self.zone_states[zone] != ZoneState.FULL_DISRUPTION:
                all_were_fully_disrupted = False
                break
        if all_are_fully_disrupted and all_were_fully_disrupted:
            return
        if all_are_fully_disrupted:
            self.log.info("Controller detected that all Nodes are not-Ready. Entering master disruption mode")
            for node in nodes:
                await self._mark_node_as_reachable(node)
            for zone in self.zone_states:
                self.zone_tainters[zone].swap_limiter(0)
                self.zone_states[zone] = ZoneState.FULL_DISRUPTION
            return
        if all_were_fully_disrupted:
            self.log.info("Controller detected that some Nodes are Ready. Exiting master disruption mode")
            now = self.clock.now()
            for health in self.node_health.values():
                health.probe_timestamp = now
                health.ready_transition_timestamp = now
            for zone in self.zone_states:
                self.zone_tainters[zone].swap_limiter(
                    self._zone_qps(new_states[zone], len(zone_conditions[zone]))
                )
                self.zone_states[zone] = new_states[zone]
            return
        for zone, state in list(self.zone_states.items()):
            new_state = new_states[zone]
            if state == new_state:
                continue
            self.log.info("Controller detected that zone %r is now in state %s", zone, new_state)
            self.zone_tainters[zone].swap_limiter(self._zone_qps(new_state, len(zone_conditions[zone])))
            self.zone_states[zone] = new_state


def new_node_lifecycle_controller(ctx: ControllerContext) -> NodeLifecycleController:
    """The registry's init function."""
    return NodeLifecycleController(ctx)
