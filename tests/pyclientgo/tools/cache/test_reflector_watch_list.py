"""Watch-list mode (docs/reference/client_go_semantics.md §1.14) with a scripted ListerWatcher (reflector_fakes.py)."""

# ruff: noqa: RUF059  (every test unpacks the same harness tuple from make())

from __future__ import annotations

import pytest
from reflector_fakes import FakeWatch, bookmark, ev, list_obj, make, obj, running, until

from pyclientgo.errors import BadRequest, Expired, Forbidden, Invalid, TooManyRequests


async def test_initial_events_are_collected_then_replaced_at_the_bookmark_rv() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    w = FakeWatch([ev("ADDED", "a", 3), ev("ADDED", "b", 4)], end=False)
    lw.watches.append(w)
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 1 and w.queue.empty(), task)
        assert log.of("replace") == [] and log.of("add") == []  # collected, not yet applied
        w.push(bookmark(10, initial_end=True))
        await until(lambda: bool(log.of("replace")), task)
        assert log.of("replace") == [("replace", ["a", "b"], "10")]
        assert log.of("add") == []
        assert r.last_sync_resource_version() == "10"
        # the same watch goes on
        w.push(ev("ADDED", "c", 11), ev("DELETED", "a", 12))
        await until(lambda: r.last_sync_resource_version() == "12", task)
    assert lw.list_calls == []
    assert len(lw.watch_calls) == 1
    opts = lw.watch_calls[0]
    assert opts.send_initial_events is True
    assert opts.resource_version_match == "NotOlderThan"
    assert opts.allow_watch_bookmarks is True
    assert opts.resource_version == ""
    assert opts.timeout_seconds is not None and 300 <= opts.timeout_seconds < 600
    assert [e for e in log.entries if e[0] in ("add", "delete")] == [
        ("add", "c", "11"),
        ("delete", "a", "12"),
    ]


async def test_an_empty_initial_state_still_replaces() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.append(FakeWatch([bookmark(7, initial_end=True)], end=False))
    async with running(r) as task:
        await until(lambda: bool(log.of("replace")), task)
    assert log.of("replace") == [("replace", [], "7")]


async def test_plain_bookmarks_and_modifications_during_the_initial_events() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.append(
        FakeWatch(
            [
                ev("ADDED", "a", 3),
                bookmark(4),  # not the end
                ev("MODIFIED", "a", 5),
                ev("ADDED", "b", 6),
                ev("DELETED", "b", 7),
                bookmark(8, initial_end=True),
            ],
            end=False,
        )
    )
    async with running(r) as task:
        await until(lambda: bool(log.of("replace")), task)
    assert log.of("replace") == [("replace", ["a"], "8")]
    assert store.items["a"]["metadata"]["resourceVersion"] == "5"


async def test_stream_ending_before_the_bookmark_starts_over() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.extend(
        [
            FakeWatch([ev("ADDED", "a", 3), ev("ADDED", "b", 4)]),  # ends early
            FakeWatch([ev("ADDED", "a", 5), bookmark(9, initial_end=True)], end=False),
        ]
    )
    async with running(r) as task:
        await until(lambda: bool(log.of("replace")), task)
    assert log.of("replace") == [("replace", ["a"], "9")]  # nothing of the first attempt survives
    assert [o.resource_version for o in lw.watch_calls] == ["", ""]
    assert all(o.send_initial_events for o in lw.watch_calls)
    assert lw.opened[0].closed
    assert lw.list_calls == []


@pytest.mark.parametrize(
    "error",
    [
        Invalid.new('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden'),
        BadRequest.new("unknown parameter"),
        Forbidden.new("no watch"),
    ],
    ids=["422", "400", "403"],
)
async def test_rejected_parameters_fall_back_to_list(error: Exception) -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.append(error)
    lw.lists.append(list_obj([obj("a", 3)], 5))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 2, task)
    assert log.of("replace") == [("replace", ["a"], "5")]
    assert [o.resource_version for o in lw.list_calls] == ["0"]
    plain = lw.watch_calls[1]
    assert plain.resource_version == "5" and plain.send_initial_events is None
    assert plain.resource_version_match is None and plain.allow_watch_bookmarks


async def test_429_backs_off_and_retries_the_watch_list() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.extend([TooManyRequests.new("later"), FakeWatch([bookmark(9, initial_end=True)], end=False)])
    async with running(r) as task:
        await until(lambda: bool(log.of("replace")), task)
    assert [k for k in log.kinds() if k in ("watch", "sleep", "list")] == ["watch", "sleep", "watch"]


async def test_410_marks_rv_unavailable_and_restarts_with_empty_rv() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    # first round syncs at 9; the open watch then fails with a 500 -> a new round after a backoff
    lw.watches.extend(
        [
            FakeWatch([bookmark(9, initial_end=True), ev("ADDED", "a", 10), Expired.new("too old")]),
            Expired.new("too old resource version: 10 (20)"),
            FakeWatch([ev("ADDED", "b", 21), bookmark(22, initial_end=True)], end=False),
        ]
    )
    async with running(r) as task:
        await until(lambda: len(log.of("replace")) == 2, task)
    assert [o.resource_version for o in lw.watch_calls] == ["", "10", ""]
    assert log.of("replace")[-1] == ("replace", ["b"], "22")
    assert not r.is_last_sync_resource_version_unavailable()
    assert lw.list_calls == []


async def test_very_short_initial_stream_falls_back_to_list() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    lw.watches.append(FakeWatch([]))  # closed at once, nothing sent
    lw.lists.append(list_obj([], 5))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 2, task)
    assert log.of("replace") == [("replace", [], "5")]


async def test_idle_initial_stream_starts_over() -> None:
    r, lw, store, clock, log = make(use_watch_list=True, autojump=False, idle_timeout=30.0)
    first = FakeWatch([ev("ADDED", "a", 3)], end=False)
    lw.watches.extend([first, FakeWatch([bookmark(9, initial_end=True)], end=False)])
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 1 and clock.sleeping == 1, task)
        clock.advance(30.0)
        await until(lambda: bool(log.of("replace")), task)
    assert first.cancelled and first.closed
    assert log.of("replace") == [("replace", [], "9")]


async def test_failing_replace_closes_the_watch_list_stream() -> None:
    r, lw, store, clock, log = make(use_watch_list=True)
    w = FakeWatch([ev("ADDED", "a", 3), bookmark(10, initial_end=True)], end=False)
    lw.watches.append(w)

    def broken_replace(items: list[object], rv: str) -> None:
        raise RuntimeError("store broke")

    store.replace = broken_replace  # type: ignore[method-assign]
    lw.lists.append(list_obj([], 11))  # the fallback LIST fails the same way
    with pytest.raises(RuntimeError, match="store broke"):
        await r.list_and_watch()
    assert w.closed
