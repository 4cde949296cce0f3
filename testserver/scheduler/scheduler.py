"""The scheduler: informers into the cache and queue, one pod per cycle, asynchronous binding.

After kube ``pkg/scheduler/scheduler.go``, ``eventhandlers.go`` and ``schedule_one.go``:

- *event handlers*: bound pods go to the cache (confirming assumed ones), pending pods of one of
  our profiles to the queue; node, pod and namespace changes move unschedulable pods as the
  plugins registered;
- *scheduling cycle* (:meth:`Scheduler.schedule_one`): pop, update the snapshot, PreFilter, Filter
  over ``num_feasible_nodes_to_find`` nodes starting at ``next_start_node_index``, PostFilter
  (preemption) on failure, PreScore/Score/NormalizeScore, select the host, assume, Reserve,
  Permit — all without awaiting, so the snapshot cannot change underneath;
- *binding cycle*: a task per pod running PreBind, Bind (``pods/binding``) and PostBind; a failure
  forgets the assumed pod and requeues it;
- *what users see*: the PodScheduled condition (False/Unschedulable with the FitError message),
  ``Scheduled`` and ``FailedScheduling`` events through the events.k8s.io/v1 recorder, and the
  metrics ``scheduler_schedule_attempts_total``, ``scheduler_scheduling_attempt_duration_seconds``
  and ``scheduler_pending_pods``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pyclientgo.api.core.v1 import Namespace, Node, Pod
from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.apimachinery.labels import Selector, everything
from pyclientgo.tools.cache import DeletedFinalStateUnknown
from testserver.scheduler.cache import SchedulerCache, Snapshot
from testserver.scheduler.config import SchedulerConfiguration, build_frameworks
from testserver.scheduler.framework import EventRecorderLike, Framework, Plugin, QueuedPodInfo, WaitingPod
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.queue import SchedulingQueue
from testserver.scheduler.types import (
    ActionType,
    ClusterEvent,
    Code,
    CycleState,
    EventResource,
    Status,
    fit_error_message,
)

__all__ = [
    "API_CALLS_IN_FLIGHT",
    "MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND",
    "MIN_FEASIBLE_NODES_TO_FIND",
    "FitError",
    "Scheduler",
    "num_feasible_nodes_to_find",
]

log = logging.getLogger("kube-scheduler")

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
API_CALLS_IN_FLIGHT = 8
"""Bindings, status updates and preemptions sent at once. More only adds queueing in the HTTP
connection pool (whose bookkeeping grows with requests times connections): 1000 pods on 300 nodes
bound at 31, 36-44, 46 and 33 pods/s with 2, 4, 8 and 16 against the test server (load 9-12)."""
_EVENT_MESSAGE_LIMIT = 1024


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int | None) -> int:
    """kube ``numFeasibleNodesToFind``: all below 100 nodes, else an adaptive percentage (≥ 100)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage or 0
    if pct == 0:
        pct = 50 - num_all_nodes // 125
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    if pct >= 100:
        return num_all_nodes
    n = num_all_nodes * pct // 100
    return max(n, MIN_FEASIBLE_NODES_TO_FIND)


class FitError(Exception):
    """No node fits the pod; the message is kube's ``FitError.Error()``."""

    def __init__(
        self,
        num_all_nodes: int,
        statuses: Mapping[str, Status],
        pre_filter_msg: str = "",
        absent: Status | None = None,
    ) -> None:
        super().__init__()
        self.num_all_nodes = num_all_nodes
        self.statuses = statuses
        self.pre_filter_msg = pre_filter_msg
        self.absent = absent
        self.post_filter_msg = ""
        self.unschedulable_plugins: set[str] = set()

    def __str__(self) -> str:
        if self.num_all_nodes == 0 and self.pre_filter_msg == NO_NODES_AVAILABLE:
            return NO_NODES_AVAILABLE
        return fit_error_message(
            self.num_all_nodes, self.statuses, self.absent, self.pre_filter_msg, self.post_filter_msg
        )


def _unwrap(obj: Any) -> Any:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def _pod(obj: Any) -> Pod | None:
    obj = _unwrap(obj)
    return obj if isinstance(obj, Pod) else None


def _node(obj: Any) -> Node | None:
    obj = _unwrap(obj)
    return obj if isinstance(obj, Node) else None


def _now_rfc3339() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_update_action(old: Node, new: Node) -> ActionType:
    """What changed in a node update, as kube's ``nodeSchedulingPropertiesChange`` tells it."""
    action = ActionType(0)
    os_, ns = old.status, new.status
    if (os_.allocatable if os_ else None) != (ns.allocatable if ns else None):
        action |= ActionType.UPDATE_NODE_ALLOCATABLE
    om, nm = old.metadata, new.metadata
    if (om.labels if om else None) != (nm.labels if nm else None):
        action |= ActionType.UPDATE_NODE_LABEL
    ospec, nspec = old.spec, new.spec
    if [t.to_dict() for t in (ospec.taints if ospec else None) or ()] != [
        t.to_dict() for t in (nspec.taints if nspec else None) or ()
    ] or bool(ospec.unschedulable if ospec else None) != bool(nspec.unschedulable if nspec else None):
        action |= ActionType.UPDATE_NODE_TAINT
    oc = [(c.type, c.status) for c in (os_.conditions if os_ else None) or ()]
    nc = [(c.type, c.status) for c in (ns.conditions if ns else None) or ()]
    if oc != nc:
        action |= ActionType.UPDATE_NODE_CONDITION
    if (om.annotations if om else None) != (nm.annotations if nm else None):
        action |= ActionType.UPDATE_NODE_ANNOTATION
    return action


def _assigned(pod: Pod) -> bool:
    return bool(pod.spec is not None and pod.spec.node_name)


def _terminal(pod: Pod) -> bool:
    return pod.status is not None and pod.status.phase in ("Succeeded", "Failed")


def _deleting(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _labels(pod: Pod) -> dict[str, str]:
    return (pod.metadata.labels if pod.metadata is not None else None) or {}


class Scheduler:
    """One scheduler process's state: profiles, cache, queue, snapshot, metrics."""

    def __init__(
        self,
        clientset: Any,
        config: SchedulerConfiguration,
        *,
        plugin_registry: Mapping[str, type[Plugin]] | None = None,
        recorders: Mapping[str, Any] | None = None,
        registry: CollectorRegistry | None = None,
        now: Callable[[], float] = time.monotonic,
        api_calls_in_flight: int = API_CALLS_IN_FLIGHT,
    ) -> None:
        self.clientset = clientset
        self.snapshot = Snapshot()
        self.frameworks = build_frameworks(config, self, plugin_registry)
        frameworks = self.frameworks
        self.recorders = dict(recorders or {})
        self.now = now
        self.cache = SchedulerCache(ttl=0.0)
        self.queue = SchedulingQueue(
            frameworks,
            now,
            initial_backoff=config.pod_initial_backoff_seconds,
            max_backoff=config.pod_max_backoff_seconds,
        )
        percentage_of_nodes_to_score = config.percentage_of_nodes_to_score
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.next_start_node_index = 0
        self._namespaces: dict[str, dict[str, str]] = {}
        self._binding_tasks: set[asyncio.Task[None]] = set()
        self._api_slots = asyncio.Semaphore(api_calls_in_flight)
        self._waiting: dict[str, WaitingPod] = {}
        self.pdbs: Callable[[], list[PodDisruptionBudget]] = list
        """Every PodDisruptionBudget (the informer's lister, set by the CLI)."""
        self.get_pod: Callable[[str, str], Pod | None] | None = None
        """The informer's current copy of a pod, None when gone (set by the CLI; unset: trust ours)."""
        self.default_selector_fn: Callable[[PodInfo], Selector] = lambda pod_info: everything()
        """kube's DefaultSelector over the workload listers (set by the CLI); everything: no defaults."""
        self.rng = random.Random()
        registry = registry if registry is not None else CollectorRegistry()
        self.attempts = Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            ["result", "profile"],
            registry=registry,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            ["result", "profile"],
            buckets=[0.001 * 2**i for i in range(15)],
            registry=registry,
        )
        self.algorithm_duration = Histogram(
            "scheduler_scheduling_algorithm_duration_seconds",
            "Scheduling algorithm latency in seconds",
            buckets=[0.001 * 2**i for i in range(15)],
            registry=registry,
        )
        self.pending_pods = Gauge(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type.",
            ["queue"],
            registry=registry,
        )
        for q in ("active", "backoff", "unschedulable", "gated"):
            self.pending_pods.labels(queue=q).set_function(self._pending_counter(q))
        self.cache_size = Gauge(
            "scheduler_cache_size",
            "Number of nodes, pods, and assumed (bound) pods in the scheduler cache.",
            ["type"],
            registry=registry,
        )
        self.cache_size.labels(type="nodes").set_function(lambda: float(self.cache.node_count()))
        self.cache_size.labels(type="pods").set_function(lambda: float(len(self.cache.pod_states)))
        self.cache_size.labels(type="assumed_pods").set_function(lambda: float(len(self.cache.assumed)))
        self.bound = 0

    def _pending_counter(self, queue: str) -> Callable[[], float]:
        def count() -> float:
            return float(self.queue.pending()[queue])

        return count

    # -- Handle -----------------------------------------------------------------------------------

    def namespace_labels(self) -> Mapping[str, Mapping[str, str]]:
        return self._namespaces

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.queue.nominated_pods_for_node(node_name)

    def pod_disruption_budgets(self) -> list[PodDisruptionBudget]:
        return self.pdbs()

    def clear_nominated_node_name(self, pod_info: PodInfo) -> None:
        self.queue.delete_nominated(pod_info.key)
        if pod_info.nominated_node_name:
            self.spawn(self._patch_status(pod_info, {"nominatedNodeName": None}))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._limited(coro))
        self._binding_tasks.add(task)
        task.add_done_callback(self._binding_tasks.discard)

    async def _limited(self, coro: Coroutine[Any, Any, None]) -> None:
        async with self._api_slots:
            await coro

    def default_selector(self, pod_info: PodInfo) -> Selector:
        return self.default_selector_fn(pod_info)

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        return self._waiting.get(uid)

    def waiting_pods(self) -> list[WaitingPod]:
        return list(self._waiting.values())

    def recorder(self, profile: str) -> EventRecorderLike | None:
        recorder: EventRecorderLike | None = self.recorders.get(profile)
        return recorder

    async def _patch_status(self, pod_info: PodInfo, status: dict[str, Any]) -> None:
        try:
            await self.clientset.core_v1.pods(pod_info.namespace).patch(
                pod_info.name, {"status": status}, subresource="status"
            )
        except Exception as err:
            log.info("could not update the status of pod %s: %s", pod_info.key, err)

    # -- event handlers ---------------------------------------------------------------------------

    def _responsible(self, pod: Pod) -> bool:
        name = (pod.spec.scheduler_name if pod.spec is not None else None) or "default-scheduler"
        return name in self.frameworks

    def on_pod_add(self, obj: Any, is_in_initial_list: bool = False) -> None:
        pod = _pod(obj)
        if pod is None:
            return
        if _assigned(pod):
            if _terminal(pod):
                return
            info = PodInfo(pod)
            self.cache.add_pod(info)
            self.queue.delete_nominated(info.key)
            self.queue.move_all_to_active_or_backoff(
                ClusterEvent(EventResource.ASSIGNED_POD, ActionType.ADD), None, pod
            )
        elif self._responsible(pod) and not _deleting(pod):
            self.queue.add(PodInfo(pod))

    def on_pod_update(self, old_obj: Any, new_obj: Any) -> None:
        old, new = _pod(old_obj), _pod(new_obj)
        if old is None or new is None:
            return
        if _assigned(new):
            if _terminal(new):
                self.on_pod_delete(new)
                return
            meta = new.metadata
            key = f"{(meta.namespace if meta else None) or ''}/{(meta.name if meta else None) or ''}"
            assumed = self.cache.get_pod(key) if self.cache.is_assumed(key) else None
            # Our own binding confirmed: the assumed pod's parsed fields still hold.
            info = assumed.updated(new) if assumed is not None and not _assigned(old) else PodInfo(new)
            if not _assigned(old):
                self.queue.delete(key)
            was_known = self.cache.get_pod(key) is not None and not self.cache.is_assumed(key)
            self.cache.add_pod(info)
            if not was_known:
                self.queue.move_all_to_active_or_backoff(
                    ClusterEvent(EventResource.ASSIGNED_POD, ActionType.ADD), None, new
                )
            elif _labels(old) != _labels(new):
                self.queue.move_all_to_active_or_backoff(
                    ClusterEvent(EventResource.ASSIGNED_POD, ActionType.UPDATE_POD_LABEL), old, new
                )
        elif self._responsible(new):
            if _deleting(new):
                self.queue.delete(PodInfo(new).key)
                return
            self.queue.update(PodInfo(old), PodInfo(new))

    def on_pod_delete(self, obj: Any) -> None:
        pod = _pod(obj)
        if pod is None:
            return
        info = PodInfo(pod)
        waiting = self._waiting.get(info.uid)
        if waiting is not None:
            waiting.reject("", "removed")
        if self.cache.get_pod(info.key) is not None:
            self.cache.remove_pod(info.key)
            self.queue.move_all_to_active_or_backoff(
                ClusterEvent(EventResource.ASSIGNED_POD, ActionType.DELETE), pod, None
            )
        self.queue.delete(info.key)

    def on_node_add(self, obj: Any, is_in_initial_list: bool = False) -> None:
        node = _node(obj)
        if node is None:
            return
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.ADD), None, node)

    def on_node_update(self, old_obj: Any, new_obj: Any) -> None:
        old, new = _node(old_obj), _node(new_obj)
        if old is None or new is None:
            return
        self.cache.update_node(new)
        action = _node_update_action(old, new)
        if action:
            self.queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, action), old, new)

    def on_node_delete(self, obj: Any) -> None:
        node = _node(obj)
        if node is not None and node.metadata is not None and node.metadata.name:
            self.cache.remove_node(node.metadata.name)

    def on_namespace(self, obj: Any, *_: Any) -> None:
        ns = _unwrap(obj)
        if isinstance(ns, Namespace) and ns.metadata is not None and ns.metadata.name:
            self._namespaces[ns.metadata.name] = ns.metadata.labels or {}

    def on_namespace_update(self, old: Any, new: Any) -> None:
        self.on_namespace(new)
        self.queue.move_all_to_active_or_backoff(
            ClusterEvent(EventResource.WILDCARD, ActionType.UPDATE_OTHER), None, _unwrap(new)
        )

    # -- the loops --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Schedule until cancelled, with kube's queue flush loops (backoff 1 s, unschedulable 30 s)."""
        flush = asyncio.create_task(self._flush_loop())
        try:
            while True:
                qpi = await self.queue.pop()
                if qpi is None:
                    return
                self.schedule_one(qpi)
                await asyncio.sleep(0)  # let informer events and bindings in between cycles
        finally:
            flush.cancel()
            for task in list(self._binding_tasks):
                task.cancel()
            self.queue.close()

    async def _flush_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            try:
                self.queue.flush_backoff_completed()
                if ticks % 30 == 0:
                    self.queue.flush_unschedulable_left_over()
                self.cache.cleanup_expired_assumed_pods(self.now())
            except Exception:
                log.exception("queue flush failed")

    # -- the scheduling cycle ---------------------------------------------------------------------

    def schedule_one(self, qpi: QueuedPodInfo) -> None:
        pod_info = qpi.pod_info
        fw = self.frameworks.get(pod_info.scheduler_name)
        if fw is None:
            self.queue.done(pod_info.key)
            return
        if self.cache.is_assumed(pod_info.key) or (self.cache.get_pod(pod_info.key) is not None):
            self.queue.done(pod_info.key)
            return
        start = time.perf_counter()
        cycle = self.queue.scheduling_cycle
        state = CycleState()
        try:
            try:
                node = self.schedule_pod(fw, state, pod_info)
            finally:
                self.algorithm_duration.observe(time.perf_counter() - start)
        except FitError as fit:
            nominated: str | None = None
            if fit.num_all_nodes and fw.has_post_filter():
                nominated, status = fw.run_post_filter(state, pod_info, dict(fit.statuses))
                fit.post_filter_msg = status.message()
                if status.code == Code.ERROR:
                    log.error("PostFilter for pod %s: %s", pod_info.key, status.message())
            self._failure(fw, qpi, fit, "Unschedulable", cycle, start, nominated)
            return
        except Exception as err:
            log.exception("error selecting node for pod %s", pod_info.key)
            self._failure(fw, qpi, err, "SchedulerError", cycle, start, None)
            return
        # Assume, Reserve, Permit, then bind asynchronously.
        assumed = pod_info.assumed(node)
        try:
            self.cache.assume_pod(assumed)
        except ValueError as err:
            self._failure(fw, qpi, err, "SchedulerError", cycle, start, None)
            return
        status = fw.run_reserve(state, assumed, node)
        waiting: WaitingPod | None = None
        if status.is_success():
            status, plugins = fw.run_permit(state, assumed, node)
            if status.code == Code.WAIT:
                waiting = self._waiting[assumed.uid] = WaitingPod(assumed, plugins)
                status = Status()
        if not status.is_success():
            fw.run_unreserve(state, assumed, node)
            self.cache.forget_pod(assumed.key)
            if status.is_rejected():
                qpi.unschedulable_plugins = {status.plugin}
            self._failure(fw, qpi, RuntimeError(status.message()), "SchedulerError", cycle, start, None)
            return
        self.queue.delete_nominated(pod_info.key)
        task = asyncio.get_running_loop().create_task(
            self._binding_cycle(fw, state, qpi, assumed, node, start, cycle, waiting)
        )
        self._binding_tasks.add(task)
        task.add_done_callback(self._binding_tasks.discard)

    def schedule_pod(self, fw: Framework, state: CycleState, pod_info: PodInfo) -> str:
        """The node for the pod (kube ``schedulePod``), or raises :class:`FitError`."""
        self.cache.update_snapshot(self.snapshot)
        if not self.snapshot.node_info_list:
            raise FitError(0, {}, NO_NODES_AVAILABLE)
        feasible, fit = self.find_nodes_that_fit(fw, state, pod_info)
        if fit is not None:
            raise fit
        if len(feasible) == 1:
            return feasible[0].name
        status = fw.run_pre_score(state, pod_info, feasible)
        if not status.is_success():
            raise RuntimeError(status.message())
        scores = fw.run_score(state, pod_info, feasible)
        return self._select_host(feasible, scores)

    def find_nodes_that_fit(
        self, fw: Framework, state: CycleState, pod_info: PodInfo
    ) -> tuple[list[NodeInfo], FitError | None]:
        """The feasible nodes (kube ``findNodesThatFitPod``), or the :class:`FitError` saying why none."""
        all_nodes = self.snapshot.node_info_list
        n = len(all_nodes)
        result, status = fw.run_pre_filter(state, pod_info, all_nodes)
        if not status.is_success():
            if not status.is_rejected():
                raise RuntimeError(status.message())
            fit = FitError(n, {}, status.message())
            fit.statuses = {ni.name: status for ni in all_nodes}
            fit.unschedulable_plugins = {status.plugin}
            return [], fit
        # The pod's nominated node first (kube ``evaluateNominatedNode``).
        nominated = pod_info.nominated_node_name
        if nominated:
            ni = self.snapshot.get(nominated)
            if (
                ni is not None
                and ni.node is not None
                and (result is None or nominated in result)
                and fw.run_filter_with_nominated_pods(state, pod_info, ni, self).is_success()
            ):
                return [ni], None
        nodes = all_nodes
        absent: Status | None = None
        if result is not None:
            nodes = [ni for ni in all_nodes if ni.name in result]
            absent = Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(state.pre_filter_plugins_with_nodes))}]",
            )
        percentage = fw.percentage_of_nodes_to_score
        if percentage is None:
            percentage = self.percentage_of_nodes_to_score
        to_find = num_feasible_nodes_to_find(len(nodes), percentage)
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        plugins: set[str] = set()
        total = len(nodes)
        start = self.next_start_node_index % total if total else 0
        checked = 0
        if self.queue.nominated:
            for ni in nodes[start:] + nodes[:start]:
                checked += 1
                st = fw.run_filter_with_nominated_pods(state, pod_info, ni, self)
                if not st.code:
                    feasible.append(ni)
                    if len(feasible) >= to_find:
                        break
                    continue
                if st.code == Code.ERROR:
                    raise RuntimeError(f'running "{st.plugin}" filter plugin: {st.message()}')
                statuses[ni.name] = st
                plugins.add(st.plugin)
        else:
            # The hot loop (kube ``findNodesThatPassFilters``), the filters inlined.
            filters = fw.cycle_filters(state)
            for ni in nodes[start:] + nodes[:start]:
                checked += 1
                for entry in filters:
                    st = entry[1](state, pod_info, ni)
                    if st.code:
                        break
                else:
                    feasible.append(ni)
                    if len(feasible) >= to_find:
                        break
                    continue
                name = entry[0]
                st.plugin = name
                if st.code == Code.ERROR:
                    raise RuntimeError(f'running "{name}" filter plugin: {st.message()}')
                statuses[ni.name] = st
                plugins.add(name)
        if n:
            self.next_start_node_index = (self.next_start_node_index + checked) % n
        if feasible:
            return feasible, None
        fit = FitError(n, statuses, absent=absent)
        fit.unschedulable_plugins = plugins | state.pre_filter_plugins_with_nodes
        return [], fit

    def _select_host(self, nodes: list[NodeInfo], scores: list[int]) -> str:
        """The highest score; ties broken uniformly at random (as kube's reservoir sampling does)."""
        best = max(scores)
        ties = [i for i, s in enumerate(scores) if s == best]
        return nodes[ties[0] if len(ties) == 1 else self.rng.choice(ties)].name

    # -- failure ----------------------------------------------------------------------------------

    def _failure(
        self,
        fw: Framework,
        qpi: QueuedPodInfo,
        err: BaseException,
        reason: str,
        cycle: int,
        start: float,
        nominated: str | None,
    ) -> None:
        pod_info = qpi.pod_info
        result = "unschedulable" if reason == "Unschedulable" else "error"
        self.attempts.labels(result=result, profile=fw.profile_name).inc()
        self.attempt_duration.labels(result=result, profile=fw.profile_name).observe(
            time.perf_counter() - start
        )
        if isinstance(err, FitError):
            qpi.unschedulable_plugins = set(err.unschedulable_plugins) - {""}
        elif reason == "SchedulerError":
            qpi.unschedulable_plugins = set()
        message = str(err)
        if nominated is not None:  # "" clears the nomination, None keeps it
            if nominated:
                self.queue.add_nominated(pod_info, nominated)
            else:
                self.queue.delete_nominated(pod_info.key)
        # kube's handleSchedulingFailure: requeue the informer's current copy, unless it is gone or
        # got bound meanwhile.
        cached = self.get_pod(pod_info.namespace, pod_info.name) if self.get_pod is not None else pod_info.pod
        if cached is None or (cached.spec is not None and cached.spec.node_name):
            self.queue.done(pod_info.key)
        else:
            if cached is not pod_info.pod:
                qpi.pod_info = PodInfo(cached)
            self.queue.add_unschedulable_if_not_present(qpi, cycle)
        log.info("Unable to schedule pod %s: %s", pod_info.key, message)
        recorder = self.recorders.get(fw.profile_name)
        if recorder is not None:
            note = (
                message
                if len(message) <= _EVENT_MESSAGE_LIMIT
                else message[: _EVENT_MESSAGE_LIMIT - 4] + " ..."
            )
            recorder.eventf(pod_info.pod, None, "Warning", "FailedScheduling", "Scheduling", note)
        self.spawn(self._update_pod_status(pod_info, reason, message, nominated))

    async def _update_pod_status(
        self, pod_info: PodInfo, reason: str, message: str, nominated: str | None
    ) -> None:
        current = pod_info.pod.status
        for c in (current.conditions if current is not None else None) or ():
            if (
                c.type == "PodScheduled"
                and c.status == "False"
                and c.reason == reason
                and c.message == message
                and (nominated is None or pod_info.nominated_node_name == nominated)
            ):
                return
        status: dict[str, Any] = {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": _now_rfc3339(),
                }
            ]
        }
        if nominated is not None:
            status["nominatedNodeName"] = nominated or None
        await self._patch_status(pod_info, status)

    # -- the binding cycle ------------------------------------------------------------------------

    async def _binding_cycle(
        self,
        fw: Framework,
        state: CycleState,
        qpi: QueuedPodInfo,
        assumed: PodInfo,
        node: str,
        start: float,
        cycle: int,
        waiting: WaitingPod | None = None,
    ) -> None:
        if waiting is not None:  # kube ``WaitOnPermit``: held, not counted against the API slots
            try:
                status = await waiting.wait()
            finally:
                self._waiting.pop(assumed.uid, None)
            if not status.is_success():
                fw.run_unreserve(state, assumed, node)
                self.cache.forget_pod(assumed.key)
                self.queue.move_all_to_active_or_backoff(
                    ClusterEvent(EventResource.ASSIGNED_POD, ActionType.DELETE), assumed.pod, None
                )
                # kube reports a Permit rejection as a FitError over the one node.
                fit = FitError(1, {node: status})
                fit.unschedulable_plugins = {status.plugin}
                self._failure(fw, qpi, fit, "Unschedulable", cycle, start, None)
                return
        async with self._api_slots:
            await self._bind_and_finish(fw, state, qpi, assumed, node, start, cycle)

    async def _bind_and_finish(
        self,
        fw: Framework,
        state: CycleState,
        qpi: QueuedPodInfo,
        assumed: PodInfo,
        node: str,
        start: float,
        cycle: int,
    ) -> None:
        status = await fw.run_pre_bind(state, assumed, node)
        if status.is_success():
            status = await fw.run_bind(state, assumed, node)
            if status.is_skip():
                status = Status(Code.ERROR, "no bind plugin bound the pod")
        if not status.is_success():
            fw.run_unreserve(state, assumed, node)
            self.cache.forget_pod(assumed.key)
            self.queue.move_all_to_active_or_backoff(
                ClusterEvent(EventResource.ASSIGNED_POD, ActionType.DELETE), assumed.pod, None
            )
            err: Exception = RuntimeError(status.message())
            if status.code != Code.ERROR and status.is_rejected():
                err = FitError(1, {node: status})  # as kube reports a PreBind rejection
                err.unschedulable_plugins = {status.plugin}
            if (
                self.get_pod is not None
                and self.get_pod(assumed.namespace, assumed.name) is None
                and "not found" in status.message().lower()
            ):
                self.queue.done(assumed.key)
                return
            self._failure(fw, qpi, err, "SchedulerError", cycle, start, None)
            return
        self.cache.finish_binding(assumed.key, self.now())
        self.queue.done(assumed.key)
        elapsed = time.perf_counter() - start
        self.attempts.labels(result="scheduled", profile=fw.profile_name).inc()
        self.attempt_duration.labels(result="scheduled", profile=fw.profile_name).observe(elapsed)
        self.bound += 1
        log.debug("Successfully bound pod %s to node %s", assumed.key, node)
        recorder = self.recorders.get(fw.profile_name)
        if recorder is not None:
            recorder.eventf(
                assumed.pod,
                None,
                "Normal",
                "Scheduled",
                "Binding",
                "Successfully assigned %s to %s",
                assumed.key,
                node,
            )
        fw.run_post_bind(state, assumed, node)
