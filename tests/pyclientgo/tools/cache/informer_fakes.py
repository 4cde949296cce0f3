"""A stateful in-memory ListerWatcher for the informer tests (lists the state, watches its history)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.rest import WatchEvent
from pyclientgo.testing import AsyncFakeClock
from pyclientgo.tools.cache import ListOptions, SharedIndexInformer, object_name
from pyclientgo.tools.cache.meta import resource_version


class FakeCluster:
    """ConfigMaps in memory with a revision counter. ``list`` returns the current state; ``watch`` replays
    the events after the requested RV and then follows new ones. ``silently`` changes skip the event
    history (a missed event); :meth:`break_watches` ends open watches (optionally with an error)."""

    def __init__(self, *, models: bool = True) -> None:
        self.models = models
        self.rv = 0
        self.objects: dict[str, Any] = {}
        self.events: list[tuple[int, WatchEvent[Any]]] = []
        self._changed = asyncio.Event()
        self._generation = 0
        self._break_error: BaseException | None = None
        self.list_calls: list[ListOptions] = []
        self.watch_calls: list[ListOptions] = []
        self.list_gate: asyncio.Event | None = None

    # -- mutations --------------------------------------------------------------------------

    def _make(self, name: str, ns: str, data: dict[str, str], labels: dict[str, str]) -> Any:
        raw = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ns,
                "resourceVersion": str(self.rv),
                "labels": labels,
                "managedFields": [{"manager": "test", "operation": "Update"}],
            },
            "data": data,
        }
        if self.models:
            import json

            return ConfigMap.from_json(json.dumps(raw).encode())
        return raw

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def apply(
        self,
        name: str,
        *,
        ns: str = "default",
        data: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        silently: bool = False,
    ) -> Any:
        self.rv += 1
        key = f"{ns}/{name}"
        etype = "MODIFIED" if key in self.objects else "ADDED"
        obj = self._make(name, ns, data or {}, labels or {})
        self.objects[key] = obj
        if not silently:
            self.events.append((self.rv, WatchEvent(etype, obj)))
        self._notify()
        return obj

    def delete(self, name: str, *, ns: str = "default", silently: bool = False) -> None:
        self.rv += 1
        key = f"{ns}/{name}"
        old = self.objects.pop(key)
        if not silently:
            gone = self._make(name, ns, {}, {})
            if not self.models:
                gone["metadata"]["resourceVersion"] = str(self.rv)
            self.events.append((self.rv, WatchEvent("DELETED", gone)))
        del old
        self._notify()

    def break_watches(self, error: BaseException | None = None) -> None:
        self._generation += 1
        self._break_error = error
        self._notify()

    # -- ListerWatcher ----------------------------------------------------------------------

    async def list(self, options: ListOptions) -> Any:
        self.list_calls.append(options)
        if self.list_gate is not None:
            await self.list_gate.wait()
        return {
            "apiVersion": "v1",
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": str(self.rv)},
            "items": list(self.objects.values()),
        }

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        self.watch_calls.append(options)
        return self._watch(options)

    async def _watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        generation = self._generation
        last = int(options.resource_version or "0")
        while True:
            for rv, event in list(self.events):
                if rv > last:
                    last = rv
                    yield event
            if self._generation != generation:
                if self._break_error is not None:
                    raise self._break_error
                return
            await self._changed.wait()


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (real time, polling) until ``cond()`` or fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.001)


class Events:
    """A handler object recording notifications as tuples."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self.log.append(("add", object_name(obj), resource_version(obj), is_in_initial_list))

    def on_update(self, old: Any, new: Any) -> None:
        self.log.append(("update", object_name(new), resource_version(old), resource_version(new)))

    def on_delete(self, obj: Any) -> None:
        self.log.append(("delete", obj))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.log]


def new_informer(cluster: FakeCluster, **kw: Any) -> tuple[SharedIndexInformer, AsyncFakeClock]:
    clock: AsyncFakeClock = kw.pop("clock", None) or AsyncFakeClock(autojump=False)
    informer = SharedIndexInformer(cluster, None, clock=clock, idle_timeout=None, name="test", **kw)
    return informer, clock


@contextlib.asynccontextmanager
async def running(informer: SharedIndexInformer) -> AsyncIterator[asyncio.Task[None]]:
    task = informer.start()
    try:
        yield task
    finally:
        await informer.stop()
        await task
