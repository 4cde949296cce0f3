"""Recording ``events.k8s.io/v1`` Events (client-go ``tools/events``), the newer Event API.

An event names the object it is about (``regarding``), optionally a ``related`` one, who reports it
(``reportingController``/``reportingInstance``), an ``action`` and a ``note``. Repeats of an
isomorphic event (same regarding, related, type, reason, action, reporter and note) are not new
objects: the stored event's ``series`` is patched (``count`` + 1, ``lastObservedTime``). Like the
core/v1 recorder it never blocks: events go through a bounded queue (1000) and are dropped when it
is full.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cachetools import LRUCache

from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.errors import ApiError, NotFound
from pyclientgo.tools.record._queue import BackgroundQueue
from pyclientgo.tools.record.reference import object_reference

__all__ = ["EventsV1Recorder"]

log = logging.getLogger("pyclientgo.tools.record")


def _micro(stamp: _dt.datetime) -> str:
    return stamp.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventsV1Recorder:
    """``eventf(regarding, related, type, reason, action, note, *args)`` → an events.k8s.io/v1 Event."""

    def __init__(
        self,
        clientset: Any,
        *,
        reporting_controller: str,
        reporting_instance: str,
        wall_now: Callable[[], _dt.datetime] | None = None,
        queue_length: int = 1000,
    ) -> None:
        self._cs = clientset
        self.reporting_controller = reporting_controller
        self.reporting_instance = reporting_instance
        self.wall_now = wall_now or (lambda: _dt.datetime.now(_dt.UTC))
        self._queue: BackgroundQueue[tuple[str, dict[str, Any]]] = BackgroundQueue(
            queue_length, self._write, name="events-v1-recorder"
        )
        self._stored: LRUCache[str, dict[str, Any]] = LRUCache(4096)

    @property
    def dropped(self) -> int:
        """How many events were dropped because the queue was full."""
        return self._queue.dropped

    def start(self) -> None:
        self._queue.start()

    async def flush(self) -> None:
        await self._queue.flush()

    async def shutdown(self) -> None:
        await self._queue.shutdown()

    def eventf(
        self,
        regarding: K8sModel | Mapping[str, Any],
        related: K8sModel | Mapping[str, Any] | None,
        type_: str,
        reason: str,
        action: str,
        note: str,
        *args: object,
    ) -> None:
        if type_ not in ("Normal", "Warning"):
            log.error("unsupported event type %r", type_)
            return
        try:
            ref = object_reference(regarding)
            rel = object_reference(related) if related is not None else None
        except ValueError as err:
            log.error("could not construct reference: %s", err)
            return
        message = note % args if args else note
        stamp = self.wall_now()
        event: dict[str, Any] = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {
                "name": f"{ref.get('name', '')}.{int(stamp.timestamp() * 1_000_000) * 1000:x}",
                "namespace": ref.get("namespace") or "default",
            },
            "eventTime": _micro(stamp),
            "regarding": ref,
            "type": type_,
            "reason": reason,
            "action": action,
            "note": message,
            "reportingController": self.reporting_controller,
            "reportingInstance": self.reporting_instance,
        }
        if rel is not None:
            event["related"] = rel
        key = "\x00".join(
            [
                str(sorted(ref.items())),
                str(sorted(rel.items())) if rel else "",
                type_,
                reason,
                action,
                message,
            ]
        )
        self._queue.offer((key, event))

    async def _write(self, item: tuple[str, dict[str, Any]]) -> None:
        key, event = item
        from pyclientgo.api.events.v1 import Event

        events = self._cs.events_v1.events(event["metadata"]["namespace"])
        stored = self._stored.get(key)
        if stored is not None:
            series = stored.get("series") or {"count": 1}
            patch = {
                "series": {"count": int(series.get("count", 1)) + 1, "lastObservedTime": event["eventTime"]}
            }
            try:
                patched = await events.patch(stored["metadata"]["name"], patch, patch_type="merge")
            except NotFound:
                pass
            except ApiError as err:
                log.warning("could not update event series: %s", err)
                return
            else:
                self._stored[key] = patched.to_dict()
                return
        created = await events.create(Event.from_dict(event))
        self._stored[key] = created.to_dict()
