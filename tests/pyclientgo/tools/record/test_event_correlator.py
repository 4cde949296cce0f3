"""docs/reference/client_go_semantics.md §8.2: event naming, repeats, aggregation, spam filter, bounded queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyclientgo.testing import FakeClock
from pyclientgo.tools.record import EventBroadcaster, EventCorrelator

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
POD = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"}}


def event(message: str = "m", reason: str = "R", name: str = "p") -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.1", "namespace": "ns"},
        "involvedObject": {"kind": "Pod", "name": name, "namespace": "ns", "uid": "u1", "apiVersion": "v1"},
        "source": {"component": "c", "host": "h"},
        "type": "Normal",
        "reason": reason,
        "message": message,
        "count": 1,
        "firstTimestamp": "2026-01-02T03:04:05Z",
        "lastTimestamp": "2026-01-02T03:04:05Z",
    }


class NullSink:
    async def create(self, event: dict[str, Any]) -> dict[str, Any]:
        return event

    async def patch(self, event: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        return event


async def test_event_name_is_object_dot_unix_nanos_hex() -> None:
    b = EventBroadcaster(NullSink(), wall_now=lambda: T0)
    b.new_recorder(component="c", host="h").event(POD, "Normal", "Started", "hello")
    queued = b._queue.get_nowait()
    assert queued is not None
    nanos = int(T0.timestamp() * 1_000_000) * 1000
    assert queued["metadata"]["name"] == f"p.{nanos:x}"
    assert queued["metadata"]["namespace"] == "ns"
    assert queued["involvedObject"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "name": "p",
        "namespace": "ns",
        "uid": "u1",
    }
    assert queued["source"] == {"component": "c", "host": "h"}
    assert queued["count"] == 1 and queued["type"] == "Normal"


async def test_unsupported_type_is_dropped() -> None:
    b = EventBroadcaster(NullSink())
    b.new_recorder(component="c").event(POD, "Info", "R", "m")
    assert b._queue.empty()


def test_repeat_becomes_patch_with_count() -> None:
    c = EventCorrelator(clock=FakeClock())
    first = c.correlate(event())
    assert first.patch is None and not first.skip
    c.update_state({**first.event, "metadata": {**first.event["metadata"], "resourceVersion": "7"}})
    second = c.correlate(
        {**event(), "lastTimestamp": "2026-01-02T03:05:00Z", "metadata": {"name": "p.2", "namespace": "ns"}}
    )
    assert second.event["count"] == 2
    assert second.event["metadata"]["name"] == "p.1", "a repeat patches the stored event"
    assert second.patch == {"count": 2, "lastTimestamp": "2026-01-02T03:05:00Z", "message": "m"}
    third = c.correlate(event())
    assert third.event["count"] == 3


def test_aggregation_of_ten_similar_events() -> None:
    c = EventCorrelator(clock=FakeClock(), wall_now=lambda: T0)
    results = [c.correlate(event(message=f"msg {i}")) for i in range(12)]
    assert all(not r.event["message"].startswith("(combined") for r in results[:9])
    combined = results[9]
    assert combined.event["message"] == "(combined from similar events): msg 9"
    assert combined.patch is None
    again = results[10]
    assert again.event["message"] == "(combined from similar events): msg 10"
    assert again.event["count"] == 2 and again.patch is not None, "the combined event is patched on repeat"


def test_aggregation_window_resets_after_600s() -> None:
    clock = FakeClock()
    c = EventCorrelator(clock=clock)
    for i in range(9):
        c.correlate(event(message=f"msg {i}"))
    clock.advance(601)
    assert not c.correlate(event(message="msg new")).event["message"].startswith("(combined")


def test_spam_filter_burst_25_refill_one_per_300s() -> None:
    clock = FakeClock()
    c = EventCorrelator(clock=clock)
    results = [c.correlate(event(reason=f"R{i}")) for i in range(30)]
    assert [r.skip for r in results] == [False] * 25 + [True] * 5
    other = c.correlate(event(reason="X", name="other"))
    assert not other.skip, "buckets are per object"
    clock.advance(299)
    assert c.correlate(event(reason="late")).skip
    clock.advance(2)
    assert not c.correlate(event(reason="later")).skip
    assert c.correlate(event(reason="even-later")).skip


async def test_queue_of_1000_drops_when_full() -> None:
    b = EventBroadcaster(NullSink())
    rec = b.new_recorder(component="c")
    for i in range(1005):
        rec.event(POD, "Normal", "R", f"m{i}")
    assert b._queue.qsize() == 1000
    assert b.dropped == 5


class FlakySink:
    """Records calls; ``patch`` answers NotFound (the stored event was deleted or expired)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def create(self, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", event))
        return {**event, "metadata": {**event["metadata"], "resourceVersion": str(len(self.calls))}}

    async def patch(self, event: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        from pyclientgo.errors import NotFound, error_for_status

        self.calls.append(("patch", patch))
        err = error_for_status({"reason": "NotFound", "code": 404, "message": "gone"})
        assert isinstance(err, NotFound)
        raise err


async def test_repeat_whose_stored_event_is_gone_is_created_again() -> None:  # §8.2
    sink = FlakySink()
    b = EventBroadcaster(sink, wall_now=lambda: T0, clock=FakeClock())
    b.start()
    rec = b.new_recorder(component="c", host="h")
    rec.event(POD, "Normal", "Synced", "same")
    rec.event(POD, "Normal", "Synced", "same")
    await b.flush()
    await b.shutdown()
    assert [verb for verb, _ in sink.calls] == ["create", "patch", "create"]
    first, again = sink.calls[0][1], sink.calls[2][1]
    assert sink.calls[1][1]["count"] == 2
    assert again["metadata"]["name"] == first["metadata"]["name"], "re-created under the stored name"
    assert "resourceVersion" not in again["metadata"], "a create must not carry a resourceVersion"
    assert again["count"] == 2 and again["firstTimestamp"] == first["firstTimestamp"]


async def test_events_in_the_same_microsecond_get_distinct_names() -> None:
    b = EventBroadcaster(NullSink(), wall_now=lambda: T0)
    rec = b.new_recorder(component="c", host="h")
    rec.event(POD, "Normal", "Created", "one")
    rec.event(POD, "Normal", "Scaled", "two")
    names = [b._queue.get_nowait()["metadata"]["name"] for _ in range(2)]  # type: ignore[index]
    assert len(set(names)) == 2
