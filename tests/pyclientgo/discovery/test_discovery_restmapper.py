"""Kind ↔ resource mapping: kubectl-style arguments, priority, and refresh on a miss."""

from __future__ import annotations

import copy

import orjson
import pytest
import respx
from discovery_fixtures import (
    AGGREGATED_API,
    AGGREGATED_APIS,
    AGGREGATED_CONTENT_TYPE,
    LEGACY,
    serve_aggregated,
)

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.discovery import (
    AsyncCachedDiscoveryClient,
    AsyncRESTMapper,
    DefaultRESTMapper,
    NoMatchError,
    parse_aggregated_discovery,
    resources_from_registry,
)
from pyclientgo.rest import AsyncRESTClient


def mapper() -> DefaultRESTMapper:
    core_groups, core, _ = parse_aggregated_discovery(AGGREGATED_API)
    groups, rest, _ = parse_aggregated_discovery(AGGREGATED_APIS)
    return DefaultRESTMapper(core + rest, core_groups + groups)


GVR = GroupVersionResource


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("po", GVR("", "v1", "pods")),
        ("pod", GVR("", "v1", "pods")),
        ("pods", GVR("", "v1", "pods")),
        ("Pod", GVR("", "v1", "pods")),
        ("PODS", GVR("", "v1", "pods")),
        ("deploy", GVR("apps", "v1", "deployments")),
        ("deployments", GVR("apps", "v1", "deployments")),
        ("deployments.apps", GVR("apps", "v1", "deployments")),
        ("deploy.apps", GVR("apps", "v1", "deployments")),
        ("deployments.v1.apps", GVR("apps", "v1", "deployments")),
        ("ns", GVR("", "v1", "namespaces")),
        # Two groups serve "events": the core group wins, a group suffix picks the other.
        ("events", GVR("", "v1", "events")),
        ("ev", GVR("", "v1", "events")),
        ("events.events.k8s.io", GVR("events.k8s.io", "v1", "events")),
        # The preferred version wins unless one is named.
        ("hpa", GVR("autoscaling", "v2", "horizontalpodautoscalers")),
        ("horizontalpodautoscalers.v1.autoscaling", GVR("autoscaling", "v1", "horizontalpodautoscalers")),
        # Custom resources, and groups with dots.
        ("ct", GVR("stable.example.com", "v1", "crontabs")),
        ("crontabs.stable.example.com", GVR("stable.example.com", "v1", "crontabs")),
        ("crontabs.v1.stable.example.com", GVR("stable.example.com", "v1", "crontabs")),
    ],
)
def test_resource_for(arg: str, expected: GroupVersionResource) -> None:
    assert mapper().resource_for(arg) == expected


def test_resources_for_lists_every_version_best_first() -> None:
    assert mapper().resources_for("hpa") == [
        GVR("autoscaling", "v2", "horizontalpodautoscalers"),
        GVR("autoscaling", "v1", "horizontalpodautoscalers"),
    ]


@pytest.mark.parametrize("arg", ["nope", "pods.apps", "deployments.v2.apps", "deploy.v1"])
def test_resource_for_miss(arg: str) -> None:
    with pytest.raises(NoMatchError, match="doesn't have a resource type"):
        mapper().resource_for(arg)


def test_kind_for_and_rest_mapping() -> None:
    m = mapper()
    assert m.kind_for("deploy") == GroupVersionKind("apps", "v1", "Deployment")
    assert m.kind_for("no") == GroupVersionKind("", "v1", "Node")
    mapping = m.rest_mapping(GroupVersionKind("apps", "v1", "Deployment"))
    assert mapping.gvr == GVR("apps", "v1", "deployments") and mapping.namespaced
    node = m.rest_mapping(GroupVersionKind("", "v1", "Node"))
    assert node.gvr == GVR("", "v1", "nodes") and not node.namespaced
    # An empty version means the preferred one; a string may name the group and version.
    assert m.rest_mapping(GroupVersionKind("autoscaling", "", "HorizontalPodAutoscaler")).gvr.version == "v2"
    assert m.rest_mapping("HorizontalPodAutoscaler.v1.autoscaling").gvr.version == "v1"
    assert m.rest_mapping("HorizontalPodAutoscaler", version="v1").gvr.version == "v1"
    assert m.rest_mapping("Event").gvr.group == ""
    assert m.rest_mapping("Event.events.k8s.io").gvr.group == "events.k8s.io"
    assert m.rest_mapping("CronTab").resource.short_names == ("ct",)
    with pytest.raises(NoMatchError, match='no matches for kind "Deployment" in version "apps/v2"'):
        m.rest_mapping(GroupVersionKind("apps", "v2", "Deployment"))


def test_from_builtin_registry() -> None:
    from pyclientgo.api import builtin_registry

    m = DefaultRESTMapper.from_server_resources(resources_from_registry(builtin_registry()))
    assert m.resource_for("po") == GVR("", "v1", "pods")
    assert m.resource_for("deploy") == GVR("apps", "v1", "deployments")
    assert (
        m.rest_mapping(GroupVersionKind("rbac.authorization.k8s.io", "v1", "ClusterRole")).namespaced is False
    )


def _without_crontabs() -> dict[str, object]:
    doc = copy.deepcopy(AGGREGATED_APIS)
    doc["items"] = [i for i in doc["items"] if i["metadata"]["name"] != "stable.example.com"]
    return doc


async def test_refresh_once_on_miss(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    headers = {"content-type": AGGREGATED_CONTENT_TYPE}
    router.get("/api").respond(json=AGGREGATED_API, headers=headers)
    # The CRD appears between the first discovery and the second.
    apis = router.get("/apis")
    apis.side_effect = [
        respx.MockResponse(json=_without_crontabs(), headers=headers),
        respx.MockResponse(json=AGGREGATED_APIS, headers=headers),
        respx.MockResponse(json=AGGREGATED_APIS, headers=headers),
    ]
    m = AsyncRESTMapper(AsyncCachedDiscoveryClient(rest))
    assert await m.resource_for("po") == GVR("", "v1", "pods")
    assert apis.call_count == 1
    # A miss on cached data: invalidate, fetch again, find it.
    assert await m.resource_for("ct") == GVR("stable.example.com", "v1", "crontabs")
    assert apis.call_count == 2
    # A hit uses the cache.
    mapping = await m.rest_mapping(GroupVersionKind("stable.example.com", "v1", "CronTab"))
    assert mapping.namespaced and apis.call_count == 2
    # A real miss refreshes once, then fails.
    with pytest.raises(NoMatchError):
        await m.resource_for("nothing")
    assert apis.call_count == 3


async def test_miss_on_fresh_data_does_not_refetch(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    routes = serve_aggregated(router)
    m = AsyncRESTMapper(rest)
    with pytest.raises(NoMatchError):
        await m.kind_for("nothing")
    assert routes["/apis"].call_count == 1
    assert await m.kind_for("rs") == GroupVersionKind("apps", "v1", "ReplicaSet")
    assert await m.resources_for("hpa") == [
        GVR("autoscaling", "v2", "horizontalpodautoscalers"),
        GVR("autoscaling", "v1", "horizontalpodautoscalers"),
    ]
    assert len(await m.rest_mappings("HorizontalPodAutoscaler")) == 2
    assert (await m.resource_info_for("svc")).categories == ("all",)
    assert routes["/apis"].call_count == 1
    m.reset()
    await m.resource_for("po")
    assert routes["/apis"].call_count == 2


def test_fixture_roundtrip_is_json() -> None:
    # The fixtures are plain JSON documents (what a server would send).
    for doc in (*LEGACY.values(), AGGREGATED_API, AGGREGATED_APIS):
        assert orjson.loads(orjson.dumps(doc)) == doc
