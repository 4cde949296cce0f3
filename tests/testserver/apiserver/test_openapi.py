"""OpenAPI documents built from the generated models and the registry, compared with kube's."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api import builtin_registry
from pyclientgo.api.apiextensions.v1 import JSONSchemaProps
from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import Pod
from pyclientgo.api.meta.v1 import ObjectMeta
from testserver.apiserver import openapi

SPEC_DIR = Path(__file__).resolve().parents[3] / "schemas" / "openapi" / "v3"
REF = "#/components/schemas/"


def document(group: str, version: str) -> dict[str, Any]:
    data, digest = openapi.v3_document(builtin_registry(), group, version)
    assert len(digest) == 128
    return dict(json.loads(data))


def kube(name: str) -> dict[str, Any]:
    return dict(json.loads(gzip.decompress((SPEC_DIR / f"{name}_openapi.json.gz").read_bytes())))


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str):
            found.add(target)
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs(item)
    return found


def test_definition_names() -> None:
    assert openapi.definition_name(Pod) == "io.k8s.api.core.v1.Pod"
    assert openapi.definition_name(Deployment) == "io.k8s.api.apps.v1.Deployment"
    assert openapi.definition_name(ObjectMeta) == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert (
        openapi.definition_name(JSONSchemaProps)
        == "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    )
    from pyclientgo.api.apiregistration.v1 import APIService
    from pyclientgo.api.rbac.v1 import ClusterRole

    assert (
        openapi.definition_name(APIService) == "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"
    )
    assert openapi.definition_name(ClusterRole) == "io.k8s.api.rbac.v1.ClusterRole"


def test_index_shape() -> None:
    registry = builtin_registry()
    index = openapi.v3_index(registry)
    paths = index["paths"]
    for name in (
        "api",
        "apis",
        "version",
        "api/v1",
        "apis/apps/v1",
        "apis/apps",
        "apis/rbac.authorization.k8s.io/v1",
    ):
        assert name in paths, name
    url = paths["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    _, digest = openapi.v3_document(registry, "", "v1")
    assert url == f"/openapi/v3/api/v1?hash={digest}"
    for name, entry in paths.items():
        found = openapi.v3_document_for_path(registry, name)
        assert found is not None, name
        assert entry["serverRelativeURL"].endswith("hash=" + found[1])
    assert openapi.v3_document_for_path(registry, "apis/nope/v1") is None
    assert openapi.v3_index(registry, base_url="/x")["paths"]["api/v1"]["serverRelativeURL"].startswith(
        "/x/openapi"
    )


def test_core_v1_document() -> None:
    doc = document("", "v1")
    assert doc["openapi"] == "3.0.0"
    assert doc["info"] == {"title": "Kubernetes", "version": "unversioned"}
    schemas = doc["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["metadata"]["allOf"] == [
        {"$ref": REF + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"] == {
        "description": schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["description"],
        "format": "date-time",
        "type": "string",
    }
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert {"type": "string"} in schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["items"]["allOf"] == [{"$ref": REF + "io.k8s.api.core.v1.Container"}]
    event_time = schemas["io.k8s.api.core.v1.Event"]["properties"]["eventTime"]
    assert event_time["allOf"] == [{"$ref": REF + "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"}]


def test_every_ref_resolves() -> None:
    for group, version in builtin_registry().group_versions():
        doc = document(group, version)
        schemas = doc["components"]["schemas"]
        for target in refs(doc):
            assert target.startswith(REF), target
            assert target[len(REF) :] in schemas, (group, version, target)


def test_operations() -> None:
    paths = document("", "v1")["paths"]
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert {p["name"] for p in item["parameters"]} == {"name", "namespace", "pretty"}
    assert item["get"]["operationId"] == "readCoreV1NamespacedPod"
    assert item["put"]["operationId"] == "replaceCoreV1NamespacedPod"
    assert item["delete"]["operationId"] == "deleteCoreV1NamespacedPod"
    patch = item["patch"]
    assert patch["operationId"] == "patchCoreV1NamespacedPod"
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert {p["name"] for p in patch["parameters"]} == {"dryRun", "fieldManager", "fieldValidation", "force"}
    assert set(patch["requestBody"]["content"]) >= {
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    }
    collection = paths["/api/v1/namespaces/{namespace}/pods"]
    assert collection["post"]["operationId"] == "createCoreV1NamespacedPod"
    assert collection["post"]["x-kubernetes-action"] == "post"
    assert {p["name"] for p in collection["post"]["parameters"]} == {
        "dryRun",
        "fieldManager",
        "fieldValidation",
    }
    assert collection["get"]["operationId"] == "listCoreV1NamespacedPod"
    assert collection["delete"]["operationId"] == "deleteCoreV1CollectionNamespacedPod"
    assert paths["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    assert (
        paths["/api/v1/watch/namespaces/{namespace}/pods"]["get"]["operationId"]
        == "watchCoreV1NamespacedPodList"
    )
    assert paths["/api/v1/namespaces/{namespace}/pods/{name}/status"]["patch"]["operationId"] == (
        "patchCoreV1NamespacedPodStatus"
    )
    assert (
        paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]["operationId"]
        == "readCoreV1NamespacedPodLog"
    )
    assert paths["/api/v1/nodes/{name}"]["get"]["operationId"] == "readCoreV1Node"
    scale = document("apps", "v1")["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    rbac = document("rbac.authorization.k8s.io", "v1")["paths"]
    assert rbac["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["get"]["operationId"] == (
        "readRbacAuthorizationV1ClusterRole"
    )


@pytest.mark.parametrize(
    ("spec", "group", "names"),
    [
        (
            "api__v1",
            "",
            ["io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.Container"],
        ),
        ("apis__apps__v1", "apps", ["io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentSpec"]),
        ("api__v1", "", ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.core.v1.Service"]),
    ],
)
def test_definitions_match_kube(spec: str, group: str, names: list[str]) -> None:
    ours = document(group, "v1")["components"]["schemas"]
    theirs = kube(spec)["components"]["schemas"]
    for name in names:
        assert set(ours[name]["properties"]) == set(theirs[name]["properties"]), name
        assert set(ours[name].get("required", [])) == set(theirs[name].get("required", [])), name
        assert ours[name]["description"] == theirs[name]["description"], name
        for key, value in theirs[name].items():
            if key.startswith("x-kubernetes-"):
                assert ours[name][key] == value, (name, key)


def test_same_schemas_and_paths_as_kube() -> None:
    for spec, group in (("api__v1", ""), ("apis__apps__v1", "apps"), ("apis__batch__v1", "batch")):
        ours, theirs = document(group, "v1"), kube(spec)
        assert set(ours["components"]["schemas"]) == set(theirs["components"]["schemas"]), spec
        assert set(ours["paths"]) == set(theirs["paths"]), spec
        for path, item in theirs["paths"].items():
            for method, op in item.items():
                if method != "parameters":
                    assert ours["paths"][path][method]["operationId"] == op["operationId"]
                    assert ours["paths"][path][method].get("x-kubernetes-group-version-kind") == op.get(
                        "x-kubernetes-group-version-kind"
                    )


def test_cached_and_fast() -> None:
    registry = builtin_registry()
    openapi.v3_document(registry, "", "v1")
    start = time.perf_counter()
    for _ in range(100):
        openapi.v3_document(registry, "", "v1")
    assert time.perf_counter() - start < 0.5


def test_custom_resources() -> None:
    from pyclientgo.apimachinery.registry import Registry, ResourceInfo

    crd = ResourceInfo(
        group="stable.example.com",
        version="v1",
        kind="CronTab",
        plural="crontabs",
        singular="crontab",
        namespaced=True,
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        list_kind="CronTabList",
        model="",
        list_model="",
    )
    registry = Registry([crd])
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"cronSpec": {"type": "string"}}}},
    }
    custom = {"stable.example.com/v1/CronTab": schema}
    data, digest = openapi.v3_document(registry, "stable.example.com", "v1", custom_schemas=custom)
    doc = json.loads(data)
    ct = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert ct["properties"]["spec"]["properties"]["cronSpec"] == {"type": "string"}
    assert ct["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    patch = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    index = openapi.v3_index(registry, custom_schemas=custom)
    assert index["paths"]["apis/stable.example.com/v1"]["serverRelativeURL"].endswith(digest)
    for target in refs(doc):
        assert target[len(REF) :] in doc["components"]["schemas"]


def test_v2_document() -> None:
    doc = json.loads(openapi.v2_document(builtin_registry()))
    assert doc["swagger"] == "2.0"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert (
        pod["properties"]["metadata"]["$ref"]
        == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert doc["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert patch["parameters"][0]["in"] == "body"
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert "/apis/apps/v1/namespaces/{namespace}/deployments" in doc["paths"]
    assert "#/components" not in json.dumps(doc)
