"""NodeResourcesFit and NodeResourcesBalancedAllocation (kube ``plugins/noderesources``).

Fit filters nodes whose allocatable minus the requests of the pods on them cannot hold the pod's
requests ("Insufficient cpu", "Too many pods", ...) and scores by the ``scoringStrategy``:
``LeastAllocated`` (default; cpu and memory weight 1), ``MostAllocated`` or
``RequestedToCapacityRatio`` (a broken-line ``shape`` of utilization → score 0..10). Scoring counts
a container without a CPU/memory request as 100m / 200Mi, as kube does. BalancedAllocation prefers
nodes whose CPU and memory fractions would be closest to each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from testserver.scheduler.framework import MAX_NODE_SCORE, ClusterEventWithHint, Handle, Plugin
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import (
    ActionType,
    ClusterEvent,
    Code,
    CycleState,
    EventResource,
    Resource,
    Status,
)

__all__ = ["BalancedAllocation", "Fit"]

_OK = Status()
_DEFAULT_RESOURCES: list[dict[str, Any]] = [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]


def _events() -> list[ClusterEventWithHint]:
    return [
        ClusterEventWithHint(
            ClusterEvent(EventResource.ASSIGNED_POD, ActionType.DELETE | ActionType.UPDATE_POD_SCALE_DOWN)
        ),
        ClusterEventWithHint(
            ClusterEvent(EventResource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE)
        ),
    ]


def _requested_for(node_info: NodeInfo, pod: PodInfo, name: str, non_zero: bool) -> tuple[int, int]:
    """(allocatable, requested incl. the pod) of one resource on the node."""
    alloc = node_info.allocatable.get(name)
    if non_zero and name in ("cpu", "memory"):
        return alloc, node_info.non_zero_requested.get(name) + pod.non_zero_requests.get(name)
    return alloc, node_info.requested.get(name) + pod.requests.get(name)


def _least(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def _most(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    requested = min(requested, capacity)
    return requested * MAX_NODE_SCORE // capacity


def _least_cpu_memory(node_info: NodeInfo, pod: PodInfo) -> int:
    """LeastAllocated over cpu and memory with weight 1 each (the default), without the general loop."""
    alloc = node_info.allocatable
    used = node_info.non_zero_requested
    want = pod.non_zero_requests
    total = weights = 0
    cap = alloc.milli_cpu
    if cap:
        req = used.milli_cpu + want.milli_cpu
        total += (cap - req) * MAX_NODE_SCORE // cap if req <= cap else 0
        weights += 1
    cap = alloc.memory
    if cap:
        req = used.memory + want.memory
        total += (cap - req) * MAX_NODE_SCORE // cap if req <= cap else 0
        weights += 1
    return total // weights if weights else 0


class Fit(Plugin):
    """Requests against allocatable; LeastAllocated / MostAllocated / RequestedToCapacityRatio."""

    name = "NodeResourcesFit"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        strategy = args.get("scoringStrategy") or {}
        self.strategy: str = strategy.get("type") or "LeastAllocated"
        if self.strategy not in ("LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"):
            raise ValueError(f"NodeResourcesFit: scoringStrategy.type {self.strategy!r} is not supported")
        self.resources: list[tuple[str, int]] = [
            (r["name"], int(r.get("weight") or 1)) for r in (strategy.get("resources") or _DEFAULT_RESOURCES)
        ]
        shape = (strategy.get("requestedToCapacityRatio") or {}).get("shape") or [
            {"utilization": 0, "score": 10},
            {"utilization": 100, "score": 0},
        ]
        self.shape = [(int(p["utilization"]), int(p["score"]) * MAX_NODE_SCORE // 10) for p in shape]
        self._least_cpu_memory = self.strategy == "LeastAllocated" and self.resources == [
            ("cpu", 1),
            ("memory", 1),
        ]
        """kube's default scoring, computed inline (the hot path: every feasible node of every pod)."""
        self.ignored = set(args.get("ignoredResources") or [])
        self.ignored_groups = set(args.get("ignoredResourceGroups") or [])

    def pre_filter(
        self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[set[str] | None, Status]:
        return None, _OK

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        req, alloc, used = pod_info.requests, node_info.allocatable, node_info.requested
        if (
            len(node_info.pods) < alloc.allowed_pod_number
            and req.milli_cpu <= alloc.milli_cpu - used.milli_cpu
            and req.memory <= alloc.memory - used.memory
            and req.ephemeral_storage <= alloc.ephemeral_storage - used.ephemeral_storage
            and not req.scalar
        ):
            return _OK  # the common case, without building the reasons
        reasons = self.insufficient(req, node_info)
        if reasons:
            return Status(Code.UNSCHEDULABLE, *reasons)
        return _OK

    def insufficient(self, req: Resource, node_info: NodeInfo) -> list[str]:
        """kube ``fitsRequest``: the reasons the node cannot hold ``req``."""
        reasons: list[str] = []
        alloc = node_info.allocatable
        used = node_info.requested
        if len(node_info.pods) + 1 > alloc.allowed_pod_number:
            reasons.append("Too many pods")
        if (
            req.milli_cpu == 0
            and req.memory == 0
            and req.ephemeral_storage == 0
            and not any(req.scalar.values())
        ):
            return reasons
        if req.milli_cpu > 0 and req.milli_cpu > alloc.milli_cpu - used.milli_cpu:
            reasons.append("Insufficient cpu")
        if req.memory > 0 and req.memory > alloc.memory - used.memory:
            reasons.append("Insufficient memory")
        if (
            req.ephemeral_storage > 0
            and req.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
        ):
            reasons.append("Insufficient ephemeral-storage")
        for name, value in req.scalar.items():
            if value == 0 or name in self.ignored or name.split("/", 1)[0] in self.ignored_groups:
                continue
            if value > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
                reasons.append(f"Insufficient {name}")
        return reasons

    def score_nodes(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """:meth:`score` of every node at once (the framework prefers it: one call per cycle)."""
        if self._least_cpu_memory:
            return [_least_cpu_memory(ni, pod_info) for ni in nodes]
        return [self.score(state, pod_info, ni) for ni in nodes]

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        if self._least_cpu_memory:
            return _least_cpu_memory(node_info, pod_info)
        total = 0
        weights = 0
        for name, weight in self.resources:
            alloc, req = _requested_for(node_info, pod_info, name, non_zero=True)
            if alloc == 0:
                continue
            if self.strategy == "LeastAllocated":
                s = _least(req, alloc)
            elif self.strategy == "MostAllocated":
                s = _most(req, alloc)
            else:
                s = self._ratio(req, alloc)
            total += s * weight
            weights += weight
        if weights == 0:
            return 0
        if self.strategy == "RequestedToCapacityRatio":
            return round(total / weights)
        return total // weights

    def _ratio(self, requested: int, capacity: int) -> int:
        if capacity == 0 or requested > capacity:
            return self._shape_score(100)
        return self._shape_score(requested * 100 // capacity)

    def _shape_score(self, utilization: int) -> int:
        shape = self.shape
        for i, (u, s) in enumerate(shape):
            if utilization <= u:
                if i == 0:
                    return s
                pu, ps = shape[i - 1]
                return ps + (s - ps) * (utilization - pu) // (u - pu)
        return shape[-1][1]

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return _events()


class BalancedAllocation(Plugin):
    """Prefers nodes whose resource fractions (with the pod) are balanced: (1 - std)·100."""

    name = "NodeResourcesBalancedAllocation"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.resources = [r["name"] for r in (args.get("resources") or _DEFAULT_RESOURCES)]
        self._cpu_memory = self.resources == ["cpu", "memory"]

    def pre_score(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> Status:
        r = pod_info.requests
        if r.milli_cpu == 0 and r.memory == 0 and not any(r.scalar.values()) and r.ephemeral_storage == 0:
            return Status(Code.SKIP)  # a best-effort pod does not change the balance
        return _OK

    def score_nodes(self, state: CycleState, pod_info: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """:meth:`score` of every node at once, cpu and memory inline."""
        if not self._cpu_memory:
            return [self.score(state, pod_info, ni) for ni in nodes]
        want = pod_info.requests
        w_cpu, w_mem = want.milli_cpu, want.memory
        out = []
        for ni in nodes:
            cap, used = ni.allocatable, ni.requested
            if cap.milli_cpu and cap.memory:
                f_cpu = min((used.milli_cpu + w_cpu) / cap.milli_cpu, 1.0)
                f_mem = min((used.memory + w_mem) / cap.memory, 1.0)
                out.append(int((1 - abs((f_cpu - f_mem) / 2)) * MAX_NODE_SCORE))
            else:
                out.append(self.score(state, pod_info, ni))
        return out

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        if self._cpu_memory:
            cap, used, want = node_info.allocatable, node_info.requested, pod_info.requests
            if cap.milli_cpu and cap.memory:
                f_cpu = min((used.milli_cpu + want.milli_cpu) / cap.milli_cpu, 1.0)
                f_mem = min((used.memory + want.memory) / cap.memory, 1.0)
                return int((1 - abs((f_cpu - f_mem) / 2)) * MAX_NODE_SCORE)
        fractions = []
        for name in self.resources:
            alloc, req = _requested_for(node_info, pod_info, name, non_zero=False)
            if alloc == 0:
                continue
            fractions.append(min(req / alloc, 1.0))
        std = 0.0
        if len(fractions) == 2:
            std = abs((fractions[0] - fractions[1]) / 2)
        elif len(fractions) > 2:
            mean = sum(fractions) / len(fractions)
            std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
        return int((1 - std) * MAX_NODE_SCORE)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return _events()
