"""Patches over the wire: status codes and messages of bad patches (nothing changes), the
resourceVersion precondition, fieldValidation on create/update/patch, managedFields after patches,
and custom resources (server-side apply with the CRD's schema; strategic merge patch → 415)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from apiserver_testlib import CRDS, crd_body, create_established, new_namespace, wait_for

JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "pw")


def make_cm(client: httpx.Client, ns: str, name: str, **data: str) -> dict[str, Any]:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    r = client.post(f"/api/v1/namespaces/{ns}/configmaps", params={"fieldManager": "maker"}, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def send(client: httpx.Client, path: str, body: Any, ctype: str, **params: str) -> httpx.Response:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.patch(path, content=raw, headers={"Content-Type": ctype}, params=params)


def test_bad_patches_answer_400_or_422_and_change_nothing(client: httpx.Client, ns: str) -> None:
    cm = make_cm(client, ns, "bad", a="1")
    path = f"/api/v1/namespaces/{ns}/configmaps/bad"
    rv = cm["metadata"]["resourceVersion"]
    cases = [
        (JSON_PATCH, "not json", 400),
        (JSON_PATCH, {"op": "add"}, 400),
        (JSON_PATCH, [{"op": "frobnicate", "path": "/data"}], 400),
        (JSON_PATCH, [{"op": "remove", "path": "/data/zzz"}], 422),
        (JSON_PATCH, [{"op": "test", "path": "/data/a", "value": "2"}], 422),
        (MERGE, "[1, 2]", 400),
        (SMP, '"just a string"', 400),
        (SMP, {"data": {"$patch": "frobnicate"}}, 400),
        (SMP, {"metadata": {"$setElementOrder/finalizers": "x"}}, 400),
        (SMP, {"metadata": {"$deleteFromPrimitiveList/finalizers": "x"}}, 400),
        (SMP, {"$retainKeys": ["data"], "metadata": {"labels": {"a": "b"}}}, 400),
        ("application/x-unknown", {}, 415),
    ]
    for ctype, body, code in cases:
        r = send(client, path, body, ctype)
        assert r.status_code == code, (ctype, body, r.text)
        assert r.json()["kind"] == "Status"
    r = send(client, path, [{"op": "test", "path": "/data/a", "value": "2"}], JSON_PATCH)
    status = r.json()
    assert status["reason"] == "Invalid"
    assert status["message"] == "the server rejected our request due to an error in our request"
    assert status["details"]["causes"][0]["reason"] == "UnexpectedServerResponse"
    r = send(client, path, {"metadata": {"$retainKeys": "x"}}, SMP)
    assert r.json()["message"] == "invalid patch format of retainKeys"
    assert client.get(path).json()["metadata"]["resourceVersion"] == rv


def test_resource_version_in_a_patch_is_a_precondition(client: httpx.Client, ns: str) -> None:
    cm = make_cm(client, ns, "rv", a="1")
    path = f"/api/v1/namespaces/{ns}/configmaps/rv"
    rv = cm["metadata"]["resourceVersion"]
    assert send(client, path, {"data": {"a": "2"}}, MERGE).status_code == 200
    for ctype, body in (
        (MERGE, {"metadata": {"resourceVersion": rv}, "data": {"a": "3"}}),
        (SMP, {"metadata": {"resourceVersion": rv}, "data": {"a": "3"}}),
        (JSON_PATCH, [{"op": "replace", "path": "/metadata/resourceVersion", "value": rv}]),
    ):
        r = send(client, path, body, ctype)
        assert r.status_code == 409 and r.json()["reason"] == "Conflict", r.text
    current = client.get(path).json()["metadata"]["resourceVersion"]
    r = send(client, path, {"metadata": {"resourceVersion": current}, "data": {"a": "4"}}, MERGE)
    assert r.status_code == 200 and r.json()["data"] == {"a": "4"}


def test_field_validation_modes(client: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fv"},
        "data": {"a": "1"},
        "bogus": 1,
    }
    r = client.post(base, params={"fieldValidation": "Strict"}, json=body)
    assert r.status_code == 400 and r.json()["message"] == 'strict decoding error: unknown field "bogus"'
    r = client.post(base, params={"fieldValidation": "Warn"}, json=body)
    assert r.status_code == 201
    assert r.headers["warning"] == '299 - "unknown field \\"bogus\\""'
    assert "bogus" not in r.json()  # dropped, as kube's typed decoding does
    r = client.post(base, params={"fieldValidation": "Ignore"}, json={**body, "metadata": {"name": "fv2"}})
    assert r.status_code == 201 and "warning" not in r.headers and "bogus" not in r.json()
    r = client.post(base, params={"fieldValidation": "Nope"}, json=body)
    assert r.status_code == 400
    # duplicate keys in a JSON body
    raw = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"},"data":{"a":"1"}}'
    r = client.post(
        base, params={"fieldValidation": "Strict"}, content=raw, headers={"Content-Type": "application/json"}
    )
    assert (
        r.status_code == 400
        and r.json()["message"] == 'strict decoding error: duplicate field "metadata.name"'
    )
    r = client.post(base, content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.headers["warning"] == '299 - "duplicate field \\"metadata.name\\""'
    # update and patch
    obj = client.get(f"{base}/fv").json()
    obj["spec"] = {"x": 1}
    r = client.put(f"{base}/fv", params={"fieldValidation": "Strict"}, json=obj)
    assert r.status_code == 400 and 'unknown field "spec"' in r.json()["message"]
    r = send(client, f"{base}/fv", {"data": {"b": "2"}, "nope": {"x": 1}}, MERGE, fieldValidation="Strict")
    assert r.status_code == 400 and r.json()["message"] == 'strict decoding error: unknown field "nope"'
    r = send(client, f"{base}/fv", {"data": {"b": "2"}, "nope": {"x": 1}}, SMP)
    assert r.status_code == 200 and r.headers["warning"] == '299 - "unknown field \\"nope\\""'
    assert "nope" not in r.json() and r.json()["data"] == {"a": "1", "b": "2"}


def test_managed_fields_after_patches(client: httpx.Client, ns: str) -> None:
    make_cm(client, ns, "mf", a="1")
    path = f"/api/v1/namespaces/{ns}/configmaps/mf"
    r = send(
        client, path, {"data": {"b": "2"}, "metadata": {"labels": {"l": "v"}}}, MERGE, fieldManager="patcher"
    )
    entries = {e["manager"]: e for e in r.json()["metadata"]["managedFields"]}
    assert entries["maker"]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    assert entries["patcher"]["fieldsV1"] == {
        "f:data": {"f:b": {}},
        "f:metadata": {"f:labels": {".": {}, "f:l": {}}},
    }
    # the patcher changes a: it takes it from the maker
    r = send(
        client, path, [{"op": "replace", "path": "/data/a", "value": "9"}], JSON_PATCH, fieldManager="patcher"
    )
    entries = {e["manager"]: e for e in r.json()["metadata"]["managedFields"]}
    assert entries["maker"]["fieldsV1"] == {"f:data": {}}  # still owns the map itself
    assert "f:a" in entries["patcher"]["fieldsV1"]["f:data"]
    # removing a field takes it from everyone
    r = send(client, path, {"data": {"b": None}}, MERGE, fieldManager="third")
    assert all("f:b" not in e["fieldsV1"].get("f:data", {}) for e in r.json()["metadata"]["managedFields"])
    # clients may reset managedFields with a list holding one empty entry
    r = send(client, path, {"metadata": {"managedFields": [{}]}}, MERGE)
    assert r.status_code == 200 and "managedFields" not in r.json()["metadata"]


WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"type": "integer"},
                        },
                    },
                },
            },
        }
    },
}


def test_custom_resources_apply_with_their_schema(client: httpx.Client, ns: str) -> None:
    group = f"g{uuid.uuid4().hex[:6]}.example.com"
    create_established(client, crd_body(group, "widgets", "Widget", schema=WIDGET_SCHEMA))
    base = f"/apis/{group}/v1/namespaces/{ns}/widgets"
    wait_for(lambda: client.get(base).status_code == 200)

    def widget(**spec: Any) -> dict[str, Any]:
        return {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}

    r = send(
        client, f"{base}/w", widget(size=1, ports=[{"name": "a", "port": 1}]), APPLY, fieldManager="alice"
    )
    assert r.status_code == 201, r.text
    r = send(client, f"{base}/w", widget(ports=[{"name": "b", "port": 2}]), APPLY, fieldManager="bob")
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["spec"]["ports"]] == ["a", "b"]  # list-map merged by key
    bob = next(e for e in r.json()["metadata"]["managedFields"] if e["manager"] == "bob")
    assert bob["fieldsV1"] == {
        "f:spec": {"f:ports": {'k:{"name":"b"}': {".": {}, "f:name": {}, "f:port": {}}}}
    }
    r = send(client, f"{base}/w", widget(size=2), APPLY, fieldManager="bob")
    assert r.status_code == 409
    assert r.json()["message"] == 'Apply failed with 1 conflict: conflict with "alice": .spec.size'
    r = send(client, f"{base}/w", widget(bogus=1), APPLY, fieldManager="bob")
    assert r.status_code == 400 and "field not declared in schema" in r.json()["message"]
    r = send(client, f"{base}/w", {"spec": {"size": 3}}, SMP)
    assert r.status_code == 415
    r = send(client, f"{base}/w", {"spec": {"size": 3}}, MERGE)
    assert r.status_code == 200 and r.json()["spec"]["size"] == 3
    assert client.delete(f"{CRDS}/widgets.{group}").status_code == 200
