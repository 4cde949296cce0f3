"""Fault injection (testserver.apiserver.faults) driven through ``TestServer.faults`` and observed with
real pyclientgo clients: each switch does what it says, and the server is healthy afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import Config, load_config
from pyclientgo.errors import (
    InternalError,
    NotFound,
    ResourceExpired,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
)
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import AsyncRESTClient, WatchEvent
from testserver.faults_client import FaultsError
from testserver.testing import TestServer

_ids = itertools.count()
DEADLINE = 20.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    srv = TestServer(data_dir=tmp_path_factory.mktemp("faults-apiserver"), bookmark_interval=0.2)
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def config(server: TestServer) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)


@pytest.fixture
async def cs(config: Config, server: TestServer) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(config) as clientset:
        yield clientset
        # every test leaves the switches off and the server serving
        await asyncio.to_thread(server.faults.reset)
        state = await asyncio.to_thread(server.faults.state)
        assert not state["fail"] and not state["cut"] and not state["latency"] and state["bookmarks"]
        await clientset.core_v1.namespaces().get("default")


async def _namespace(cs: AsyncClientset) -> str:
    name = f"faults-{next(_ids)}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _state(server: TestServer) -> dict[str, Any]:
    return await asyncio.to_thread(server.faults.state)


async def _open_watches(server: TestServer, n: int) -> None:
    async def check() -> bool:
        return int((await _state(server))["openWatches"]) >= n

    await _eventually(check, f"{n} open watch(es)")


class _Reader:
    """Consumes a watch in a task; records events and how it ended."""

    def __init__(self, events: AsyncIterator[WatchEvent[Any]]) -> None:
        self.events: list[WatchEvent[Any]] = []
        self.error: BaseException | None = None
        self._it = events
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            async with contextlib.aclosing(self._it):  # type: ignore[type-var]
                async for ev in self._it:
                    self.events.append(ev)
        except Exception as e:
            self.error = e

    def names(self, kinds: tuple[str, ...] = ("ADDED", "MODIFIED", "DELETED")) -> list[str]:
        return [ev.object.metadata.name for ev in self.events if ev.type in kinds]

    async def wait_for(self, pred: Callable[[], bool], what: str) -> None:
        async def check() -> bool:
            return pred() or self.task.done()

        await _eventually(check, what)
        assert pred(), f"{what}: watch ended with {self.error!r} after {self.events!r}"

    async def ended(self) -> None:
        await asyncio.wait_for(asyncio.shield(self.task), DEADLINE)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


# -- the admin path -------------------------------------------------------------------------------


async def test_admin_path_needs_authentication_and_is_not_discoverable(
    server: TestServer, config: Config
) -> None:
    verify = ssl.create_default_context(cafile=str(server.ca_cert))
    async with httpx.AsyncClient(base_url=server.url, verify=verify) as anon:
        resp = await anon.post("/testserver/faults", json={"action": "fail"})
        assert resp.status_code == 401
        assert (await anon.get("/testserver/faults")).status_code == 401
    state = await _state(server)
    assert state["fail"] == [] and state["bookmarks"] is True  # nothing was armed by the anonymous call
    async with AsyncRESTClient(config) as rest:
        for path in ("/api", "/apis", "/api/v1", "/openapi/v2", "/openapi/v3"):
            body = (await rest.request("GET", path)).content
            assert b"testserver/faults" not in body, path
        with pytest.raises(NotFound):
            await rest.request("GET", "/testserver/other")
        from pyclientgo.errors import BadRequest, MethodNotAllowed

        with pytest.raises(MethodNotAllowed):
            await rest.request("DELETE", "/testserver/faults")
        for bad in (
            b"{",
            b"[]",
            b'{"action":"explode"}',
            b'{"action":"fail","code":200}',
            b'{"action":"fail","count":0}',
            b'{"action":"fail","verb":"frobnicate"}',
            b'{"action":"latency","seconds":"1"}',
            b'{"action":"bookmarks","enabled":1}',
        ):
            with pytest.raises(BadRequest):
                await rest.request("POST", "/testserver/faults", body=bad)
    assert (await _state(server))["fail"] == []  # a rejected request armed nothing
    with pytest.raises(FaultsError, match="unknown action"):
        server.faults._post("explode")


# -- fail -----------------------------------------------------------------------------------------


async def test_fail_next_500_only_for_matching_requests(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    await cms.create(ConfigMap(metadata={"name": "a"}))
    await asyncio.to_thread(server.faults.fail_next, 2, code=500, verb="list", resource="configmaps")
    assert (await cms.get("a")).metadata.name == "a"  # another verb: served
    assert (await cs.core_v1.secrets(ns).list()).items == []  # another resource: served
    for _ in range(2):
        with pytest.raises(InternalError) as info:
            await cms.list()
        assert info.value.code == 500
        assert info.value.status["message"] == "Internal error occurred: injected fault"
    assert [c.metadata.name for c in (await cms.list()).items] == ["a"]  # the third is served
    assert (await _state(server))["counters"]["failed"] >= 2


async def test_fail_next_filters_by_namespace_and_path_prefix(server: TestServer, cs: AsyncClientset) -> None:
    ns1, ns2 = await _namespace(cs), await _namespace(cs)
    await asyncio.to_thread(server.faults.fail_next, 1, code=503, namespace=ns2)
    assert (await cs.core_v1.config_maps(ns1).list()).items == []
    with pytest.raises(ServiceUnavailable):
        await cs.core_v1.config_maps(ns2).list()
    await asyncio.to_thread(server.faults.fail_next, 1, code=500, path_prefix="/apis/apps/")
    assert (await cs.core_v1.config_maps(ns1).list()).items == []
    with pytest.raises(InternalError):
        await cs.apps_v1.deployments(ns1).list()
    # health checks are never affected
    await asyncio.to_thread(server.faults.fail_next, 1, code=500)
    async with AsyncRESTClient(dataclasses.replace(cs.rest.config)) as rest:
        assert (await rest.request("GET", "/healthz")).text == "ok"
    with pytest.raises(InternalError):
        await cs.core_v1.config_maps(ns1).list()


async def test_fail_next_410_on_list_and_watch(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    rv = (await cms.list()).metadata.resource_version
    await asyncio.to_thread(server.faults.fail_next, 1, code=410, verb="list")
    with pytest.raises(ResourceExpired) as info:
        await cms.list(resource_version=rv, resource_version_match="NotOlderThan")
    assert info.value.status["reason"] == "Expired"
    assert info.value.status["message"] == f"too old resource version: {rv} ({rv})"
    # a watch: as an HTTP 410 ...
    await asyncio.to_thread(server.faults.fail_next, 1, code=410, verb="watch")
    with pytest.raises(ResourceExpired):
        async for _ in cms.watch(resource_version=rv):
            pass
    # ... or as kube-apiserver does it: 200 and one ERROR event
    await asyncio.to_thread(server.faults.fail_next, 1, code=410, verb="watch", in_stream=True)
    async with AsyncRESTClient(cs.rest.config) as rest:
        async with rest.stream("GET", f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "true"}) as r:
            assert r.status_code == 200
            body = await r.aread()
    assert body.startswith(b'{"type":"ERROR","object":{"kind":"Status"') and b'"code":410' in body
    # and the next watch is served
    reader = _Reader(cms.watch(resource_version=rv))
    await _open_watches(server, 1)
    await cms.create(ConfigMap(metadata={"name": "after"}))
    await reader.wait_for(lambda: "after" in reader.names(), "the event after the 410s")
    await reader.stop()


async def test_fail_next_429_carries_retry_after_and_clients_retry(
    server: TestServer, cs: AsyncClientset, config: Config
) -> None:
    ns = await _namespace(cs)
    no_retry = dataclasses.replace(config, max_retries=0)
    async with AsyncClientset(no_retry) as once:
        await asyncio.to_thread(server.faults.fail_next, 1, code=429, retry_after=0)
        with pytest.raises(TooManyRequests) as info:
            await once.core_v1.config_maps(ns).list()
        assert info.value.code == 429 and info.value.retry_after_seconds is None  # 0: omitted
    await asyncio.to_thread(server.faults.fail_next, 1, code=429)
    async with AsyncRESTClient(no_retry) as rest:
        with pytest.raises(TooManyRequests) as info:
            await rest.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
        assert info.value.retry_after_seconds == 1  # the default for 429
    # the default client retries a 429 that carries Retry-After (client-go §7.2)
    await asyncio.to_thread(server.faults.fail_next, 3, code=429, retry_after=0)
    assert (await cs.core_v1.config_maps(ns).list()).items == []
    assert (await _state(server))["fail"] == []  # all three were consumed by the retries


# -- cut ------------------------------------------------------------------------------------------


async def test_cut_list_after_bytes(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    for i in range(20):
        await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": f"c{i}"}, data={"k": "v" * 100}))
    path = f"/api/v1/namespaces/{ns}/configmaps"
    full = len((await cs.rest.request("GET", path)).content)
    await asyncio.to_thread(server.faults.cut_next, 1, after_bytes=100, verb="list")
    got = bytearray()
    async with AsyncRESTClient(cs.rest.config) as rest:
        async with rest.stream("GET", path) as resp:
            assert resp.status_code == 200
            assert int(resp.headers["content-length"]) == full
            with pytest.raises(httpx.RemoteProtocolError):
                async for chunk in resp.aiter_raw():
                    got += chunk
    assert len(got) == 100
    # through the typed client: a transport error, not a clean (short) list
    await asyncio.to_thread(server.faults.cut_next, 1, after_bytes=10, verb="list", resource="configmaps")
    with pytest.raises(TransportError):
        await cs.core_v1.config_maps(ns).list()
    assert len((await cs.core_v1.config_maps(ns).list()).items) == 20
    assert (await _state(server))["counters"]["cut"] >= 2


async def test_cut_watch_after_events(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    rv = (await cms.list()).metadata.resource_version
    await asyncio.to_thread(server.faults.cut_next, 1, after_events=3, verb="watch")
    reader = _Reader(cms.watch(resource_version=rv, allow_watch_bookmarks=True))
    await _open_watches(server, 1)
    for i in range(6):
        await cms.create(ConfigMap(metadata={"name": f"w{i}"}))
    await reader.ended()
    assert isinstance(reader.error, TransportError), reader.error  # not a clean end
    assert reader.names() == ["w0", "w1", "w2"]
    # a new watch from the last seen resourceVersion resumes exactly after the cut
    last = reader.events[-1].object.metadata.resource_version
    again = _Reader(cms.watch(resource_version=last))
    await again.wait_for(lambda: len(again.names()) == 3, "the rest of the events")
    assert again.names() == ["w3", "w4", "w5"]
    await again.stop()


# -- latency --------------------------------------------------------------------------------------


async def test_latency_delays_matching_requests_until_cleared(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": "slow"}))
    before = (await _state(server))["counters"]["delayed"]
    await asyncio.to_thread(server.faults.latency, 3600, verb="get", resource="configmaps")
    slow = asyncio.ensure_future(cs.core_v1.config_maps(ns).get("slow"))

    async def delayed() -> bool:
        return int((await _state(server))["counters"]["delayed"]) > before

    await _eventually(delayed, "the get to be delayed")
    # other requests are served while the get waits
    assert (await cs.core_v1.config_maps(ns).list()).items[0].metadata.name == "slow"
    assert not slow.done()
    await asyncio.to_thread(server.faults.latency, 0)  # releases the waiting request
    got = await asyncio.wait_for(slow, DEADLINE)
    assert got.metadata.name == "slow"


# -- bookmarks ------------------------------------------------------------------------------------


async def test_bookmarks_stop_and_resume(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    rv = (await cms.list()).metadata.resource_version
    reader = _Reader(cms.watch(resource_version=rv, allow_watch_bookmarks=True))
    await reader.wait_for(lambda: any(e.type == "BOOKMARK" for e in reader.events), "a first bookmark")
    await asyncio.to_thread(server.faults.bookmarks, False)
    suppressed = (await _state(server))["counters"]["suppressedBookmarks"]
    await cms.create(ConfigMap(metadata={"name": "m1"}))

    async def ticks_suppressed() -> bool:
        return int((await _state(server))["counters"]["suppressedBookmarks"]) >= suppressed + 3

    await _eventually(ticks_suppressed, "three bookmark ticks to be suppressed")
    await cms.create(ConfigMap(metadata={"name": "m2"}))
    await reader.wait_for(lambda: "m2" in reader.names(), "m2")
    types = [e.type if e.type == "BOOKMARK" else e.object.metadata.name for e in reader.events]
    assert types[types.index("m1") :] == ["m1", "m2"]  # nothing between: no bookmark after the switch
    # the initial-events-end bookmark of a watch-list is protocol: still sent
    listing = _Reader(
        cms.watch(send_initial_events=True, resource_version_match="NotOlderThan", allow_watch_bookmarks=True)
    )
    await listing.wait_for(lambda: any(e.type == "BOOKMARK" for e in listing.events), "initial-events-end")
    end = next(e for e in listing.events if e.type == "BOOKMARK")
    assert end.object.metadata.annotations == {"k8s.io/initial-events-end": "true"}
    assert listing.names() == ["m1", "m2"]
    await listing.stop()
    await asyncio.to_thread(server.faults.bookmarks, True)
    n = len(reader.events)
    await reader.wait_for(
        lambda: any(e.type == "BOOKMARK" for e in reader.events[n:]), "bookmarks after resuming"
    )
    await reader.stop()


# -- drop watches ---------------------------------------------------------------------------------


async def test_drop_watches_clean_and_abrupt(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    rv = (await cms.list()).metadata.resource_version
    readers = [_Reader(cms.watch(resource_version=rv)) for _ in range(3)]
    await _open_watches(server, 3)
    assert await asyncio.to_thread(server.faults.drop_watches) >= 3
    for r in readers:
        await r.ended()
        assert r.error is None  # a clean end of stream, as when timeoutSeconds passes
    assert (await _state(server))["openWatches"] == 0
    abrupt = _Reader(cms.watch(resource_version=rv))
    await _open_watches(server, 1)
    await cms.create(ConfigMap(metadata={"name": "seen"}))
    await abrupt.wait_for(lambda: abrupt.names() == ["seen"], "the first event")
    assert await asyncio.to_thread(lambda: server.faults.drop_watches(abrupt=True)) == 1
    await abrupt.ended()
    assert isinstance(abrupt.error, TransportError), abrupt.error
    # healthy afterwards: a new watch sees new events
    fresh = _Reader(cms.watch(resource_version=rv))
    await cms.create(ConfigMap(metadata={"name": "later"}))
    await fresh.wait_for(lambda: fresh.names() == ["seen", "later"], "events after the drops")
    await fresh.stop()


# -- restart --------------------------------------------------------------------------------------


async def test_restart_in_process_keeps_memory_storage(server: TestServer, cs: AsyncClientset) -> None:
    ns = await _namespace(cs)
    cms = cs.core_v1.config_maps(ns)
    created = await cms.create(ConfigMap(metadata={"name": "kept"}, data={"a": "1"}))
    rv = created.metadata.resource_version
    reader = _Reader(cms.watch(resource_version=rv))
    await _open_watches(server, 1)
    generation = (await _state(server))["generation"]
    url = server.url
    await asyncio.to_thread(server.restart)
    await reader.ended()  # the watch did not survive the restart
    assert reader.error is not None
    assert server.url == url
    state = await _state(server)
    assert state["generation"] == generation + 1 and state["counters"]["restarts"] >= 1
    # the same clientset keeps working (its pooled connections were dropped)
    got = await cms.get("kept")
    assert got.metadata.resource_version == rv and got.data == {"a": "1"}
    await cms.update(ConfigMap(metadata={"name": "kept", "resourceVersion": rv}, data={"a": "2"}))
    # history survived too: a watch from before the restart replays the update
    again = _Reader(cms.watch(resource_version=rv))
    await again.wait_for(lambda: again.names(("MODIFIED",)) == ["kept"], "the update")
    assert int(again.events[0].object.metadata.resource_version) > int(rv)
    await again.stop()


async def test_restart_while_down_refuses_connections(server: TestServer, config: Config) -> None:
    """During the down window the port is closed (connection refused), not answering 5xx."""
    client = server.faults
    target = client._post("restart", downSeconds=1.0)["restartingToGeneration"]
    no_retry = dataclasses.replace(config, max_retries=0)
    from pyclientgo.errors import ConnectError

    async with AsyncClientset(no_retry) as once:
        refused = False
        deadline = time.monotonic() + DEADLINE
        while not refused and time.monotonic() < deadline:
            try:
                await once.core_v1.namespaces().get("default")
            except ConnectError:
                refused = True
            except TransportError:
                pass  # the connection was dropped under the request
            if (await _state_or_none(server) or {}).get("generation", -1) >= target:
                break
        assert refused
    await asyncio.to_thread(_wait_generation, server, target)


async def _state_or_none(server: TestServer) -> dict[str, Any] | None:
    try:
        return await _state(server)
    except (httpx.TransportError, FaultsError):
        return None


def _wait_generation(server: TestServer, target: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError, FaultsError):
            if server.faults.state()["generation"] >= target:
                return
        time.sleep(0.01)
    raise AssertionError("server did not come back")


async def test_restart_sqlite_is_a_process_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = TestServer(data_dir=tmp_path_factory.mktemp("faults-sqlite"), storage="sqlite:state.db")
    srv.start()
    try:
        cfg = dataclasses.replace(load_config(kubeconfig=str(srv.kubeconfig)), qps=-1)
        pid, url = srv.pid, srv.url
        async with AsyncClientset(cfg) as c:
            created = await c.core_v1.config_maps("default").create(ConfigMap(metadata={"name": "db"}))
            await asyncio.to_thread(srv.faults.fail_next, 5, code=500, verb="create")
            await asyncio.to_thread(srv.restart)
            assert srv.pid != pid and srv.url == url
            got = await c.core_v1.config_maps("default").get("db")
            assert got.metadata.uid == created.metadata.uid
            assert (await asyncio.to_thread(srv.faults.state))["fail"] == []  # a new process: switches reset
            await asyncio.to_thread(lambda: srv.restart(keep_storage=False))
            with pytest.raises(NotFound):
                await c.core_v1.config_maps("default").get("db")
            await c.core_v1.namespaces().get("default")  # bootstrapped again
    finally:
        srv.cleanup()
