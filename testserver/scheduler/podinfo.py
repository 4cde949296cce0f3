"""A pod as the scheduler sees it: :class:`PodInfo` (kube ``framework.PodInfo``).

The typed :class:`~pyclientgo.api.core.v1.Pod` from the informer, with what the plugins read on
every node parsed once: effective requests (:func:`pyclientgo.component_helpers.pod_requests`, so
init and sidecar containers and the overhead count as kube counts them), the requests scoring uses
(100m CPU / 200Mi for a container that requests none), host ports, tolerations, the required node
affinity (:func:`pyclientgo.component_helpers.get_required_node_affinity`) and the pod
(anti-)affinity terms with their selectors built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyclientgo.api.core.v1 import Pod, PodAffinityTerm, Toleration, WeightedPodAffinityTerm
from pyclientgo.apimachinery.labels import Selector, selector_from_label_selector
from pyclientgo.apimachinery.quantity import Quantity, parse_quantity
from pyclientgo.component_helpers import (
    RequiredNodeAffinity,
    get_required_node_affinity,
    pod_priority,
    pod_requests,
)
from testserver.scheduler.types import Resource

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "AffinityTerm",
    "HostPort",
    "PodInfo",
]

DEFAULT_MILLI_CPU_REQUEST = 100
"""The CPU a container without a request counts for scoring (``pkg/scheduler/util``), 0.1 core."""
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""The memory a container without a request counts for scoring, 200 MiB."""

_NON_MISSING: Mapping[str, Quantity] = {
    "cpu": parse_quantity(f"{DEFAULT_MILLI_CPU_REQUEST}m"),
    "memory": parse_quantity(str(DEFAULT_MEMORY_REQUEST)),
}

HostPort = tuple[str, str, int]
"""(host IP, protocol, port) a container asks for on its node."""


@dataclass(slots=True)
class AffinityTerm:
    """A pod (anti-)affinity term with its selectors parsed (kube ``framework.AffinityTerm``)."""

    namespaces: frozenset[str]
    selector: Selector
    topology_key: str
    namespace_selector: Selector | None
    weight: int = 0

    def matches(self, pod: PodInfo, ns_labels: Mapping[str, Mapping[str, str]]) -> bool:
        """Whether ``pod`` is one the term selects (its namespace, then its labels)."""
        if pod.namespace not in self.namespaces and (
            self.namespace_selector is None
            or not self.namespace_selector.matches(ns_labels.get(pod.namespace, {}))
        ):
            return False
        return self.selector.matches(pod.labels)


def _affinity_term(pod_ns: str, term: PodAffinityTerm, weight: int) -> AffinityTerm:
    namespaces = frozenset(term.namespaces or ())
    ns_selector = (
        selector_from_label_selector(term.namespace_selector.to_dict())
        if term.namespace_selector is not None
        else None
    )
    if not namespaces and ns_selector is None:
        namespaces = frozenset([pod_ns])
    # A missing labelSelector selects nothing, an empty one everything (LabelSelectorAsSelector);
    # an empty namespaceSelector ({}) selects every namespace.
    selector = selector_from_label_selector(
        term.label_selector.to_dict() if term.label_selector is not None else None
    )
    return AffinityTerm(namespaces, selector, term.topology_key or "", ns_selector, weight)


def _terms(pod_ns: str, terms: Iterable[PodAffinityTerm] | None) -> list[AffinityTerm]:
    return [_affinity_term(pod_ns, t, 0) for t in terms or ()]


def _weighted(pod_ns: str, terms: Iterable[WeightedPodAffinityTerm] | None) -> list[AffinityTerm]:
    return [
        _affinity_term(pod_ns, t.pod_affinity_term, t.weight or 0)
        for t in terms or ()
        if t.pod_affinity_term is not None
    ]


class PodInfo:
    """A pod with the fields the plugins need parsed once (kube ``framework.PodInfo``).

    ``node_name`` overrides ``spec.nodeName`` (the assumed pod of a scheduling cycle).
    """

    __slots__ = (
        "affinity_terms",
        "anti_affinity_terms",
        "deleting",
        "has_required_node_constraints",
        "host_ports",
        "key",
        "labels",
        "name",
        "namespace",
        "node_name",
        "nominated_node_name",
        "non_zero_requests",
        "pod",
        "preferred_affinity_terms",
        "preferred_anti_affinity_terms",
        "priority",
        "requested_node_name",
        "requests",
        "required_node_affinity",
        "scheduler_name",
        "tolerations",
        "uid",
    )

    def __init__(self, pod: Pod, node_name: str | None = None) -> None:
        self.pod = pod
        meta = pod.metadata
        spec = pod.spec
        self.name: str = (meta.name if meta is not None else None) or ""
        self.namespace: str = (meta.namespace if meta is not None else None) or ""
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = (meta.uid if meta is not None else None) or ""
        self.deleting: bool = meta is not None and meta.deletion_timestamp is not None
        """The pod has a deletionTimestamp (terminating)."""
        status = pod.status
        self.nominated_node_name: str = (status.nominated_node_name if status is not None else None) or ""
        """``status.nominatedNodeName`` (set by preemption)."""
        self.labels: dict[str, str] = (meta.labels if meta is not None else None) or {}
        self.node_name: str = node_name if node_name is not None else (spec.node_name if spec else None) or ""
        self.requested_node_name: str = (spec.node_name if spec else None) or ""
        """``spec.nodeName`` as the pod was created (read once: a lazily decoded model re-reads an
        unset field on every access)."""
        self.scheduler_name: str = (spec.scheduler_name if spec else None) or "default-scheduler"
        self.priority: int = pod_priority(pod)
        self.requests = Resource.from_quantities(pod_requests(pod))
        self.non_zero_requests = Resource.from_quantities(
            pod_requests(pod, non_missing_container_requests=_NON_MISSING)
        )
        self.tolerations: list[Toleration] = list((spec.tolerations if spec else None) or ())
        self.required_node_affinity: RequiredNodeAffinity = get_required_node_affinity(pod)
        na = spec.affinity.node_affinity if spec is not None and spec.affinity is not None else None
        self.has_required_node_constraints = bool(
            (spec is not None and spec.node_selector)
            or (na is not None and na.required_during_scheduling_ignored_during_execution is not None)
        )
        """Whether :attr:`required_node_affinity` can reject a node at all."""
        ports: list[HostPort] = []
        if spec is not None:
            containers = list(spec.containers or ())
            containers += [c for c in spec.init_containers or () if c.restart_policy == "Always"]
            for c in containers:
                for p in c.ports or ():
                    if p.host_port:
                        ports.append((p.host_ip or "0.0.0.0", p.protocol or "TCP", p.host_port))
        self.host_ports = ports
        affinity = spec.affinity if spec is not None else None
        pa = affinity.pod_affinity if affinity is not None else None
        paa = affinity.pod_anti_affinity if affinity is not None else None
        ns = self.namespace
        self.affinity_terms = _terms(
            ns, pa.required_during_scheduling_ignored_during_execution if pa else None
        )
        self.anti_affinity_terms = _terms(
            ns, paa.required_during_scheduling_ignored_during_execution if paa else None
        )
        self.preferred_affinity_terms = _weighted(
            ns, pa.preferred_during_scheduling_ignored_during_execution if pa else None
        )
        self.preferred_anti_affinity_terms = _weighted(
            ns, paa.preferred_during_scheduling_ignored_during_execution if paa else None
        )

    def updated(self, pod: Pod) -> PodInfo:
        """This pod info for a newer copy of the same pod whose spec did not change for scheduling
        (bound by us): the parsed fields are kept, the object, node and labels refreshed."""
        clone = self.assumed((pod.spec.node_name if pod.spec is not None else None) or self.node_name)
        clone.pod = pod
        meta, status = pod.metadata, pod.status
        clone.labels = (meta.labels if meta is not None else None) or {}
        clone.deleting = meta is not None and meta.deletion_timestamp is not None
        clone.nominated_node_name = (status.nominated_node_name if status is not None else None) or ""
        return clone

    def assumed(self, node_name: str) -> PodInfo:
        """A copy placed on ``node_name`` (what the cache assumes while the binding runs)."""
        clone = PodInfo.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            setattr(clone, slot, getattr(self, slot))
        clone.node_name = node_name
        return clone

    @property
    def preemption_policy(self) -> str:
        spec = self.pod.spec
        return (spec.preemption_policy if spec is not None else None) or "PreemptLowerPriority"

    def has_affinity(self) -> bool:
        return bool(
            self.affinity_terms
            or self.anti_affinity_terms
            or self.preferred_affinity_terms
            or self.preferred_anti_affinity_terms
        )

    def start_time(self) -> float:
        """``status.startTime`` (else the creation time) as a POSIX timestamp; 0 when neither is set."""
        status, meta = self.pod.status, self.pod.metadata
        stamp = (status.start_time if status is not None else None) or (
            meta.creation_timestamp if meta is not None else None
        )
        return stamp.timestamp() if stamp is not None else 0.0

    def condition(self, type_: str) -> tuple[str, str] | None:
        """(status, reason) of the pod's condition of ``type_``."""
        status = self.pod.status
        for c in (status.conditions if status is not None else None) or ():
            if c.type == type_:
                return c.status or "", c.reason or ""
        return None

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"
