"""Per-handler delivery for shared informers (client-go's ``sharedProcessor`` and ``processorListener``).

Every handler gets a :class:`ProcessListener`: an unbounded buffer and one asyncio task that delivers the
buffered notifications one at a time, in order. A slow handler only grows its own buffer and a failing
one is logged and skipped, so neither blocks or breaks the others (k8s#122067). The
:class:`SharedProcessor` fans notifications out to the listeners and decides which are due a resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyclientgo.clock import AsyncClock
from pyclientgo.tools.cache.handlers import ResourceEventHandler

__all__ = [
    "AddNotification",
    "DeleteNotification",
    "MINIMUM_RESYNC_PERIOD",
    "Notification",
    "ProcessListener",
    "SharedProcessor",
    "UpdateNotification",
    "determine_resync_period",
]

logger = logging.getLogger("pyclientgo.tools.cache")

MINIMUM_RESYNC_PERIOD = 1.0
"""Handler resync periods below this (but above 0) are raised to it."""


@dataclass(frozen=True, slots=True)
class AddNotification:
    new_obj: Any
    is_in_initial_list: bool


@dataclass(frozen=True, slots=True)
class UpdateNotification:
    old_obj: Any
    new_obj: Any


@dataclass(frozen=True, slots=True)
class DeleteNotification:
    old_obj: Any


Notification = AddNotification | UpdateNotification | DeleteNotification


def determine_resync_period(desired: float, check: float) -> float:
    """A handler's effective resync: 0 when it or the informer's check period is 0, else at least ``check``."""
    if desired == 0:
        return 0.0
    if check == 0:
        logger.warning("resync period %s ignored: the informer's resync check period is 0", desired)
        return 0.0
    return max(desired, check)


class ProcessListener:
    """One handler's buffer, delivery task and resync schedule."""

    def __init__(
        self,
        handler: ResourceEventHandler,
        requested_resync_period: float,
        resync_period: float,
        now: float,
        upstream_has_synced: Callable[[], bool],
    ) -> None:
        self.handler = handler
        self.requested_resync_period = requested_resync_period
        self.resync_period = resync_period
        self.next_resync = now + resync_period
        self._upstream_has_synced = upstream_has_synced
        self._buffer: deque[Notification] = deque()
        self._wakeup = asyncio.Event()
        self._pending_initial = 0
        self._stopped = False
        self.task: asyncio.Task[None] | None = None

    # -- buffer ---------------------------------------------------------------------------------

    def add(self, notification: Notification) -> None:
        """Buffer a notification (ignored once stopped)."""
        if self._stopped:
            return
        if isinstance(notification, AddNotification) and notification.is_in_initial_list:
            self._pending_initial += 1
        self._buffer.append(notification)
        self._wakeup.set()

    def stop(self) -> None:
        """Drop buffered notifications; the task ends after the notification in progress."""
        self._stopped = True
        dropped = sum(1 for n in self._buffer if isinstance(n, AddNotification) and n.is_in_initial_list)
        self._pending_initial -= dropped
        self._buffer.clear()
        self._wakeup.set()

    @property
    def pending(self) -> int:
        """How many notifications wait in the buffer."""
        return len(self._buffer)

    def has_synced(self) -> bool:
        """The informer has synced and every initial-list add reached this handler."""
        return self._upstream_has_synced() and self._pending_initial == 0

    # -- delivery -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver notifications one at a time until stopped."""
        while True:
            while not self._buffer:
                if self._stopped:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
            notification = self._buffer.popleft()
            try:
                await self._deliver(notification)
            except Exception:
                logger.exception("event handler %r failed", self.handler)
            finally:
                if isinstance(notification, AddNotification) and notification.is_in_initial_list:
                    self._pending_initial -= 1

    async def _deliver(self, notification: Notification) -> None:
        if isinstance(notification, AddNotification):
            result = self.handler.on_add(notification.new_obj, notification.is_in_initial_list)
        elif isinstance(notification, UpdateNotification):
            result = self.handler.on_update(notification.old_obj, notification.new_obj)
        else:
            result = self.handler.on_delete(notification.old_obj)
        if inspect.isawaitable(result):
            await result

    # -- resync ---------------------------------------------------------------------------------

    def should_resync(self, now: float) -> bool:
        """Due a resync at ``now``."""
        return self.resync_period != 0 and now >= self.next_resync

    def determine_next_resync(self, now: float) -> None:
        """Schedule the next resync one period after ``now``."""
        self.next_resync = now + self.resync_period

    def set_resync_period(self, period: float) -> None:
        """Change the effective resync period."""
        self.resync_period = period


class SharedProcessor:
    """Fans notifications out to listeners; runs their delivery tasks while :meth:`run` runs."""

    def __init__(self, clock: AsyncClock) -> None:
        self.clock = clock
        # listener -> whether it is due a resync (receives sync updates)
        self._listeners: dict[ProcessListener, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = False

    @property
    def listeners(self) -> list[ProcessListener]:
        """The current listeners."""
        return list(self._listeners)

    def add_listener(self, listener: ProcessListener) -> None:
        """Register a listener (its task starts now if the processor runs)."""
        # Not due a resync until should_resync says so. (client-go starts at True, so before the first
        # resync check -- forever when the informer's resync is 0 -- an unchanged object seen again by a
        # relist reached every handler; here it reaches only handlers due a resync, §4.3.)
        self._listeners[listener] = False
        if self._running:
            self._start(listener)

    def _start(self, listener: ProcessListener) -> None:
        listener.task = asyncio.get_running_loop().create_task(listener.run())
        self._tasks.add(listener.task)
        listener.task.add_done_callback(self._tasks.discard)

    def remove_listener(self, listener: ProcessListener) -> None:
        """Unregister and stop a listener; idempotent."""
        if self._listeners.pop(listener, None) is None:
            return
        listener.stop()

    def distribute(self, notification: Notification, sync: bool) -> None:
        """To every listener, or only to those due a resync when ``sync``."""
        for listener, syncing in self._listeners.items():
            if not sync or syncing:
                listener.add(notification)

    def should_resync(self) -> bool:
        """Mark the listeners due a resync now; True when any is (the Reflector's ``should_resync``)."""
        now = self.clock.now()
        needed = False
        for listener in self._listeners:
            due = listener.should_resync(now)
            self._listeners[listener] = due
            if due:
                needed = True
                listener.determine_next_resync(now)
        return needed

    def resync_check_period_changed(self, check_period: float) -> None:
        """Recompute every listener's effective resync period."""
        for listener in self._listeners:
            listener.set_resync_period(
                determine_resync_period(listener.requested_resync_period, check_period)
            )

    async def run(self) -> None:
        """Run every listener's task until cancelled, then stop them all."""
        self._running = True
        for listener in self._listeners:
            if listener.task is None:
                self._start(listener)
        try:
            await asyncio.Event().wait()
        finally:
            self._running = False
            tasks = list(self._tasks)
            for listener in self._listeners:
                listener.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
