"""Effective pod resources, after ``k8s.io/component-helpers/resource`` (Kubernetes 1.32).

:func:`pod_requests` is what the scheduler fits onto a node and what quota and the kubelet's admission
count: the larger of

* the sum over the regular containers **plus every sidecar** (an init container with
  ``restartPolicy: Always``), and
* for each init container *i*, its own requests plus those of the sidecars declared before it
  (while it runs, those sidecars already run beside it),

resource by resource, plus ``spec.overhead`` unless excluded. :func:`pod_limits` is the same sum for
limits, with the overhead added only to limits that are set and non-zero.

Resource lists are ``dict[str, Quantity]``; the models keep quantities as strings, and parsing one
is cached (:func:`parse_resource_list`), since these helpers run for every pod on every node on the
scheduler's hot path. A malformed quantity raises
:class:`~pyclientgo.apimachinery.quantity.QuantityParseError`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping

from pyclientgo.api.core.v1 import Container, ContainerStatus, Pod, ResourceRequirements
from pyclientgo.apimachinery.quantity import Quantity, parse_quantity

__all__ = [
    "SUPPORTED_POD_LEVEL_RESOURCES",
    "ContainerType",
    "ResourceList",
    "aggregate_container_limits",
    "aggregate_container_requests",
    "container_limits",
    "container_requests",
    "is_pod_level_requests_set",
    "is_pod_level_resources_set",
    "parse_resource_list",
    "pod_limits",
    "pod_requests",
]

ResourceList = dict[str, Quantity]
"""Resource name (``cpu``, ``memory``, ``nvidia.com/gpu``...) to quantity."""

SUPPORTED_POD_LEVEL_RESOURCES = frozenset({"cpu", "memory"})
"""The resources ``spec.resources`` (pod-level resources, alpha in 1.32) may set."""

_RESIZE_INFEASIBLE = "Infeasible"
_RESTART_ALWAYS = "Always"


class ContainerType(enum.IntFlag):
    """Which list a container comes from, as passed to a ``container_fn``."""

    CONTAINERS = 1
    INIT_CONTAINERS = 2


ContainerFn = Callable[[ResourceList, ContainerType], None]
"""Called with the effective resources of each container (a copy) and the list it is in."""


@functools.lru_cache(maxsize=16384)
def _parse(text: str) -> Quantity:
    return parse_quantity(text)


def parse_resource_list(resources: Mapping[str, str] | None) -> ResourceList:
    """A model's resource map (quantity strings) as quantities; ``None`` is empty. Parses are cached."""
    if not resources:
        return {}
    return {name: _parse(text) for name, text in resources.items()}


def container_requests(container: Container) -> ResourceList:
    """The container's ``resources.requests`` as quantities."""
    return parse_resource_list(_pick_requests(container.resources))


def container_limits(container: Container) -> ResourceList:
    """The container's ``resources.limits`` as quantities."""
    return parse_resource_list(_pick_limits(container.resources))


def _add(into: ResourceList, other: Mapping[str, Quantity]) -> None:
    for name, quantity in other.items():
        have = into.get(name)
        # Quantity's own + on nanos, without the operator dispatch (this is the scheduler's hot path).
        into[name] = (
            quantity
            if have is None
            else Quantity(have.nanos + quantity.nanos, have.format if have.nanos else quantity.format)
        )


def _max_into(into: ResourceList, other: Mapping[str, Quantity]) -> None:
    for name, quantity in other.items():
        have = into.get(name)
        if have is None or quantity.nanos > have.nanos:
            into[name] = quantity


def _max(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    out = dict(a)
    _max_into(out, b)
    return out


def _apply_non_missing(reqs: ResourceList, non_missing: Mapping[str, Quantity]) -> ResourceList:
    out = dict(reqs)
    for name, quantity in non_missing.items():
        if name not in reqs:
            out[name] = quantity
    return out


def _is_sidecar(container: Container) -> bool:
    return container.restart_policy == _RESTART_ALWAYS


def _status_by_name(pod: Pod) -> dict[str, ContainerStatus]:
    statuses = pod.status.container_statuses if pod.status is not None else None
    return {s.name: s for s in statuses or () if s.name is not None}


def _aggregate(
    pod: Pod,
    pick: Callable[[ResourceRequirements | None], Mapping[str, str] | None],
    *,
    use_status_resources: bool,
    non_missing: Mapping[str, Quantity] | None,
    container_fn: ContainerFn | None,
) -> ResourceList:
    spec = pod.spec
    total: ResourceList = {}
    if spec is None:
        return total
    statuses: dict[str, ContainerStatus] = {}
    infeasible = False
    if use_status_resources:
        statuses = _status_by_name(pod)
        infeasible = pod.status is not None and pod.status.resize == _RESIZE_INFEASIBLE
    for container in spec.containers or ():
        res = parse_resource_list(pick(container.resources))
        if use_status_resources:
            status = statuses.get(container.name or "")
            if status is not None and status.resources is not None:
                actual = parse_resource_list(pick(status.resources))
                res = actual if infeasible else _max(res, actual)
        if non_missing:
            res = _apply_non_missing(res, non_missing)
        if container_fn is not None:
            container_fn(dict(res), ContainerType.CONTAINERS)
        _add(total, res)

    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for container in spec.init_containers or ():
        res = parse_resource_list(pick(container.resources))
        if non_missing:
            res = _apply_non_missing(res, non_missing)
        if _is_sidecar(container):
            # A sidecar keeps running: it counts with the regular containers, and beside every
            # init container that starts after it.
            _add(total, res)
            _add(sidecars, res)
            use = dict(sidecars)
        else:
            use = dict(res)
            _add(use, sidecars)
        if container_fn is not None:
            container_fn(dict(use), ContainerType.INIT_CONTAINERS)
        _max_into(init_peak, use)
    _max_into(total, init_peak)
    return total


def _pick_requests(req: ResourceRequirements | None) -> Mapping[str, str] | None:
    return req.requests if req is not None else None


def _pick_limits(req: ResourceRequirements | None) -> Mapping[str, str] | None:
    return req.limits if req is not None else None


def aggregate_container_requests(
    pod: Pod,
    *,
    use_status_resources: bool = False,
    non_missing_container_requests: Mapping[str, Quantity] | None = None,
    container_fn: ContainerFn | None = None,
) -> ResourceList:
    """The containers' part of :func:`pod_requests` (no pod-level resources, no overhead).

    ``use_status_resources``: take the larger of spec and ``status.containerStatuses[].resources``
    (in-place resize; only the status when the resize is ``Infeasible``).
    ``non_missing_container_requests``: values for resources a container does not request at all
    (the scheduler's non-zero defaults); an explicit request, even zero, is kept.
    """
    return _aggregate(
        pod,
        _pick_requests,
        use_status_resources=use_status_resources,
        non_missing=non_missing_container_requests,
        container_fn=container_fn,
    )


def aggregate_container_limits(
    pod: Pod, *, use_status_resources: bool = False, container_fn: ContainerFn | None = None
) -> ResourceList:
    """The containers' part of :func:`pod_limits` (no pod-level resources, no overhead)."""
    return _aggregate(
        pod,
        _pick_limits,
        use_status_resources=use_status_resources,
        non_missing=None,
        container_fn=container_fn,
    )


def is_pod_level_requests_set(pod: Pod) -> bool:
    """Whether ``spec.resources.requests`` names cpu or memory."""
    res = pod.spec.resources if pod.spec is not None else None
    return res is not None and any(n in SUPPORTED_POD_LEVEL_RESOURCES for n in res.requests or ())


def is_pod_level_resources_set(pod: Pod) -> bool:
    """Whether ``spec.resources`` requests or limits cpu or memory."""
    res = pod.spec.resources if pod.spec is not None else None
    if res is None:
        return False
    names = [*(res.requests or ()), *(res.limits or ())]
    return any(n in SUPPORTED_POD_LEVEL_RESOURCES for n in names)


def pod_requests(
    pod: Pod,
    *,
    exclude_overhead: bool = False,
    pod_level_resources: bool = False,
    use_status_resources: bool = False,
    non_missing_container_requests: Mapping[str, Quantity] | None = None,
    container_fn: ContainerFn | None = None,
) -> ResourceList:
    """The pod's effective requests (``resourcehelper.PodRequests``); see the module docstring.

    ``pod_level_resources`` is the ``PodLevelResources`` feature gate (alpha, off by default in
    1.32): when on, cpu and memory in ``spec.resources.requests`` replace the containers' sum.
    """
    reqs = aggregate_container_requests(
        pod,
        use_status_resources=use_status_resources,
        non_missing_container_requests=non_missing_container_requests,
        container_fn=container_fn,
    )
    spec = pod.spec
    if spec is None:
        return reqs
    if pod_level_resources and is_pod_level_requests_set(pod) and spec.resources is not None:
        for name, quantity in parse_resource_list(spec.resources.requests).items():
            if name in SUPPORTED_POD_LEVEL_RESOURCES:
                reqs[name] = quantity
    if not exclude_overhead and spec.overhead:
        _add(reqs, parse_resource_list(spec.overhead))
    return reqs


def pod_limits(
    pod: Pod,
    *,
    exclude_overhead: bool = False,
    pod_level_resources: bool = False,
    use_status_resources: bool = False,
    container_fn: ContainerFn | None = None,
) -> ResourceList:
    """The pod's effective limits (``resourcehelper.PodLimits``); the overhead is added to non-zero limits only."""
    limits = aggregate_container_limits(
        pod, use_status_resources=use_status_resources, container_fn=container_fn
    )
    spec = pod.spec
    if spec is None:
        return limits
    if pod_level_resources and is_pod_level_resources_set(pod) and spec.resources is not None:
        for name, quantity in parse_resource_list(spec.resources.limits).items():
            if name in SUPPORTED_POD_LEVEL_RESOURCES:
                limits[name] = quantity
    if not exclude_overhead and spec.overhead:
        for name, quantity in parse_resource_list(spec.overhead).items():
            have = limits.get(name)
            if have is not None and not have.is_zero():
                limits[name] = have + quantity
    return limits
