"""The scheduling queue's moves with a fake clock (kube ``scheduling_queue_test.go`` behaviours):
PrioritySort order, per-pod backoff, unschedulable pods moved only by the events their rejecting
plugins registered, moves during a cycle, the 5-minute flush, and scheduling gates."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.core.v1 import Pod
from testserver.scheduler.config import SchedulerConfiguration
from testserver.scheduler.framework import QueuedPodInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.queue import SchedulingQueue
from testserver.scheduler.scheduler import Scheduler
from testserver.scheduler.types import ActionType, ClusterEvent, EventResource


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def pod(name: str, priority: int = 0, **spec: Any) -> PodInfo:
    body = {"containers": [{"name": "c", "image": "pause"}], "priority": priority, **spec}
    return PodInfo(Pod.from_dict({"metadata": {"name": name, "namespace": "ns"}, "spec": body}))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return Scheduler(None, SchedulerConfiguration(), now=clock).queue


def fail(queue: SchedulingQueue, qpi: QueuedPodInfo, *plugins: str) -> None:
    """End the pod's cycle as unschedulable by ``plugins`` (what the scheduler does on a FitError)."""
    qpi.unschedulable_plugins = set(plugins)
    queue.add_unschedulable_if_not_present(qpi, queue.scheduling_cycle)


def test_priority_then_arrival_order(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(pod("low-1"))
    clock.t += 1
    queue.add(pod("high", priority=100))
    clock.t += 1
    queue.add(pod("low-2"))
    order = []
    while (qpi := queue.pop_nowait()) is not None:
        order.append(qpi.pod_info.name)
    assert order == ["high", "low-1", "low-2"]


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]
)
def test_backoff_doubles_to_ten_seconds(queue: SchedulingQueue, attempts: int, seconds: float) -> None:
    qpi = QueuedPodInfo(pod("p"), timestamp=0.0, attempts=attempts)
    assert queue.backoff_duration(qpi) == seconds


def test_registered_event_moves_an_unschedulable_pod(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(pod("big"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    fail(queue, qpi, "NodeResourcesFit")
    assert queue.pending()["unschedulable"] == 1
    # NodeResourcesFit does not register label changes: the pod stays.
    queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.UPDATE_NODE_LABEL))
    assert queue.pending()["unschedulable"] == 1
    # A new node may have room: still backing off (1 s after the first attempt) → backoffQ.
    queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.ADD))
    assert queue.pending() == {"active": 0, "backoff": 1, "unschedulable": 0, "gated": 0}
    assert queue.flush_backoff_completed() == 0
    clock.t += 1.01
    assert queue.flush_backoff_completed() == 1
    assert queue.pending()["active"] == 1


def test_event_after_backoff_goes_straight_to_active(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(pod("p"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    fail(queue, qpi, "TaintToleration")
    clock.t += 5
    queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.UPDATE_NODE_TAINT))
    assert queue.pending()["active"] == 1


def test_move_during_the_cycle_sends_the_pod_to_backoff(queue: SchedulingQueue) -> None:
    queue.add(pod("p"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    cycle = queue.scheduling_cycle
    # A node appears while the pod is being scheduled: its failure may be stale, so retry it.
    queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.ADD))
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    queue.add_unschedulable_if_not_present(qpi, cycle)
    assert queue.pending()["backoff"] == 1


def test_error_without_plugins_backs_off(queue: SchedulingQueue) -> None:
    queue.add(pod("p"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    fail(queue, qpi)
    assert queue.pending()["backoff"] == 1


def test_unschedulable_pods_flushed_after_five_minutes(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(pod("p"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    fail(queue, qpi, "NodeAffinity")
    clock.t += 299
    assert queue.flush_unschedulable_left_over() == 0
    clock.t += 2
    assert queue.flush_unschedulable_left_over() == 1
    assert queue.pending()["active"] == 1


def test_scheduling_gates_hold_the_pod_until_removed(queue: SchedulingQueue) -> None:
    gated = pod("g", schedulingGates=[{"name": "example.com/wait"}])
    queue.add(gated)
    assert queue.pending() == {"active": 0, "backoff": 0, "unschedulable": 0, "gated": 1}
    assert queue.pop_nowait() is None
    # Cluster events never move a gated pod.
    queue.move_all_to_active_or_backoff(ClusterEvent(EventResource.NODE, ActionType.ADD))
    assert queue.pending()["gated"] == 1
    queue.update(gated, pod("g"))
    assert queue.pending() == {"active": 1, "backoff": 0, "unschedulable": 0, "gated": 0}
    qpi = queue.pop_nowait()
    assert qpi is not None and qpi.pod_info.name == "g"


def test_update_of_an_unschedulable_pod_retries_it(queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(pod("p"))
    qpi = queue.pop_nowait()
    assert qpi is not None
    fail(queue, qpi, "TaintToleration")
    clock.t += 5
    old = qpi.pod_info
    queue.update(old, pod("p", tolerations=[{"operator": "Exists"}]))
    assert queue.pending()["active"] == 1


def test_delete_removes_the_pod_everywhere(queue: SchedulingQueue) -> None:
    queue.add(pod("a"))
    queue.add(pod("b", schedulingGates=[{"name": "x"}]))
    queue.delete("ns/a")
    queue.delete("ns/b")
    assert queue.pending() == {"active": 0, "backoff": 0, "unschedulable": 0, "gated": 0}
    assert queue.pop_nowait() is None


def test_nominated_pods_per_node(queue: SchedulingQueue) -> None:
    preemptor = pod("preemptor", priority=100)
    queue.add_nominated(preemptor, "node-1")
    assert [p.name for p in queue.nominated_pods_for_node("node-1")] == ["preemptor"]
    queue.delete("ns/preemptor")
    assert queue.nominated_pods_for_node("node-1") == []
