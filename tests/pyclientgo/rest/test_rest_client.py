from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

import pyclientgo
from pyclientgo.config import Config, ImpersonationConfig
from pyclientgo.errors import (
    ConnectError,
    ConnectionLost,
    InternalError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from pyclientgo.rest import AsyncRESTClient, RESTClient
from pyclientgo.testing import AsyncFakeClock, FakeClock

HOST = "http://k8s.test"


class CountingLimiter:
    def __init__(self) -> None:
        self.waits = 0

    async def wait(self) -> None:
        self.waits += 1

    def try_accept(self) -> bool:
        return True


def make(
    config: Config | None = None, **kw: object
) -> tuple[AsyncRESTClient, AsyncFakeClock, CountingLimiter]:
    clock = AsyncFakeClock()
    limiter = CountingLimiter()
    client = AsyncRESTClient(config or Config(host=HOST), clock=clock, rate_limiter=limiter)
    return client, clock, limiter


@respx.mock
async def test_get_sends_headers_and_query() -> None:
    route = respx.get(f"{HOST}/api/v1/namespaces/ns/pods").mock(
        return_value=httpx.Response(200, json={"kind": "PodList"})
    )
    cfg = Config(
        host=HOST + "/",
        bearer_token="tok",
        impersonate=ImpersonationConfig(user_name="alice", groups=["g1", "g2"], extra={"scope": ["a"]}),
    )
    client, _, limiter = make(cfg)
    async with client:
        resp = await client.request(
            "get",
            "/api/v1/namespaces/ns/pods",
            params={"labelSelector": "a=b", "limit": 5, "watch": False, "x": None, "multi": ["1", "2"]},
        )
    assert resp.json() == {"kind": "PodList"}
    req = route.calls.last.request
    assert req.url.params.multi_items() == [
        ("labelSelector", "a=b"),
        ("limit", "5"),
        ("watch", "false"),
        ("multi", "1"),
        ("multi", "2"),
    ]
    assert req.headers["user-agent"] == f"pyclientgo/{pyclientgo.__version__}"
    assert req.headers["accept"] == "application/json"
    assert req.headers["authorization"] == "Bearer tok"
    assert req.headers["impersonate-user"] == "alice"
    assert req.headers.get_list("impersonate-group") == ["g1", "g2"]
    assert req.headers["impersonate-extra-scope"] == "a"
    assert limiter.waits == 1


@respx.mock
async def test_post_json_body_and_content_type() -> None:
    route = respx.post(f"{HOST}/api/v1/namespaces/ns/configmaps").mock(
        return_value=httpx.Response(201, json={})
    )
    client, _, _ = make()
    await client.request("POST", "/api/v1/namespaces/ns/configmaps", body={"a": 1})
    req = route.calls.last.request
    assert req.content == b'{"a":1}'
    assert req.headers["content-type"] == "application/json"
    patch = respx.patch(f"{HOST}/api/v1/namespaces/ns/configmaps/x").mock(return_value=httpx.Response(200))
    await client.request(
        "PATCH", "/api/v1/namespaces/ns/configmaps/x", body="[]", content_type="application/json-patch+json"
    )
    assert patch.calls.last.request.headers["content-type"] == "application/json-patch+json"
    assert patch.calls.last.request.content == b"[]"


@respx.mock
async def test_error_maps_to_subclass() -> None:
    respx.get(f"{HOST}/api/v1/namespaces/ns/pods/x").mock(
        return_value=httpx.Response(
            404,
            json={"kind": "Status", "apiVersion": "v1", "reason": "NotFound", "code": 404, "message": "nope"},
        )
    )
    client, clock, _ = make()
    with pytest.raises(NotFound, match="nope"):
        await client.request("GET", "/api/v1/namespaces/ns/pods/x")
    assert clock.sleeps == []


@respx.mock
async def test_429_with_retry_after_is_retried_then_succeeds() -> None:
    route = respx.get(f"{HOST}/api").mock(
        side_effect=[
            httpx.Response(
                429, text="Too many requests, please try again later.", headers={"Retry-After": "2"}
            ),
            httpx.Response(500, headers={"Retry-After": "1"}),
            httpx.Response(200, json={}),
        ]
    )
    client, clock, limiter = make()
    resp = await client.request("GET", "/api")
    assert resp.status_code == 200
    assert route.call_count == 3
    assert clock.sleeps == [2.0, 1.0]
    assert limiter.waits == 3  # every retry passes the rate limiter


@respx.mock
async def test_retries_stop_after_ten() -> None:
    route = respx.get(f"{HOST}/api").mock(return_value=httpx.Response(503, headers={"Retry-After": "1"}))
    client, clock, limiter = make()
    with pytest.raises(ServiceUnavailable) as info:
        await client.request("GET", "/api")
    assert route.call_count == 11
    assert clock.sleeps == [1.0] * 10
    assert limiter.waits == 11
    assert info.value.retry_after_seconds == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(429, text="slow down"),  # plain text, no Retry-After
        httpx.Response(503),  # no Retry-After
        httpx.Response(500, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # not an integer
        httpx.Response(404, headers={"Retry-After": "1"}),  # not 429/5xx
    ],
)
@respx.mock
async def test_not_retried(response: httpx.Response) -> None:
    route = respx.get(f"{HOST}/api").mock(return_value=response)
    client, clock, _ = make()
    with pytest.raises(Exception) as info:
        await client.request("GET", "/api")
    assert route.call_count == 1
    assert clock.sleeps == []
    if response.status_code == 429:
        assert isinstance(info.value, TooManyRequests)
        assert "slow down" in str(info.value) and "HTTP 429" in str(info.value)


@respx.mock
async def test_replayable_post_body_is_retried() -> None:
    route = respx.post(f"{HOST}/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json={})]
    )
    client, clock, _ = make()
    await client.request("POST", "/x", body=b'{"k": "v"}')
    assert clock.sleeps == [1.0]
    assert route.call_count == 2
    assert [c.request.content for c in route.calls] == [b'{"k": "v"}'] * 2


@respx.mock
async def test_streamed_body_is_never_retried() -> None:
    route = respx.post(f"{HOST}/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json={})]
    )
    client, clock, _ = make()

    async def body() -> AsyncIterator[bytes]:
        yield b"{}"

    with pytest.raises(TooManyRequests):
        await client.request("POST", "/x", body=body())
    assert route.call_count == 1 and clock.sleeps == []


@pytest.mark.parametrize("exc", [httpx.ReadError("reset"), httpx.RemoteProtocolError("EOF")])
@respx.mock
async def test_get_connection_reset_retried_after_one_second(exc: Exception) -> None:
    route = respx.get(f"{HOST}/api").mock(side_effect=[exc, httpx.Response(200, json={})])
    client, clock, limiter = make()
    await client.request("GET", "/api")
    assert route.call_count == 2 and clock.sleeps == [1.0] and limiter.waits == 2


@respx.mock
async def test_post_connection_reset_not_retried() -> None:
    cause = httpx.ReadError("reset")
    route = respx.post(f"{HOST}/api").mock(side_effect=[cause, httpx.Response(200, json={})])
    client, clock, _ = make()
    with pytest.raises(ConnectionLost) as info:
        await client.request("POST", "/api", body=b"{}")
    assert info.value.__cause__ is cause
    assert route.call_count == 1 and clock.sleeps == []


@respx.mock
async def test_get_reset_exhausts_and_raises_transport_error() -> None:
    respx.get(f"{HOST}/api").mock(side_effect=httpx.ReadError("reset"))
    client, clock, _ = make()
    with pytest.raises(ConnectionLost) as info:
        await client.request("GET", "/api")
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert len(clock.sleeps) == 10
    assert not isinstance(info.value, httpx.HTTPError)


@respx.mock
async def test_connect_error_not_retried() -> None:
    respx.get(f"{HOST}/api").mock(side_effect=httpx.ConnectError("refused"))
    client, clock, _ = make()
    with pytest.raises(ConnectError):
        await client.request("GET", "/api")
    assert clock.sleeps == []


@respx.mock
async def test_stream_yields_unread_response() -> None:
    respx.get(f"{HOST}/logs").mock(return_value=httpx.Response(200, content=b"line1\nline2\n"))
    client, _, _ = make()
    async with client.stream("GET", "/logs", params={"follow": True}) as resp:
        body = b"".join([c async for c in resp.aiter_bytes()])
    assert body == b"line1\nline2\n"


@respx.mock
async def test_tls_server_name_sets_sni_extension() -> None:
    route = respx.get("https://10.0.0.1:6443/api").mock(return_value=httpx.Response(200))
    client = AsyncRESTClient(
        Config(host="https://10.0.0.1:6443", tls_server_name="kubernetes", insecure_skip_tls_verify=True),
        clock=AsyncFakeClock(),
    )
    await client.request("GET", "/api")
    assert route.calls.last.request.extensions["sni_hostname"] == "kubernetes"


@respx.mock
async def test_default_rate_limiter_from_config() -> None:
    respx.get(f"{HOST}/api").mock(return_value=httpx.Response(200, json={}))
    clock = AsyncFakeClock()
    client = AsyncRESTClient(Config(host=HOST, qps=2.0, burst=3), clock=clock)
    for _ in range(5):
        await client.request("GET", "/api")
    # 3 at once from the full bucket, then one every 0.5 s.
    assert clock.sleeps == pytest.approx([0.5, 0.5])
    assert AsyncRESTClient(Config(host=HOST, qps=-1)).rate_limiter is None


@respx.mock
def test_sync_client_same_routes() -> None:
    route = respx.get(f"{HOST}/api").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={"ok": 1})]
    )
    respx.get(f"{HOST}/missing").mock(return_value=httpx.Response(500, text="boom"))
    respx.get(f"{HOST}/missing2").mock(return_value=httpx.Response(200, content=b"streamed"))
    clock = FakeClock()
    with RESTClient(Config(host=HOST, bearer_token="t"), clock=clock) as client:
        assert client.request("GET", "/api").json() == {"ok": 1}
        with pytest.raises(InternalError, match="boom"):
            client.request("GET", "/missing")
        with client.stream("GET", "/missing2") as resp:
            assert resp.read() == b"streamed"
    assert route.call_count == 2
    assert clock.sleeps == [3.0]
    assert route.calls[0].request.headers["authorization"] == "Bearer t"
