"""The scheduler's small data types (kube ``pkg/scheduler/framework/types.go``, ``interface.go``).

:class:`Status` (a plugin's verdict with kube's codes), :func:`fit_error_message` (kube's
FailedScheduling summary), :class:`Resource` (milli-CPU, bytes, pod count and extended resources,
as integers), :class:`CycleState` (per-cycle plugin data) and :class:`ClusterEvent` (what moves
unschedulable pods back to the active queue). Pods and nodes are in :mod:`.podinfo` and
:mod:`.nodeinfo`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyclientgo.apimachinery.quantity import Quantity, parse_quantity

__all__ = [
    "ActionType",
    "ClusterEvent",
    "Code",
    "CycleState",
    "EventResource",
    "Resource",
    "Status",
    "fit_error_message",
]


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
    def from_quantities(cls, resources: Mapping[str, Quantity]) -> Resource:
        """From a parsed resource list (``pod_requests``): CPU in millis, the rest in units."""
        r = cls()
        for name, q in resources.items():
            if name == "cpu":
                r.milli_cpu = q.milli_value()
            elif name == "memory":
                r.memory = q.value()
            elif name == "ephemeral-storage":
                r.ephemeral_storage = q.value()
            elif name == "pods":
                r.allowed_pod_number = q.value()
            elif _is_scalar(name):
                r.scalar[name] = q.value()
        return r

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


@dataclass
class CycleState:
    """Per-scheduling-cycle data the plugins share (kube ``framework.CycleState``)."""

    data: dict[str, Any] = field(default_factory=dict)
    skip_filter_plugins: set[str] = field(default_factory=set)
    skip_score_plugins: set[str] = field(default_factory=set)
    pre_filter_plugins_with_nodes: set[str] = field(default_factory=set)
    """The PreFilter plugins that narrowed the nodes to a set (kube's ``pluginsWithNodes``)."""
    filters: list[tuple[str, Any]] | None = None
    """The (name, filter method) pairs this cycle runs, computed once after PreFilter."""

    def clone(self) -> CycleState:
        """A copy for a dry run (preemption): values with a ``clone()`` method are cloned."""
        data = {k: (v.clone() if hasattr(v, "clone") else v) for k, v in self.data.items()}
        return CycleState(
            data,
            set(self.skip_filter_plugins),
            set(self.skip_score_plugins),
            set(self.pre_filter_plugins_with_nodes),
            self.filters,
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
