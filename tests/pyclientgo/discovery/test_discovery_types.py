"""Parsing legacy and aggregated discovery documents into one shape."""

from __future__ import annotations

import copy

import orjson
from discovery_fixtures import AGGREGATED_API, AGGREGATED_APIS, LEGACY, VERSION

from pyclientgo.apimachinery.registry import SubresourceInfo
from pyclientgo.discovery import (
    DiscoveredGroup,
    parse_aggregated_discovery,
    parse_api_group_list,
    parse_api_resource_list,
    parse_api_versions,
    resources_from_registry,
)
from pyclientgo.discovery.types import AGGREGATED_ACCEPT, is_aggregated, parse_version


def legacy_resources() -> list[object]:
    out: list[object] = []
    for path, doc in LEGACY.items():
        if path not in ("/api", "/apis"):
            out += parse_api_resource_list(orjson.dumps(doc))
    return out


def test_version() -> None:
    info = parse_version(orjson.dumps(VERSION))
    assert (info.major, info.minor, info.git_version, info.platform) == ("1", "32", "v1.32.0", "linux/amd64")


def test_legacy_roots() -> None:
    assert parse_api_versions(LEGACY["/api"]) == DiscoveredGroup(
        name="", versions=("v1",), preferred_version="v1"
    )
    groups = parse_api_group_list(orjson.dumps(LEGACY["/apis"]))
    assert [g.name for g in groups] == ["apps", "events.k8s.io", "autoscaling", "stable.example.com"]
    autoscaling = groups[2]
    # The preferred version is moved first.
    assert autoscaling.versions == ("v2", "v1") and autoscaling.preferred_version == "v2"
    assert autoscaling.group_versions() == ["autoscaling/v2", "autoscaling/v1"]


def test_legacy_resource_list_folds_subresources() -> None:
    resources = {r.resource: r for r in parse_api_resource_list(orjson.dumps(LEGACY["/api/v1"]))}
    assert set(resources) == {"configmaps", "events", "namespaces", "nodes", "pods", "services"}
    pods = resources["pods"]
    assert (pods.group, pods.version, pods.kind, pods.namespaced) == ("", "v1", "Pod", True)
    assert pods.short_names == ("po",) and pods.categories == ("all",) and pods.singular == "pod"
    assert [s.name for s in pods.subresources] == ["binding", "eviction", "log", "status"]
    assert pods.subresource("eviction") == SubresourceInfo(
        name="eviction", kind="Eviction", group="policy", version="v1", verbs=("create",)
    )
    assert resources["nodes"].namespaced is False
    deployments = parse_api_resource_list(orjson.dumps(LEGACY["/apis/apps/v1"]))[0]
    assert deployments.gvr.group_version == "apps/v1"
    scale = deployments.subresource("scale")
    assert scale is not None and (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")


def test_aggregated_matches_legacy() -> None:
    core_groups, core, stale = parse_aggregated_discovery(orjson.dumps(AGGREGATED_API))
    groups, rest, stale2 = parse_aggregated_discovery(AGGREGATED_APIS)
    assert not stale and not stale2
    assert core_groups == [DiscoveredGroup(name="", versions=("v1",), preferred_version="v1")]
    assert [(g.name, g.versions, g.preferred_version) for g in groups] == [
        ("apps", ("v1",), "v1"),
        ("events.k8s.io", ("v1",), "v1"),
        ("autoscaling", ("v2", "v1"), "v2"),
        ("stable.example.com", ("v1",), "v1"),
    ]

    def key(r: object) -> str:
        return f"{r.group}/{r.version}/{r.resource}"  # type: ignore[attr-defined]

    aggregated = sorted(core + rest, key=key)
    legacy = sorted(legacy_resources(), key=key)
    assert aggregated == legacy


def test_aggregated_stale_group_version_is_left_out() -> None:
    doc = copy.deepcopy(AGGREGATED_APIS)
    doc["items"][0]["versions"][0]["freshness"] = "Stale"
    groups, resources, stale = parse_aggregated_discovery(doc)
    assert list(stale) == ["apps/v1"]
    assert not [r for r in resources if r.group == "apps"]
    assert groups[0].name == "apps"  # the group is still listed


def test_is_aggregated() -> None:
    assert is_aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    assert is_aggregated("application/json; g=apidiscovery.k8s.io; v=v2beta1; as=APIGroupDiscoveryList")
    assert not is_aggregated("application/json")
    assert not is_aggregated(None)
    assert not is_aggregated("application/json;g=meta.k8s.io;v=v1;as=Table")
    assert AGGREGATED_ACCEPT.startswith(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    )
    assert AGGREGATED_ACCEPT.endswith(",application/json")


def test_resources_from_builtin_registry() -> None:
    from pyclientgo.api import builtin_registry

    server = resources_from_registry(builtin_registry())
    assert server.groups[0].name == ""
    pods = [r for r in server.resources if r.gvr.group_version == "v1" and r.resource == "pods"]
    assert pods and pods[0].namespaced and "po" in pods[0].short_names
    assert pods[0].subresource("status") is not None
