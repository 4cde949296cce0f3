"""Reflector behaviour, one test (or a few) per line of docs/reference/client_go_semantics.md §1, with a scripted
ListerWatcher, a recording store and a fake clock (reflector_fakes.py). Watch-list mode (§1.14) is in
test_reflector_watch_list.py, the live server in test_reflector_live.py."""

# ruff: noqa: RUF059  (every test unpacks the same harness tuple from make())

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from reflector_fakes import (
    FakeWatch,
    RaiseNow,
    bookmark,
    ev,
    list_obj,
    make,
    obj,
    running,
    settle,
    until,
)

from pyclientgo.errors import (
    ConnectError,
    ConnectionLost,
    Expired,
    Forbidden,
    Gone,
    InternalError,
    ReadTimeout,
    StatusCause,
    Timeout,
    TooManyRequests,
)
from pyclientgo.rest import WatchEvent
from pyclientgo.tools.cache.listwatch import ListOptions
from pyclientgo.tools.cache.reflector import Reflector, VeryShortWatchError, is_connection_refused


def refused() -> ConnectError:
    err = ConnectError("GET https://x/api/v1/configmaps: All connection attempts failed")
    err.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    return err


def too_large() -> Timeout:
    return Timeout.new(
        "Too large resource version: 99, current: 10",
        causes=[StatusCause("ResourceVersionTooLarge", "Too large resource version", "")],
    )


def advance(clock: Any, seconds: float) -> Any:
    """A FakeWatch script entry that moves the fake clock (the watch "lasts" that long)."""
    return lambda: clock.advance(seconds)


# -- §1.1 run loop ----------------------------------------------------------------------------------


async def test_run_lists_at_once_then_one_backoff_between_rounds() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 1), list_obj([], 2), list_obj([], 3)])
    # each round: the watch ends with an error after an event -> list_and_watch returns
    lw.watches.extend(
        [
            FakeWatch([ev("ADDED", "a", 5), InternalError.new("boom")]),
            FakeWatch([ev("ADDED", "b", 6), InternalError.new("boom")]),
        ]
    )
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 3, task)
    kinds = [k for k in log.kinds() if k in ("list", "watch", "sleep")]
    assert kinds == ["list", "watch", "sleep", "list", "watch", "sleep", "list", "watch"]


async def test_list_and_watch_returns_after_a_watch_error_and_raises_on_list_error() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 1), Forbidden.new("no")])
    lw.watches.append(FakeWatch([ev("ADDED", "a", 2), InternalError.new("boom")]))
    await r.list_and_watch()  # returns normally: a relist is due
    with pytest.raises(Forbidden):
        await r.list_and_watch()


# -- §1.2 watch error handler -------------------------------------------------------------------------


async def test_watch_error_handler_only_when_list_and_watch_fails() -> None:
    seen: list[BaseException] = []
    r, lw, store, clock, log = make(watch_error_handler=lambda refl, err: seen.append(err))
    forbidden = Forbidden.new("cannot list")
    cannot_watch = Forbidden.new("cannot watch")
    lw.lists.extend([forbidden, list_obj([], 1), list_obj([], 1), list_obj([], 1)])
    lw.watches.extend(
        [
            cannot_watch,  # opening fails, not retriable -> handler
            FakeWatch([ev("ADDED", "a", 2), InternalError.new("on an open watch")]),  # logged only
            refused(),  # opening fails, retriable: no handler
        ]
    )
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 4, task)
    assert seen == [forbidden, cannot_watch]


async def test_async_watch_error_handler_is_awaited() -> None:
    seen: list[BaseException] = []

    async def handler(refl: Reflector, err: BaseException) -> None:
        await asyncio.sleep(0)
        seen.append(err)

    r, lw, store, clock, log = make(watch_error_handler=handler)
    err = Forbidden.new("no")
    lw.lists.append(err)
    async with running(r) as task:
        await until(lambda: seen == [err], task)


# -- §1.3 backoff between rounds ------------------------------------------------------------------------


async def test_backoff_between_failed_rounds_grows() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([InternalError.new("x")] * 5)
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 6, task)
    sleeps = [e[1] for e in log.of("sleep")]
    base = 0.8
    for s in sleeps[:5]:
        assert base <= s < 2 * base
        base *= 2


# -- §1.4 LIST resourceVersion ------------------------------------------------------------------------


async def test_first_list_rv_0_then_last_synced_rv_never_match() -> None:
    """k8s#59848: a relist must not go back in time by listing at "0" from a stale cache."""
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([obj("a", 10)], 10), list_obj([obj("a", 10)], 30)])
    lw.watches.append(FakeWatch([ev("MODIFIED", "a", 20), bookmark(25), InternalError.new("boom")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [o.resource_version for o in lw.list_calls] == ["0", "25"]
    assert all(o.resource_version_match is None for o in lw.list_calls)


async def test_list_rv_empty_when_marked_unavailable_until_a_list_succeeds() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 10), list_obj([], 12)])
    lw.watches.append(FakeWatch([ev("ADDED", "a", 11), InternalError.new("boom")]))
    await r.list_and_watch()
    lw.lists.clear()
    lw.lists.extend([Expired.new("too old resource version: 11 (20)"), InternalError.new("etcd down")])
    with pytest.raises(InternalError):
        await r.list_and_watch()
    assert r.is_last_sync_resource_version_unavailable()
    lw.lists.append(list_obj([obj("b", 30)], 30))
    lw.watches.append(FakeWatch([ev("ADDED", "c", 31), InternalError.new("boom")]))
    await r.list_and_watch()
    assert [o.resource_version for o in lw.list_calls] == ["0", "11", "", ""]
    assert not r.is_last_sync_resource_version_unavailable()
    assert r.last_sync_resource_version() == "31"


# -- §1.5 paging ----------------------------------------------------------------------------------------


async def test_paging_500_with_rv0_no_limit_with_a_specific_rv() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([obj("a", 1)], 5), list_obj([obj("a", 1)], 9)])
    lw.watches.append(FakeWatch([ev("ADDED", "b", 7), InternalError.new("boom")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [(o.resource_version, o.limit) for o in lw.list_calls] == [("0", 500), ("7", None)]


async def test_rv0_list_came_back_paginated_keeps_paging() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend(
        [
            list_obj([obj("a", 1)], 5, cont="tok1"),
            list_obj([obj("b", 2)], 5),
            list_obj([obj("a", 1), obj("b", 2)], 9),
        ]
    )
    lw.watches.append(FakeWatch([ev("ADDED", "c", 7), InternalError.new("boom")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 3, task)
    got = [(o.resource_version, o.limit, o.continue_) for o in lw.list_calls]
    assert got == [("0", 500, None), ("", 500, "tok1"), ("7", 500, None)]
    assert log.of("replace")[0] == ("replace", ["a", "b"], "5")


async def test_explicit_page_size_is_always_used() -> None:
    r, lw, store, clock, log = make(page_size=2)
    lw.lists.extend([list_obj([], 5), list_obj([], 9)])
    lw.watches.append(FakeWatch([ev("ADDED", "b", 7), InternalError.new("boom")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [o.limit for o in lw.list_calls] == [2, 2]


# -- §1.6 LIST 410 / too large -> relist at once with "" ----------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        Expired.new("too old resource version: 7 (20)"),
        Gone.new("gone"),
        too_large(),
    ],
    ids=["expired", "gone", "too-large"],
)
async def test_list_410_or_too_large_relists_at_once_with_empty_rv(error: Exception) -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 5), error, list_obj([obj("a", 21)], 21)])
    lw.watches.append(FakeWatch([ev("ADDED", "b", 7), InternalError.new("boom")]))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 2, task)
    # the relist at "" follows the failed list at once (no sleep in between)
    tail = [e for e in log.entries if e[0] in ("list", "sleep", "replace")][-4:]
    assert [e[0] for e in tail] == ["sleep", "list", "list", "replace"]
    assert [o.resource_version for o in lw.list_calls] == ["0", "7", ""]
    assert all(o.resource_version_match is None for o in lw.list_calls)
    assert tail[-1] == ("replace", ["a"], "21")
    assert not r.is_last_sync_resource_version_unavailable()
    assert lw.watch_calls[-1].resource_version == "21"


async def test_other_list_errors_are_returned_without_relisting() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(InternalError.new("x"))
    with pytest.raises(InternalError):
        await r.list_and_watch()
    assert len(lw.list_calls) == 1
    assert not r.is_last_sync_resource_version_unavailable()


# -- §1.7 replace after LIST ----------------------------------------------------------------------


async def test_replace_even_when_empty_and_last_rv_is_list_rv() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 42))
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls), task)
    assert log.of("replace") == [("replace", [], "42")]
    assert r.last_sync_resource_version() == "42"
    assert lw.watch_calls[0].resource_version == "42"


async def test_replace_gets_all_pages_items() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([obj("a", 1)], 5, cont="t"), list_obj([obj("b", 2)], 5)])
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls), task)
    assert log.of("replace") == [("replace", ["a", "b"], "5")]


async def test_cancelled_mid_list_leaves_store_untouched() -> None:
    r, lw, store, clock, log = make()
    second_page = asyncio.Event()

    async def page2(options: ListOptions) -> Any:
        second_page.set()
        await asyncio.Event().wait()

    lw.lists.extend([list_obj([obj("a", 1)], 5, cont="t"), page2])
    task = asyncio.create_task(r.run())
    await asyncio.wait_for(second_page.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e for e in log.entries if e[0] in ("replace", "add", "update", "delete")] == []
    assert r.last_sync_resource_version() == ""


# -- §1.8 WATCH options ---------------------------------------------------------------------------


async def test_watch_options_rv_bookmarks_and_random_timeout() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    # 20 watches that close cleanly after an event, each re-watched at once
    lw.watches.extend(FakeWatch([ev("ADDED", f"o{i}", 6 + i)]) for i in range(20))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 21, task)
    rvs = [o.resource_version for o in lw.watch_calls]
    assert rvs == ["5"] + [str(6 + i) for i in range(20)]
    timeouts = [o.timeout_seconds for o in lw.watch_calls]
    assert all(isinstance(t, int) and 300 <= t < 600 for t in timeouts)
    assert len(set(timeouts)) > 1
    assert all(o.allow_watch_bookmarks for o in lw.watch_calls)
    assert all(o.resource_version_match is None and o.send_initial_events is None for o in lw.watch_calls)


# -- §1.9 events -------------------------------------------------------------------------------------


async def test_events_go_to_the_store_and_bookmark_only_moves_rv() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([obj("a", 1)], 5))
    w = FakeWatch(end=False)
    lw.watches.append(w)
    async with running(r) as task:
        w.push(ev("ADDED", "b", 6), ev("MODIFIED", "a", 7), ev("DELETED", "b", 8))
        await until(lambda: r.last_sync_resource_version() == "8", task)
        n = len(log.entries)
        w.push(bookmark(12))
        await until(lambda: r.last_sync_resource_version() == "12", task)
        assert len(log.entries) == n  # no store call for a bookmark
    assert [e for e in log.entries if e[0] in ("add", "update", "delete")] == [
        ("add", "b", "6"),
        ("update", "a", "7"),
        ("delete", "b", "8"),
    ]


async def test_error_event_ends_the_watch() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 5), list_obj([], 9)])
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), WatchEvent("ERROR", InternalError.new("x").status)]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("watch", "sleep", "list")][:4] == [
        "list",
        "watch",
        "sleep",
        "list",
    ]


async def test_wrong_kind_objects_are_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    r, lw, store, clock, log = make(expected_gvk=("v1", "ConfigMap"))
    lw.lists.append(list_obj([], 5))
    w = FakeWatch(end=False)
    lw.watches.append(w)
    with caplog.at_level(logging.ERROR, logger="pyclientgo.tools.cache.reflector"):
        async with running(r) as task:
            w.push(ev("ADDED", "s", 6, kind="Secret"), ev("ADDED", "a", 7))
            await until(lambda: r.last_sync_resource_version() == "7", task)
    assert log.of("add") == [("add", "a", "7")]
    assert "expected gvk" in caplog.text


async def test_expected_type_skips_other_classes(caplog: pytest.LogCaptureFixture) -> None:
    class Mine(dict):  # type: ignore[type-arg]
        pass

    r, lw, store, clock, log = make(expected_type=Mine)
    lw.lists.append(list_obj([], 5))
    lw.watches.append(FakeWatch([ev("ADDED", "x", 6), WatchEvent("ADDED", Mine(obj("m", 7)))], end=False))
    with caplog.at_level(logging.ERROR, logger="pyclientgo.tools.cache.reflector"):
        async with running(r) as task:
            await until(lambda: r.last_sync_resource_version() == "7", task)
    assert log.of("add") == [("add", "m", "7")]
    assert "expected type Mine" in caplog.text


async def test_store_errors_are_logged_and_the_watch_goes_on() -> None:
    r, lw, store, clock, log = make()

    def bad_add(o: Any) -> None:
        raise RuntimeError("store full")

    store.add = bad_add  # type: ignore[method-assign]
    lw.lists.append(list_obj([], 5))
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), ev("MODIFIED", "b", 7)], end=False))
    async with running(r) as task:
        await until(lambda: r.last_sync_resource_version() == "7", task)
    assert log.of("update") == [("update", "b", "7")]


async def test_store_resource_version_updater_is_told() -> None:
    r, lw, store, clock, log = make()
    seen: list[str] = []
    store.update_resource_version = seen.append  # type: ignore[attr-defined]
    lw.lists.append(list_obj([], 5))
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), bookmark(9)], end=False))
    async with running(r) as task:
        await until(lambda: seen == ["6", "9"], task)


# -- §1.10 clean close / very short watch ------------------------------------------------------------


async def test_clean_close_rewatches_at_once_from_last_rv() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    lw.watches.extend([FakeWatch([ev("ADDED", "a", 6)]), FakeWatch([advance(clock, 2.0)])])
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 3, task)
    assert [o.resource_version for o in lw.watch_calls] == ["5", "6", "6"]
    assert log.kinds().count("list") == 1
    assert log.of("sleep") == []


async def test_very_short_watch_relists_after_backoff(caplog: pytest.LogCaptureFixture) -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 5), list_obj([], 8)])
    lw.watches.append(FakeWatch([advance(clock, 0.5)]))  # closed after 0.5 s, no event
    with caplog.at_level(logging.WARNING, logger="pyclientgo.tools.cache.reflector"):
        async with running(r) as task:
            await until(lambda: len(lw.list_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")][:4] == [
        "list",
        "watch",
        "sleep",
        "list",
    ]
    assert "very short watch" in caplog.text
    assert lw.list_calls[1].resource_version == "5"


async def test_a_clean_close_after_a_second_without_events_is_not_short() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    lw.watches.append(FakeWatch([advance(clock, 1.0)]))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 2, task)
    assert log.kinds().count("list") == 1 and log.of("sleep") == []
    with pytest.raises(VeryShortWatchError):
        await r._watch_handler(clock.now(), FakeWatch([]), store, lambda rv: None)


# -- §1.11 errors on an open watch ---------------------------------------------------------------------


async def test_open_watch_410_relists_after_backoff_at_last_rv() -> None:
    seen: list[BaseException] = []
    r, lw, store, clock, log = make(watch_error_handler=lambda refl, err: seen.append(err))
    lw.lists.extend([list_obj([], 5), list_obj([], 9)])
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), Expired.new("too old resource version: 6 (8)")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")][:4] == [
        "list",
        "watch",
        "sleep",
        "list",
    ]
    assert lw.list_calls[1].resource_version == "6"
    assert not r.is_last_sync_resource_version_unavailable()
    assert seen == []


async def test_open_watch_429_backs_off_and_rewatches_without_relisting() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), TooManyRequests.new("slow down")]))
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")] == ["list", "watch", "sleep", "watch"]
    assert lw.watch_calls[1].resource_version == "6"


async def test_open_watch_other_error_relists_after_backoff() -> None:
    r, lw, store, clock, log = make()
    lw.lists.extend([list_obj([], 5), list_obj([], 9)])
    lw.watches.append(FakeWatch([ev("ADDED", "a", 6), ConnectionResetError("reset")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")][:4] == [
        "list",
        "watch",
        "sleep",
        "list",
    ]


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: ConnectionLost("peer closed connection without sending complete message body"),
        lambda: ReadTimeout("read timed out"),
    ],
    ids=["connection-lost", "read-timeout"],
)
async def test_broken_stream_is_a_clean_close_rewatch_at_once_without_relist(make_error: Any) -> None:
    # client-go's StreamWatcher ends the watch normally on a probable EOF or a timeout: a server
    # restart or a proxy reset must not make every informer relist.
    seen: list[BaseException] = []
    r, lw, store, clock, log = make(watch_error_handler=lambda refl, err: seen.append(err))
    lw.lists.append(list_obj([], 5))
    lw.watches.extend(
        [
            FakeWatch([ev("ADDED", "a", 6), make_error()]),
            FakeWatch([advance(clock, 2.0), make_error()]),  # nothing for 2 s, then reset: not short
            refused(),
        ]
    )
    async with running(r) as task:
        await until(lambda: len(lw.watch_calls) == 4, task)
    assert [o.resource_version for o in lw.watch_calls] == ["5", "6", "6", "6"]
    assert log.kinds().count("list") == 1
    # re-watched at once twice; only the refused re-watch backs off before the next attempt
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")] == [
        "list",
        "watch",
        "watch",
        "watch",
        "sleep",
        "watch",
    ]
    assert seen == []


async def test_broken_stream_without_events_within_a_second_is_very_short() -> None:
    seen: list[BaseException] = []
    r, lw, store, clock, log = make(watch_error_handler=lambda refl, err: seen.append(err))
    lw.lists.extend([list_obj([], 5), list_obj([], 7)])
    lw.watches.append(FakeWatch([ConnectionLost("connection reset by peer")]))
    async with running(r) as task:
        await until(lambda: len(lw.list_calls) == 2, task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")][:4] == [
        "list",
        "watch",
        "sleep",
        "list",
    ]
    assert seen == []


async def test_watch_handed_over_by_watch_list_is_already_open() -> None:
    # An error before the first event of a watch that is known to be open (the watch-list's) is an
    # error on an open watch (relist after a backoff), not a failure to open one (handler).
    seen: list[BaseException] = []
    r, lw, store, clock, log = make(watch_error_handler=lambda refl, err: seen.append(err))
    r.store.replace([], "5")
    await r._watch(FakeWatch([Forbidden.new("no longer allowed")]))
    assert seen == [] and log.kinds().count("watch") == 0


# -- §1.12 errors opening a watch ---------------------------------------------------------------------


@pytest.mark.parametrize("make_error", [refused, lambda: TooManyRequests.new("wait")], ids=["refused", "429"])
@pytest.mark.parametrize("raise_now", [False, True], ids=["on-first-read", "from-watch-call"])
async def test_watch_open_refused_or_429_backs_off_and_retries_the_watch(
    make_error: Any, raise_now: bool
) -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    err = make_error()
    lw.watches.extend([RaiseNow(err) if raise_now else err, FakeWatch([ev("ADDED", "a", 6)], end=False)])
    async with running(r) as task:
        await until(lambda: r.last_sync_resource_version() == "6", task)
    assert [k for k in log.kinds() if k in ("list", "watch", "sleep")] == ["list", "watch", "sleep", "watch"]
    assert [o.resource_version for o in lw.watch_calls] == ["5", "5"]


async def test_watch_open_other_error_is_returned() -> None:
    r, lw, store, clock, log = make()
    lw.lists.append(list_obj([], 5))
    lw.watches.append(Forbidden.new("cannot watch"))
    with pytest.raises(Forbidden):
        await r.list_and_watch()
    plain_connect = ConnectError("TLS handshake failed")
    lw.lists.append(list_obj([], 5))
    lw.watches.append(plain_connect)
    with pytest.raises(ConnectError):
        await r.list_and_watch()
    assert is_connection_refused(refused()) and not is_connection_refused(plain_connect)


# -- §1.13 resync ----------------------------------------------------------------------------------------


async def test_resync_every_period_when_should_resync_allows() -> None:
    allow = [True]
    r, lw, store, clock, log = make(autojump=False, resync_period=10.0, should_resync=lambda: allow[0])
    lw.lists.append(list_obj([obj("a", 1)], 5))
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls) and clock.sleeping == 1, task)
        await settle()
        assert log.of("resync") == []
        clock.advance(9.9)
        await settle()
        assert log.of("resync") == []
        clock.advance(0.1)
        await until(lambda: len(log.of("resync")) == 1, task)
        allow[0] = False
        clock.advance(10.0)
        await until(lambda: clock.sleeping == 1, task)
        await settle()
        assert len(log.of("resync")) == 1
        allow[0] = True
        clock.advance(10.0)
        await until(lambda: len(log.of("resync")) == 2, task)
    assert [e[1] for e in log.of("sleep")] == [10.0, 10.0, 10.0, 10.0]


async def test_no_resync_with_period_zero() -> None:
    r, lw, store, clock, log = make(autojump=False)
    lw.lists.append(list_obj([], 5))
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls), task)
        await settle()
        assert clock.sleeping == 0
    assert log.of("resync") == []


async def test_failing_resync_ends_the_watch_and_relists_after_backoff() -> None:
    r, lw, store, clock, log = make(autojump=False, resync_period=10.0)
    store.resync_error = RuntimeError("cannot resync")
    lw.lists.extend([list_obj([], 5), list_obj([], 9)])
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls) and clock.sleeping == 1, task)
        clock.advance(10.0)
        await until(lambda: log.kinds()[-1] == "sleep" and clock.sleeping == 1, task)  # the backoff
        assert lw.opened[0].cancelled and lw.opened[0].closed
        clock.advance(2.0)
        await until(lambda: len(lw.list_calls) == 2, task)
    assert lw.list_calls[1].resource_version == "5"


# -- §1.15 idle deadline (client-go#374) -----------------------------------------------------------


async def test_silent_watch_is_abandoned_and_reopened_from_last_rv() -> None:
    r, lw, store, clock, log = make(autojump=False, idle_timeout=60.0)
    lw.lists.append(list_obj([], 5))
    first = FakeWatch([ev("ADDED", "a", 6)], end=False)
    lw.watches.append(first)
    async with running(r) as task:
        await until(lambda: r.last_sync_resource_version() == "6" and clock.sleeping == 1, task)
        clock.advance(30.0)
        first.push(bookmark(7))  # activity pushes the deadline back
        await until(lambda: r.last_sync_resource_version() == "7", task)
        clock.advance(59.0)
        await settle()
        assert len(lw.watch_calls) == 1
        clock.advance(1.0)
        await until(lambda: len(lw.watch_calls) == 2, task)
        assert first.cancelled and first.closed  # the blocked read was really abandoned
    assert [o.resource_version for o in lw.watch_calls] == ["5", "7"]
    assert log.kinds().count("list") == 1


async def test_idle_timeout_none_never_abandons() -> None:
    r, lw, store, clock, log = make(autojump=False, idle_timeout=None)
    lw.lists.append(list_obj([], 5))
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls), task)
        clock.advance(100000.0)
        await settle()
        assert len(lw.watch_calls) == 1 and clock.sleeping == 0


async def test_autojump_clock_does_not_arm_the_idle_deadline() -> None:
    """With autojump any sleep leaps time: silence cannot be measured, so no busy re-watch loop."""
    r, lw, store, clock, log = make(autojump=True, idle_timeout=60.0)
    lw.lists.append(list_obj([], 5))
    async with running(r) as task:
        await until(lambda: bool(lw.watch_calls), task)
        await settle(200)
        assert len(lw.watch_calls) == 1 and log.of("sleep") == []


async def test_cancel_while_watching_propagates_and_closes_the_watch() -> None:
    r, lw, store, clock, log = make(autojump=False, idle_timeout=60.0)
    lw.lists.append(list_obj([], 5))
    task = asyncio.create_task(r.run())
    await until(lambda: bool(lw.opened), task)
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lw.opened[0].closed
