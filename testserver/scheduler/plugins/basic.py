"""The small default plugins: SchedulingGates, PrioritySort, NodeUnschedulable, NodeName,
TaintToleration, NodeAffinity, NodePorts, ImageLocality and DefaultBinder.

Each matches kube's plugin of the same name (``pkg/scheduler/framework/plugins/<name>``): the same
status codes and reason strings, the same scores and the same cluster events registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyclientgo.api.core.v1 import NodeSelector as NodeSelectorSpec
from pyclientgo.api.core.v1 import PreferredSchedulingTerm, Taint
from pyclientgo.component_helpers import (
    NodeSelector,
    PreferredSchedulingTerms,
    find_matching_untolerated_taint,
    tolerations_tolerate_taint,
)
from testserver.scheduler.framework import (
    MAX_NODE_SCORE,
    ClusterEventWithHint,
    Handle,
    Plugin,
    QueuedPodInfo,
)
from testserver.scheduler.nodeinfo import NodeInfo, normalize_image
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import (
    ActionType,
    ClusterEvent,
    Code,
    CycleState,
    EventResource,
    Status,
)

__all__ = [
    "DefaultBinder",
    "ImageLocality",
    "NodeAffinity",
    "NodeName",
    "NodePorts",
    "NodeUnschedulable",
    "PrioritySort",
    "SchedulingGates",
    "TaintToleration",
    "default_normalize_score",
]

_OK = Status()
A = ActionType
R = EventResource


def _ev(resource: EventResource, action: ActionType) -> ClusterEventWithHint:
    return ClusterEventWithHint(ClusterEvent(resource, action))


def default_normalize_score(scores: list[int], reverse: bool) -> None:
    """kube ``helper.DefaultNormalizeScore``: scale to [0, 100] by the maximum (optionally reversed)."""
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            for i in range(len(scores)):
                scores[i] = MAX_NODE_SCORE
        return
    for i, s in enumerate(scores):
        s = MAX_NODE_SCORE * s // top
        scores[i] = MAX_NODE_SCORE - s if reverse else s


class SchedulingGates(Plugin):
    """Keeps pods with ``spec.schedulingGates`` out of the active queue."""

    name = "SchedulingGates"

    def pre_enqueue(self, pod_info: PodInfo) -> Status:
        spec = pod_info.pod.spec
        gates = (spec.scheduling_gates if spec is not None else None) or []
        if not gates:
            return _OK
        names = " ".join(g.name or "" for g in gates)
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"waiting for scheduling gates: [{names}]")

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.POD, A.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)]


class PrioritySort(Plugin):
    """Higher ``spec.priority`` first, then the earlier queue timestamp."""

    name = "PrioritySort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        pa, pb = a.pod_info.priority, b.pod_info.priority
        return pa > pb or (pa == pb and a.timestamp < b.timestamp)


_UNSCHEDULABLE_TAINT = Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule")


class NodeUnschedulable(Plugin):
    """Rejects nodes with ``spec.unschedulable`` unless the pod tolerates that taint."""

    name = "NodeUnschedulable"
    ERR_REASON = "node(s) were unschedulable"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if not node_info.unschedulable:
            return _OK
        if tolerations_tolerate_taint(pod_info.tolerations, _UNSCHEDULABLE_TAINT):
            return _OK
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_TAINT), _ev(R.POD, A.UPDATE_POD_TOLERATION)]


class NodeName(Plugin):
    """Rejects every node but ``spec.nodeName`` when set."""

    name = "NodeName"
    ERR_REASON = "node(s) didn't match the requested node name"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        want = pod_info.requested_node_name
        if want and want != node_info.name:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON)
        return _OK

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD)]


def _taints_value(taint: Taint) -> str:
    return f"{{{taint.key or ''}: {taint.value or ''}}}"


def _no_schedule(taint: Taint) -> bool:
    return taint.effect in ("NoSchedule", "NoExecute")


class TaintToleration(Plugin):
    """Filter: untolerated NoSchedule/NoExecute taints; score: fewer untolerated PreferNoSchedule."""

    name = "TaintToleration"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if not node_info.taints:
            return _OK
        taint = find_matching_untolerated_taint(node_info.taints, pod_info.tolerations, _no_schedule)
        if taint is None:
            return _OK
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) had untolerated taint {_taints_value(taint)}"
        )

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        if not any(t.effect == "PreferNoSchedule" for ni in nodes for t in ni.taints):
            # Every node would score 0 (normalized: 100): the same for all, so the choice is unchanged.
            return Status(Code.SKIP)
        tolerations = [t for t in pod_info.tolerations if (t.effect or "") in ("", "PreferNoSchedule")]
        state.write("PreScoreTaintToleration", tolerations)
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        if not node_info.taints:
            return 0
        tolerations = state.read("PreScoreTaintToleration") or []
        count = 0
        for taint in node_info.taints:
            if taint.effect == "PreferNoSchedule" and not tolerations_tolerate_taint(tolerations, taint):
                count += 1
        return count

    def normalize_score(
        self, state: CycleState, pod_info: PodInfo, scores: list[int], nodes: list[NodeInfo]
    ) -> None:
        default_normalize_score(scores, reverse=True)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_TAINT), _ev(R.POD, A.UPDATE_POD_TOLERATION)]


class NodeAffinity(Plugin):
    """``nodeSelector``, required and preferred node affinity, and the profile's ``addedAffinity``."""

    name = "NodeAffinity"
    ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
    ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
    ERR_REASON_CONFLICT = "pod affinity terms conflict"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        added = args.get("addedAffinity") or {}
        required = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        self.added_selector: NodeSelector | None = (
            NodeSelector(NodeSelectorSpec.from_dict(required), path="addedAffinity.requiredDuringScheduling")
            if required is not None
            else None
        )
        preferred = [
            PreferredSchedulingTerm.from_dict(t)
            for t in added.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        ]
        self.added_preferred = PreferredSchedulingTerms(preferred) if preferred else None

    @staticmethod
    def _required_terms(pod_info: PodInfo) -> list[Any] | None:
        spec = pod_info.pod.spec
        affinity = spec.affinity if spec is not None else None
        na = affinity.node_affinity if affinity is not None else None
        required = na.required_during_scheduling_ignored_during_execution if na is not None else None
        return list(required.node_selector_terms or ()) if required is not None else None

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        terms = self._required_terms(pod_info)
        spec = pod_info.pod.spec
        node_selector = spec.node_selector if spec is not None else None
        if terms is None and self.added_selector is None and node_selector is None:
            return None, Status(Code.SKIP)
        if not terms:
            return None, _OK
        # Terms naming nodes (matchFields metadata.name In) narrow the nodes: ORed terms unite,
        # ANDed requirements of one term intersect; a term without one allows every node.
        names: set[str] | None = None
        for term in terms:
            term_names: set[str] | None = None
            for r in term.match_fields or ():
                if r.key == "metadata.name" and r.operator == "In":
                    values = set(r.values or ())
                    term_names = values if term_names is None else term_names & values
            if term_names is None:
                return None, _OK
            names = term_names if names is None else names | term_names
        if names is not None and not names:
            return None, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_CONFLICT)
        return names, _OK

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        node = node_info.node
        if node is None:
            return Status(Code.ERROR, "node not found")
        if self.added_selector is not None and not self.added_selector.match(node):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_ENFORCED)
        if not pod_info.required_node_affinity.match(node):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_POD)
        return _OK

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        spec = pod_info.pod.spec
        affinity = spec.affinity if spec is not None else None
        na = affinity.node_affinity if affinity is not None else None
        preferred = na.preferred_during_scheduling_ignored_during_execution if na is not None else None
        if not preferred and self.added_preferred is None:
            return Status(Code.SKIP)
        state.write("PreScoreNodeAffinity", PreferredSchedulingTerms(preferred) if preferred else None)
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        node = node_info.node
        if node is None:
            return 0
        total = self.added_preferred.score(node) if self.added_preferred is not None else 0
        terms: PreferredSchedulingTerms | None = state.read("PreScoreNodeAffinity")
        if terms is not None:
            total += terms.score(node)
        return total

    def normalize_score(
        self, state: CycleState, pod_info: PodInfo, scores: list[int], nodes: list[NodeInfo]
    ) -> None:
        default_normalize_score(scores, reverse=False)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_LABEL)]


def _ports_conflict(want: tuple[str, str, int], used: Mapping[tuple[str, str, int], int]) -> bool:
    ip, proto, port = want
    if ip == "0.0.0.0":
        return any(p == port and pr == proto for (_, pr, p) in used)
    return (ip, proto, port) in used or ("0.0.0.0", proto, port) in used


class NodePorts(Plugin):
    """Rejects nodes where a requested ``hostPort`` (protocol, IP) is in use."""

    name = "NodePorts"
    ERR_REASON = "node(s) didn't have free ports for the requested pod ports"

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        if not pod_info.host_ports:
            return None, Status(Code.SKIP)
        return None, _OK

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if not node_info.used_ports:
            return _OK
        for want in pod_info.host_ports:
            if _ports_conflict(want, node_info.used_ports):
                return Status(Code.UNSCHEDULABLE, self.ERR_REASON)
        return _OK

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.ASSIGNED_POD, A.DELETE), _ev(R.NODE, A.ADD)]


_MB = 1024 * 1024
_MIN_THRESHOLD = 23 * _MB
_MAX_CONTAINER_THRESHOLD = 1000 * _MB


class ImageLocality(Plugin):
    """Prefers nodes that already have the pod's images, weighted by how widely they are spread."""

    name = "ImageLocality"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self._spread_key: tuple[int, int] | None = None
        self._spread: dict[str, int] = {}

    def _images(self, pod_info: PodInfo) -> list[str]:
        spec = pod_info.pod.spec
        if spec is None:
            return []
        containers = [*(spec.init_containers or ()), *(spec.containers or ())]
        return [normalize_image(c.image) for c in containers if c.image]

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        snapshot = self.handle.snapshot
        key = (id(snapshot.node_info_list), snapshot.node_revision)
        if key != self._spread_key:
            spread: dict[str, int] = {}
            for n in snapshot.node_info_list:
                for image in n.image_sizes:
                    spread[image] = spread.get(image, 0) + 1
            self._spread, self._spread_key = spread, key
        images = [i for i in self._images(pod_info) if i in self._spread]
        if not images:
            return Status(Code.SKIP)
        state.write(
            "PreScoreImageLocality", (images, len(self._images(pod_info)), max(1, snapshot.num_nodes()))
        )
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        images: list[str]
        containers: int
        total_nodes: int
        images, containers, total_nodes = state.read("PreScoreImageLocality")
        total = 0
        for image in images:
            size = node_info.image_sizes.get(image)
            if size:
                total += int(size * (self._spread.get(image, 0) / total_nodes))
        max_threshold = _MAX_CONTAINER_THRESHOLD * max(1, containers)
        total = min(max(total, _MIN_THRESHOLD), max_threshold)
        return MAX_NODE_SCORE * (total - _MIN_THRESHOLD) // (max_threshold - _MIN_THRESHOLD)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return []


class DefaultBinder(Plugin):
    """Binds the pod with ``POST pods/<name>/binding``."""

    name = "DefaultBinder"

    async def bind(self, state: CycleState, pod_info: PodInfo, node: str) -> Status:
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod_info.name, "namespace": pod_info.namespace, "uid": pod_info.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            await self.handle.clientset.core_v1.pods(pod_info.namespace).bind(binding)
        except Exception as err:
            return Status.as_error(err)
        return _OK
