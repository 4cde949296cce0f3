"""The scheduler's data types (kube ``pkg/scheduler/framework/types.go``, ``interface.go``).

:class:`Status` (a plugin's verdict with kube's codes), :class:`Resource` (milli-CPU, bytes, pod
count and extended resources, as integers), :class:`PodInfo` (a pod with what the plugins need
precomputed once: requests, ports, tolerations, affinity terms), :class:`NodeInfo` (a node with the
pods on it and their sums), :class:`CycleState` (per-cycle plugin data) and :class:`ClusterEvent`
(what moves unschedulable pods back to the active queue).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyclientgo.apimachinery.labels import Selector, selector_from_label_selector
from pyclientgo.apimachinery.quantity import parse_quantity

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "ActionType",
    "AffinityTerm",
    "ClusterEvent",
    "Code",
    "CycleState",
    "EventResource",
    "NodeInfo",
    "PodInfo",
    "Resource",
    "Status",
    "fit_error_message",
    "pod_key",
]

DEFAULT_MILLI_CPU_REQUEST = 100
"""The CPU a container without a request counts for scoring (``pkg/scheduler/util``), 0.1 core."""
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""The memory a container without a request counts for scoring, 200 MiB."""


class Code(enum.IntEnum):
    """A plugin status code (kube ``framework.Code``)."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5
    PENDING = 6


class Status:
    """What a plugin answers: a code, reasons (kube's messages) and the plugin that said so."""

    __slots__ = ("code", "error", "plugin", "reasons")

    def __init__(self, code: Code = Code.SUCCESS, *reasons: str, plugin: str = "") -> None:
        self.code = code
        self.reasons = list(reasons)
        self.plugin = plugin
        self.error: BaseException | None = None

    @classmethod
    def as_error(cls, err: BaseException, plugin: str = "") -> Status:
        status = cls(Code.ERROR, str(err), plugin=plugin)
        status.error = err
        return status

    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    def is_skip(self) -> bool:
        return self.code == Code.SKIP

    def is_rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)

    def message(self) -> str:
        return ", ".join(self.reasons)

    def __repr__(self) -> str:
        return f"Status({self.code.name}, {self.reasons!r}, plugin={self.plugin!r})"


SUCCESS = Status()


def fit_error_message(
    num_all_nodes: int,
    statuses: Mapping[str, Status],
    absent: Status | None = None,
    pre_filter_msg: str = "",
    post_filter_msg: str = "",
) -> str:
    """kube ``FitError.Error()``: ``0/N nodes are available: <reasons>. <post-filter message>``.

    The reasons are the PreFilter message, or else each node's reasons counted and sorted as
    strings (``"2 Insufficient cpu"``), the nodes without a status counting ``absent``'s reasons.
    """
    msg = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_msg:
        msg += f" {pre_filter_msg}."
    else:
        reasons: dict[str, int] = {}
        for status in statuses.values():
            for reason in status.reasons:
                reasons[reason] = reasons.get(reason, 0) + 1
        missing = num_all_nodes - len(statuses)
        if missing > 0 and absent is not None:
            for reason in absent.reasons:
                reasons[reason] = reasons.get(reason, 0) + missing
        parts = sorted(f"{n} {r}" for r, n in reasons.items())
        if parts:
            msg += f" {', '.join(parts)}."
    if post_filter_msg:
        msg += f" {post_filter_msg}"
    return msg


def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _milli(value: Any) -> int:
    return parse_quantity(str(value)).milli_value()


def _units(value: Any) -> int:
    return parse_quantity(str(value)).value()


class Resource:
    """Amounts of resources as kube's scheduler counts them: milli-CPU, bytes, pods, extended."""

    __slots__ = ("allowed_pod_number", "ephemeral_storage", "memory", "milli_cpu", "scalar")

    def __init__(
        self,
        milli_cpu: int = 0,
        memory: int = 0,
        ephemeral_storage: int = 0,
        allowed_pod_number: int = 0,
        scalar: dict[str, int] | None = None,
    ) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.allowed_pod_number = allowed_pod_number
        self.scalar: dict[str, int] = scalar if scalar is not None else {}

    @classmethod
    def from_list(cls, resources: Mapping[str, Any] | None) -> Resource:
        r = cls()
        for name, value in (resources or {}).items():
            r.set(name, value)
        return r

    def set(self, name: str, value: Any) -> None:
        if name == "cpu":
            self.milli_cpu = _milli(value)
        elif name == "memory":
            self.memory = _units(value)
        elif name == "ephemeral-storage":
            self.ephemeral_storage = _units(value)
        elif name == "pods":
            self.allowed_pod_number = _units(value)
        elif _is_scalar(name):
            self.scalar[name] = _units(value)

    def get(self, name: str) -> int:
        if name == "cpu":
            return self.milli_cpu
        if name == "memory":
            return self.memory
        if name == "ephemeral-storage":
            return self.ephemeral_storage
        if name == "pods":
            return self.allowed_pod_number
        return self.scalar.get(name, 0)

    def add(self, other: Resource, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        for name, value in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + sign * value

    def set_max(self, other: Resource) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for name, value in other.scalar.items():
            self.scalar[name] = max(self.scalar.get(name, 0), value)

    def clone(self) -> Resource:
        return Resource(
            self.milli_cpu, self.memory, self.ephemeral_storage, self.allowed_pod_number, dict(self.scalar)
        )

    def __repr__(self) -> str:
        return f"Resource(cpu={self.milli_cpu}m, memory={self.memory}, scalar={self.scalar})"


def _is_scalar(name: str) -> bool:
    return name.startswith("hugepages-") or ("/" in name and not name.startswith("kubernetes.io/"))


def _container_requests(container: Mapping[str, Any], non_zero: bool) -> Resource:
    requests = (container.get("resources") or {}).get("requests") or {}
    r = Resource.from_list(requests)
    if non_zero:
        if "cpu" not in requests:
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
        if "memory" not in requests:
            r.memory = DEFAULT_MEMORY_REQUEST
    return r


def compute_pod_requests(pod: Mapping[str, Any], non_zero: bool = False) -> Resource:
    """The pod's effective requests as kube counts them (``component-helpers/resource.PodRequests``).

    Regular containers and restartable (sidecar) init containers add up; each plain init container
    needs its own request plus the sidecars started before it; the larger of the two wins; the
    pod overhead is added. ``non_zero`` gives containers without a CPU/memory request kube's scoring
    defaults (100m, 200Mi).
    """
    spec = pod.get("spec") or {}
    total = Resource()
    for c in spec.get("containers") or []:
        total.add(_container_requests(c, non_zero))
    sidecars = Resource()
    init_max = Resource()
    for c in spec.get("initContainers") or []:
        req = _container_requests(c, non_zero)
        if c.get("restartPolicy") == "Always":
            sidecars.add(req)
            total.add(req)
        else:
            need = req.clone()
            need.add(sidecars)
            init_max.set_max(need)
    total.set_max(init_max)
    overhead = spec.get("overhead")
    if overhead:
        total.add(Resource.from_list(overhead))
    return total


@dataclass(slots=True)
class AffinityTerm:
    """A pod (anti-)affinity term with its selectors parsed (kube ``framework.AffinityTerm``)."""

    namespaces: frozenset[str]
    selector: Selector
    topology_key: str
    namespace_selector: Selector | None
    weight: int = 0

    def matches(self, pod: PodInfo, ns_labels: Mapping[str, Mapping[str, str]]) -> bool:
        if pod.namespace in self.namespaces:
            pass
        elif self.namespace_selector is not None:
            if not self.namespace_selector.matches(ns_labels.get(pod.namespace, {})):
                return False
        else:
            return False
        return self.selector.matches(pod.labels)


def _terms(pod_ns: str, terms: Iterable[Mapping[str, Any]], weighted: bool) -> list[AffinityTerm]:
    out = []
    for raw in terms:
        term = raw.get("podAffinityTerm", {}) if weighted else raw
        namespaces = frozenset(term.get("namespaces") or [])
        ns_sel_raw = term.get("namespaceSelector")
        ns_sel = selector_from_label_selector(ns_sel_raw) if ns_sel_raw is not None else None
        if not namespaces and ns_sel_raw is None:
            namespaces = frozenset([pod_ns])
        # An empty namespaceSelector ({}) selects every namespace.
        # A missing labelSelector selects nothing, an empty one everything (LabelSelectorAsSelector).
        selector = selector_from_label_selector(term.get("labelSelector"))
        out.append(
            AffinityTerm(
                namespaces=namespaces,
                selector=selector,
                topology_key=term.get("topologyKey", ""),
                namespace_selector=ns_sel,
                weight=int(raw.get("weight", 0)) if weighted else 0,
            )
        )
    return out


class PodInfo:
    """A pod with the fields the plugins need parsed once (kube ``framework.PodInfo``)."""

    __slots__ = (
        "affinity_terms",
        "anti_affinity_terms",
        "host_ports",
        "key",
        "labels",
        "name",
        "namespace",
        "node_name",
        "non_zero_requests",
        "pod",
        "preferred_affinity_terms",
        "preferred_anti_affinity_terms",
        "priority",
        "requests",
        "uid",
    )

    def __init__(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.name: str = meta.get("name", "")
        self.namespace: str = meta.get("namespace", "")
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = meta.get("uid", "")
        self.labels: dict[str, str] = meta.get("labels") or {}
        self.node_name: str = spec.get("nodeName") or ""
        self.priority: int = int(spec.get("priority") or 0)
        self.requests = compute_pod_requests(pod)
        self.non_zero_requests = compute_pod_requests(pod, non_zero=True)
        ports: list[tuple[str, str, int]] = []
        for c in spec.get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("hostPort"):
                    ports.append(
                        (p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"]))
                    )
        for c in spec.get("initContainers") or []:
            if c.get("restartPolicy") == "Always":
                for p in c.get("ports") or []:
                    if p.get("hostPort"):
                        ports.append(
                            (p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"]))
                        )
        self.host_ports = ports
        affinity = spec.get("affinity") or {}
        pa = affinity.get("podAffinity") or {}
        paa = affinity.get("podAntiAffinity") or {}
        ns = self.namespace
        self.affinity_terms = _terms(
            ns, pa.get("requiredDuringSchedulingIgnoredDuringExecution") or [], False
        )
        self.anti_affinity_terms = _terms(
            ns, paa.get("requiredDuringSchedulingIgnoredDuringExecution") or [], False
        )
        self.preferred_affinity_terms = _terms(
            ns, pa.get("preferredDuringSchedulingIgnoredDuringExecution") or [], True
        )
        self.preferred_anti_affinity_terms = _terms(
            ns, paa.get("preferredDuringSchedulingIgnoredDuringExecution") or [], True
        )

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.pod.get("spec") or {}
        return spec

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.pod.get("status") or {}
        return status

    def has_affinity(self) -> bool:
        return bool(
            self.affinity_terms
            or self.anti_affinity_terms
            or self.preferred_affinity_terms
            or self.preferred_anti_affinity_terms
        )

    def start_time(self) -> str:
        return str(
            self.status.get("startTime") or (self.pod.get("metadata") or {}).get("creationTimestamp") or ""
        )

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"


class NodeInfo:
    """A node and the pods on it, with their sums (kube ``framework.NodeInfo``)."""

    __slots__ = (
        "allocatable",
        "generation",
        "image_sizes",
        "labels",
        "name",
        "node",
        "non_zero_requested",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "requested",
        "taints",
        "used_ports",
    )

    def __init__(self, node: dict[str, Any] | None = None) -> None:
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.requested = Resource()
        self.non_zero_requested = Resource()
        self.used_ports: dict[tuple[str, str, int], int] = {}
        self.generation = 0
        self.node: dict[str, Any] | None = None
        self.name = ""
        self.labels: dict[str, str] = {}
        self.taints: list[dict[str, Any]] = []
        self.allocatable = Resource()
        self.image_sizes: dict[str, int] = {}
        if node is not None:
            self.set_node(node)

    def set_node(self, node: dict[str, Any]) -> None:
        self.node = node
        meta = node.get("metadata") or {}
        self.name = meta.get("name", "")
        self.labels = meta.get("labels") or {}
        self.taints = (node.get("spec") or {}).get("taints") or []
        status = node.get("status") or {}
        self.allocatable = Resource.from_list(status.get("allocatable") or status.get("capacity") or {})
        sizes: dict[str, int] = {}
        for image in status.get("images") or []:
            for name in image.get("names") or []:
                sizes[_normalize_image(name)] = int(image.get("sizeBytes") or 0)
        self.image_sizes = sizes

    @property
    def unschedulable(self) -> bool:
        return bool(((self.node or {}).get("spec") or {}).get("unschedulable"))

    def add_pod(self, pi: PodInfo) -> None:
        self.pods.append(pi)
        if (
            pi.affinity_terms
            or pi.preferred_affinity_terms
            or pi.anti_affinity_terms
            or pi.preferred_anti_affinity_terms
        ):
            self.pods_with_affinity.append(pi)
        if pi.anti_affinity_terms:
            self.pods_with_required_anti_affinity.append(pi)
        self.requested.add(pi.requests)
        self.non_zero_requested.add(pi.non_zero_requests)
        for port in pi.host_ports:
            self.used_ports[port] = self.used_ports.get(port, 0) + 1

    def remove_pod(self, key: str) -> PodInfo | None:
        for i, pi in enumerate(self.pods):
            if pi.key == key:
                del self.pods[i]
                break
        else:
            return None
        self.pods_with_affinity = [p for p in self.pods_with_affinity if p.key != key]
        self.pods_with_required_anti_affinity = [
            p for p in self.pods_with_required_anti_affinity if p.key != key
        ]
        self.requested.add(pi.requests, -1)
        self.non_zero_requested.add(pi.non_zero_requests, -1)
        for port in pi.host_ports:
            left = self.used_ports.get(port, 0) - 1
            if left > 0:
                self.used_ports[port] = left
            else:
                self.used_ports.pop(port, None)
        return pi

    def clone(self) -> NodeInfo:
        c = NodeInfo.__new__(NodeInfo)
        c.pods = list(self.pods)
        c.pods_with_affinity = list(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        c.requested = self.requested.clone()
        c.non_zero_requested = self.non_zero_requested.clone()
        c.used_ports = dict(self.used_ports)
        c.generation = self.generation
        c.node = self.node
        c.name = self.name
        c.labels = self.labels
        c.taints = self.taints
        c.allocatable = self.allocatable
        c.image_sizes = self.image_sizes
        return c

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)})"


def _normalize_image(name: str) -> str:
    """kube ``normalizedImageName``: an image without a tag or digest means ``:latest``."""
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        return name + ":latest"
    return name


normalize_image = _normalize_image


@dataclass
class CycleState:
    """Per-scheduling-cycle data the plugins share (kube ``framework.CycleState``)."""

    data: dict[str, Any] = field(default_factory=dict)
    skip_filter_plugins: set[str] = field(default_factory=set)
    skip_score_plugins: set[str] = field(default_factory=set)
    pre_filter_plugins_with_nodes: set[str] = field(default_factory=set)
    """The PreFilter plugins that narrowed the nodes to a set (kube's ``pluginsWithNodes``)."""

    def clone(self) -> CycleState:
        """A copy for a dry run (preemption): values with a ``clone()`` method are cloned."""
        data = {k: (v.clone() if hasattr(v, "clone") else v) for k, v in self.data.items()}
        return CycleState(
            data,
            set(self.skip_filter_plugins),
            set(self.skip_score_plugins),
            set(self.pre_filter_plugins_with_nodes),
        )

    def read(self, key: str) -> Any:
        return self.data.get(key)

    def write(self, key: str, value: Any) -> None:
        self.data[key] = value


class EventResource(enum.StrEnum):
    """The kinds whose changes can make a pod schedulable (kube ``framework.EventResource``)."""

    POD = "Pod"
    ASSIGNED_POD = "AssignedPod"
    UNSCHEDULED_POD = "UnschedulablePod"
    NODE = "Node"
    PVC = "PersistentVolumeClaim"
    PV = "PersistentVolume"
    STORAGE_CLASS = "StorageClass"
    WILDCARD = "*"


class ActionType(enum.IntFlag):
    """What happened to the resource (kube ``framework.ActionType``)."""

    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_NODE_ANNOTATION = 64
    UPDATE_POD_LABEL = 128
    UPDATE_POD_SCALE_DOWN = 256
    UPDATE_POD_TOLERATION = 512
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1024
    UPDATE_OTHER = 2048
    UPDATE = (
        UPDATE_NODE_ALLOCATABLE
        | UPDATE_NODE_LABEL
        | UPDATE_NODE_TAINT
        | UPDATE_NODE_CONDITION
        | UPDATE_NODE_ANNOTATION
        | UPDATE_POD_LABEL
        | UPDATE_POD_SCALE_DOWN
        | UPDATE_POD_TOLERATION
        | UPDATE_POD_SCHEDULING_GATES_ELIMINATED
        | UPDATE_OTHER
    )
    ALL = ADD | DELETE | UPDATE


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """A change in the cluster: ``resource`` and ``action`` (kube ``framework.ClusterEvent``)."""

    resource: EventResource
    action: ActionType
    label: str = ""

    def match(self, registered: ClusterEvent) -> bool:
        """True when this (incoming) event is one ``registered`` asks for."""
        if registered.resource == EventResource.WILDCARD:
            return bool(registered.action & self.action)
        # A registration for Pod covers assigned and unscheduled pods alike.
        if registered.resource != self.resource and not (
            registered.resource == EventResource.POD
            and self.resource in (EventResource.ASSIGNED_POD, EventResource.UNSCHEDULED_POD)
        ):
            return False
        return bool(registered.action & self.action)
