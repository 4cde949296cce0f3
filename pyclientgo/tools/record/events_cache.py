"""Event correlation: aggregation, repeat counting and spam filtering (client-go ``events_cache.go``).

I/O-free. :class:`EventCorrelator` takes each new core/v1 Event (a dict in wire form) and answers
an :class:`EventCorrelateResult`:

1. **aggregate** — events alike except for their message (same source, object, type and reason)
   are counted per 600 s window; from the 10th distinct message on, they are folded into one event
   whose message is ``"(combined from similar events): " + message``;
2. **observe** — an event seen before (same key) becomes a repeat of the stored one: same name,
   ``count + 1``, the first ``firstTimestamp``, and a strategic merge patch of
   ``{count, lastTimestamp, message}`` to send instead of a create;
3. **filter** — a token bucket per (source, object) (burst 25, one token per 300 s) drops spam.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from pyclientgo.apimachinery.model import format_time
from pyclientgo.clock import Clock, SystemClock

__all__ = [
    "EventCorrelateResult",
    "EventCorrelator",
    "aggregate_key",
    "event_key",
    "spam_key",
]

MAX_LRU_CACHE_ENTRIES = 4096
DEFAULT_AGGREGATE_MAX_EVENTS = 10
DEFAULT_AGGREGATE_INTERVAL = 600.0
DEFAULT_SPAM_BURST = 25
DEFAULT_SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "


def _src(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("source") or {}


def _obj(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("involvedObject") or {}


def _object_parts(event: dict[str, Any]) -> list[str]:
    o = _obj(event)
    return [str(o.get(k, "")) for k in ("kind", "namespace", "name", "uid", "apiVersion")]


def event_key(event: dict[str, Any]) -> str:
    """Identity of an event for repeat counting: source, object (incl. fieldPath), type, reason, message."""
    s, o = _src(event), _obj(event)
    return "".join(
        [
            str(s.get("component", "")),
            str(s.get("host", "")),
            *_object_parts(event),
            str(o.get("fieldPath", "")),
            str(event.get("type", "")),
            str(event.get("reason", "")),
            str(event.get("message", "")),
        ]
    )


def aggregate_key(event: dict[str, Any]) -> str:
    """Events alike except for the message share this key."""
    s = _src(event)
    return "".join(
        [
            str(s.get("component", "")),
            str(s.get("host", "")),
            *_object_parts(event),
            str(event.get("type", "")),
            str(event.get("reason", "")),
        ]
    )


def spam_key(event: dict[str, Any]) -> str:
    """The spam filter's bucket: one per (source, object)."""
    s = _src(event)
    return "".join([str(s.get("component", "")), str(s.get("host", "")), *_object_parts(event)])


@dataclass
class EventCorrelateResult:
    event: dict[str, Any]
    """The event to write (possibly aggregated, possibly a repeat of a stored one)."""
    patch: dict[str, Any] | None
    """For a repeat, the strategic merge patch to send instead of a create."""
    skip: bool
    """True when the spam filter dropped it."""


@dataclass
class _Aggregate:
    messages: set[str]
    last: float


@dataclass
class _Bucket:
    tokens: float
    last: float


class EventCorrelator:
    """See the module docstring. ``clock`` (monotonic) paces the windows and the spam filter;
    ``wall_now`` stamps ``firstTimestamp``/``lastTimestamp``."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        wall_now: Callable[[], _dt.datetime] | None = None,
        max_events: int = DEFAULT_AGGREGATE_MAX_EVENTS,
        max_interval: float = DEFAULT_AGGREGATE_INTERVAL,
        spam_burst: int = DEFAULT_SPAM_BURST,
        spam_qps: float = DEFAULT_SPAM_QPS,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.wall_now = wall_now or (lambda: _dt.datetime.now(_dt.UTC))
        self.max_events = max_events
        self.max_interval = max_interval
        self.spam_burst = spam_burst
        self.spam_qps = spam_qps
        self._aggregates: LRUCache[str, _Aggregate] = LRUCache(MAX_LRU_CACHE_ENTRIES)
        self._seen: LRUCache[str, dict[str, Any]] = LRUCache(MAX_LRU_CACHE_ENTRIES)
        self._buckets: LRUCache[str, _Bucket] = LRUCache(MAX_LRU_CACHE_ENTRIES)
        self._key_by_name: LRUCache[str, str] = LRUCache(MAX_LRU_CACHE_ENTRIES)

    def correlate(self, event: dict[str, Any]) -> EventCorrelateResult:
        aggregated, key = self._aggregate(event)
        observed, patch = self._observe(aggregated, key)
        return EventCorrelateResult(observed, patch, skip=not self._allow(observed))

    def update_state(self, event: dict[str, Any]) -> None:
        """Remember what the server stored (name, resourceVersion, count) for the next repeat."""
        name = event.get("metadata", {}).get("name", "")
        key = self._key_by_name.get(name) or event_key(event)
        self._seen[key] = event

    # -- the three steps ----------------------------------------------------------------------------

    def _aggregate(self, event: dict[str, Any]) -> tuple[dict[str, Any], str]:
        now = self.clock.now()
        akey, local = aggregate_key(event), str(event.get("message", ""))
        record = self._aggregates.get(akey)
        if record is None or now - record.last > self.max_interval:
            record = _Aggregate(set(), now)
        record.messages.add(local)
        record.last = now
        self._aggregates[akey] = record
        if len(record.messages) < self.max_events:
            return event, event_key(event)
        record.messages.pop()  # do not grow the set past the maximum
        stamp = self.wall_now()
        combined = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{_obj(event).get('name', '')}.{_unix_nanos(stamp):x}",
                "namespace": event.get("metadata", {}).get("namespace", ""),
            },
            "count": 1,
            "firstTimestamp": format_time(stamp),
            "lastTimestamp": format_time(stamp),
            "involvedObject": _obj(event),
            "message": COMBINED_PREFIX + local,
            "type": event.get("type"),
            "reason": event.get("reason"),
            "source": _src(event),
        }
        return combined, akey

    def _observe(self, event: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        last = self._seen.get(key)
        if last is None:
            self._seen[key] = event
            self._key_by_name[event.get("metadata", {}).get("name", "")] = key
            return event, None
        out = dict(event)
        meta = dict(event.get("metadata", {}))
        last_meta = last.get("metadata", {})
        meta["name"] = last_meta.get("name", meta.get("name"))
        if last_meta.get("resourceVersion"):
            meta["resourceVersion"] = last_meta["resourceVersion"]
        out["metadata"] = meta
        out["count"] = int(last.get("count") or 1) + 1
        out["firstTimestamp"] = last.get("firstTimestamp", event.get("firstTimestamp"))
        patch = {
            "count": out["count"],
            "lastTimestamp": event.get("lastTimestamp"),
            "message": event.get("message"),
        }
        self._seen[key] = out
        return out, patch

    def _allow(self, event: dict[str, Any]) -> bool:
        now = self.clock.now()
        key = spam_key(event)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.spam_burst), now)
        bucket.tokens = min(float(self.spam_burst), bucket.tokens + (now - bucket.last) * self.spam_qps)
        bucket.last = now
        self._buckets[key] = bucket
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True


def _unix_nanos(stamp: _dt.datetime) -> int:
    return int(stamp.timestamp() * 1_000_000) * 1000
