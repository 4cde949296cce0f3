"""InterPodAffinity (kube ``plugins/interpodaffinity``): pod affinity and anti-affinity.

Filter, in kube's order: the pod's required affinity terms must each find a matching pod in the
node's domain of the term's topology key (or, when no pod anywhere matches them, the pod matches
its own terms: the first of a group); its required anti-affinity terms must find none; and no pod
already running may have a required anti-affinity term the pod matches in that domain. Score: the
pod's preferred terms against existing pods, existing pods' required affinity (weight
``hardPodAffinityWeight``, 1) and preferred terms against the pod, summed per topology domain and
normalized to 0..100 between the lowest and highest node. Namespace selectors are matched against
the namespaces' labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from testserver.scheduler.framework import MAX_NODE_SCORE, ClusterEventWithHint, Handle, Plugin
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import AffinityTerm, PodInfo
from testserver.scheduler.types import ActionType, ClusterEvent, Code, CycleState, EventResource, Status

__all__ = [
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
    "InterPodAffinity",
]

ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"

_PRE_FILTER_KEY = "PreFilterInterPodAffinity"
_PRE_SCORE_KEY = "PreScoreInterPodAffinity"
_OK = Status()

Pair = tuple[str, str]
NsLabels = Mapping[str, Mapping[str, str]]


def _matches_all(terms: list[AffinityTerm], pod: PodInfo, ns_labels: NsLabels) -> bool:
    return bool(terms) and all(t.matches(pod, ns_labels) for t in terms)


class _FilterState:
    """Counts per topology pair (kube ``preFilterState``)."""

    __slots__ = ("affinity", "anti_affinity", "existing_anti_affinity", "ns_labels", "pod")

    def __init__(self, pod: PodInfo, ns_labels: NsLabels) -> None:
        self.pod = pod
        self.ns_labels = ns_labels
        self.existing_anti_affinity: dict[Pair, int] = {}
        self.affinity: dict[Pair, int] = {}
        self.anti_affinity: dict[Pair, int] = {}

    def clone(self) -> _FilterState:
        c = _FilterState(self.pod, self.ns_labels)
        c.existing_anti_affinity = dict(self.existing_anti_affinity)
        c.affinity = dict(self.affinity)
        c.anti_affinity = dict(self.anti_affinity)
        return c

    def update_with(self, other: PodInfo, node_labels: Mapping[str, str], delta: int) -> None:
        """Count ``other`` on a node with ``node_labels`` (kube ``updateWithPod``)."""
        pod, ns = self.pod, self.ns_labels
        for t in other.anti_affinity_terms:
            if t.matches(pod, ns) and t.topology_key in node_labels:
                _bump(self.existing_anti_affinity, (t.topology_key, node_labels[t.topology_key]), delta)
        if _matches_all(pod.affinity_terms, other, ns):
            for t in pod.affinity_terms:
                if t.topology_key in node_labels:
                    _bump(self.affinity, (t.topology_key, node_labels[t.topology_key]), delta)
        for t in pod.anti_affinity_terms:
            if t.matches(other, ns) and t.topology_key in node_labels:
                _bump(self.anti_affinity, (t.topology_key, node_labels[t.topology_key]), delta)


def _bump(counts: dict[Pair, int], pair: Pair, delta: int) -> None:
    n = counts.get(pair, 0) + delta
    if n:
        counts[pair] = n
    else:
        counts.pop(pair, None)


class InterPodAffinity(Plugin):
    """Pod affinity/anti-affinity (args ``hardPodAffinityWeight`` 1, ``ignorePreferredTermsOfExistingPods``)."""

    name = "InterPodAffinity"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.hard_pod_affinity_weight = int(args.get("hardPodAffinityWeight", 1))
        if not 0 <= self.hard_pod_affinity_weight <= 100:
            raise ValueError(
                f"hardPodAffinityWeight: Invalid value: {self.hard_pod_affinity_weight}: not in valid range [0, 100]"
            )
        self.ignore_preferred_terms_of_existing_pods = bool(
            args.get("ignorePreferredTermsOfExistingPods", False)
        )

    # -- PreFilter / Filter -------------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        snapshot = self.handle.snapshot
        s = _FilterState(pod_info, self.handle.namespace_labels())
        for ni in snapshot.have_pods_with_required_anti_affinity:
            for existing in ni.pods_with_required_anti_affinity:
                for t in existing.anti_affinity_terms:
                    if t.topology_key in ni.labels and t.matches(pod_info, s.ns_labels):
                        _bump(s.existing_anti_affinity, (t.topology_key, ni.labels[t.topology_key]), 1)
        if pod_info.affinity_terms or pod_info.anti_affinity_terms:
            for ni in snapshot.node_info_list:
                if ni.node is None:
                    continue
                for existing in ni.pods:
                    if _matches_all(pod_info.affinity_terms, existing, s.ns_labels):
                        for t in pod_info.affinity_terms:
                            if t.topology_key in ni.labels:
                                _bump(s.affinity, (t.topology_key, ni.labels[t.topology_key]), 1)
                    for t in pod_info.anti_affinity_terms:
                        if t.topology_key in ni.labels and t.matches(existing, s.ns_labels):
                            _bump(s.anti_affinity, (t.topology_key, ni.labels[t.topology_key]), 1)
        if not s.existing_anti_affinity and not pod_info.affinity_terms and not pod_info.anti_affinity_terms:
            return None, Status(Code.SKIP)
        state.write(_PRE_FILTER_KEY, s)
        return None, _OK

    def pre_filter_add_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node_info: NodeInfo
    ) -> None:
        s: _FilterState | None = state.read(_PRE_FILTER_KEY)
        if s is not None:
            s.update_with(other, node_info.labels, 1)

    def pre_filter_remove_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node_info: NodeInfo
    ) -> None:
        s: _FilterState | None = state.read(_PRE_FILTER_KEY)
        if s is not None:
            s.update_with(other, node_info.labels, -1)

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        s: _FilterState | None = state.read(_PRE_FILTER_KEY)
        if s is None:
            return _OK
        labels = node_info.labels
        if not self._satisfies_affinity(s, labels):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON_AFFINITY_RULES_NOT_MATCH)
        for t in pod_info.anti_affinity_terms:
            value = labels.get(t.topology_key)
            if value is not None and s.anti_affinity.get((t.topology_key, value), 0) > 0:
                return Status(Code.UNSCHEDULABLE, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
        if s.existing_anti_affinity:
            for pair in labels.items():
                if s.existing_anti_affinity.get(pair, 0) > 0:
                    return Status(Code.UNSCHEDULABLE, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
        return _OK

    @staticmethod
    def _satisfies_affinity(s: _FilterState, labels: Mapping[str, str]) -> bool:
        pods_exist = True
        for t in s.pod.affinity_terms:
            value = labels.get(t.topology_key)
            if value is None:
                return False  # every topology key must be on the node
            if s.affinity.get((t.topology_key, value), 0) <= 0:
                pods_exist = False
        if pods_exist:
            return True
        # The first pod of a group with affinity to itself: allowed when nothing else matches.
        return not s.affinity and _matches_all(s.pod.affinity_terms, s.pod, s.ns_labels)

    # -- PreScore / Score ---------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        has_constraints = bool(pod_info.preferred_affinity_terms or pod_info.preferred_anti_affinity_terms)
        if self.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status(Code.SKIP)
        snapshot = self.handle.snapshot
        ns_labels = self.handle.namespace_labels()
        candidates = snapshot.node_info_list if has_constraints else snapshot.have_pods_with_affinity
        scores: dict[str, dict[str, int]] = {}

        def add(
            term: AffinityTerm, weight: int, pod: PodInfo, node_labels: Mapping[str, str], sign: int
        ) -> None:
            value = node_labels.get(term.topology_key)
            if value is not None and term.matches(pod, ns_labels):
                by_value = scores.setdefault(term.topology_key, {})
                by_value[value] = by_value.get(value, 0) + weight * sign

        for ni in candidates:
            labels = ni.labels
            if not labels:
                continue
            for existing in ni.pods if has_constraints else ni.pods_with_affinity:
                for t in pod_info.preferred_affinity_terms:
                    add(t, t.weight, existing, labels, 1)
                for t in pod_info.preferred_anti_affinity_terms:
                    add(t, t.weight, existing, labels, -1)
                if self.hard_pod_affinity_weight > 0:
                    for t in existing.affinity_terms:
                        add(t, self.hard_pod_affinity_weight, pod_info, labels, 1)
                for t in existing.preferred_affinity_terms:
                    add(t, t.weight, pod_info, labels, 1)
                for t in existing.preferred_anti_affinity_terms:
                    add(t, t.weight, pod_info, labels, -1)
        if not scores:
            return Status(Code.SKIP)
        state.write(_PRE_SCORE_KEY, scores)
        return _OK

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        scores: dict[str, dict[str, int]] = state.read(_PRE_SCORE_KEY)
        total = 0
        for key, by_value in scores.items():
            value = node_info.labels.get(key)
            if value is not None:
                total += by_value.get(value, 0)
        return total

    def normalize_score(
        self, state: CycleState, pod_info: PodInfo, scores: list[int], nodes: list[NodeInfo]
    ) -> None:
        if not scores:
            return
        lo, hi = min(scores), max(scores)
        diff = hi - lo
        for i, s in enumerate(scores):
            scores[i] = int(MAX_NODE_SCORE * ((s - lo) / diff)) if diff > 0 else 0

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(
                    EventResource.POD, ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_POD_LABEL
                )
            ),
            ClusterEventWithHint(
                ClusterEvent(EventResource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)
            ),
        ]
