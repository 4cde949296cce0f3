"""The generated sync twins of the discovery clients and the REST mapper."""

from __future__ import annotations

import respx
from discovery_fixtures import VERSION, serve_aggregated, serve_legacy

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.discovery import CachedDiscoveryClient, DiscoveryClient, RESTMapper
from pyclientgo.rest import RESTClient


def test_discovery_client(router: respx.MockRouter, sync_rest: RESTClient) -> None:
    serve_legacy(router)
    router.get("/version").respond(json=VERSION)
    client = DiscoveryClient(sync_rest)
    assert client.server_version().minor == "32"
    server = client.server_groups_and_resources()
    assert {r.group_version for r in server.resources} >= {"v1", "apps/v1", "stable.example.com/v1"}


def test_cached_client_and_mapper(router: respx.MockRouter, sync_rest: RESTClient) -> None:
    routes = serve_aggregated(router)
    now = [0.0]
    cached = CachedDiscoveryClient(sync_rest, ttl=10, timer=lambda: now[0])
    mapper = RESTMapper(cached)
    assert mapper.resource_for("deploy") == GroupVersionResource("apps", "v1", "deployments")
    assert mapper.rest_mapping(GroupVersionKind("", "v1", "Pod")).namespaced
    assert routes["/apis"].call_count == 1
    now[0] = 11.0
    assert mapper.kind_for("ct") == GroupVersionKind("stable.example.com", "v1", "CronTab")
    assert routes["/apis"].call_count == 2
