"""PodTopologySpread (kube ``plugins/podtopologyspread``): spread matching pods over topology domains.

Filter, for the pod's ``whenUnsatisfiable: DoNotSchedule`` constraints: a node is feasible when
``pods matching in its domain + (1 if the pod itself matches) - the smallest count of any domain``
is at most ``maxSkew`` (the smallest is 0 while there are fewer domains than ``minDomains``). Nodes
count as domains only when they carry every constraint's topology key and pass the constraint's
``nodeAffinityPolicy`` (Honor by default: the pod's nodeSelector/required affinity) and
``nodeTaintsPolicy`` (Ignore by default). ``matchLabelKeys`` narrows the selector by the pod's own
label values. Score, for the ``ScheduleAnyway`` constraints (or kube's system defaults — hostname
maxSkew 3, zone maxSkew 5 — when the pod has none, with the selector of the Services, ReplicaSets,
StatefulSets and ReplicationControllers selecting it): fewer matching pods in the node's domains
scores higher, weighted by log(number of domains + 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyclientgo.api.core.v1 import Node, Taint, TopologySpreadConstraint
from pyclientgo.apimachinery.labels import Operator, Requirement, Selector, selector_from_label_selector
from pyclientgo.component_helpers import RequiredNodeAffinity, find_matching_untolerated_taint
from testserver.scheduler.framework import MAX_NODE_SCORE, ClusterEventWithHint, Handle, Plugin
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import ActionType, ClusterEvent, Code, CycleState, EventResource, Status

__all__ = [
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "PodTopologySpread",
]

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"

SYSTEM_DEFAULT_CONSTRAINTS: list[dict[str, Any]] = [
    {"topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 3},
    {"topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 5},
]
"""kube's ``systemDefaultConstraints``, used when the pod has none and the profile says ``System``."""

_PRE_FILTER_KEY = "PreFilterPodTopologySpread"
_PRE_SCORE_KEY = "PreScorePodTopologySpread"
_OK = Status()


@dataclass(frozen=True, slots=True)
class Constraint:
    """A parsed topology spread constraint (kube ``topologySpreadConstraint``)."""

    max_skew: int
    topology_key: str
    selector: Selector
    min_domains: int = 1
    honor_node_affinity: bool = True
    honor_node_taints: bool = False

    def includes(self, pod: PodInfo, node: Node, node_info: NodeInfo, affinity: RequiredNodeAffinity) -> bool:
        """kube ``matchNodeInclusionPolicies``."""
        if self.honor_node_affinity and not affinity.match(node):
            return False
        return not (
            self.honor_node_taints
            and find_matching_untolerated_taint(node_info.taints, pod.tolerations, _do_not_schedule)
            is not None
        )


def _do_not_schedule(taint: Taint) -> bool:
    return taint.effect in ("NoSchedule", "NoExecute")


def _labels_match(node_labels: Mapping[str, str], constraints: list[Constraint]) -> bool:
    return all(c.topology_key in node_labels for c in constraints)


def count_pods_match_selector(pods: list[PodInfo], selector: Selector, namespace: str) -> int:
    """kube ``countPodsMatchSelector``: pods of the namespace, not terminating, the selector matches."""
    n = 0
    matches = selector.matches
    for p in pods:
        if p.namespace == namespace and matches(p.labels) and not p.deleting:
            n += 1
    return n


class _FilterState:
    """Matching pods per (key, value) domain and the smallest count per key (kube ``preFilterState``)."""

    __slots__ = ("constraints", "counts", "domains", "minimum")

    def __init__(self, constraints: list[Constraint], counts: dict[tuple[str, str], int]) -> None:
        self.constraints = constraints
        self.counts = counts
        self.domains: dict[str, int] = {}
        self.minimum: dict[str, int] = {}
        self._recount()

    def _recount(self) -> None:
        self.domains = {}
        self.minimum = {}
        for (key, _), n in self.counts.items():
            self.domains[key] = self.domains.get(key, 0) + 1
            self.minimum[key] = min(self.minimum.get(key, n), n)

    def min_match(self, key: str, min_domains: int) -> int:
        if self.domains.get(key, 0) < min_domains:
            return 0
        return self.minimum.get(key, 0)

    def clone(self) -> _FilterState:
        return _FilterState(self.constraints, dict(self.counts))

    def update(self, pair: tuple[str, str], delta: int) -> None:
        self.counts[pair] = self.counts.get(pair, 0) + delta
        self._recount()


class PodTopologySpread(Plugin):
    """Filter and score by topology spread (args ``defaultingType`` System|List, ``defaultConstraints``)."""

    name = "PodTopologySpread"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        defaulting = args.get("defaultingType") or "System"
        if defaulting not in ("System", "List"):
            raise ValueError(
                f"defaultingType: Unsupported value: {defaulting!r}: supported values: System, List"
            )
        raw_defaults = args.get("defaultConstraints")
        if defaulting == "System":
            if raw_defaults:
                raise ValueError(
                    "defaultConstraints: Invalid value: must be empty for System defaulting type"
                )
            raw_defaults = SYSTEM_DEFAULT_CONSTRAINTS
        self.system_defaulted = defaulting == "System"
        self.default_constraints = [TopologySpreadConstraint.from_dict(c) for c in raw_defaults or []]

    # -- constraints --------------------------------------------------------------------------------

    @staticmethod
    def _parse(
        constraints: list[TopologySpreadConstraint],
        pod: PodInfo,
        action: str,
        selector: Selector | None = None,
    ) -> list[Constraint]:
        out: list[Constraint] = []
        for c in constraints:
            if (c.when_unsatisfiable or "") != action:
                continue
            sel = selector
            if sel is None:
                sel = selector_from_label_selector(
                    c.label_selector.to_dict() if c.label_selector is not None else None
                )
                extra = [
                    Requirement.new(k, Operator.IN, [pod.labels[k]])
                    for k in c.match_label_keys or ()
                    if k in pod.labels
                ]
                if extra:
                    sel = sel.add(*extra)
            out.append(
                Constraint(
                    max_skew=c.max_skew or 1,
                    topology_key=c.topology_key or "",
                    selector=sel,
                    min_domains=c.min_domains if c.min_domains is not None else 1,
                    honor_node_affinity=(c.node_affinity_policy or "Honor") == "Honor",
                    honor_node_taints=(c.node_taints_policy or "Ignore") == "Honor",
                )
            )
        return out

    def constraints(self, pod: PodInfo, action: str) -> list[Constraint]:
        """The pod's constraints of ``action`` (DoNotSchedule or ScheduleAnyway), else the defaults."""
        spec = pod.pod.spec
        own = list((spec.topology_spread_constraints if spec is not None else None) or ())
        if own:
            return self._parse(own, pod, action)
        defaults = [c for c in self.default_constraints if (c.when_unsatisfiable or "") == action]
        if not defaults:
            return []
        selector = self.handle.default_selector(pod)
        if selector.empty():
            return []
        return self._parse(defaults, pod, action, selector)

    # -- PreFilter / Filter -------------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        constraints = self.constraints(pod_info, "DoNotSchedule")
        if not constraints:
            return None, Status(Code.SKIP)
        affinity = pod_info.required_node_affinity
        counts: dict[tuple[str, str], int] = {}
        for ni in nodes:
            node = ni.node
            if node is None or not _labels_match(ni.labels, constraints):
                continue
            for c in constraints:
                if not c.includes(pod_info, node, ni, affinity):
                    continue
                pair = (c.topology_key, ni.labels[c.topology_key])
                counts[pair] = counts.get(pair, 0) + count_pods_match_selector(
                    ni.pods, c.selector, pod_info.namespace
                )
        state.write(_PRE_FILTER_KEY, _FilterState(constraints, counts))
        return None, _OK

    def _update(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node_info: NodeInfo, delta: int
    ) -> None:
        s: _FilterState | None = state.read(_PRE_FILTER_KEY)
        node = node_info.node
        if s is None or node is None or other.namespace != pod.namespace:
            return
        if not _labels_match(node_info.labels, s.constraints):
            return
        for c in s.constraints:
            if not c.selector.matches(other.labels):
                continue
            if not c.includes(pod, node, node_info, pod.required_node_affinity):
                continue
            s.update((c.topology_key, node_info.labels[c.topology_key]), delta)

    def pre_filter_add_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node_info: NodeInfo
    ) -> None:
        self._update(state, pod, other, node_info, 1)

    def pre_filter_remove_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node_info: NodeInfo
    ) -> None:
        self._update(state, pod, other, node_info, -1)

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        s: _FilterState | None = state.read(_PRE_FILTER_KEY)
        if s is None or not s.constraints:
            return _OK
        for c in s.constraints:
            value = node_info.labels.get(c.topology_key)
            if value is None:
                return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_NODE_LABEL_NOT_MATCH)
            self_match = 1 if c.selector.matches(pod_info.labels) else 0
            skew = (
                s.counts.get((c.topology_key, value), 0)
                + self_match
                - s.min_match(c.topology_key, c.min_domains)
            )
            if skew > c.max_skew:
                return Status(Code.UNSCHEDULABLE, ERR_REASON_CONSTRAINTS_NOT_MATCH)
        return _OK

    # -- PreScore / Score ---------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        all_nodes = self.handle.snapshot.node_info_list
        if not all_nodes:
            return Status(Code.SKIP)
        constraints = self.constraints(pod_info, "ScheduleAnyway")
        if not constraints:
            return Status(Code.SKIP)
        spec = pod_info.pod.spec
        require_all = bool(spec is not None and spec.topology_spread_constraints) or not self.system_defaulted
        ignored: set[str] = set()
        counts: dict[tuple[str, str], int] = {}
        sizes = [0] * len(constraints)
        for ni in nodes:
            if require_all and not _labels_match(ni.labels, constraints):
                ignored.add(ni.name)
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == HOSTNAME:
                    continue
                pair = (c.topology_key, ni.labels.get(c.topology_key, ""))
                if pair not in counts:
                    counts[pair] = 0
                    sizes[i] += 1
        weights = []
        for i, c in enumerate(constraints):
            size = len(nodes) - len(ignored) if c.topology_key == HOSTNAME else sizes[i]
            weights.append(math.log(size + 2))
        affinity = pod_info.required_node_affinity
        keys = [c.topology_key for c in constraints]
        by_domain = [c for c in constraints if c.topology_key != HOSTNAME]
        # Inclusion policies that cannot exclude a node are not evaluated per node.
        check_inclusion = pod_info.has_required_node_constraints or any(
            c.honor_node_taints for c in constraints
        )
        if counts:
            for ni in all_nodes:
                node, labels = ni.node, ni.labels
                if node is None or not ni.pods or (require_all and any(k not in labels for k in keys)):
                    continue
                for c in by_domain:
                    pair = (c.topology_key, labels.get(c.topology_key, ""))
                    if pair not in counts or (
                        check_inclusion and not c.includes(pod_info, node, ni, affinity)
                    ):
                        continue
                    counts[pair] += count_pods_match_selector(ni.pods, c.selector, pod_info.namespace)
        state.write(_PRE_SCORE_KEY, (constraints, ignored, counts, weights))
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        constraints, ignored, counts, weights = state.read(_PRE_SCORE_KEY)
        if node_info.name in ignored:
            return 0
        total = 0.0
        for i, c in enumerate(constraints):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == HOSTNAME:
                cnt = count_pods_match_selector(node_info.pods, c.selector, pod_info.namespace)
            else:
                cnt = counts.get((c.topology_key, value), 0)
            total += cnt * weights[i] + (c.max_skew - 1)
        return round(total)

    def normalize_score(
        self, state: CycleState, pod_info: PodInfo, scores: list[int], nodes: list[NodeInfo]
    ) -> None:
        _, ignored, _, _ = state.read(_PRE_SCORE_KEY)
        names = [ni.name for ni in nodes]
        valid = [s for s, n in zip(scores, names, strict=True) if n not in ignored]
        if not valid:
            for i in range(len(scores)):
                scores[i] = 0
            return
        lo, hi = min(valid), max(valid)
        for i, (s, n) in enumerate(zip(scores, names, strict=True)):
            if n in ignored:
                scores[i] = 0
            elif hi == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (hi + lo - s) // hi

    def events_to_register(self) -> list[ClusterEventWithHint]:
        pod_actions = ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_POD_LABEL
        node_actions = (
            ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_NODE_LABEL | ActionType.UPDATE_NODE_TAINT
        )
        return [
            ClusterEventWithHint(ClusterEvent(EventResource.ASSIGNED_POD, pod_actions)),
            ClusterEventWithHint(ClusterEvent(EventResource.NODE, node_actions)),
        ]
