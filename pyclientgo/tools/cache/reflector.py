"""The Reflector: keeps a store in step with the server by LIST then WATCH (client-go's ``reflector.go``).

:meth:`Reflector.run` calls :meth:`Reflector.list_and_watch` until the task is cancelled, waiting one
backoff delay (:mod:`~pyclientgo.tools.cache.backoff`: 0.8 s doubling to 30 s, jitter 1.0, reset after
2 quiet minutes) after every return. The watch-error handler is called only when
``list_and_watch`` raises: the LIST failed, or a watch could not be opened with a non-retryable error.

LIST (docs/reference/client_go_semantics.md §1.4-7)
    resourceVersion ``"0"`` before the first sync, then the last synced RV, ``""`` (a consistent read)
    once that RV is known to be unavailable; never ``resourceVersionMatch``. Pages of 500 with RV
    ``"0"``/``""``; no limit with a specific RV, unless an RV ``"0"`` list once came back paginated
    (then always paged). A 410 (Expired/Gone) or a 504 ResourceVersionTooLarge marks the RV
    unavailable and relists at once with ``""``; a successful LIST clears the mark. Then
    ``store.replace(items, list_rv)`` (also when empty). Cancelled mid-list: the store is untouched.

WATCH (§1.8-12)
    From the last RV with ``allowWatchBookmarks`` and ``timeoutSeconds`` random in
    ``[min_watch_timeout, 2 * min_watch_timeout)``. ADDED/MODIFIED/DELETED go to
    ``store.add/update/delete``; BOOKMARK only moves the RV; each event's RV becomes the last RV;
    objects of another type are skipped and logged. A clean close re-watches at once from the last RV;
    a watch that closed within 1 s without an event is "very short" and leads to a relist after a
    backoff. A connection lost or a read timeout mid-stream is the watch's normal end, as in
    client-go's StreamWatcher (a server restart costs a re-watch, not a relist). Errors on an open
    watch: 410 → relist after a backoff (at the last RV, k8s#59848); 429 → back off and re-watch;
    anything else → relist after a backoff. Errors opening a watch:
    connection refused or 429 → back off and retry the watch; anything else is raised.
    Because :meth:`ListerWatcher.watch` may send its request lazily, an error raised before the first
    event counts as an error *opening* the watch (except a lost connection or read timeout, which
    end it; and the watch a watch-list hands over, which is open).

Resync (§1.13)
    With ``resync_period > 0``, while watching, ``store.resync()`` every period when ``should_resync``
    (if given) allows. A failing resync ends the watch (relist after a backoff).

Watch-list (§1.14, ``use_watch_list=True``)
    Instead of LIST: a watch with ``sendInitialEvents=true``, ``resourceVersionMatch=NotOlderThan``
    and bookmarks, collected into a temporary store until the BOOKMARK annotated
    ``k8s.io/initial-events-end: "true"``; then ``store.replace(collected, bookmark_rv)`` and the same
    watch goes on. A stream that ends before that bookmark starts over; connection refused / 429 back
    off first; 410 / too-large RV start over with RV ``""``. Any other error (a server rejecting the
    parameters with a 4xx) falls back to a LIST for this round.

Idle deadline (§1.15, beyond client-go)
    A watch that delivers nothing — no event, no bookmark — for ``idle_timeout`` seconds is closed and
    re-opened at once from the last RV (client-go#374: half-open connections hang forever). The wait is
    abandoned by cancelling the pending read (an ``asyncio.timeout`` rescheduled by a watchdog task on
    the injected clock), so a read blocked on a dead socket really ends. With a clock whose ``autojump``
    attribute is true (``pyclientgo.testing.AsyncFakeClock()``'s default) the deadline is not armed:
    time leaps whenever anything sleeps, so silence cannot be measured (the watch would be re-opened
    in a busy loop). Test it with ``AsyncFakeClock(autojump=False)`` and ``advance()``.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import enum
import inspect
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.errors import (
    ApiError,
    ConnectError,
    ConnectionLost,
    Gone,
    PyClientGoError,
    ReadTimeout,
    error_for_status,
    is_too_large_resource_version,
    is_too_many_requests,
)
from pyclientgo.rest import WatchEvent
from pyclientgo.tools.cache.backoff import ExponentialBackoffManager
from pyclientgo.tools.cache.listwatch import ListerWatcher, ListOptions
from pyclientgo.tools.cache.meta import object_annotations, object_meta, resource_version
from pyclientgo.tools.cache.store import Store, meta_namespace_key_func
from pyclientgo.tools.pager import ListPager

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_PAGE_SIZE",
    "INITIAL_EVENTS_ANNOTATION",
    "Reflector",
    "VeryShortWatchError",
    "WatchErrorHandler",
    "default_watch_error_handler",
    "is_connection_refused",
    "is_expired_error",
    "is_watch_error_retriable",
]

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
"""Items per LIST page (client-go's pager default)."""

DEFAULT_IDLE_TIMEOUT = 180.0
"""Seconds a watch may stay silent before it is treated as dead: three missed bookmarks of a server
that sends one a minute (kube-apiserver, the test server), well under the watch's own 300-600 s."""

INITIAL_EVENTS_ANNOTATION = "k8s.io/initial-events-end"
"""The annotation of the BOOKMARK that ends the initial events of a watch-list."""

_VERY_SHORT_WATCH = 1.0

WatchErrorHandler = Callable[["Reflector", BaseException], object]
"""Called with the reflector and the error when :meth:`Reflector.list_and_watch` fails (may be async)."""


class VeryShortWatchError(PyClientGoError):
    """The watch closed within a second without delivering an event (relist after a backoff)."""


class _WatchOpenError(Exception):
    """Wraps an error raised before the first event: the watch could not be opened."""

    def __init__(self, err: Exception) -> None:
        super().__init__(str(err))
        self.err = err


class _End(enum.Enum):
    CLOSED = "closed"
    """The server ended the stream."""
    IDLE = "idle"
    """Nothing arrived for ``idle_timeout``; we ended it."""
    INITIAL_EVENTS_END = "initial-events-end"
    """The watch-list bookmark arrived (the watch is still open)."""


def is_expired_error(err: BaseException) -> bool:
    """A 410: reason Expired or Gone (client-go's ``isExpiredError``)."""
    return isinstance(err, Gone) or (isinstance(err, ApiError) and err.code == 410)


def is_connection_refused(err: BaseException) -> bool:
    """A connection attempt was refused (``ECONNREFUSED`` anywhere in the exception's chain)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        if isinstance(current, ConnectError) and "refused" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def is_watch_error_retriable(err: BaseException) -> bool:
    """Connection refused or 429: back off and retry the watch instead of relisting."""
    return is_connection_refused(err) or is_too_many_requests(err)


def default_watch_error_handler(reflector: Reflector, err: BaseException) -> None:
    """Logs the error (client-go's ``DefaultWatchErrorHandler``)."""
    if is_expired_error(err):
        log.info("%s: watch closed with: %s", reflector.name, err)
    else:
        log.warning("%s: failed to list and watch: %s", reflector.name, err)


class _TempStore:
    """The watch-list's temporary store: insertion-ordered, keyed ``namespace/name``."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def add(self, obj: Any) -> None:
        self._items[meta_namespace_key_func(obj)] = obj

    update = add

    def delete(self, obj: Any) -> None:
        self._items.pop(meta_namespace_key_func(obj), None)

    def list(self) -> builtins.list[Any]:
        return builtins.list(self._items.values())

    def replace(self, items: builtins.list[Any], resource_version: str) -> None:
        self._items = {meta_namespace_key_func(obj): obj for obj in items}

    def resync(self) -> None:
        pass


async def _aclose(events: Any) -> None:
    close = getattr(events, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # closing a broken stream: nothing more to learn from it
        log.debug("closing a watch failed: %s", exc)


class Reflector:
    """Keeps ``store`` in step with the collection ``lister_watcher`` lists and watches.

    ``expected_type`` (a class) and ``expected_gvk`` (``(apiVersion, kind)``, checked on dicts) make
    watch events with other objects be skipped and logged. ``page_size`` ``None`` is client-go's
    default paging (500, none with a specific RV); an int always pages with that size.
    ``idle_timeout`` ``None`` disables the idle deadline. ``clock`` and ``rng`` are injectable.
    """

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        store: Store,
        *,
        expected_type: type | None = None,
        expected_gvk: tuple[str, str] | None = None,
        name: str = "",
        resync_period: float = 0.0,
        should_resync: Callable[[], bool] | None = None,
        page_size: int | None = None,
        use_watch_list: bool = False,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        watch_error_handler: WatchErrorHandler | None = None,
        clock: AsyncClock | None = None,
        rng: random.Random | None = None,
        min_watch_timeout: float = 300.0,
        backoff: ExponentialBackoffManager | None = None,
    ) -> None:
        if resync_period < 0:
            raise ValueError("resync_period must not be negative")
        if idle_timeout is not None and idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive (or None to disable it)")
        if page_size is not None and page_size < 0:
            raise ValueError("page_size must not be negative")
        self.lister_watcher = lister_watcher
        self.store = store
        self.expected_type = expected_type
        self.expected_gvk = expected_gvk
        self.name = name or _describe(lister_watcher, expected_type)
        self.resync_period = resync_period
        self.should_resync = should_resync
        self.page_size = page_size
        self.use_watch_list = use_watch_list
        self.idle_timeout = idle_timeout
        self.watch_error_handler: WatchErrorHandler = watch_error_handler or default_watch_error_handler
        self.min_watch_timeout = min_watch_timeout
        self._clock: AsyncClock = clock if clock is not None else AsyncSystemClock()
        self._rng = rng if rng is not None else random.Random()
        self._backoff = backoff or ExponentialBackoffManager(clock=self._clock, rng=self._rng)
        self._last_sync_rv = ""
        self._rv_unavailable = False
        self._paginated_result = False
        self._resync_error: Exception | None = None
        self._guard: asyncio.Timeout | None = None
        self._last_activity = 0.0

    def __repr__(self) -> str:
        return f"Reflector({self.name!r}, last_sync_resource_version={self._last_sync_rv!r})"

    # -- state --------------------------------------------------------------------------------------

    def last_sync_resource_version(self) -> str:
        """The resourceVersion the store was last synced to ("" before the first LIST)."""
        return self._last_sync_rv

    def is_last_sync_resource_version_unavailable(self) -> bool:
        """True after a LIST at the last RV failed with 410 / too large, until a LIST succeeds."""
        return self._rv_unavailable

    def _set_last_sync_rv(self, rv: str) -> None:
        if rv:
            self._last_sync_rv = rv

    def _relist_resource_version(self) -> str:
        if self._rv_unavailable:
            return ""
        return self._last_sync_rv or "0"

    def _rewatch_resource_version(self) -> str:
        return "" if self._rv_unavailable else self._last_sync_rv

    def _watch_timeout_seconds(self) -> int:
        return int(self.min_watch_timeout * (self._rng.random() + 1.0))

    async def _back_off(self) -> None:
        await self._clock.sleep(self._backoff.next_delay())

    # -- run ----------------------------------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until the task is cancelled, one backoff delay between rounds."""
        log.debug("%s: starting reflector", self.name)
        while True:
            try:
                await self.list_and_watch()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                await self._handle_watch_error(err)
            await self._back_off()

    async def _handle_watch_error(self, err: Exception) -> None:
        try:
            result = self.watch_error_handler(self, err)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: the watch error handler failed", self.name)

    async def list_and_watch(self) -> None:
        """One round: LIST (or watch-list) into the store, then WATCH until the watch must be relisted.

        Returns normally when the watch ended in a way that calls for a relist; raises when the LIST
        failed or a watch could not be opened (the caller's watch-error handler gets the error).
        """
        events: AsyncIterator[WatchEvent[Any]] | None = None
        fallback_to_list = not self.use_watch_list
        if self.use_watch_list:
            try:
                events = await self._watch_list()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning(
                    "%s: the watch-list request failed, falling back to LIST/WATCH: %s", self.name, err
                )
                fallback_to_list = True
                events = None
        if fallback_to_list:
            await self._list()
        log.debug("%s: caches populated at resourceVersion %s", self.name, self._last_sync_rv)
        self._resync_error = None
        resync_task = asyncio.create_task(self._resync_loop()) if self.resync_period > 0 else None
        try:
            await self._watch(events)
        finally:
            if resync_task is not None:
                resync_task.cancel()
                await asyncio.wait([resync_task])

    # -- LIST ---------------------------------------------------------------------------------------

    def _list_page_size(self, rv: str) -> int:
        if self.page_size is not None:
            return self.page_size
        if self._paginated_result:
            return DEFAULT_PAGE_SIZE
        if rv not in ("", "0"):
            return 0  # a specific RV: unpaged, so that the watch cache can serve it
        return DEFAULT_PAGE_SIZE

    async def _list_page(self, params: dict[str, Any]) -> Any:
        options = ListOptions(
            resource_version=params.get("resourceVersion"),
            limit=params.get("limit") or None,
            continue_=params.get("continue") or None,
        )
        return await self.lister_watcher.list(options)

    async def _list(self) -> None:
        rv = self._relist_resource_version()
        pager: ListPager[Any] = ListPager(self._list_page, page_size=self._list_page_size(rv))
        try:
            result = await pager.list({"resourceVersion": rv})
        except Exception as err:
            if not (is_expired_error(err) or is_too_large_resource_version(err)):
                log.warning("%s: failed to list: %s", self.name, err)
                raise
            # The RV is gone (or the server is behind): relist at once from a consistent read.
            log.info('%s: list at resourceVersion %r failed (%s); relisting with ""', self.name, rv, err)
            self._rv_unavailable = True
            result = await pager.list({"resourceVersion": self._relist_resource_version()})
        if rv == "0" and result.paginated:
            self._paginated_result = True
        self._rv_unavailable = False
        self.store.replace(result.items, result.resource_version)
        self._set_last_sync_rv(result.resource_version)

    # -- watch-list ---------------------------------------------------------------------------------

    async def _retriable_with_side_effects(self, err: BaseException) -> bool:
        if is_watch_error_retriable(err):
            log.info("%s: watch-list returned %s - backing off", self.name, err)
            await self._back_off()
            return True
        if is_expired_error(err) or is_too_large_resource_version(err):
            self._rv_unavailable = True
            return True
        return False

    async def _watch_list(self) -> AsyncIterator[WatchEvent[Any]]:
        """Stream the initial state; returns the still-open watch after the initial-events bookmark."""
        while True:
            temp = _TempStore()
            list_rv = [""]
            options = ListOptions(
                resource_version=self._rewatch_resource_version(),
                resource_version_match="NotOlderThan",
                allow_watch_bookmarks=True,
                send_initial_events=True,
                timeout_seconds=self._watch_timeout_seconds(),
            )
            start = self._clock.now()
            try:
                events = self.lister_watcher.watch(options)
            except Exception as err:
                if await self._retriable_with_side_effects(err):
                    continue
                raise
            try:
                end = await self._watch_handler(
                    start,
                    events,
                    temp,
                    _setter(list_rv),
                    initial=True,
                )
            except BaseException as exc:
                await _aclose(events)
                failure = exc.err if isinstance(exc, _WatchOpenError) else exc
                if not isinstance(failure, Exception):
                    raise
                if await self._retriable_with_side_effects(failure):
                    continue
                raise failure from None
            if end is _End.INITIAL_EVENTS_END:
                break
            log.info("%s: watch-list ended before its initial-events bookmark; starting over", self.name)
            await _aclose(events)
        self._rv_unavailable = False
        try:
            self.store.replace(temp.list(), list_rv[0])
        except BaseException:
            await _aclose(events)  # the watch stays open only when handed over to _watch
            raise
        self._set_last_sync_rv(list_rv[0])
        return events

    # -- WATCH --------------------------------------------------------------------------------------

    async def _watch(self, events: AsyncIterator[WatchEvent[Any]] | None) -> None:
        # A watch handed over by the watch-list is already open: its errors are not "opening" ones.
        opened = events is not None
        while True:
            start = self._clock.now()
            error: BaseException | None = None
            end = _End.CLOSED
            try:
                if events is None:
                    options = ListOptions(
                        resource_version=self._last_sync_rv,
                        timeout_seconds=self._watch_timeout_seconds(),
                        allow_watch_bookmarks=True,
                    )
                    try:
                        events = self.lister_watcher.watch(options)
                    except Exception as err:
                        raise _WatchOpenError(err) from err
                end = await self._watch_handler(
                    start, events, self.store, self._set_last_sync_rv, opened=opened
                )
            except BaseException as exc:
                error = exc
            finally:
                opened = False
                if events is not None:
                    await _aclose(events)
                events = None
            if error is None:
                if end is _End.IDLE:
                    log.info(
                        "%s: watch silent for %.0f s; re-watching from %s",
                        self.name,
                        self.idle_timeout or 0.0,
                        self._last_sync_rv,
                    )
                continue  # closed by the server: re-watch at once from the last RV
            if isinstance(error, _WatchOpenError):
                if is_watch_error_retriable(error.err):
                    log.info("%s: watch returned %s - backing off", self.name, error.err)
                    await self._back_off()
                    continue
                raise error.err from None
            if not isinstance(error, Exception):
                raise error
            if is_expired_error(error):
                # Not marked unavailable: a LIST at the last RV returns data at least that fresh.
                log.info("%s: watch closed with: %s", self.name, error)
            elif is_too_many_requests(error):
                log.info("%s: watch returned 429 - backing off", self.name)
                await self._back_off()
                continue
            else:
                log.warning("%s: watch ended with: %s", self.name, error)
            return

    def _type_ok(self, obj: Any) -> bool:
        if self.expected_type is not None and not isinstance(obj, self.expected_type):
            log.error(
                "%s: expected type %s, but watch event object had type %s",
                self.name,
                self.expected_type.__name__,
                type(obj).__name__,
            )
            return False
        if self.expected_gvk is not None and isinstance(obj, Mapping):
            gvk = (obj.get("apiVersion"), obj.get("kind"))
            if gvk != self.expected_gvk:
                log.error(
                    "%s: expected gvk %s, but watch event object had gvk %s",
                    self.name,
                    self.expected_gvk,
                    gvk,
                )
                return False
        return True

    async def _watch_handler(
        self,
        start: float,
        events: AsyncIterator[WatchEvent[Any]],
        store: Any,
        set_rv: Callable[[str], None],
        *,
        initial: bool = False,
        opened: bool = False,
    ) -> _End:
        """Apply the events of one watch to ``store`` until it ends; see the module docstring."""
        clock = self._clock
        count = 0
        received = opened
        guard_fired = False
        watchdog: asyncio.Task[None] | None = None
        updater = getattr(store, "update_resource_version", None)
        it = aiter(events)
        self._last_activity = clock.now()
        try:
            async with asyncio.timeout(None) as guard:
                self._guard = guard
                if self._resync_error is not None:
                    raise self._resync_error
                if self.idle_timeout is not None and not getattr(clock, "autojump", False):
                    watchdog = asyncio.create_task(self._watchdog(guard, self.idle_timeout))
                while True:
                    try:
                        event = await anext(it)
                    except StopAsyncIteration:
                        break
                    except (ConnectionLost, ReadTimeout) as err:
                        # A reset, an early EOF or a read timeout is the watch's end, not an error
                        # (client-go's StreamWatcher: IsProbableEOF / IsTimeout close the result
                        # channel): re-watch from the last RV, no relist (unless very short).
                        log.info("%s: watch stream ended: %s", self.name, err)
                        break
                    except Exception as err:
                        if not received:
                            raise _WatchOpenError(err) from err
                        raise
                    received = True
                    self._last_activity = clock.now()
                    obj = event.object
                    etype = event.type
                    if etype == "ERROR":
                        raise error_for_status(obj if isinstance(obj, Mapping) else {}, 500)
                    if not self._type_ok(obj):
                        continue
                    if object_meta(obj) is None:
                        log.error("%s: unable to understand watch event %r", self.name, event)
                        continue
                    rv = resource_version(obj)
                    initial_end = False
                    try:
                        if etype == "ADDED":
                            store.add(obj)
                        elif etype == "MODIFIED":
                            store.update(obj)
                        elif etype == "DELETED":
                            store.delete(obj)
                        elif etype == "BOOKMARK":
                            initial_end = object_annotations(obj).get(INITIAL_EVENTS_ANNOTATION) == "true"
                        else:
                            log.error("%s: unable to understand watch event type %r", self.name, etype)
                    except Exception as err:
                        log.error(
                            "%s: unable to apply a %s watch event to the store: %s", self.name, etype, err
                        )
                    set_rv(rv)
                    if updater is not None and rv:
                        updater(rv)
                    count += 1
                    if initial and initial_end:
                        return _End.INITIAL_EVENTS_END
        except TimeoutError:
            if self._guard is None or not guard.expired():
                raise
            guard_fired = True
        finally:
            self._guard = None
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.wait([watchdog])
        if guard_fired:
            if self._resync_error is not None:
                raise self._resync_error
            return _End.IDLE
        if count == 0 and clock.now() - start < _VERY_SHORT_WATCH:
            raise VeryShortWatchError(
                f"{self.name}: very short watch: the watch lasted less than a second and no items received"
            )
        log.debug("%s: watch closed; %d events received", self.name, count)
        return _End.CLOSED

    async def _watchdog(self, guard: asyncio.Timeout, idle: float) -> None:
        """Fire ``guard`` (cancelling the pending read) once nothing arrived for ``idle`` seconds."""
        clock = self._clock
        while True:
            remaining = self._last_activity + idle - clock.now()
            if remaining <= 0:
                guard.reschedule(asyncio.get_running_loop().time())
                return
            await clock.sleep(remaining)

    def _interrupt_watch(self) -> None:
        guard = self._guard
        if guard is not None:
            with contextlib.suppress(RuntimeError):
                guard.reschedule(asyncio.get_running_loop().time())

    # -- resync -------------------------------------------------------------------------------------

    async def _resync_loop(self) -> None:
        while True:
            await self._clock.sleep(self.resync_period)
            if self.should_resync is not None and not self.should_resync():
                continue
            log.debug("%s: forcing resync", self.name)
            try:
                self.store.resync()
            except Exception as err:
                log.warning("%s: resync failed: %s", self.name, err)
                self._resync_error = err
                self._interrupt_watch()
                return


def _setter(box: list[str]) -> Callable[[str], None]:
    def set_rv(rv: str) -> None:
        if rv:
            box[0] = rv

    return set_rv


def _describe(lister_watcher: Any, expected_type: type | None) -> str:
    if expected_type is not None:
        return expected_type.__name__
    return type(lister_watcher).__name__
