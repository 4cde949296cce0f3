"""Scripted fakes for the reflector tests: a ListerWatcher, watches, a recording store and clock."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pyclientgo.rest import WatchEvent
from pyclientgo.testing import AsyncFakeClock
from pyclientgo.tools.cache.listwatch import ListOptions
from pyclientgo.tools.cache.meta import object_name, resource_version
from pyclientgo.tools.cache.reflector import Reflector

END = object()


def obj(name: str, rv: str | int, *, ns: str = "default", kind: str = "ConfigMap") -> dict[str, Any]:
    """A dict object as the dynamic client returns it."""
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv)},
    }


def bookmark(rv: str | int, *, initial_end: bool = False) -> WatchEvent[Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return WatchEvent("BOOKMARK", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})


def ev(etype: str, name: str, rv: str | int, **kw: Any) -> WatchEvent[Any]:
    return WatchEvent(etype, obj(name, rv, **kw))


def list_obj(items: list[dict[str, Any]], rv: str | int, cont: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if cont:
        meta["continue"] = cont
    return {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": meta, "items": items}


class Log:
    """One ordered record of everything that happened (lists, watches, sleeps, store calls)."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []

    def add(self, *entry: Any) -> None:
        self.entries.append(entry)

    def kinds(self) -> list[str]:
        return [e[0] for e in self.entries]

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [e for e in self.entries if e[0] == kind]


class RecordingClock(AsyncFakeClock):
    """AsyncFakeClock that logs each sleep (the reflector's backoffs, resync timer)."""

    def __init__(self, log: Log, *, autojump: bool = True) -> None:
        super().__init__(autojump=autojump)
        self.log = log

    async def sleep(self, seconds: float) -> None:
        self.log.add("sleep", seconds)
        await super().sleep(seconds)


class RecordingStore:
    """Records every Store call as (method, name(s), rv)."""

    def __init__(self, log: Log | None = None) -> None:
        self.log = log or Log()
        self.items: dict[str, Any] = {}
        self.resync_error: Exception | None = None

    def _key(self, o: Any) -> str:
        return object_name(o)

    def add(self, o: Any) -> None:
        self.log.add("add", object_name(o), resource_version(o))
        self.items[self._key(o)] = o

    def update(self, o: Any) -> None:
        self.log.add("update", object_name(o), resource_version(o))
        self.items[self._key(o)] = o

    def delete(self, o: Any) -> None:
        self.log.add("delete", object_name(o), resource_version(o))
        self.items.pop(self._key(o), None)

    def replace(self, items: list[Any], rv: str) -> None:
        self.log.add("replace", [object_name(o) for o in items], rv)
        self.items = {self._key(o): o for o in items}

    def resync(self) -> None:
        self.log.add("resync")
        if self.resync_error is not None:
            raise self.resync_error

    def list(self) -> builtins.list[Any]:
        return builtins.list(self.items.values())

    def list_keys(self) -> builtins.list[str]:
        return builtins.list(self.items)

    def get(self, o: Any) -> Any | None:
        return self.items.get(self._key(o))

    def get_by_key(self, key: str) -> Any | None:
        return self.items.get(key)


class FakeWatch:
    """An async iterator of scripted items: WatchEvents, exceptions (raised), callables (called),
    ``END`` (the stream ends). Without ``END`` it stays open until :meth:`push`/:meth:`end`."""

    def __init__(self, items: list[Any] | None = None, *, end: bool = True) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        for item in items or []:
            self.queue.put_nowait(item)
        if end:
            self.queue.put_nowait(END)
        self.closed = False
        self.cancelled = False
        self.options: ListOptions | None = None

    def push(self, *items: Any) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def end(self) -> None:
        self.queue.put_nowait(END)

    def __aiter__(self) -> FakeWatch:
        return self

    async def __anext__(self) -> WatchEvent[Any]:
        while True:
            if self.closed:
                raise StopAsyncIteration
            try:
                item = await self.queue.get()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            if item is END:
                raise StopAsyncIteration
            if isinstance(item, BaseException):
                raise item
            if callable(item):
                item()
                continue
            return item  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        self.closed = True


class RaiseNow:
    """A watch script entry making ``watch()`` itself raise (not the first ``anext``)."""

    def __init__(self, err: Exception) -> None:
        self.err = err


class FakeLW:
    """A scripted ListerWatcher. ``lists`` entries: list objects, exceptions, or async callables;
    ``watches`` entries: FakeWatch, an exception (raised by the first anext) or RaiseNow. When a
    script runs out, calls block forever (the reflector parks there)."""

    def __init__(self, log: Log | None = None) -> None:
        self.log = log or Log()
        self.lists: deque[Any] = deque()
        self.watches: deque[Any] = deque()
        self.list_calls: list[ListOptions] = []
        self.watch_calls: list[ListOptions] = []
        self.opened: list[FakeWatch] = []

    async def list(self, options: ListOptions) -> Any:
        self.list_calls.append(options)
        self.log.add("list", options.resource_version, options.limit, options.continue_)
        if not self.lists:
            await asyncio.Event().wait()
        item = self.lists.popleft()
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            return await item(options)
        return item

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        self.watch_calls.append(options)
        self.log.add("watch", options.resource_version)
        item = self.watches.popleft() if self.watches else FakeWatch(end=False)
        if isinstance(item, RaiseNow):
            raise item.err
        if isinstance(item, BaseException):
            item = FakeWatch([item])
        item.options = options
        self.opened.append(item)
        return item


async def until(
    cond: Callable[[], bool], task: asyncio.Task[Any] | None = None, timeout: float = 5.0
) -> None:
    """Wait (real time, polling) until ``cond()``; fail if the deadline passes or ``task`` died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if task is not None and task.done():
            task.result()
            raise AssertionError("the reflector stopped")
        if loop.time() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.001)


async def settle(n: int = 50) -> None:
    """Let every ready task run a few steps (no time passes on any clock)."""
    for _ in range(n):
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def running(reflector: Reflector) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(reflector.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make(
    *, autojump: bool = True, idle_timeout: float | None = None, **kw: Any
) -> tuple[Reflector, FakeLW, RecordingStore, RecordingClock, Log]:
    import random

    log = Log()
    lw = FakeLW(log)
    store = RecordingStore(log)
    clock = RecordingClock(log, autojump=autojump)
    reflector = Reflector(
        lw, store, name="test", clock=clock, rng=random.Random(7), idle_timeout=idle_timeout, **kw
    )
    return reflector, lw, store, clock, log


AsyncFn = Callable[[ListOptions], Awaitable[Any]]
