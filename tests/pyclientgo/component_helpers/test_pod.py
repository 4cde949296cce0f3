"""Pod readiness, availability, conditions and phase, after pkg/api/v1/pod/util_test.go and
pkg/controller's IsPodActive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from component_helpers_builders import container, pod

from pyclientgo.api.core.v1 import PodCondition, PodStatus
from pyclientgo.component_helpers.pod import (
    get_container_status,
    get_pod_condition,
    get_pod_ready_condition,
    is_containers_ready_condition_true,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    is_pod_scheduled,
    is_pod_terminal,
    is_restartable_init_container,
    update_pod_condition,
)

NOW = dt.datetime(2026, 12, 8, 12, 0, 0, tzinfo=dt.UTC)


def ready_status(status: str = "True", seconds_ago: float | None = None) -> dict[str, Any]:
    cond: dict[str, Any] = {"type": "Ready", "status": status}
    if seconds_ago is not None:
        cond["lastTransitionTime"] = (NOW - dt.timedelta(seconds=seconds_ago)).isoformat()
    return {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}, cond]}


AVAILABLE_CASES = [
    ("ready, no min ready seconds", ready_status("True", 0), 0, True),
    ("not ready", ready_status("False", 100), 0, False),
    ("ready for less than min ready seconds", ready_status("True", 1), 10, False),
    ("ready exactly min ready seconds: not yet", ready_status("True", 10), 10, False),
    ("ready for longer than min ready seconds", ready_status("True", 11), 10, True),
    ("ready without a transition time and min ready seconds", ready_status("True"), 1, False),
    ("no status", None, 0, False),
    ("no conditions", {"phase": "Running"}, 0, False),
]


@pytest.mark.parametrize(
    ("status", "min_ready", "want"), [c[1:] for c in AVAILABLE_CASES], ids=[c[0] for c in AVAILABLE_CASES]
)
def test_is_pod_available(status: dict[str, Any] | None, min_ready: int, want: bool) -> None:
    assert is_pod_available(pod(status=status), min_ready, NOW) is want


def test_is_pod_ready_and_conditions() -> None:
    p = pod(status=ready_status("True", 5))
    assert is_pod_ready(p)
    assert not is_pod_ready(pod(status=ready_status("Unknown")))
    assert not is_pod_ready(pod())
    ready = get_pod_ready_condition(p.status)
    assert ready is not None and ready.status == "True"
    assert get_pod_condition(p.status, "PodScheduled") is not None
    assert get_pod_condition(p.status, "ContainersReady") is None
    assert get_pod_condition(None, "Ready") is None
    assert not is_containers_ready_condition_true(p.status)


@pytest.mark.parametrize(
    ("phase", "deleting", "terminal", "active"),
    [
        ("Pending", False, False, True),
        ("Running", False, False, True),
        ("Unknown", False, False, True),
        ("Succeeded", False, True, False),
        ("Failed", False, True, False),
        ("Running", True, False, False),
        (None, False, False, True),
    ],
)
def test_terminal_and_active(phase: str | None, deleting: bool, terminal: bool, active: bool) -> None:
    meta: dict[str, Any] = {"name": "p", "namespace": "default"}
    if deleting:
        meta["deletionTimestamp"] = NOW.isoformat()
    p = pod(status={"phase": phase} if phase else None, metadata=meta)
    assert is_pod_terminal(p) is terminal
    assert is_pod_active(p) is active


def test_is_pod_scheduled_and_sidecars_and_container_status() -> None:
    assert not is_pod_scheduled(pod())
    assert is_pod_scheduled(pod(spec={"nodeName": "n1"}))
    p = pod(init=[container("s", sidecar=True), container("i")])
    assert p.spec is not None and p.spec.init_containers is not None
    assert [is_restartable_init_container(c) for c in p.spec.init_containers] == [True, False]
    assert not is_restartable_init_container(None)
    statuses = pod(
        status={"containerStatuses": [{"name": "a", "ready": True}, {"name": "b", "ready": False}]}
    ).status
    assert statuses is not None
    found = get_container_status(statuses.container_statuses, "b")
    assert found is not None and found.ready is False
    assert get_container_status(statuses.container_statuses, "zz") is None


T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def cond(status: str = "True", reason: str | None = None, message: str | None = None) -> PodCondition:
    return PodCondition(type="Ready", status=status, reason=reason, message=message)


def test_update_pod_condition_adds_a_new_condition() -> None:
    status = PodStatus()
    assert update_pod_condition(status, cond(), now=T0)
    assert status.conditions is not None and len(status.conditions) == 1
    assert status.conditions[0].last_transition_time == T0


def test_update_pod_condition_same_status_keeps_transition_time() -> None:
    status = PodStatus(conditions=[PodCondition(type="Ready", status="True", last_transition_time=T0)])
    later = T0 + dt.timedelta(minutes=5)
    assert not update_pod_condition(status, cond(), now=later)
    assert status.conditions is not None and status.conditions[0].last_transition_time == T0
    # The reason changed: reported, but the transition time is still the old one.
    assert update_pod_condition(status, cond(reason="Because"), now=later)
    assert status.conditions[0].reason == "Because" and status.conditions[0].last_transition_time == T0


def test_update_pod_condition_status_change_moves_transition_time() -> None:
    status = PodStatus(
        conditions=[
            PodCondition(type="PodScheduled", status="True"),
            PodCondition(type="Ready", status="True", last_transition_time=T0),
        ]
    )
    later = T0 + dt.timedelta(minutes=5)
    assert update_pod_condition(status, cond("False", reason="ContainersNotReady"), now=later)
    assert status.conditions is not None and [c.type for c in status.conditions] == ["PodScheduled", "Ready"]
    assert status.conditions[1].status == "False" and status.conditions[1].last_transition_time == later


def test_update_pod_condition_empty_and_unset_strings_are_equal() -> None:
    status = PodStatus(
        conditions=[PodCondition(type="Ready", status="True", reason="", last_transition_time=T0)]
    )
    assert not update_pod_condition(status, cond(), now=T0 + dt.timedelta(seconds=1))


def test_update_pod_condition_defaults_now_to_current_utc() -> None:
    status = PodStatus()
    before = dt.datetime.now(dt.UTC)
    update_pod_condition(status, cond())
    assert status.conditions is not None
    stamp = status.conditions[0].last_transition_time
    assert stamp is not None and stamp >= before and stamp.tzinfo is not None


def test_update_pod_condition_probe_time_change_is_a_change() -> None:
    status = PodStatus(conditions=[PodCondition(type="Ready", status="True", last_transition_time=T0)])
    probed = cond()
    probed.last_probe_time = T0 + dt.timedelta(seconds=30)
    assert update_pod_condition(status, probed, now=T0 + dt.timedelta(seconds=30))
    assert status.conditions is not None and status.conditions[0].last_probe_time == T0 + dt.timedelta(
        seconds=30
    )
