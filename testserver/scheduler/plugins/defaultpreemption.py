"""DefaultPreemption: the PostFilter that makes room for a pod by evicting lower-priority pods.

After kube ``plugins/defaultpreemption`` and ``framework/preemption``: a pod that failed the filters
may preempt when its ``preemptionPolicy`` is not ``Never`` and its nominated node has no victim of
an earlier preemption still terminating. The nodes that failed with a resolvable status
(Unschedulable, not UnschedulableAndUnresolvable) are dry-run from a random offset: every pod of
lower priority is removed, the filters run; then victims are reprieved one by one, highest priority
first, PDB-violating ones first, while the pod still fits. Candidates are picked by the fewest PDB
violations, the lowest highest-victim priority, the lowest sum of priorities, the fewest victims and
the latest start of the top victims. The victims get the ``DisruptionTarget`` condition
(``PreemptionByScheduler``) and are deleted gracefully with a ``Preempted`` event; the preemptor is
nominated to the node (``status.nominatedNodeName``). With no candidate the answer is kube's
message, e.g. ``0/3 nodes are available: 3 No preemption victims found for incoming pod.``
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import random
from collections.abc import Mapping
from typing import Any

from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.apimachinery.labels import Selector, selector_from_label_selector
from pyclientgo.errors import NotFound
from testserver.scheduler.framework import Framework, Handle, Plugin
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import Code, CycleState, Status, fit_error_message

__all__ = ["NOT_HELPFUL", "NO_VICTIMS", "DefaultPreemption"]

log = logging.getLogger("kube-scheduler.preemption")

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
_INT32_SPAN = 2**31


def _more_important(a: PodInfo, b: PodInfo) -> bool:
    """kube ``util.MoreImportantPod``: higher priority, then the earlier start."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return a.start_time() < b.start_time()


def _terminating_by_preemption(pod: PodInfo) -> bool:
    if not pod.deleting:
        return False
    return pod.condition("DisruptionTarget") == ("True", "PreemptionByScheduler")


class _Candidate:
    __slots__ = ("name", "pdb_violations", "victims")

    def __init__(self, name: str, victims: list[PodInfo], pdb_violations: int) -> None:
        self.name = name
        self.victims = victims
        self.pdb_violations = pdb_violations


class DefaultPreemption(Plugin):
    """Preempts lower-priority pods (args ``minCandidateNodesPercentage`` 10, ``...Absolute`` 100)."""

    name = "DefaultPreemption"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.min_candidate_nodes_percentage = int(args.get("minCandidateNodesPercentage", 10))
        self.min_candidate_nodes_absolute = int(args.get("minCandidateNodesAbsolute", 100))
        if not 0 <= self.min_candidate_nodes_percentage <= 100:
            raise ValueError(
                "minCandidateNodesPercentage: Invalid value: "
                f"{self.min_candidate_nodes_percentage}: not in valid range [0, 100]"
            )
        if self.min_candidate_nodes_absolute < 0:
            raise ValueError(
                f"minCandidateNodesAbsolute: Invalid value: {self.min_candidate_nodes_absolute}: "
                "not in valid range [0, inf)"
            )
        self.rng = random.Random()

    # -- PostFilter -------------------------------------------------------------------------------

    def post_filter(
        self, state: CycleState, pod_info: PodInfo, statuses: dict[str, Status]
    ) -> tuple[str | None, Status]:
        """``(nominated node or "" to clear it, or None to keep it, status)`` (kube ``Preempt``)."""
        nominated, status = self.preempt(state, pod_info, statuses)
        if status.message():
            return nominated, Status(status.code, "preemption: " + status.message())
        return nominated, status

    def preempt(
        self, state: CycleState, pod_info: PodInfo, statuses: dict[str, Status]
    ) -> tuple[str | None, Status]:
        ok, msg = self.eligible(pod_info, statuses)
        if not ok:
            return None, Status(Code.UNSCHEDULABLE, msg)
        snapshot = self.handle.snapshot
        all_nodes = snapshot.node_info_list
        potential = [
            ni
            for ni in all_nodes
            if (st := statuses.get(ni.name)) is not None and st.code == Code.UNSCHEDULABLE
        ]
        node_statuses: dict[str, Status] = {}
        candidates: list[_Candidate] = []
        if potential:
            candidates, node_statuses = self.dry_run(state, pod_info, potential)
        else:
            self.handle.clear_nominated_node_name(pod_info)
        if not candidates:
            msg = fit_error_message(
                len(all_nodes), node_statuses, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NOT_HELPFUL)
            )
            return "", Status(Code.UNSCHEDULABLE, msg)
        best = self.select_candidate(candidates)
        self.prepare_candidate(best, pod_info)
        return best.name, Status()

    def eligible(self, pod_info: PodInfo, statuses: Mapping[str, Status]) -> tuple[bool, str]:
        """kube ``PodEligibleToPreemptOthers``."""
        if pod_info.preemption_policy == "Never":
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = pod_info.nominated_node_name
        if nominated:
            st = statuses.get(nominated)
            if st is not None and st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            ni = self.handle.snapshot.get(nominated)
            if ni is not None:
                for p in ni.pods:
                    if p.priority < pod_info.priority and _terminating_by_preemption(p):
                        return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    # -- dry run ----------------------------------------------------------------------------------

    def num_candidates(self, num_nodes: int) -> int:
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        n = max(n, self.min_candidate_nodes_absolute)
        return min(n, num_nodes)

    def dry_run(
        self, state: CycleState, pod_info: PodInfo, potential: list[NodeInfo]
    ) -> tuple[list[_Candidate], dict[str, Status]]:
        """kube ``DryRunPreemption``: candidates (non-violating first) and the other nodes' statuses."""
        fw = self.framework
        pdbs = self.handle.pod_disruption_budgets()
        offset = self.rng.randrange(len(potential))
        wanted = self.num_candidates(len(potential))
        non_violating: list[_Candidate] = []
        violating: list[_Candidate] = []
        node_statuses: dict[str, Status] = {}
        for i in range(len(potential)):
            ni = potential[(offset + i) % len(potential)].clone()
            victims, violations, status = self.select_victims_on_node(fw, state.clone(), pod_info, ni, pdbs)
            if status.is_success() and victims:
                (non_violating if violations == 0 else violating).append(
                    _Candidate(ni.name, victims, violations)
                )
                if non_violating and len(non_violating) + len(violating) >= wanted:
                    break
                continue
            if status.is_success():
                status = Status(Code.ERROR, f'expected at least one victim pod on node "{ni.name}"')
            node_statuses[ni.name] = status
        return non_violating + violating, node_statuses

    def select_victims_on_node(
        self,
        fw: Framework,
        state: CycleState,
        pod_info: PodInfo,
        node_info: NodeInfo,
        pdbs: list[PodDisruptionBudget],
    ) -> tuple[list[PodInfo], int, Status]:
        """The fewest pods to remove from ``node_info`` (a copy) for the pod to fit (kube
        ``SelectVictimsOnNode``)."""
        handle = self.handle
        potential = [p for p in node_info.pods if p.priority < pod_info.priority]
        for p in potential:
            node_info.remove_pod(p.key)
            fw.run_pre_filter_remove_pod(state, pod_info, p, node_info)
        if not potential:
            return [], 0, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NO_VICTIMS)
        status = fw.run_filter_with_nominated_pods(state, pod_info, node_info, handle)
        if not status.is_success():
            return [], 0, status
        potential.sort(key=_importance_key)
        violating, non_violating = _split_by_pdb_violation(potential, pdbs)
        victims: list[PodInfo] = []

        def reprieve(p: PodInfo) -> bool:
            node_info.add_pod(p)
            fw.run_pre_filter_add_pod(state, pod_info, p, node_info)
            fits = fw.run_filter_with_nominated_pods(state, pod_info, node_info, handle).is_success()
            if not fits:
                node_info.remove_pod(p.key)
                fw.run_pre_filter_remove_pod(state, pod_info, p, node_info)
                victims.append(p)
            return fits

        num_violating = sum(1 for p in violating if not reprieve(p))
        for p in non_violating:
            reprieve(p)
        if violating and non_violating:
            victims.sort(key=_importance_key)
        return victims, num_violating, Status()

    # -- choice and action ------------------------------------------------------------------------

    @staticmethod
    def select_candidate(candidates: list[_Candidate]) -> _Candidate:
        """kube ``pickOneNodeForPreemption``."""
        if len(candidates) == 1:
            return candidates[0]

        def earliest_start(c: _Candidate) -> float:
            top = c.victims[0].priority
            return min(v.start_time() for v in c.victims if v.priority == top)

        scores = (
            lambda c: -c.pdb_violations,
            lambda c: -c.victims[0].priority,
            lambda c: -sum(v.priority + _INT32_SPAN for v in c.victims),
            lambda c: -len(c.victims),
        )
        pool = candidates
        for f in scores:
            best = max(f(c) for c in pool)
            pool = [c for c in pool if f(c) == best]
            if len(pool) == 1:
                return pool[0]
        latest = max(earliest_start(c) for c in pool)
        return next(c for c in pool if earliest_start(c) == latest)

    def prepare_candidate(self, candidate: _Candidate, pod_info: PodInfo) -> None:
        """Preempt the victims and clear lower-priority nominations on the node, asynchronously."""
        lower = [
            p
            for p in self.handle.nominated_pods_for_node(candidate.name)
            if p.priority < pod_info.priority and p.key != pod_info.key
        ]
        self.handle.spawn(self._preempt_victims(candidate, pod_info, lower))

    async def _preempt_victims(self, candidate: _Candidate, preemptor: PodInfo, lower: list[PodInfo]) -> None:
        await asyncio.gather(*(self._preempt_one(candidate, preemptor, v) for v in candidate.victims))
        for p in lower:
            self.handle.clear_nominated_node_name(p)

    async def _preempt_one(self, candidate: _Candidate, preemptor: PodInfo, victim: PodInfo) -> None:
        pods = self.handle.clientset.core_v1.pods(victim.namespace)
        scheduler_name = preemptor.scheduler_name
        waiting = self.handle.get_waiting_pod(victim.uid)
        if waiting is not None:  # still held at Permit: rejected, never bound, nothing to delete
            waiting.reject(self.name, "preempted")
            return
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "PreemptionByScheduler",
            "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
            "lastTransitionTime": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        try:
            await pods.patch(victim.name, {"status": {"conditions": [condition]}}, subresource="status")
            await pods.delete(victim.name)
        except NotFound:
            log.info("victim pod %s is already deleted", victim.key)
            return
        except Exception as err:
            log.error("could not preempt pod %s for %s: %s", victim.key, preemptor.key, err)
            return
        recorder = self.handle.recorder(scheduler_name)
        if recorder is not None:
            recorder.eventf(
                victim.pod,
                preemptor.pod,
                "Normal",
                "Preempted",
                "Preempting",
                "Preempted by pod %s on node %s",
                preemptor.uid,
                candidate.name,
            )


def _importance_key(p: PodInfo) -> tuple[int, float]:
    return (-p.priority, p.start_time())


def _split_by_pdb_violation(
    pods: list[PodInfo], pdbs: list[PodDisruptionBudget]
) -> tuple[list[PodInfo], list[PodInfo]]:
    """kube ``filterPodsWithPDBViolation``: (violating, non-violating), order kept."""
    allowed = [(pdb.status.disruptions_allowed if pdb.status else None) or 0 for pdb in pdbs]
    selectors: list[Selector | None] = []
    for pdb in pdbs:
        raw = pdb.spec.selector if pdb.spec is not None else None
        try:
            selectors.append(selector_from_label_selector(raw.to_dict() if raw is not None else None))
        except ValueError:
            selectors.append(None)
    violating: list[PodInfo] = []
    non_violating: list[PodInfo] = []
    for p in pods:
        violated = False
        if p.labels:
            for i, pdb in enumerate(pdbs):
                if (pdb.metadata.namespace if pdb.metadata else None) != p.namespace:
                    continue
                sel = selectors[i]
                # A PDB with a nil or empty selector matches nothing.
                if sel is None or sel.empty() or not sel.matches(p.labels):
                    continue
                if p.name in ((pdb.status.disrupted_pods if pdb.status else None) or {}):
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else non_violating).append(p)
    return violating, non_violating
