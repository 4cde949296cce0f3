"""The scheduling queue (kube ``pkg/scheduler/backend/queue/scheduling_queue.go``).

Three places a pending pod can be:

- **activeQ**, a heap ordered by the profile's QueueSort plugin; :meth:`SchedulingQueue.pop` takes
  the head for the next cycle;
- **backoffQ**, pods that failed and wait out a per-pod backoff (1 s doubling per attempt up to
  10 s, kube's ``calculateBackoffDuration``), flushed to activeQ every second;
- **unschedulable pods**, which wait for a cluster event that one of the plugins that rejected them
  registered (with its queueing hint), or for 5 minutes (``podMaxInUnschedulablePodsDuration``,
  checked every 30 s).

A pod rejected by a PreEnqueue plugin (SchedulingGates) waits in the unschedulable pods as *gated*
and is re-checked when it is updated. If a move request happened after a pod's cycle started, the
failed pod goes to backoffQ instead (kube's ``moveRequestCycle``). The queue also keeps the
nominated pods per node (kube's ``nominator``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from pyclientgo.api.core.v1 import Pod
from testserver.scheduler.framework import ClusterEventWithHint, Framework, QueuedPodInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import ClusterEvent

__all__ = [
    "DEFAULT_POD_INITIAL_BACKOFF",
    "DEFAULT_POD_MAX_BACKOFF",
    "DEFAULT_POD_MAX_IN_UNSCHEDULABLE_DURATION",
    "SchedulingQueue",
]

log = logging.getLogger("kube-scheduler.queue")

DEFAULT_POD_INITIAL_BACKOFF = 1.0
DEFAULT_POD_MAX_BACKOFF = 10.0
DEFAULT_POD_MAX_IN_UNSCHEDULABLE_DURATION = 300.0


class _Entry:
    __slots__ = ("less", "qpi", "seq")

    def __init__(
        self, qpi: QueuedPodInfo, seq: int, less: Callable[[QueuedPodInfo, QueuedPodInfo], bool]
    ) -> None:
        self.qpi = qpi
        self.seq = seq
        self.less = less

    def __lt__(self, other: _Entry) -> bool:
        if self.less(self.qpi, other.qpi):
            return True
        if self.less(other.qpi, self.qpi):
            return False
        return self.seq < other.seq


class SchedulingQueue:
    """activeQ, backoffQ and the unschedulable pods, with the moves between them."""

    def __init__(
        self,
        frameworks: dict[str, Framework],
        now: Callable[[], float],
        *,
        initial_backoff: float = DEFAULT_POD_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_POD_MAX_BACKOFF,
        max_in_unschedulable: float = DEFAULT_POD_MAX_IN_UNSCHEDULABLE_DURATION,
    ) -> None:
        self.frameworks = frameworks
        self.now = now
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_in_unschedulable = max_in_unschedulable
        self._active: list[_Entry] = []
        self._active_keys: dict[str, _Entry] = {}
        self._backoff: list[tuple[float, int, str]] = []
        self._backoff_pods: dict[str, QueuedPodInfo] = {}
        self.unschedulable: dict[str, QueuedPodInfo] = {}
        self.in_flight: dict[str, QueuedPodInfo] = {}
        self._seq = itertools.count()
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._ready = asyncio.Event()
        self._closed = False
        self._registrations: dict[str, dict[str, list[ClusterEventWithHint]]] = {
            name: fw.events_to_register() for name, fw in frameworks.items()
        }
        self.nominated: dict[str, dict[str, PodInfo]] = {}
        self._nominated_node_of: dict[str, str] = {}
        self.on_change: Callable[[], None] | None = None

    def _framework(self, pod_info: PodInfo) -> Framework | None:
        return self.frameworks.get(pod_info.scheduler_name)

    # -- sizes ------------------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """Pods per queue, as ``scheduler_pending_pods{queue}`` reports them."""
        gated = sum(1 for q in self.unschedulable.values() if q.gated)
        return {
            "active": len(self._active_keys),
            "backoff": len(self._backoff_pods),
            "unschedulable": len(self.unschedulable) - gated,
            "gated": gated,
        }

    def __contains__(self, key: str) -> bool:
        return key in self._active_keys or key in self._backoff_pods or key in self.unschedulable

    # -- adding -----------------------------------------------------------------------------------

    def _push_active(self, qpi: QueuedPodInfo, fw: Framework) -> None:
        entry = _Entry(qpi, next(self._seq), fw.less)
        heapq.heappush(self._active, entry)
        self._active_keys[qpi.pod_info.key] = entry

    def _move_to_active(self, qpi: QueuedPodInfo) -> bool:
        """PreEnqueue, then activeQ; a rejected pod waits gated in the unschedulable pods."""
        fw = self._framework(qpi.pod_info)
        if fw is None:
            return False
        status = fw.run_pre_enqueue(qpi.pod_info)
        key = qpi.pod_info.key
        if not status.is_success():
            qpi.gated = True
            qpi.gating_plugin = status.plugin
            qpi.unschedulable_plugins = {status.plugin}
            self.unschedulable[key] = qpi
            return False
        qpi.gated = False
        self.unschedulable.pop(key, None)
        self._backoff_pods.pop(key, None)
        if qpi.initial_attempt_timestamp is None:
            qpi.initial_attempt_timestamp = self.now()
        self._push_active(qpi, fw)
        return True

    def _wake(self) -> None:
        if self.on_change is not None:
            self.on_change()
        self._notify()

    def _notify(self) -> None:
        if self._active_keys or self._closed:
            self._ready.set()

    def add(self, pod_info: PodInfo) -> None:
        """A new pending pod (kube ``Add``)."""
        key = pod_info.key
        if key in self or key in self.in_flight:
            return
        qpi = QueuedPodInfo(pod_info, timestamp=self.now())
        self._move_to_active(qpi)
        self._add_nominated(pod_info)
        self._wake()

    def update(self, old: PodInfo | None, new: PodInfo) -> None:
        """A pending pod changed (kube ``Update``)."""
        key = new.key
        self._add_nominated(new)
        entry = self._active_keys.get(key)
        if entry is not None:
            entry.qpi.pod_info = new
            heapq.heapify(self._active)
            return
        qpi = self._backoff_pods.get(key)
        if qpi is not None:
            qpi.pod_info = new
            return
        qpi = self.in_flight.get(key)
        if qpi is not None:
            qpi.pod_info = new
            return
        qpi = self.unschedulable.get(key)
        if qpi is None:
            self.add(new)
            return
        qpi.pod_info = new
        if old is not None and _spec_or_labels_changed(old.pod, new.pod):
            del self.unschedulable[key]
            if qpi.gated:
                self._move_to_active(qpi)
            elif self._is_backing_off(qpi):
                self._push_backoff(qpi)
            else:
                self._move_to_active(qpi)
            self._wake()

    def delete(self, key: str) -> None:
        self._delete_nominated(key)
        entry = self._active_keys.pop(key, None)
        if entry is not None:
            self._active.remove(entry)
            heapq.heapify(self._active)
        self._backoff_pods.pop(key, None)
        self.unschedulable.pop(key, None)
        self.in_flight.pop(key, None)

    # -- popping ----------------------------------------------------------------------------------

    def pop_nowait(self) -> QueuedPodInfo | None:
        while self._active:
            entry = heapq.heappop(self._active)
            key = entry.qpi.pod_info.key
            if self._active_keys.get(key) is not entry:
                continue
            del self._active_keys[key]
            qpi = entry.qpi
            qpi.attempts += 1
            self.scheduling_cycle += 1
            self.in_flight[key] = qpi
            return qpi
        return None

    async def pop(self) -> QueuedPodInfo | None:
        """The head of activeQ, waiting for one; None once closed."""
        while True:
            qpi = self.pop_nowait()
            if qpi is not None or self._closed:
                return qpi
            self._ready.clear()
            await self._ready.wait()

    def done(self, key: str) -> None:
        """The pod's scheduling cycle is over (kube ``Done``)."""
        self.in_flight.pop(key, None)

    def close(self) -> None:
        self._closed = True
        self._notify()

    # -- failures ---------------------------------------------------------------------------------

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        duration = self.initial_backoff
        for _ in range(1, qpi.attempts):
            duration *= 2
            if duration > self.max_backoff:
                return self.max_backoff
        return min(duration, self.max_backoff)

    def _is_backing_off(self, qpi: QueuedPodInfo) -> bool:
        return self.now() < qpi.timestamp + self.backoff_duration(qpi)

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        key = qpi.pod_info.key
        qpi.backoff_expiration = qpi.timestamp + self.backoff_duration(qpi)
        self._backoff_pods[key] = qpi
        heapq.heappush(self._backoff, (qpi.backoff_expiration, next(self._seq), key))

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, pod_scheduling_cycle: int) -> None:
        """A pod whose cycle failed: backoffQ if something moved since its cycle began, else waits."""
        key = qpi.pod_info.key
        self.in_flight.pop(key, None)
        if key in self:
            return
        qpi.timestamp = self.now()
        if self.move_request_cycle >= pod_scheduling_cycle or (
            not qpi.unschedulable_plugins and not qpi.pending_plugins
        ):
            # An error (no plugin to wait for) or a move during the cycle: retry after backoff.
            self._push_backoff(qpi)
        else:
            self.unschedulable[key] = qpi
        self._wake()

    # -- flushes ----------------------------------------------------------------------------------

    def flush_backoff_completed(self) -> int:
        """Move pods whose backoff expired to activeQ (kube runs it every second)."""
        now = self.now()
        moved = 0
        while self._backoff and self._backoff[0][0] <= now:
            _, _, key = heapq.heappop(self._backoff)
            qpi = self._backoff_pods.get(key)
            if qpi is None or qpi.backoff_expiration > now:
                continue
            del self._backoff_pods[key]
            if self._move_to_active(qpi):
                moved += 1
        if moved:
            self._wake()
        return moved

    def flush_unschedulable_left_over(self) -> int:
        """Pods unschedulable for longer than 5 minutes go back (kube runs it every 30 s)."""
        now = self.now()
        stale = [
            q
            for q in self.unschedulable.values()
            if not q.gated and now - q.timestamp > self.max_in_unschedulable
        ]
        for qpi in stale:
            del self.unschedulable[qpi.pod_info.key]
            self._requeue(qpi)
        if stale:
            self._wake()
        return len(stale)

    def _requeue(self, qpi: QueuedPodInfo) -> None:
        if self._is_backing_off(qpi):
            self._push_backoff(qpi)
        else:
            self._move_to_active(qpi)

    def move_all_to_active_or_backoff(
        self,
        event: ClusterEvent,
        old: Any = None,
        new: Any = None,
        pre_check: Callable[[Pod], bool] | None = None,
    ) -> int:
        """A cluster event: move the unschedulable pods a rejecting plugin says it may help."""
        moved = 0
        for key, qpi in list(self.unschedulable.items()):
            if qpi.gated:
                continue
            if pre_check is not None and not pre_check(qpi.pod):
                continue
            if not self._worth_requeuing(qpi, event, old, new):
                continue
            del self.unschedulable[key]
            self._requeue(qpi)
            moved += 1
        self.move_request_cycle = self.scheduling_cycle
        if moved:
            self._wake()
        return moved

    def _worth_requeuing(self, qpi: QueuedPodInfo, event: ClusterEvent, old: Any, new: Any) -> bool:
        rejectors = qpi.unschedulable_plugins | qpi.pending_plugins
        if not rejectors:
            return True
        profile = qpi.pod_info.scheduler_name
        registrations = self._registrations.get(profile, {})
        for plugin in rejectors:
            for reg in registrations.get(plugin, []):
                if not event.match(reg.event):
                    continue
                if reg.hint is None:
                    return True
                try:
                    if reg.hint(qpi.pod, old, new):
                        return True
                except Exception:
                    log.exception("queueing hint of %s failed; requeuing", plugin)
                    return True
        return False

    # -- nominated pods ---------------------------------------------------------------------------

    def _add_nominated(self, pod_info: PodInfo) -> None:
        node = pod_info.nominated_node_name if not pod_info.node_name else ""
        self._delete_nominated(pod_info.key)
        if node:
            self.nominated.setdefault(node, {})[pod_info.key] = pod_info
            self._nominated_node_of[pod_info.key] = node

    def add_nominated(self, pod_info: PodInfo, node: str) -> None:
        self._delete_nominated(pod_info.key)
        if node:
            self.nominated.setdefault(node, {})[pod_info.key] = pod_info
            self._nominated_node_of[pod_info.key] = node

    def _delete_nominated(self, key: str) -> None:
        node = self._nominated_node_of.pop(key, None)
        if node is not None:
            pods = self.nominated.get(node, {})
            pods.pop(key, None)
            if not pods:
                self.nominated.pop(node, None)

    delete_nominated = _delete_nominated

    def nominated_pods_for_node(self, node: str) -> list[PodInfo]:
        return list(self.nominated.get(node, {}).values())


def _spec_or_labels_changed(old: Pod, new: Pod) -> bool:
    """Whether an update may change the pod's schedulability (spec, labels, annotations)."""
    om, nm = old.metadata, new.metadata
    if (om.labels if om else None) != (nm.labels if nm else None):
        return True
    if (om.annotations if om else None) != (nm.annotations if nm else None):
        return True
    old_spec = old.spec.to_dict() if old.spec is not None else None
    new_spec = new.spec.to_dict() if new.spec is not None else None
    return old_spec != new_spec
