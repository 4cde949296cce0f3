"""Custom resources over the wire: a CRD becomes Established, then its objects are served with
schema validation, pruning, defaulting, status/scale subresources, printer columns, discovery (both
formats), OpenAPI v3 and watch; deleting the CRD deletes its objects and its endpoints."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from apiserver_testlib import CRDS, crd_body, create_established, wait_for

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["cronSpec"],
            "properties": {
                "cronSpec": {"type": "string", "minLength": 3, "maxLength": 40},
                "image": {"type": "string", "default": "busybox"},
                "replicas": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 10,
                    "default": 1,
                },
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                "when": {"type": "string", "format": "date-time"},
                "port": {"x-kubernetes-int-or-string": True},
                "extra": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "selector": {"type": "string"},
            },
        },
    },
}


def crontab_crd(group: str) -> dict[str, Any]:
    body = crd_body(
        group, "crontabs", "CronTab", schema=CRONTAB_SCHEMA, shortNames=["ct"], categories=["all"]
    )
    body["spec"]["versions"][0].update(
        subresources={
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            },
        },
        additionalPrinterColumns=[
            {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        ],
    )
    return body


@pytest.fixture(scope="module")
def group(client: httpx.Client) -> Iterator[str]:
    group = f"g{uuid.uuid4().hex[:6]}.example.com"
    create_established(client, crontab_crd(group))
    yield group
    client.delete(f"{CRDS}/crontabs.{group}")


def base(group: str, ns: str = "default") -> str:
    return f"/apis/{group}/v1/namespaces/{ns}/crontabs"


def crontab(name: str, group: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{group}/v1", "kind": "CronTab", "metadata": {"name": name}, "spec": spec}


def test_crd_status_and_defaults(client: httpx.Client, group: str) -> None:
    crd = client.get(f"{CRDS}/crontabs.{group}").json()
    status = crd["status"]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Established"] == "True"
    assert status["acceptedNames"]["kind"] == "CronTab"
    assert status["acceptedNames"]["listKind"] == "CronTabList"
    assert status["acceptedNames"]["singular"] == "crontab"
    assert status["storedVersions"] == ["v1"]
    types = [c["type"] for c in status["conditions"]]
    assert types[:2] == ["NamesAccepted", "Established"]
    assert crd["spec"]["conversion"] == {"strategy": "None"}


def test_discovery_both_formats(client: httpx.Client, group: str) -> None:
    legacy = client.get(f"/apis/{group}/v1").json()
    by_name = {r["name"]: r for r in legacy["resources"]}
    assert by_name["crontabs"]["kind"] == "CronTab"
    assert by_name["crontabs"]["shortNames"] == ["ct"]
    assert by_name["crontabs"]["categories"] == ["all"]
    assert by_name["crontabs/scale"]["group"] == "autoscaling"
    assert by_name["crontabs/status"]["kind"] == "CronTab"
    groups = client.get("/apis").json()["groups"]
    assert any(g["name"] == group and g["preferredVersion"]["version"] == "v1" for g in groups)
    r = client.get("/apis", headers={"Accept": AGG})
    assert r.headers["content-type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    item = next(i for i in r.json()["items"] if i["metadata"]["name"] == group)
    res = item["versions"][0]["resources"][0]
    assert res["resource"] == "crontabs" and res["scope"] == "Namespaced"
    assert {s["subresource"] for s in res["subresources"]} == {"status", "scale"}


def test_openapi_v3_paths(client: httpx.Client, group: str) -> None:
    paths = client.get("/openapi/v3").json()["paths"]
    url = paths[f"apis/{group}/v1"]["serverRelativeURL"]
    doc = client.get(url).json()
    assert f"/apis/{group}/v1/namespaces/{{namespace}}/crontabs/{{name}}/scale" in doc["paths"]
    name = ".".join([*reversed(group.split(".")), "v1", "CronTab"])
    schema = doc["components"]["schemas"][name]
    assert schema["properties"]["spec"]["properties"]["replicas"]["maximum"] == 10
    assert schema["x-kubernetes-group-version-kind"] == [{"group": group, "kind": "CronTab", "version": "v1"}]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in doc["components"]["schemas"]
    v2 = client.get("/openapi/v2", headers={"Accept": "application/json"}).json()
    assert any(p.startswith(f"/apis/{group}/v1/") for p in v2["paths"])


def test_create_defaults_prunes_and_warns(client: httpx.Client, group: str) -> None:
    body = crontab("prune", group, cronSpec="* * * * *", unknown=1, extra={"free": {"x": 1}})
    body["metadata"]["bogus"] = "x"
    r = client.post(base(group), json=body)
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["spec"] == {
        "cronSpec": "* * * * *",
        "extra": {"free": {"x": 1}},
        "image": "busybox",
        "replicas": 1,
    }
    assert "bogus" not in obj["metadata"]
    assert obj["metadata"]["generation"] == 1
    assert 'unknown field \\"spec.unknown\\"' in r.headers["warning"]
    r = client.post(
        base(group) + "?fieldValidation=Strict",
        json=crontab("strict", group, cronSpec="* * * * *", nope=True),
    )
    assert r.status_code == 400
    assert r.json()["message"] == (
        'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.nope"'
    )


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        (
            {"cronSpec": "abc", "replicas": "3"},
            "spec.replicas",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        ),
        ({}, "spec.cronSpec", "FieldValueRequired", "Required value"),
        (
            {"cronSpec": "abc", "mode": "medium"},
            "spec.mode",
            "FieldValueNotSupported",
            'Unsupported value: "medium": supported values: "fast", "slow"',
        ),
        (
            {"cronSpec": "abc", "replicas": 11},
            "spec.replicas",
            "FieldValueInvalid",
            "Invalid value: 11: spec.replicas in body should be less than or equal to 10",
        ),
        (
            {"cronSpec": "ab"},
            "spec.cronSpec",
            "FieldValueInvalid",
            'Invalid value: "ab": spec.cronSpec in body should be at least 3 chars long',
        ),
        (
            {"cronSpec": "abc", "tags": ["a", "b", "c"]},
            "spec.tags",
            "FieldValueTooMany",
            "Too many: 3: must have at most 2 items",
        ),
        (
            {"cronSpec": "abc", "when": "yesterday"},
            "spec.when",
            "FieldValueTypeInvalid",
            'Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
        ),
        (
            {"cronSpec": "abc", "port": 1.5},
            "spec.port",
            "FieldValueTypeInvalid",
            'Invalid value: "number": spec.port in body must be of type integer,string: "number"',
        ),
    ],
)
def test_validation_errors(
    client: httpx.Client, group: str, spec: dict[str, Any], field: str, reason: str, message: str
) -> None:
    r = client.post(base(group), json=crontab(f"bad-{uuid.uuid4().hex[:6]}", group, **spec))
    assert r.status_code == 422, r.text
    status = r.json()
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "CronTab" and status["details"]["group"] == group
    assert {"reason": reason, "message": message, "field": field} in status["details"]["causes"]
    assert status["message"].startswith(f'CronTab.{group} "')
    assert f"{field}: {message}" in status["message"]


def test_metadata_validation_and_root_required(client: httpx.Client, group: str) -> None:
    r = client.post(base(group), json=crontab("Bad_Name", group, cronSpec="abc"))
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == "metadata.name"
    r = client.post(
        base(group), json={"apiVersion": f"{group}/v1", "kind": "CronTab", "metadata": {"name": "x"}}
    )
    assert r.status_code == 422
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec"} in r.json()[
        "details"
    ]["causes"]


def test_status_and_scale_subresources(client: httpx.Client, group: str) -> None:
    r = client.post(base(group), json={**crontab("sub", group, cronSpec="abc"), "status": {"replicas": 9}})
    assert r.status_code == 201
    assert "status" not in r.json()  # status is ignored on create
    r = client.patch(
        f"{base(group)}/sub/status",
        json={"spec": {"replicas": 7}, "status": {"replicas": 2, "selector": "app=x"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    obj = r.json()
    assert obj["status"] == {"replicas": 2, "selector": "app=x"}
    assert obj["spec"]["replicas"] == 1  # status writes ignore the rest
    assert obj["metadata"]["generation"] == 1
    r = client.patch(
        f"{base(group)}/sub",
        json={"spec": {"replicas": 4}, "status": {"replicas": 0}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    obj = r.json()
    assert obj["spec"]["replicas"] == 4 and obj["status"]["replicas"] == 2  # main writes ignore status
    assert obj["metadata"]["generation"] == 2
    scale = client.get(f"{base(group)}/sub/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 2, "selector": "app=x"}
    r = client.patch(
        f"{base(group)}/sub/scale",
        json={"spec": {"replicas": 6}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 6
    assert client.get(f"{base(group)}/sub").json()["spec"]["replicas"] == 6
    r = client.patch(
        f"{base(group)}/sub",
        json={"spec": {"replicas": 1}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 415
    r = client.patch(
        f"{base(group)}/sub",
        json=[{"op": "replace", "path": "/spec/replicas", "value": 20}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 422  # maximum 10: a failed write changes nothing
    assert client.get(f"{base(group)}/sub").json()["spec"]["replicas"] == 6


def test_table_printer_columns(client: httpx.Client, group: str) -> None:
    client.post(base(group), json=crontab("tbl", group, cronSpec="*/5 * * * *", replicas=3))
    table = client.get(base(group), headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Spec", "Replicas"]
    row = next(r for r in table["rows"] if r["cells"][0] == "tbl")
    assert row["cells"][1:] == ["*/5 * * * *", 3]


def test_list_selectors_update_and_deletecollection(client: httpx.Client, group: str) -> None:
    ns = f"n{uuid.uuid4().hex[:6]}"
    assert client.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code == 201
    for i in range(3):
        body = crontab(f"c{i}", group, cronSpec="abc")
        body["metadata"]["labels"] = {"n": str(i % 2)}
        assert client.post(base(group, ns), json=body).status_code == 201
    items = client.get(base(group, ns), params={"labelSelector": "n=0"}).json()["items"]
    assert sorted(i["metadata"]["name"] for i in items) == ["c0", "c2"]
    items = client.get(base(group, ns), params={"fieldSelector": "metadata.name=c1"}).json()["items"]
    assert [i["metadata"]["name"] for i in items] == ["c1"]
    r = client.get(base(group, ns), params={"fieldSelector": "spec.cronSpec=abc"})
    assert r.status_code == 400 and "field label not supported: spec.cronSpec" in r.json()["message"]
    obj = client.get(f"{base(group, ns)}/c1").json()
    obj["spec"]["mode"] = "fast"
    r = client.put(f"{base(group, ns)}/c1", json=obj)
    assert r.status_code == 200 and r.json()["metadata"]["generation"] == 2
    r = client.put(f"{base(group, ns)}/c1", json=obj)  # stale resourceVersion
    assert r.status_code == 409
    r = client.delete(base(group, ns), params={"labelSelector": "n=0"})
    assert r.status_code == 200 and r.json()["kind"] == "CronTabList"
    assert [i["metadata"]["name"] for i in client.get(base(group, ns)).json()["items"]] == ["c1"]
    all_ns = client.get(f"/apis/{group}/v1/crontabs").json()
    assert any(i["metadata"]["namespace"] == ns for i in all_ns["items"])


def test_watch_custom_resources(client: httpx.Client, group: str) -> None:
    rv = client.get(base(group)).json()["metadata"]["resourceVersion"]
    client.post(base(group), json=crontab("w1", group, cronSpec="abc"))
    client.delete(f"{base(group)}/w1")
    events = []
    with client.stream(
        "GET", base(group), params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5"}
    ) as r:
        for line in r.iter_lines():
            event = json.loads(line)
            events.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                break
    assert events == [("ADDED", "w1"), ("DELETED", "w1")]


def test_finalizers_and_crd_deletion_removes_objects(client: httpx.Client) -> None:
    group = f"d{uuid.uuid4().hex[:6]}.example.com"
    create_established(client, crontab_crd(group))
    body = crontab("held", group, cronSpec="abc")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    assert client.post(base(group), json=body).status_code == 201
    assert client.post(base(group), json=crontab("free", group, cronSpec="abc")).status_code == 201
    r = client.delete(f"{CRDS}/crontabs.{group}")
    assert r.status_code == 200
    assert "customresourcecleanup.apiextensions.k8s.io" in r.json()["metadata"]["finalizers"]

    def terminating() -> bool:
        crd = client.get(f"{CRDS}/crontabs.{group}").json()
        return any(c["type"] == "Terminating" for c in crd["status"]["conditions"])

    wait_for(terminating)
    wait_for(lambda: client.get(f"{base(group)}/free").status_code == 404)
    held = client.get(f"{base(group)}/held").json()
    assert held["metadata"]["deletionTimestamp"]  # waits for its finalizer
    held["metadata"]["finalizers"] = []
    assert client.put(f"{base(group)}/held", json=held).status_code == 200
    wait_for(lambda: client.get(f"{CRDS}/crontabs.{group}").status_code == 404)
    assert client.get(f"/apis/{group}/v1").status_code == 404
    assert all(g["name"] != group for g in client.get("/apis").json()["groups"])
    paths = client.get("/openapi/v3").json()["paths"]
    assert f"apis/{group}/v1" not in paths


def test_server_side_apply_on_custom_resources(client: httpx.Client, group: str) -> None:
    body = f"apiVersion: {group}/v1\nkind: CronTab\nmetadata: {{name: ssa}}\nspec: {{cronSpec: abc, replicas: 2}}\n"
    headers = {"Content-Type": "application/apply-patch+yaml"}
    r = client.patch(f"{base(group)}/ssa", params={"fieldManager": "one"}, content=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["spec"] == {"cronSpec": "abc", "replicas": 2, "image": "busybox"}
    assert [m["manager"] for m in r.json()["metadata"]["managedFields"]] == ["one"]
    other = body.replace("replicas: 2", "replicas: 5")
    r = client.patch(f"{base(group)}/ssa", params={"fieldManager": "two"}, content=other, headers=headers)
    assert r.status_code == 409 and ".spec.replicas" in r.json()["message"]
    r = client.patch(
        f"{base(group)}/ssa", params={"fieldManager": "two", "force": "true"}, content=other, headers=headers
    )
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 5
