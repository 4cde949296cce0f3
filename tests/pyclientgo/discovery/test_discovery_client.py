"""The discovery clients against a mocked server: aggregated first, legacy fallback, caching."""

from __future__ import annotations

import respx
from discovery_fixtures import VERSION, serve_aggregated, serve_legacy

from pyclientgo.discovery import AsyncCachedDiscoveryClient, AsyncDiscoveryClient
from pyclientgo.discovery.types import AGGREGATED_ACCEPT
from pyclientgo.rest import AsyncRESTClient


class FakeTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_server_version(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    router.get("/version").respond(json=VERSION)
    version = await AsyncDiscoveryClient(rest).server_version()
    assert version.git_version == "v1.32.0" and version.go_version == "go1.23.3"


async def test_aggregated_discovery_needs_two_requests(
    router: respx.MockRouter, rest: AsyncRESTClient
) -> None:
    routes = serve_aggregated(router)
    server = await AsyncDiscoveryClient(rest).server_groups_and_resources()
    assert routes["/api"].call_count == 1 and routes["/apis"].call_count == 1
    assert routes["/api"].calls.last.request.headers["accept"] == AGGREGATED_ACCEPT
    assert routes["/apis"].calls.last.request.headers["accept"] == AGGREGATED_ACCEPT
    assert all(not route.called for path, route in routes.items() if path not in ("/api", "/apis"))
    assert [g.name for g in server.groups] == [
        "",
        "apps",
        "events.k8s.io",
        "autoscaling",
        "stable.example.com",
    ]
    assert {r.gvr.group_version for r in server.resources} == {
        "v1",
        "apps/v1",
        "events.k8s.io/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "stable.example.com/v1",
    }
    assert not server.failed
    preferred = {r.group_version for r in server.preferred()}
    assert "autoscaling/v2" in preferred and "autoscaling/v1" not in preferred


async def test_legacy_fallback_fetches_every_group_version(
    router: respx.MockRouter, rest: AsyncRESTClient
) -> None:
    routes = serve_legacy(router)
    server = await AsyncDiscoveryClient(rest).server_groups_and_resources()
    assert all(route.call_count == 1 for route in routes.values())
    assert routes["/apis/apps/v1"].calls.last.request.headers["accept"] == "application/json"
    crontabs = [r for r in server.resources if r.resource == "crontabs"]
    assert crontabs and crontabs[0].kind == "CronTab" and crontabs[0].short_names == ("ct",)
    assert len(server.for_group_version("v1")) == 6


async def test_aggregated_and_legacy_agree(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    serve_legacy(router)
    legacy = await AsyncDiscoveryClient(rest).server_groups_and_resources()
    router.routes.clear()
    serve_aggregated(router)
    aggregated = await AsyncDiscoveryClient(rest).server_groups_and_resources()
    assert legacy.groups == aggregated.groups

    def key(r: object) -> str:
        return f"{r.group}/{r.version}/{r.resource}"  # type: ignore[attr-defined]

    assert sorted(legacy.resources, key=key) == sorted(aggregated.resources, key=key)


async def test_legacy_only_client_and_failed_group_version(
    router: respx.MockRouter, rest: AsyncRESTClient
) -> None:
    routes = serve_legacy(router)
    router.get("/apis/stable.example.com/v1").respond(
        503,
        json={
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "ServiceUnavailable",
            "code": 503,
        },
    )
    server = await AsyncDiscoveryClient(rest, aggregated=False).server_groups_and_resources()
    assert routes["/api"].calls.last.request.headers["accept"] == "application/json"
    assert list(server.failed) == ["stable.example.com/v1"]
    assert not [r for r in server.resources if r.group == "stable.example.com"]
    assert [r for r in server.resources if r.group == "apps"]


async def test_groups_and_one_group_version(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    serve_legacy(router)
    client = AsyncDiscoveryClient(rest)
    groups = await client.server_groups()
    assert [g.name for g in groups][:2] == ["", "apps"]
    deployments = await client.server_resources_for_group_version("apps/v1")
    assert [r.resource for r in deployments] == ["deployments", "replicasets"]
    core = await client.server_resources_for_group_version("v1")
    assert "pods" in [r.resource for r in core]


async def test_cache_ttl_and_invalidate(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    routes = serve_aggregated(router)
    version = router.get("/version").respond(json=VERSION)
    timer = FakeTimer()
    cached = AsyncCachedDiscoveryClient(AsyncDiscoveryClient(rest), ttl=60, timer=timer)
    first = await cached.server_groups_and_resources()
    assert await cached.server_groups_and_resources() is first
    assert [r.resource for r in await cached.server_resources_for_group_version("apps/v1")] == [
        "deployments",
        "replicasets",
    ]
    await cached.server_version()
    await cached.server_version()
    assert routes["/apis"].call_count == 1 and version.call_count == 1 and cached.fetches == 1

    timer.now = 59.0
    await cached.server_groups_and_resources()
    assert routes["/apis"].call_count == 1

    timer.now = 61.0  # expired
    second = await cached.server_groups_and_resources()
    assert second is not first and routes["/apis"].call_count == 2 and cached.fetches == 2

    cached.invalidate()
    await cached.server_groups_and_resources()
    await cached.server_version()
    assert routes["/apis"].call_count == 3 and version.call_count == 2


async def test_cache_asks_live_for_an_unknown_group_version(
    router: respx.MockRouter, rest: AsyncRESTClient
) -> None:
    serve_aggregated(router)
    live = router.get("/apis/new.example.com/v1").respond(
        json={"kind": "APIResourceList", "groupVersion": "new.example.com/v1", "resources": []}
    )
    cached = AsyncCachedDiscoveryClient(rest)
    assert await cached.server_resources_for_group_version("new.example.com/v1") == []
    assert live.called
