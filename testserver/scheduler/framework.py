"""The scheduling framework: the plugin interface and one profile's plugins run in order.

After kube ``pkg/scheduler/framework/interface.go`` and ``runtime/framework.go``. A plugin is a class
with a ``name`` and any of the extension-point methods below; the framework finds which points it
implements by the methods it defines. Synchronous points run inside the scheduling cycle (which
never awaits, so the snapshot it reads cannot change under it); PreBind, Bind and PostBind are
coroutines run by the asynchronous binding cycle.

=================  ==============================================================================
PreEnqueue         ``pre_enqueue(pod_info) -> Status`` (gate before the active queue)
QueueSort          ``less(a, b) -> bool`` on :class:`QueuedPodInfo` (exactly one plugin)
PreFilter          ``pre_filter(state, pod_info, nodes) -> (set[str] | None, Status)``
                   optional ``pre_filter_add_pod``/``pre_filter_remove_pod(state, pod, other, node)``
Filter             ``filter(state, pod_info, node_info) -> Status``
PostFilter         ``post_filter(state, pod_info, statuses) -> (nominated node | None, Status)``
PreScore           ``pre_score(state, pod_info, nodes) -> Status``
Score              ``score(state, pod_info, node_info) -> int`` (optionally also
                   ``score_nodes(state, pod_info, nodes) -> list[int]``, one call per cycle);
                   ``normalize_score(state, pod_info, scores, nodes)`` (in place)
Reserve            ``reserve(state, pod_info, node) -> Status``, ``unreserve(state, pod_info, node)``
Permit             ``permit(state, pod_info, node) -> (Status, timeout seconds)``; WAIT holds the
                   pod (:class:`WaitingPod`) until ``handle.get_waiting_pod(uid).allow(name)``
PreBind/Bind       ``async pre_bind/bind(state, pod_info, node) -> Status`` (Bind may answer SKIP)
PostBind           ``post_bind(state, pod_info, node)``
=================  ==============================================================================

``events_to_register()`` lists the :class:`ClusterEvent` s (with an optional hint function
``(pod, old, new) -> bool``) after which a pod this plugin rejected may have become schedulable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pyclientgo.api.core.v1 import Pod
from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.apimachinery.labels import Selector
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import ClusterEvent, Code, CycleState, Status

if TYPE_CHECKING:
    from testserver.scheduler.cache import Snapshot

__all__ = [
    "MAX_NODE_SCORE",
    "ClusterEventWithHint",
    "EventRecorderLike",
    "Framework",
    "Handle",
    "Plugin",
    "PluginFactory",
    "QueuedPodInfo",
    "QueueingHintFn",
    "WaitingPod",
]

log = logging.getLogger("kube-scheduler.framework")

MAX_NODE_SCORE = 100
MAX_PERMIT_TIMEOUT = 15 * 60.0
"""The longest a Permit plugin may make a pod wait (kube ``maxTimeout``)."""
MIN_NODE_SCORE = 0

QueueingHintFn = Callable[[Pod, Any, Any], bool]
"""``(pod, old_obj, new_obj) -> True`` when the event may make ``pod`` schedulable (kube: Queue)."""


@dataclass(frozen=True)
class ClusterEventWithHint:
    """An event a plugin registers, with an optional queueing hint (kube ``ClusterEventWithHint``)."""

    event: ClusterEvent
    hint: QueueingHintFn | None = None


@dataclass(eq=False)
class QueuedPodInfo:
    """A pod in the scheduling queue (kube ``framework.QueuedPodInfo``)."""

    pod_info: PodInfo
    timestamp: float
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    unschedulable_plugins: set[str] = field(default_factory=set)
    pending_plugins: set[str] = field(default_factory=set)
    gated: bool = False
    gating_plugin: str = ""
    backoff_expiration: float = 0.0

    @property
    def pod(self) -> Pod:
        return self.pod_info.pod


def _go_duration(seconds: float) -> str:
    return f"{seconds:g}s"


class WaitingPod:
    """A reserved pod held by Permit plugins until each allows it, one rejects it, or a timeout
    (kube ``waitingPod``): ``allow(plugin)``, ``reject(plugin, message)``, ``await wait()``."""

    def __init__(self, pod_info: PodInfo, plugins: Mapping[str, float]) -> None:
        loop = asyncio.get_running_loop()
        self.pod_info = pod_info
        self.pending = set(plugins)
        self._done: asyncio.Future[Status] = loop.create_future()
        self._timers = [
            loop.call_later(
                timeout,
                self.reject,
                name,
                f"rejected due to timeout after waiting {_go_duration(timeout)} at plugin {name}",
            )
            for name, timeout in plugins.items()
        ]

    def allow(self, plugin: str) -> None:
        """``plugin`` lets the pod go; it binds once no plugin is left waiting."""
        self.pending.discard(plugin)
        if not self.pending:
            self._finish(Status())

    def reject(self, plugin: str, message: str) -> None:
        """``plugin`` rejects the pod (Unschedulable with ``message``)."""
        self._finish(Status(Code.UNSCHEDULABLE, message, plugin=plugin))

    def _finish(self, status: Status) -> None:
        if not self._done.done():
            self._done.set_result(status)
        for timer in self._timers:
            timer.cancel()

    async def wait(self) -> Status:
        return await self._done


class Handle(Protocol):
    """What plugins may use of the scheduler (kube ``framework.Handle``)."""

    snapshot: Snapshot
    """The nodes as the current scheduling cycle sees them."""
    clientset: Any
    """The scheduler's :class:`~pyclientgo.kubernetes.AsyncClientset`."""

    def namespace_labels(self) -> Mapping[str, Mapping[str, str]]:
        """Namespace name → labels, for namespaceSelectors."""
        ...

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        """The pods nominated (by preemption) to run on the node."""
        ...

    def pod_disruption_budgets(self) -> list[PodDisruptionBudget]:
        """Every PodDisruptionBudget."""
        ...

    def clear_nominated_node_name(self, pod_info: PodInfo) -> None:
        """Forget the pod's nomination and clear its ``status.nominatedNodeName`` (asynchronously)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run API calls outside the scheduling cycle (the scheduler awaits them on shutdown)."""
        ...

    def recorder(self, profile: str) -> EventRecorderLike | None:
        """The events.k8s.io/v1 recorder of a profile."""
        ...

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        """The pod held at Permit, by UID."""
        ...

    def waiting_pods(self) -> list[WaitingPod]:
        """Every pod held at Permit."""
        ...

    def default_selector(self, pod_info: PodInfo) -> Selector:
        """The selector of the Services, ReplicationControllers, ReplicaSets and StatefulSets that
        select the pod (kube ``helper.DefaultSelector``), for default spreading."""
        ...


class EventRecorderLike(Protocol):
    """``eventf`` of :class:`pyclientgo.tools.record.EventsV1Recorder`."""

    def eventf(
        self,
        regarding: Any,
        related: Any,
        type_: str,
        reason: str,
        action: str,
        note: str,
        *args: object,
    ) -> None: ...


class Plugin:
    """Base of scheduler plugins: a ``name`` and the extension-point methods it implements.

    ``__init__(args, handle)`` gets the plugin's ``pluginConfig`` args (a dict, maybe empty).
    """

    name: ClassVar[str] = ""

    framework: Framework
    """The profile the plugin belongs to (set when the profile is built)."""

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.args = dict(args)
        self.handle = handle

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return []


PluginFactory = Callable[[Mapping[str, Any], Handle], Plugin]

EXTENSION_POINTS: dict[str, str] = {
    "preEnqueue": "pre_enqueue",
    "queueSort": "less",
    "preFilter": "pre_filter",
    "filter": "filter",
    "postFilter": "post_filter",
    "preScore": "pre_score",
    "score": "score",
    "reserve": "reserve",
    "permit": "permit",
    "preBind": "pre_bind",
    "bind": "bind",
    "postBind": "post_bind",
}


def implements(plugin: Plugin | type[Plugin], point: str) -> bool:
    return callable(getattr(plugin, EXTENSION_POINTS[point], None))


class Framework:
    """One profile: its name, its plugins per extension point and score weights."""

    def __init__(
        self,
        profile_name: str,
        plugins: dict[str, list[Plugin]],
        weights: dict[str, int],
        percentage_of_nodes_to_score: int | None = None,
    ) -> None:
        self.profile_name = profile_name
        self.points = plugins
        self.weights = weights
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.pre_enqueue_plugins = plugins.get("preEnqueue", [])
        sort = plugins.get("queueSort", [])
        if len(sort) != 1:
            raise ValueError(
                f"profile {profile_name!r}: exactly one queueSort plugin is needed, got {len(sort)}"
            )
        self.queue_sort = sort[0]
        self.pre_filter_plugins = plugins.get("preFilter", [])
        self.filter_plugins = plugins.get("filter", [])
        self.post_filter_plugins = plugins.get("postFilter", [])
        self.pre_score_plugins = plugins.get("preScore", [])
        self.score_plugins = plugins.get("score", [])
        self.reserve_plugins = plugins.get("reserve", [])
        self.permit_plugins = plugins.get("permit", [])
        self.pre_bind_plugins = plugins.get("preBind", [])
        self.bind_plugins = plugins.get("bind", [])
        self.post_bind_plugins = plugins.get("postBind", [])
        if not self.bind_plugins:
            raise ValueError(f"profile {profile_name!r}: at least one bind plugin is needed")
        self.all_plugins: dict[str, Plugin] = {}
        for lst in plugins.values():
            for p in lst:
                self.all_plugins[p.name] = p
                p.framework = self

    # -- registrations ----------------------------------------------------------------------------

    def events_to_register(self) -> dict[str, list[ClusterEventWithHint]]:
        return {name: p.events_to_register() for name, p in self.all_plugins.items()}

    # -- the scheduling cycle -----------------------------------------------------------------------

    def run_pre_enqueue(self, pod_info: PodInfo) -> Status:
        for p in self.pre_enqueue_plugins:
            status: Status = p.pre_enqueue(pod_info)  # type: ignore[attr-defined]
            if not status.is_success():
                status.plugin = p.name
                return status
        return Status()

    def run_pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        """Every PreFilter plugin (kube ``RunPreFilterPlugins``): the intersection of the node sets
        they narrowed to (None: all nodes) and the first rejection. UnschedulableAndUnresolvable
        stops at once; Unschedulable lets the others run (preemption needs their state)."""
        result: set[str] | None = None
        with_nodes = state.pre_filter_plugins_with_nodes
        returned = _SUCCESS
        for p in self.pre_filter_plugins:
            r, status = p.pre_filter(state, pod_info, nodes)  # type: ignore[attr-defined]
            if status.is_skip():
                state.skip_filter_plugins.add(p.name)
                continue
            if not status.is_success():
                status.plugin = p.name
                if status.code == Code.UNSCHEDULABLE:
                    returned = status
                    continue
                if status.code != Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                    err = Status(Code.ERROR, f'running PreFilter plugin "{p.name}": {status.message()}')
                    err.plugin = p.name
                    return None, err
                return None, status
            if r is not None:
                with_nodes.add(p.name)
                result = set(r) if result is None else result & set(r)
                if not result:
                    names = sorted(with_nodes)
                    msg = (
                        f"node(s) didn't satisfy plugin {names[0]}"
                        if len(names) == 1
                        else f"node(s) didn't satisfy plugin(s) [{' '.join(names)}] simultaneously"
                    )
                    return result, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, msg, plugin=p.name)
        return result, returned

    def cycle_filters(self, state: CycleState) -> list[tuple[str, Any]]:
        """The (name, filter) pairs of this cycle: the Filter plugins PreFilter did not skip (once)."""
        filters = state.filters
        if filters is None:
            skip = state.skip_filter_plugins
            filters = state.filters = [
                (p.name, p.filter)  # type: ignore[attr-defined]
                for p in self.filter_plugins
                if p.name not in skip
            ]
        return filters

    def run_filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        for name, fn in self.cycle_filters(state):
            status: Status = fn(state, pod_info, node_info)
            if status.code:  # not SUCCESS
                status.plugin = name
                if status.code == Code.ERROR:
                    log.error("filter plugin %s failed on %s: %s", name, node_info.name, status.message())
                return status
        return _SUCCESS

    def run_filter_with_nominated_pods(
        self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo, handle: Handle
    ) -> Status:
        """Filter, first as if the higher-or-equal priority pods nominated to the node were there
        (kube ``RunFilterPluginsWithNominatedPods``), then as the node is."""
        nominated = [
            p
            for p in handle.nominated_pods_for_node(node_info.name)
            if p.priority >= pod_info.priority and p.key != pod_info.key
        ]
        if nominated:
            with_nominated = node_info.clone()
            state_copy = CycleState(
                dict(state.data), set(state.skip_filter_plugins), set(state.skip_score_plugins)
            )
            for other in nominated:
                with_nominated.add_pod(other)
                self.run_pre_filter_add_pod(state_copy, pod_info, other, with_nominated)
            status = self.run_filter(state_copy, pod_info, with_nominated)
            if not status.is_success():
                return status
        return self.run_filter(state, pod_info, node_info)

    def run_pre_filter_add_pod(self, state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) -> None:
        for p in self.pre_filter_plugins:
            if p.name in state.skip_filter_plugins:
                continue
            fn = getattr(p, "pre_filter_add_pod", None)
            if fn is not None:
                fn(state, pod, other, node)

    def run_pre_filter_remove_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo
    ) -> None:
        for p in self.pre_filter_plugins:
            if p.name in state.skip_filter_plugins:
                continue
            fn = getattr(p, "pre_filter_remove_pod", None)
            if fn is not None:
                fn(state, pod, other, node)

    def run_post_filter(
        self, state: CycleState, pod_info: PodInfo, statuses: dict[str, Status]
    ) -> tuple[str | None, Status]:
        reasons: list[str] = []
        for p in self.post_filter_plugins:
            nominated, status = p.post_filter(state, pod_info, statuses)  # type: ignore[attr-defined]
            if status.is_success():
                return nominated, status
            if status.code == Code.ERROR:
                status.plugin = p.name
                return None, status
            reasons.extend(status.reasons)
        return None, Status(Code.UNSCHEDULABLE, *reasons)

    def run_pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        for p in self.pre_score_plugins:
            status: Status = p.pre_score(state, pod_info, nodes)  # type: ignore[attr-defined]
            if status.is_skip():
                state.skip_score_plugins.add(p.name)
            elif not status.is_success():
                status.plugin = p.name
                return status
        return Status()

    def run_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """The weighted sum of every score plugin's (normalized) score, per node in ``nodes``."""
        totals = [0] * len(nodes)
        for p in self.score_plugins:
            if p.name in state.skip_score_plugins:
                continue
            batch = getattr(p, "score_nodes", None)
            if batch is not None:
                scores: list[int] = batch(state, pod_info, nodes)
            else:
                score = p.score  # type: ignore[attr-defined]
                scores = [score(state, pod_info, n) for n in nodes]
            normalize = getattr(p, "normalize_score", None)
            if normalize is not None:
                normalize(state, pod_info, scores, nodes)
            weight = self.weights.get(p.name, 1)
            if max(scores) > MAX_NODE_SCORE or min(scores) < MIN_NODE_SCORE:
                bad = next(s for s in scores if not MIN_NODE_SCORE <= s <= MAX_NODE_SCORE)
                raise ValueError(f"plugin {p.name} returns an invalid score {bad}")
            totals = [t + s * weight for t, s in zip(totals, scores, strict=True)]
        return totals

    def run_reserve(self, state: CycleState, pod_info: PodInfo, node: str) -> Status:
        for p in self.reserve_plugins:
            status: Status = p.reserve(state, pod_info, node)  # type: ignore[attr-defined]
            if not status.is_success():
                status.plugin = p.name
                return status
        return Status()

    def run_unreserve(self, state: CycleState, pod_info: PodInfo, node: str) -> None:
        for p in reversed(self.reserve_plugins):
            try:
                p.unreserve(state, pod_info, node)  # type: ignore[attr-defined]
            except Exception:
                log.exception("unreserve plugin %s", p.name)

    def run_permit(self, state: CycleState, pod_info: PodInfo, node: str) -> tuple[Status, dict[str, float]]:
        """Every Permit plugin: a rejection, or WAIT with the waiting plugins and their timeouts
        (at most 15 minutes, kube's ``maxTimeout``), or success."""
        waiting: dict[str, float] = {}
        for p in self.permit_plugins:
            status, timeout = p.permit(state, pod_info, node)  # type: ignore[attr-defined]
            if status.code == Code.WAIT:
                waiting[p.name] = min(float(timeout), MAX_PERMIT_TIMEOUT)
            elif not status.is_success():
                status.plugin = p.name
                return status, {}
        if waiting:
            return Status(Code.WAIT), waiting
        return Status(), {}

    async def run_pre_bind(self, state: CycleState, pod_info: PodInfo, node: str) -> Status:
        for p in self.pre_bind_plugins:
            status: Status = await p.pre_bind(state, pod_info, node)  # type: ignore[attr-defined]
            if not status.is_success():
                status.plugin = p.name
                return status
        return Status()

    async def run_bind(self, state: CycleState, pod_info: PodInfo, node: str) -> Status:
        for p in self.bind_plugins:
            status: Status = await p.bind(state, pod_info, node)  # type: ignore[attr-defined]
            if status.is_skip():
                continue
            if not status.is_success():
                if status.code == Code.ERROR:
                    status = Status(Code.ERROR, f'running Bind plugin "{p.name}": {status.message()}')
                status.plugin = p.name
            return status
        return Status(Code.SKIP)

    def run_post_bind(self, state: CycleState, pod_info: PodInfo, node: str) -> None:
        for p in self.post_bind_plugins:
            try:
                p.post_bind(state, pod_info, node)  # type: ignore[attr-defined]
            except Exception:
                log.exception("postBind plugin %s", p.name)

    def has_post_filter(self) -> bool:
        return bool(self.post_filter_plugins)

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        result: bool = self.queue_sort.less(a, b)  # type: ignore[attr-defined]
        return result


_SUCCESS = Status()
