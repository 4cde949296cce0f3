"""Pod QoS classes, after ``pkg/apis/core/v1/helper/qos`` (Kubernetes 1.32).

Only cpu and memory count, and only quantities above zero:

* ``BestEffort``: no container requests or limits any of them;
* ``Guaranteed``: every container (init containers included; ephemeral ones cannot set resources)
  limits both cpu and memory, and the summed requests equal the summed limits, resource by resource;
* ``Burstable``: anything else.

:func:`get_pod_qos` returns ``status.qosClass`` when the API server has set it (it is immutable once
set) and computes the class otherwise; :func:`compute_pod_qos` always computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeGuard

from pyclientgo.api.core.v1 import Pod
from pyclientgo.component_helpers.resource import parse_resource_list

__all__ = [
    "POD_QOS_BEST_EFFORT",
    "POD_QOS_BURSTABLE",
    "POD_QOS_GUARANTEED",
    "PodQOSClass",
    "compute_pod_qos",
    "get_pod_qos",
]

PodQOSClass = Literal["Guaranteed", "Burstable", "BestEffort"]
"""A pod's quality-of-service class (``v1.PodQOSClass``)."""

POD_QOS_GUARANTEED: Final = "Guaranteed"
POD_QOS_BURSTABLE: Final = "Burstable"
POD_QOS_BEST_EFFORT: Final = "BestEffort"

_QOS_RESOURCES = frozenset({"cpu", "memory"})
_CLASSES = frozenset({POD_QOS_GUARANTEED, POD_QOS_BURSTABLE, POD_QOS_BEST_EFFORT})


def _is_class(value: str | None) -> TypeGuard[PodQOSClass]:
    return value in _CLASSES


def _accumulate(into: dict[str, int], resources: Mapping[str, str] | None) -> set[str]:
    """Add the positive cpu/memory quantities of ``resources`` (in nano-units) to ``into``; return their names."""
    found: set[str] = set()
    for name, quantity in parse_resource_list(resources).items():
        if name in _QOS_RESOURCES and quantity.nanos > 0:
            found.add(name)
            into[name] = into.get(name, 0) + quantity.nanos
    return found


def compute_pod_qos(pod: Pod, *, pod_level_resources: bool = False) -> PodQOSClass:
    """The QoS class from the pod's resources (``ComputePodQOS``), ignoring ``status.qosClass``.

    ``pod_level_resources`` is the ``PodLevelResources`` feature gate (off by default in 1.32): when on
    and ``spec.resources`` is set, the pod-level requests and limits decide.
    """
    requests: dict[str, int] = {}
    limits: dict[str, int] = {}
    guaranteed = True
    spec = pod.spec
    if spec is not None and pod_level_resources and spec.resources is not None:
        _accumulate(requests, spec.resources.requests)
        if spec.resources.limits and not _QOS_RESOURCES.issubset(_accumulate(limits, spec.resources.limits)):
            guaranteed = False
    elif spec is not None:
        # Ephemeral containers cannot set resources: only containers and init containers count.
        for container in [*(spec.containers or ()), *(spec.init_containers or ())]:
            res = container.resources
            if res is None:
                guaranteed = False
                continue
            _accumulate(requests, res.requests)
            if not _QOS_RESOURCES.issubset(_accumulate(limits, res.limits)):
                guaranteed = False
    if not requests and not limits:
        return POD_QOS_BEST_EFFORT
    if guaranteed and len(requests) == len(limits) and all(limits.get(n) == v for n, v in requests.items()):
        return POD_QOS_GUARANTEED
    return POD_QOS_BURSTABLE


def get_pod_qos(pod: Pod, *, pod_level_resources: bool = False) -> PodQOSClass:
    """``status.qosClass`` when set to a known class, else :func:`compute_pod_qos` (``GetPodQOS``)."""
    recorded = pod.status.qos_class if pod.status is not None else None
    if _is_class(recorded):
        return recorded
    return compute_pod_qos(pod, pod_level_resources=pod_level_resources)
