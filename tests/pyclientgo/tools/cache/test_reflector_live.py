"""The Reflector against real servers: the session's ``testserver apiserver`` (typed LIST+WATCH,
dynamic watch-list), a private small-history server (relist after 410), and a raw socket server that
goes silent mid-watch (client-go#374: a half-open watch must end)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from reflector_fakes import Log, RecordingStore, running, until

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import Gone
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import WatchEvent
from pyclientgo.testing import AsyncFakeClock
from pyclientgo.tools.cache.listwatch import ListerWatcher, ListOptions, ListWatch
from pyclientgo.tools.cache.reflector import Reflector
from testserver.testing import TestServer

WINDOW = 20
DEADLINE = 15.0
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
_ids = itertools.count()


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


@pytest.fixture(scope="module")
def small_window_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    server = TestServer(data_dir=tmp_path_factory.mktemp("reflector-410"), history_window=WINDOW)
    server.start()
    try:
        yield dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
    finally:
        server.cleanup()


async def _namespace(cs: AsyncClientset, prefix: str = "refl") -> str:
    ns = f"{prefix}-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
    return ns


class CountingLW:
    """Delegates to a real ListWatch; records options; can hold the first watch behind a gate."""

    def __init__(self, inner: ListerWatcher, *, gate_first_watch: bool = False) -> None:
        self.inner = inner
        self.list_calls: list[ListOptions] = []
        self.watch_calls: list[ListOptions] = []
        self.gate = asyncio.Event()
        if not gate_first_watch:
            self.gate.set()

    async def list(self, options: ListOptions) -> Any:
        self.list_calls.append(options)
        return await self.inner.list(options)

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        self.watch_calls.append(options)
        first = len(self.watch_calls) == 1

        async def gen() -> AsyncIterator[WatchEvent[Any]]:
            if first:
                await self.gate.wait()
            inner = self.inner.watch(options)
            async with contextlib.aclosing(inner):  # type: ignore[type-var]
                async for event in inner:
                    yield event

        return gen()


async def test_typed_list_then_watch_events(config: Config) -> None:
    async with AsyncClientset(config) as cs:
        ns = await _namespace(cs)
        cms = cs.core_v1.config_maps(ns)
        for name in ("a", "b"):
            await cms.create(ConfigMap(metadata={"name": name}, data={"v": "1"}))
        log = Log()
        store = RecordingStore(log)
        lw = CountingLW(ListWatch.from_client(cms))
        reflector = Reflector(lw, store, expected_type=ConfigMap, name="configmaps")
        async with running(reflector) as task:
            await until(lambda: bool(lw.watch_calls), task, DEADLINE)
            (replace,) = log.of("replace")
            assert replace[1] == ["a", "b"]
            assert reflector.last_sync_resource_version() == replace[2]
            assert all(isinstance(o, ConfigMap) for o in store.list())

            await cms.create(ConfigMap(metadata={"name": "c"}))
            updated = await cms.patch("a", {"data": {"v": "2"}}, patch_type="merge")
            await cms.delete("b")
            await until(lambda: len(log.entries) >= 4, task, DEADLINE)
            assert [e[:2] for e in log.entries[1:4]] == [("add", "c"), ("update", "a"), ("delete", "b")]
            assert store.items["a"].data == {"v": "2"}
            assert updated.metadata is not None
            assert log.entries[2][2] == updated.metadata.resource_version
            # bookmarks (1 s on the session server) move the RV without store calls
            rv = int(reflector.last_sync_resource_version())
            other = await _namespace(cs)  # a write elsewhere moves the server's revision
            await cs.core_v1.config_maps(other).create(ConfigMap(metadata={"name": "elsewhere"}))
            await until(lambda: int(reflector.last_sync_resource_version()) > rv, task, DEADLINE)
            assert len(log.entries) == 4
        assert [o.resource_version for o in lw.list_calls] == ["0"]
        assert lw.list_calls[0].limit == 500
        assert lw.watch_calls[0].allow_watch_bookmarks


async def test_dynamic_watch_list_mode(config: Config) -> None:
    async with AsyncClientset(config) as cs, AsyncDynamicClient(config) as dyn:
        ns = await _namespace(cs)
        cms = cs.core_v1.config_maps(ns)
        for name in ("x", "y", "z"):
            await cms.create(ConfigMap(metadata={"name": name}))
        log = Log()
        store = RecordingStore(log)
        lw = CountingLW(ListWatch.from_client(dyn.resource(CONFIGMAPS, ns)))
        reflector = Reflector(
            lw, store, use_watch_list=True, expected_gvk=("v1", "ConfigMap"), name="dyn-configmaps"
        )
        async with running(reflector) as task:
            await until(lambda: bool(log.of("replace")), task, DEADLINE)
            (replace,) = log.of("replace")
            assert sorted(replace[1]) == ["x", "y", "z"]
            assert replace[2] and reflector.last_sync_resource_version() == replace[2]
            await cms.create(ConfigMap(metadata={"name": "w"}))
            await until(lambda: bool(log.of("add")), task, DEADLINE)
            assert log.of("add")[0][1] == "w"
        assert lw.list_calls == []
        assert len(lw.watch_calls) == 1  # the same watch went on after the initial events
        opts = lw.watch_calls[0]
        assert opts.send_initial_events and opts.resource_version_match == "NotOlderThan"


async def _churn(cs: AsyncClientset, writes: int = 2 * WINDOW) -> None:
    ns = await _namespace(cs, "churn")
    cms = cs.core_v1.config_maps(ns)
    await cms.create(ConfigMap(metadata={"name": "c"}, data={"n": "0"}))
    for i in range(1, writes):
        await cms.patch("c", {"data": {"n": str(i)}}, patch_type="merge")


async def test_relist_after_410_on_a_small_history_server(small_window_config: Config) -> None:
    async with AsyncClientset(small_window_config) as cs:
        ns = await _namespace(cs)
        cms = cs.core_v1.config_maps(ns)
        for name in ("a", "b", "c"):
            await cms.create(ConfigMap(metadata={"name": name}))
        log = Log()
        store = RecordingStore(log)
        errors: list[BaseException] = []
        lw = CountingLW(ListWatch.from_client(cms), gate_first_watch=True)
        reflector = Reflector(
            lw,
            store,
            name="expiring",
            page_size=2,  # always paged: a LIST at an expired RV is then an exact read -> 410
            clock=AsyncFakeClock(),  # backoffs take no real time
            watch_error_handler=lambda r, err: errors.append(err),
        )
        async with running(reflector) as task:
            await until(lambda: bool(lw.watch_calls), task, DEADLINE)
            first_rv = reflector.last_sync_resource_version()
            assert log.of("replace") == [("replace", ["a", "b", "c"], first_rv)]
            await cms.delete("a")
            await cms.create(ConfigMap(metadata={"name": "d"}))
            await _churn(cs)  # first_rv falls out of the history window
            lw.gate.set()
            await until(lambda: len(log.of("replace")) == 2, task, DEADLINE)
            second = log.of("replace")[1]
            assert second[1] == ["b", "c", "d"]
            assert int(second[2]) > int(first_rv)
            assert not reflector.is_last_sync_resource_version_unavailable()
        # the watch at the expired RV failed with 410 (the error handler saw it) ...
        assert len(errors) == 1 and isinstance(errors[0], Gone)
        # ... the relist at that RV was refused too (410), so the reflector relisted at "" at once
        rvs = [(o.resource_version, o.continue_) for o in lw.list_calls]
        assert rvs[0] == ("0", None)
        i = rvs.index((first_rv, None))
        assert rvs[i + 1] == ("", None)
        assert lw.watch_calls[-1].resource_version == second[2]


# -- a half-open watch (client-go#374) --------------------------------------------------------------


class SilentServer:
    """Plain-HTTP server: answers LISTs with an empty ConfigMapList; answers a watch with 200 and
    chunked headers, then never sends a byte (a half-open connection as the client sees it)."""

    def __init__(self) -> None:
        self.watches = 0
        self.closed_by_client = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> SilentServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1]
                if b"watch=true" in target:
                    self.watches += 1
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n"
                    )
                    await writer.drain()
                    if await reader.read(1) == b"":  # blocks until the client goes away
                        self.closed_by_client += 1
                    return
                body = orjson.dumps(
                    {
                        "kind": "ConfigMapList",
                        "apiVersion": "v1",
                        "metadata": {"resourceVersion": "7"},
                        "items": [],
                    }
                )
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


async def test_half_open_watch_is_abandoned_and_reopened() -> None:
    async with SilentServer() as server:
        config = Config(host=f"http://127.0.0.1:{server.port}", qps=-1)
        async with AsyncDynamicClient(config) as dyn:
            lw = CountingLW(ListWatch.from_client(dyn.resource(CONFIGMAPS, "default")))
            log = Log()
            reflector = Reflector(lw, RecordingStore(log), name="silent", idle_timeout=0.2)
            async with running(reflector) as task:
                await until(lambda: server.watches >= 3, task, DEADLINE)
                await until(lambda: server.closed_by_client >= 2, task, DEADLINE)
        assert log.of("replace") == [("replace", [], "7")]
        assert [o.resource_version for o in lw.watch_calls[:3]] == ["7", "7", "7"]
        assert len(lw.list_calls) == 1  # re-watched, never relisted
