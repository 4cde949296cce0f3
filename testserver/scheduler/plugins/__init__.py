"""kube-scheduler's in-tree plugins, by name (:data:`REGISTRY`)."""

from __future__ import annotations

from testserver.scheduler.framework import Plugin
from testserver.scheduler.plugins.basic import (
    DefaultBinder,
    ImageLocality,
    NodeAffinity,
    NodeName,
    NodePorts,
    NodeUnschedulable,
    PrioritySort,
    SchedulingGates,
    TaintToleration,
)
from testserver.scheduler.plugins.defaultpreemption import DefaultPreemption
from testserver.scheduler.plugins.interpodaffinity import InterPodAffinity
from testserver.scheduler.plugins.noderesources import BalancedAllocation, Fit
from testserver.scheduler.plugins.podtopologyspread import PodTopologySpread

__all__ = ["REGISTRY"]

REGISTRY: dict[str, type[Plugin]] = {
    cls.name: cls
    for cls in (
        SchedulingGates,
        PrioritySort,
        NodeUnschedulable,
        NodeName,
        TaintToleration,
        NodeAffinity,
        NodePorts,
        Fit,
        PodTopologySpread,
        InterPodAffinity,
        BalancedAllocation,
        ImageLocality,
        DefaultPreemption,
        DefaultBinder,
    )
}
