"""The small default plugins: SchedulingGates, PrioritySort, NodeUnschedulable, NodeName,
TaintToleration, NodeAffinity, NodePorts, ImageLocality and DefaultBinder.

Each matches kube's plugin of the same name (``pkg/scheduler/framework/plugins/<name>``): the same
status codes and reason strings, the same scores and the same cluster events registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from testserver.scheduler.framework import (
    MAX_NODE_SCORE,
    ClusterEventWithHint,
    Handle,
    Plugin,
    QueuedPodInfo,
)
from testserver.scheduler.plugins.helpers import (
    find_matching_untolerated_taint,
    match_node_selector_terms,
    required_node_affinity_matches,
    tolerates_taint,
)
from testserver.scheduler.types import (
    ActionType,
    ClusterEvent,
    Code,
    CycleState,
    EventResource,
    NodeInfo,
    PodInfo,
    Status,
    normalize_image,
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
        gates = pod_info.spec.get("schedulingGates") or []
        if not gates:
            return _OK
        names = " ".join(g.get("name", "") for g in gates)
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"waiting for scheduling gates: [{names}]")

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.POD, A.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)]


class PrioritySort(Plugin):
    """Higher ``spec.priority`` first, then the earlier queue timestamp."""

    name = "PrioritySort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        pa, pb = a.pod_info.priority, b.pod_info.priority
        return pa > pb or (pa == pb and a.timestamp < b.timestamp)


_UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(Plugin):
    """Rejects nodes with ``spec.unschedulable`` unless the pod tolerates that taint."""

    name = "NodeUnschedulable"
    ERR_REASON = "node(s) were unschedulable"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if not node_info.unschedulable:
            return _OK
        for t in pod_info.spec.get("tolerations") or []:
            if tolerates_taint(t, _UNSCHEDULABLE_TAINT):
                return _OK
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_TAINT), _ev(R.POD, A.UPDATE_POD_TOLERATION)]


class NodeName(Plugin):
    """Rejects every node but ``spec.nodeName`` when set."""

    name = "NodeName"
    ERR_REASON = "node(s) didn't match the requested node name"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        want = pod_info.spec.get("nodeName")
        if want and want != node_info.name:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON)
        return _OK

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD)]


def _taints_value(taint: Mapping[str, Any]) -> str:
    return f"{{{taint.get('key', '')}: {taint.get('value', '')}}}"


class TaintToleration(Plugin):
    """Filter: untolerated NoSchedule/NoExecute taints; score: fewer untolerated PreferNoSchedule."""

    name = "TaintToleration"

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if not node_info.taints:
            return _OK
        taint = find_matching_untolerated_taint(
            node_info.taints,
            pod_info.spec.get("tolerations") or [],
            lambda t: t.get("effect") in ("NoSchedule", "NoExecute"),
        )
        if taint is None:
            return _OK
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) had untolerated taint {_taints_value(taint)}"
        )

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        tolerations = [
            t
            for t in pod_info.spec.get("tolerations") or []
            if (t.get("effect") or "") in ("", "PreferNoSchedule")
        ]
        state.write("PreScoreTaintToleration", tolerations)
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        if not node_info.taints:
            return 0
        tolerations = state.read("PreScoreTaintToleration") or []
        count = 0
        for taint in node_info.taints:
            if taint.get("effect") != "PreferNoSchedule":
                continue
            if not any(tolerates_taint(t, taint) for t in tolerations):
                count += 1
        return count

    def normalize_score(self, state: CycleState, pod_info: PodInfo, scores: list[int]) -> None:
        default_normalize_score(scores, reverse=True)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_TAINT), _ev(R.POD, A.UPDATE_POD_TOLERATION)]


class NodeAffinity(Plugin):
    """``nodeSelector``, required and preferred node affinity, and the profile's ``addedAffinity``."""

    name = "NodeAffinity"
    ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
    ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        added = args.get("addedAffinity") or {}
        req = added.get("requiredDuringSchedulingIgnoredDuringExecution") or None
        self.added_terms: list[dict[str, Any]] | None = (req or {}).get("nodeSelectorTerms") if req else None
        self.added_preferred: list[dict[str, Any]] = (
            added.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        )

    def _required(self, pod_info: PodInfo) -> list[dict[str, Any]] | None:
        na = (pod_info.spec.get("affinity") or {}).get("nodeAffinity") or {}
        req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
        return (req or {}).get("nodeSelectorTerms") if req else None

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        terms = self._required(pod_info)
        if not pod_info.spec.get("nodeSelector") and terms is None and self.added_terms is None:
            return None, Status(Code.SKIP)
        if not terms:
            return None, _OK
        # Terms that all name nodes by metadata.name In narrow the nodes to those names.
        names: set[str] = set()
        for term in terms:
            fields = [f for f in term.get("matchFields") or [] if f.get("key") == "metadata.name"]
            if len(fields) != 1 or fields[0].get("operator") != "In" or term.get("matchExpressions"):
                return None, _OK
            names.update(fields[0].get("values") or [])
        if not names:
            return set(), Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_POD)
        return names, _OK

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        if self.added_terms is not None and not match_node_selector_terms(
            node_info.name, node_info.labels, self.added_terms
        ):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_ENFORCED)
        if not required_node_affinity_matches(pod_info.spec, node_info.name, node_info.labels):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self.ERR_REASON_POD)
        return _OK

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        na = (pod_info.spec.get("affinity") or {}).get("nodeAffinity") or {}
        preferred = (
            list(na.get("preferredDuringSchedulingIgnoredDuringExecution") or []) + self.added_preferred
        )
        if not preferred:
            return Status(Code.SKIP)
        state.write("PreScoreNodeAffinity", preferred)
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        total = 0
        for term in state.read("PreScoreNodeAffinity") or []:
            weight = int(term.get("weight") or 0)
            if weight and match_node_selector_terms(
                node_info.name, node_info.labels, [term.get("preference") or {}]
            ):
                total += weight
        return total

    def normalize_score(self, state: CycleState, pod_info: PodInfo, scores: list[int]) -> None:
        default_normalize_score(scores, reverse=False)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [_ev(R.NODE, A.ADD | A.UPDATE_NODE_LABEL), _ev(R.POD, A.UPDATE_OTHER)]


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
        spec = pod_info.spec
        return [
            normalize_image(c.get("image", ""))
            for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
            if c.get("image")
        ]

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
        images, containers, total_nodes = state.read("PreScoreImageLocality")
        total = 0
        for image in images:
            size = node_info.image_sizes.get(image)
            if size:
                total += int(size * (self._spread.get(image, 0) / total_nodes))
        max_threshold = _MAX_CONTAINER_THRESHOLD * max(1, containers)
        total = min(max(total, _MIN_THRESHOLD), max_threshold)
        return int(MAX_NODE_SCORE * (total - _MIN_THRESHOLD) / (max_threshold - _MIN_THRESHOLD))

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
