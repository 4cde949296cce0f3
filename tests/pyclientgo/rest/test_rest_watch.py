from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclientgo.config import Config
from pyclientgo.errors import DecodeError, Gone, ResourceExpired
from pyclientgo.rest import AsyncRESTClient, RESTClient, WatchDecoder, WatchEvent
from pyclientgo.testing import AsyncFakeClock, FakeClock

HOST = "http://k8s.test"


def event(kind: str, name: str, rv: int, extra: str = "") -> bytes:
    obj = {"kind": "ConfigMap", "metadata": {"name": name, "resourceVersion": str(rv)}, "data": {"x": extra}}
    return orjson.dumps({"type": kind, "object": obj}) + b"\n"


STREAM = (
    event("ADDED", "a", 1, 'line\nbreak \u00e9 {"}')
    + event("MODIFIED", "a", 2)
    + event("DELETED", "a", 3)
    + event("BOOKMARK", "", 4)
)


def decode(raw: bytes) -> dict[str, object]:
    out = orjson.loads(raw)
    assert isinstance(out, dict)
    return out


def run(chunks: list[bytes]) -> list[WatchEvent[dict[str, object]]]:
    dec = WatchDecoder(decode)
    out = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.close())
    return out


EXPECTED = [(e["type"], e["object"]) for e in map(orjson.loads, STREAM.splitlines())]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
@settings(max_examples=300, deadline=None)
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    got = run(chunks)
    assert [(e.type, e.object) for e in got] == EXPECTED


def test_several_events_per_chunk_and_no_trailing_newline() -> None:
    got = run([STREAM[:-1]])
    assert [e.type for e in got] == ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]


def test_huge_object_in_small_chunks() -> None:
    big = "y" * (12 * 1024 * 1024)
    data = event("ADDED", "big", 1, big) + event("MODIFIED", "small", 2)
    dec = WatchDecoder(lambda raw: raw)
    events = []
    for i in range(0, len(data), 65536):
        events.extend(dec.feed(data[i : i + 65536]))
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert len(events[0].object) > 12 * 1024 * 1024
    assert dec.pending == 0


def error_event(reason: str, code: int) -> bytes:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
        "message": "too old resource version: 1 (5)",
    }
    return orjson.dumps({"type": "ERROR", "object": status}) + b"\n"


def test_error_event_raises_after_earlier_events() -> None:
    dec = WatchDecoder(decode)
    seen = []
    with pytest.raises(ResourceExpired, match="too old"):
        for e in dec.feed(event("ADDED", "a", 1) + error_event("Expired", 410)):
            seen.append(e.type)
    assert seen == ["ADDED"]
    with pytest.raises(Gone):
        list(WatchDecoder(decode).feed(error_event("Gone", 410)))
    with pytest.raises(Gone):
        list(WatchDecoder(decode).feed(error_event("", 410)))


def test_truncated_last_event_is_dropped() -> None:
    dec = WatchDecoder(decode)
    first_line = STREAM.split(b"\n")[0] + b"\n"
    events = list(dec.feed(first_line + b'{"type": "ADDED", "obj'))
    assert [e.type for e in events] == ["ADDED"]
    assert list(dec.close()) == []


@pytest.mark.parametrize("line", [b"not json\n", b'{"type": "WEIRD", "object": {}}\n', b'{"object": {}}\n'])
def test_bad_lines(line: bytes) -> None:
    with pytest.raises(DecodeError):
        list(WatchDecoder(decode).feed(line))


class Chunks(httpx.AsyncByteStream, httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for c in self.chunks:
            yield c

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def aclose(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


@respx.mock
async def test_async_watch_over_http() -> None:
    chunks = [STREAM[i : i + 7] for i in range(0, len(STREAM), 7)]
    stream = Chunks(chunks)
    route = respx.get(f"{HOST}/api/v1/namespaces/ns/configmaps").mock(
        return_value=httpx.Response(200, stream=stream)
    )
    client = AsyncRESTClient(Config(host=HOST), clock=AsyncFakeClock())
    params = {
        "resourceVersion": "10",
        "timeoutSeconds": 300,
        "allowWatchBookmarks": True,
        "sendInitialEvents": False,
        "resourceVersionMatch": "NotOlderThan",
        "labelSelector": "a=b",
        "fieldSelector": "metadata.name=a",
    }
    got = [(e.type, e.object) async for e in client.watch("/api/v1/namespaces/ns/configmaps", params, decode)]
    assert got == EXPECTED
    q = dict(route.calls.last.request.url.params)
    assert q == {
        "resourceVersion": "10",
        "timeoutSeconds": "300",
        "allowWatchBookmarks": "true",
        "sendInitialEvents": "false",
        "resourceVersionMatch": "NotOlderThan",
        "labelSelector": "a=b",
        "fieldSelector": "metadata.name=a",
        "watch": "true",
    }
    assert stream.closed


@respx.mock
async def test_async_watch_stop_closes_stream() -> None:
    stream = Chunks([STREAM, STREAM])
    respx.get(f"{HOST}/w").mock(return_value=httpx.Response(200, stream=stream))
    client = AsyncRESTClient(Config(host=HOST), clock=AsyncFakeClock())
    async with contextlib.aclosing(client.watch("/w", None, decode)) as events:
        async for e in events:
            assert e.type == "ADDED"
            break
    assert stream.closed


@respx.mock
async def test_async_watch_error_event() -> None:
    respx.get(f"{HOST}/w").mock(
        return_value=httpx.Response(200, stream=Chunks([event("ADDED", "a", 1), error_event("Expired", 410)]))
    )
    client = AsyncRESTClient(Config(host=HOST), clock=AsyncFakeClock())
    seen = []
    with pytest.raises(ResourceExpired):
        async for e in client.watch("/w", {"resourceVersion": "1"}, decode):
            seen.append(e.type)
    assert seen == ["ADDED"]


@respx.mock
async def test_watch_open_410_raises() -> None:
    respx.get(f"{HOST}/w").mock(
        return_value=httpx.Response(
            410, json={"kind": "Status", "reason": "Expired", "code": 410, "message": "old"}
        )
    )
    client = AsyncRESTClient(Config(host=HOST), clock=AsyncFakeClock())
    with pytest.raises(ResourceExpired):
        async for _ in client.watch("/w", {"resourceVersion": "1"}, decode):
            pass


@respx.mock
def test_sync_watch() -> None:
    stream = Chunks([STREAM[:5], STREAM[5:]])
    respx.get(f"{HOST}/w").mock(return_value=httpx.Response(200, stream=stream))
    with RESTClient(Config(host=HOST), clock=FakeClock()) as client:
        got = [(e.type, e.object) for e in client.watch("/w", {}, decode)]
    assert got == EXPECTED
    assert stream.closed
