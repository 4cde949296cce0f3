"""Recording core/v1 Events: broadcaster, recorder and the API sink (client-go ``tools/record``).

An :class:`EventBroadcaster` owns a bounded queue (1000 events; when full, new events are dropped,
never blocking the caller) and a task that correlates each event (see
:class:`~pyclientgo.tools.record.events_cache.EventCorrelator`) and writes it: a create for a new
event, a strategic merge patch (count, lastTimestamp, message) for a repeat — falling back to a
create if the stored event is gone. :meth:`EventBroadcaster.new_recorder` gives an
:class:`EventRecorder` that stamps the source (component, host) on every event.

::

    broadcaster = EventBroadcaster(ClientsetEventSink(clientset))
    broadcaster.start()
    recorder = broadcaster.new_recorder(component="my-controller")
    recorder.event(pod, "Normal", "Synced", "pod synced")
    ...
    await broadcaster.shutdown()   # flushes what is queued
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import socket
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pyclientgo.apimachinery.model import K8sModel, format_time
from pyclientgo.clock import Clock
from pyclientgo.errors import AlreadyExists, ApiError, NotFound
from pyclientgo.tools.record._queue import BackgroundQueue
from pyclientgo.tools.record.events_cache import EventCorrelator
from pyclientgo.tools.record.reference import object_reference

__all__ = ["EVENT_TYPE_NORMAL", "EVENT_TYPE_WARNING", "EventBroadcaster", "EventRecorder", "EventSink"]

log = logging.getLogger("pyclientgo.tools.record")

EVENT_TYPE_NORMAL = "Normal"
EVENT_TYPE_WARNING = "Warning"
QUEUE_LENGTH = 1000
MAX_TRIES = 12
RETRY_SLEEP = 10.0


class EventSink(Protocol):
    """Where events go: create, or patch a stored one (namespace taken from the event)."""

    async def create(self, event: dict[str, Any]) -> dict[str, Any]: ...

    async def patch(self, event: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]: ...


class ClientsetEventSink:
    """Writes through a typed clientset's ``core_v1.events(namespace)``."""

    def __init__(self, clientset: Any) -> None:
        self._cs = clientset

    async def create(self, event: dict[str, Any]) -> dict[str, Any]:
        from pyclientgo.api.core.v1 import Event

        namespace = event.get("metadata", {}).get("namespace") or "default"
        created = await self._cs.core_v1.events(namespace).create(Event.from_dict(event))
        return dict(created.to_dict())

    async def patch(self, event: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        meta = event.get("metadata", {})
        patched = await self._cs.core_v1.events(meta.get("namespace") or "default").patch(meta["name"], patch)
        return dict(patched.to_dict())


class EventBroadcaster:
    """Queues events from recorders and writes them to a sink in the background."""

    def __init__(
        self,
        sink: EventSink,
        *,
        correlator: EventCorrelator | None = None,
        clock: Clock | None = None,
        wall_now: Callable[[], _dt.datetime] | None = None,
        queue_length: int = QUEUE_LENGTH,
        retry_sleep: float = RETRY_SLEEP,
    ) -> None:
        self.sink = sink
        self.wall_now = wall_now or (lambda: _dt.datetime.now(_dt.UTC))
        self.correlator = correlator or EventCorrelator(clock=clock, wall_now=self.wall_now)
        self.retry_sleep = retry_sleep
        self._queue: BackgroundQueue[dict[str, Any]] = BackgroundQueue(
            queue_length, self._record, name="event-broadcaster"
        )
        self._last_nanos = 0
        self.written: list[dict[str, Any]] = []
        """The last events written (bounded; for tests and debugging)."""

    @property
    def dropped(self) -> int:
        """How many events were dropped because the queue was full."""
        return self._queue.dropped

    def start(self) -> None:
        """Start writing queued events (needs a running event loop)."""
        self._queue.start()

    def new_recorder(self, *, component: str, host: str | None = None) -> EventRecorder:
        return EventRecorder(
            self, component=component, host=host if host is not None else socket.gethostname()
        )

    def event_nanos(self, stamp: _dt.datetime) -> int:
        """Unix nanoseconds of ``stamp`` for an event name, strictly increasing per broadcaster.

        Python clocks have microsecond resolution (and tests often freeze them): two events about
        one object in the same microsecond would otherwise get the same name and the second create
        would fail with AlreadyExists.
        """
        nanos = max(int(stamp.timestamp() * 1_000_000) * 1000, self._last_nanos + 1)
        self._last_nanos = nanos
        return nanos

    def action(self, event: dict[str, Any]) -> bool:
        """Queue an event; False (and counted in :attr:`dropped`) when the queue is full."""
        if self._queue.offer(event):
            return True
        log.warning("event queue full, dropping event %s", event.get("reason"))
        return False

    async def flush(self) -> None:
        """Wait until everything queued so far is written (or given up)."""
        await self._queue.flush()

    async def shutdown(self) -> None:
        """Write what is queued, then stop."""
        await self._queue.shutdown()

    async def _record(self, event: dict[str, Any]) -> None:
        result = self.correlator.correlate(event)
        if result.skip:
            return
        for attempt in range(MAX_TRIES):
            try:
                stored = await self._write(result.event, result.patch)
            except ApiError as err:
                log.warning("server rejected event %s: %s (will not retry)", result.event.get("reason"), err)
                return
            except Exception as err:
                log.info("unable to write event (attempt %d): %s", attempt + 1, err)
                await asyncio.sleep(self.retry_sleep)
                continue
            if stored is not None:
                self.correlator.update_state(stored)
                self.written.append(stored)
                del self.written[:-100]
            return

    async def _write(self, event: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any] | None:
        if patch is not None and int(event.get("count") or 1) > 1:
            try:
                return await self.sink.patch(event, patch)
            except NotFound:
                event = {**event, "metadata": {**event["metadata"], "resourceVersion": None}}
                event["metadata"] = {k: v for k, v in event["metadata"].items() if v is not None}
        try:
            return await self.sink.create(event)
        except AlreadyExists:
            return None


class EventRecorder:
    """Makes Events about objects and hands them to its broadcaster (never blocks, never raises)."""

    def __init__(self, broadcaster: EventBroadcaster, *, component: str, host: str = "") -> None:
        self.broadcaster = broadcaster
        self.source = {"component": component, **({"host": host} if host else {})}

    def event(self, obj: K8sModel | Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self._generate(obj, None, type_, reason, message)

    def eventf(
        self, obj: K8sModel | Mapping[str, Any], type_: str, reason: str, fmt: str, *args: object
    ) -> None:
        self._generate(obj, None, type_, reason, fmt % args if args else fmt)

    def annotated_eventf(
        self,
        obj: K8sModel | Mapping[str, Any],
        annotations: Mapping[str, str],
        type_: str,
        reason: str,
        fmt: str,
        *args: object,
    ) -> None:
        self._generate(obj, dict(annotations), type_, reason, fmt % args if args else fmt)

    def _generate(
        self,
        obj: K8sModel | Mapping[str, Any],
        annotations: dict[str, str] | None,
        type_: str,
        reason: str,
        message: str,
    ) -> None:
        if type_ not in (EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING):
            log.error("unsupported event type %r", type_)
            return
        try:
            ref = object_reference(obj)
        except ValueError as err:
            log.error("could not construct reference to %r: %s", obj, err)
            return
        stamp = self.broadcaster.wall_now()
        meta: dict[str, Any] = {
            "name": f"{ref.get('name', '')}.{self.broadcaster.event_nanos(stamp):x}",
            "namespace": ref.get("namespace") or "default",
        }
        if annotations:
            meta["annotations"] = annotations
        self.broadcaster.action(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": meta,
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "firstTimestamp": format_time(stamp),
                "lastTimestamp": format_time(stamp),
                "count": 1,
                "type": type_,
                "source": dict(self.source),
                "reportingComponent": self.source["component"],
                "reportingInstance": self.source.get("host", ""),
            }
        )
