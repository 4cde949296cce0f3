"""Pod status helpers, after ``k8s.io/kubernetes/pkg/api/v1/pod`` and kubectl's ``podutils``.

Readiness, availability, conditions and phase checks on the typed :class:`~pyclientgo.api.core.v1.Pod`.

Conditions are looked up by type; :func:`get_pod_condition` returns the condition or ``None`` (Go's
``GetPodCondition`` returns ``(index, *condition)``; the index is only needed by
:func:`update_pod_condition`, which keeps it private). Every function accepts a pod (or status) whose
optional parts are unset: a pod without a status is not ready, not terminal and active.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from pyclientgo.api.core.v1 import Container, ContainerStatus, Pod, PodCondition, PodStatus

__all__ = [
    "CONDITION_TRUE",
    "CONTAINERS_READY",
    "POD_FAILED",
    "POD_READY",
    "POD_SCHEDULED",
    "POD_SUCCEEDED",
    "get_container_status",
    "get_containers_ready_condition",
    "get_pod_condition",
    "get_pod_condition_from_list",
    "get_pod_ready_condition",
    "is_containers_ready_condition_true",
    "is_pod_active",
    "is_pod_available",
    "is_pod_phase_terminal",
    "is_pod_ready",
    "is_pod_ready_condition_true",
    "is_pod_scheduled",
    "is_pod_terminal",
    "is_restartable_init_container",
    "update_pod_condition",
]

POD_READY = "Ready"
"""The ``Ready`` pod condition type (``v1.PodReady``)."""
CONTAINERS_READY = "ContainersReady"
"""The ``ContainersReady`` pod condition type."""
POD_SCHEDULED = "PodScheduled"
"""The ``PodScheduled`` pod condition type."""
CONDITION_TRUE = "True"
"""A condition's status when it holds."""
POD_SUCCEEDED = "Succeeded"
"""The terminal phase of a pod whose containers all exited 0 and will not restart."""
POD_FAILED = "Failed"
"""The terminal phase of a pod with a container that failed and will not restart."""

_RESTART_ALWAYS = "Always"


def get_pod_condition_from_list(
    conditions: Sequence[PodCondition] | None, condition_type: str
) -> PodCondition | None:
    """The first condition of ``condition_type`` in ``conditions``, or ``None``."""
    if conditions:
        for condition in conditions:
            if condition.type == condition_type:
                return condition
    return None


def get_pod_condition(status: PodStatus | None, condition_type: str) -> PodCondition | None:
    """The condition of ``condition_type`` in ``status`` (the object itself, not a copy), or ``None``."""
    if status is None:
        return None
    return get_pod_condition_from_list(status.conditions, condition_type)


def get_pod_ready_condition(status: PodStatus | None) -> PodCondition | None:
    """The ``Ready`` condition of ``status``, or ``None``."""
    return get_pod_condition(status, POD_READY)


def get_containers_ready_condition(status: PodStatus | None) -> PodCondition | None:
    """The ``ContainersReady`` condition of ``status``, or ``None``."""
    return get_pod_condition(status, CONTAINERS_READY)


def is_pod_ready_condition_true(status: PodStatus | None) -> bool:
    """Whether ``status`` has a ``Ready`` condition with status ``True``."""
    condition = get_pod_ready_condition(status)
    return condition is not None and condition.status == CONDITION_TRUE


def is_containers_ready_condition_true(status: PodStatus | None) -> bool:
    """Whether ``status`` has a ``ContainersReady`` condition with status ``True``."""
    condition = get_containers_ready_condition(status)
    return condition is not None and condition.status == CONDITION_TRUE


def is_pod_ready(pod: Pod) -> bool:
    """Whether the pod's ``Ready`` condition is ``True`` (``podutil.IsPodReady``)."""
    return is_pod_ready_condition_true(pod.status)


def is_pod_available(pod: Pod, min_ready_seconds: float, now: _dt.datetime) -> bool:
    """Whether the pod is ready and has been ready for more than ``min_ready_seconds`` at ``now``.

    With ``min_ready_seconds == 0`` a ready pod is available at once; otherwise the ``Ready``
    condition's ``lastTransitionTime`` plus ``min_ready_seconds`` must be strictly before ``now``
    (``podutil.IsPodAvailable``). ``now`` must be timezone-aware, as the models' times are.
    """
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    condition = get_pod_ready_condition(pod.status)
    if condition is None or condition.last_transition_time is None:
        return False
    return condition.last_transition_time + _dt.timedelta(seconds=min_ready_seconds) < now


def is_pod_phase_terminal(phase: str | None) -> bool:
    """Whether ``phase`` is ``Succeeded`` or ``Failed``."""
    return phase in (POD_SUCCEEDED, POD_FAILED)


def is_pod_terminal(pod: Pod) -> bool:
    """Whether the pod's phase is terminal: its containers stopped and can never run again."""
    return is_pod_phase_terminal(pod.status.phase if pod.status is not None else None)


def is_pod_active(pod: Pod) -> bool:
    """Whether a controller counts the pod: not terminal and not being deleted (``controller.IsPodActive``)."""
    phase = pod.status.phase if pod.status is not None else None
    deleting = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
    return not is_pod_phase_terminal(phase) and not deleting


def is_pod_scheduled(pod: Pod) -> bool:
    """Whether the pod is bound to a node: ``spec.nodeName`` is set (the scheduler's "assigned pod")."""
    return pod.spec is not None and bool(pod.spec.node_name)


def is_restartable_init_container(container: Container | None) -> bool:
    """Whether an init container is a sidecar: its ``restartPolicy`` is ``Always``."""
    return container is not None and container.restart_policy == _RESTART_ALWAYS


def get_container_status(statuses: Sequence[ContainerStatus] | None, name: str) -> ContainerStatus | None:
    """The status of the container called ``name`` in ``statuses``, or ``None``."""
    if statuses:
        for status in statuses:
            if status.name == name:
                return status
    return None


def update_pod_condition(
    status: PodStatus, condition: PodCondition, *, now: _dt.datetime | None = None
) -> bool:
    """Add ``condition`` to ``status`` or replace the one of its type; return whether anything changed.

    As ``podutil.UpdatePodCondition``: ``condition.lastTransitionTime`` is set to ``now`` (default: the
    current UTC time) unless the status of the condition did not change, in which case the old
    transition time is kept. ``status.conditions`` and ``condition`` are modified in place.
    """
    condition.last_transition_time = now if now is not None else _dt.datetime.now(_dt.UTC)
    conditions = list(status.conditions or [])
    index = next((i for i, c in enumerate(conditions) if c.type == condition.type), -1)
    if index < 0:
        conditions.append(condition)
        status.conditions = conditions
        return True
    old = conditions[index]
    if condition.status == old.status:
        condition.last_transition_time = old.last_transition_time
    unchanged = (
        condition.status == old.status
        and (condition.reason or "") == (old.reason or "")
        and (condition.message or "") == (old.message or "")
        and condition.last_probe_time == old.last_probe_time
        and condition.last_transition_time == old.last_transition_time
    )
    conditions[index] = condition
    status.conditions = conditions
    return not unchanged
