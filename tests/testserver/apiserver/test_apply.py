"""Server-side apply and managedFields over the wire (httpx against a real testserver)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from apiserver_testlib import new_namespace

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "apply")


def deployment(
    name: str, replicas: int | None = 1, image: str = "nginx:1.25", **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    spec.update(extra)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def apply(
    client: httpx.Client, ns: str, obj: dict[str, Any], manager: str, *, force: bool = False, sub: str = ""
) -> httpx.Response:
    name = obj["metadata"]["name"]
    params: dict[str, str] = {"fieldManager": manager}
    if force:
        params["force"] = "true"
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}" + (f"/{sub}" if sub else "")
    return client.patch(path, params=params, content=json.dumps(obj), headers={"Content-Type": APPLY})


def entries(obj: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for e in obj["metadata"].get("managedFields") or []:
        out[(e["manager"], e["operation"], e.get("subresource", ""))] = e
    return out


def test_apply_creates_and_records_an_apply_entry(client: httpx.Client, ns: str) -> None:
    r = apply(client, ns, deployment("d1", replicas=2), "alice")
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["spec"]["replicas"] == 2
    assert obj["spec"]["revisionHistoryLimit"] == 10  # defaults applied
    (entry,) = obj["metadata"]["managedFields"]
    assert entry["manager"] == "alice" and entry["operation"] == "Apply"
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1" and entry["time"]
    assert "subresource" not in entry
    fields = entry["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    assert fields["f:spec"]["f:selector"] == {}  # LabelSelector is atomic
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers == {'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert "f:revisionHistoryLimit" not in fields["f:spec"]  # defaults belong to nobody
    assert "f:name" not in fields.get("f:metadata", {})
    # re-applying the same configuration is a no-op: same resourceVersion
    r2 = apply(client, ns, deployment("d1", replicas=2), "alice")
    assert r2.status_code == 200
    assert r2.json()["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_conflict_force_and_shared_ownership(client: httpx.Client, ns: str) -> None:
    assert apply(client, ns, deployment("d2", replicas=1), "alice").status_code == 201
    # an Update by another manager takes spec.replicas
    r = client.patch(
        f"/apis/apps/v1/namespaces/{ns}/deployments/d2",
        params={"fieldManager": "m"},
        content=json.dumps({"spec": {"replicas": 3}}),
        headers={"Content-Type": MERGE},
    )
    assert r.status_code == 200, r.text
    e = entries(r.json())
    assert e[("m", "Update", "")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in e[("alice", "Apply", "")]["fieldsV1"]["f:spec"]
    # alice applies replicas 1 again: conflict with m
    r = apply(client, ns, deployment("d2", replicas=1), "alice")
    assert r.status_code == 409, r.text
    status = r.json()
    assert status["reason"] == "Conflict"
    assert (
        status["message"] == 'Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "m" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    assert client.get(f"/apis/apps/v1/namespaces/{ns}/deployments/d2").json()["spec"]["replicas"] == 3
    # applying the live value makes shared ownership, no conflict
    r = apply(client, ns, deployment("d2", replicas=3), "alice")
    assert r.status_code == 200, r.text
    e = entries(r.json())
    assert "f:replicas" in e[("alice", "Apply", "")]["fieldsV1"]["f:spec"]
    assert "f:replicas" in e[("m", "Update", "")]["fieldsV1"]["f:spec"]
    # force takes ownership away from m (whose entry then owns nothing and disappears)
    r = apply(client, ns, deployment("d2", replicas=5), "alice", force=True)
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["replicas"] == 5
    assert ("m", "Update", "") not in entries(r.json())


def test_two_appliers_conflict_and_removal(client: httpx.Client, ns: str) -> None:
    base = deployment("d3", replicas=None)
    base["metadata"]["labels"] = {"a": "1"}
    assert apply(client, ns, base, "alice").status_code == 201
    bob = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d3", "labels": {"a": "2", "b": "x"}},
    }
    r = apply(client, ns, bob, "bob")
    assert r.status_code == 409
    assert r.json()["message"] == 'Apply failed with 1 conflict: conflict with "alice": .metadata.labels.a'
    bob["metadata"]["labels"] = {"b": "x"}
    r = apply(client, ns, bob, "bob")
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["labels"] == {"a": "1", "b": "x"}
    # bob stops applying label b: it is removed (nobody else owns it)
    bob["metadata"]["labels"] = {}
    r = apply(client, ns, bob, "bob")
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["labels"] == {"a": "1"}
    # alice drops her label, which goes away
    cfg = deployment("d3", replicas=None)
    r = apply(client, ns, cfg, "alice")
    assert r.status_code == 200, r.text
    assert r.json()["metadata"].get("labels") == {}  # bob still applies an empty map


def test_field_shared_by_two_appliers_survives_one_dropping_it(client: httpx.Client, ns: str) -> None:
    assert apply(client, ns, deployment("d4", replicas=2), "alice").status_code == 201
    r = apply(client, ns, deployment("d4", replicas=2), "bob")
    assert r.status_code == 200, r.text
    r = apply(client, ns, deployment("d4", replicas=None), "alice")
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["replicas"] == 2  # bob still owns it
    r = apply(client, ns, deployment("d4", replicas=None), "bob")
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["replicas"] == 1  # nobody owns it: removed, then defaulted


def test_list_map_merge_by_key(client: httpx.Client, ns: str) -> None:
    assert apply(client, ns, deployment("d5"), "alice").status_code == 201
    sidecar = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d5"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "side", "image": "busybox", "ports": [{"containerPort": 80}]}]
                }
            }
        },
    }
    r = apply(client, ns, sidecar, "bob")
    assert r.status_code == 200, r.text
    containers = r.json()["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "side"]
    bob = entries(r.json())[("bob", "Apply", "")]["fieldsV1"]
    ports = bob["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"side"}']["f:ports"]
    assert ports == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}


def test_update_and_status_managed_fields(client: httpx.Client, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    r = client.post(base, params={"fieldManager": "creator"}, json=deployment("d6"))
    assert r.status_code == 201, r.text
    (entry,) = r.json()["metadata"]["managedFields"]
    assert entry["manager"] == "creator" and entry["operation"] == "Update"
    assert "f:revisionHistoryLimit" in entry["fieldsV1"]["f:spec"]  # Update owns what it wrote (defaults too)
    assert entry["fieldsV1"]["f:spec"]["f:template"]["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    obj = r.json()
    obj["spec"]["paused"] = True
    r = client.put(f"{base}/d6", params={"fieldManager": "editor"}, json=obj)
    assert r.status_code == 200, r.text
    e = entries(r.json())
    assert e[("editor", "Update", "")]["fieldsV1"] == {"f:spec": {"f:paused": {}}}
    status = r.json()
    status["status"] = {"replicas": 4, "observedGeneration": 1}
    r = client.put(f"{base}/d6/status", params={"fieldManager": "ctrl"}, json=status)
    assert r.status_code == 200, r.text
    e = entries(r.json())
    assert e[("ctrl", "Update", "status")]["fieldsV1"] == {
        "f:status": {"f:observedGeneration": {}, "f:replicas": {}}
    }
    assert e[("ctrl", "Update", "status")]["subresource"] == "status"
    # a no-op update keeps everything (same resourceVersion)
    rv = r.json()["metadata"]["resourceVersion"]
    r = client.put(f"{base}/d6", params={"fieldManager": "other"}, json=r.json())
    assert r.json()["metadata"]["resourceVersion"] == rv
    assert ("other", "Update", "") not in entries(r.json())


def test_apply_status_subresource(client: httpx.Client, ns: str) -> None:
    assert apply(client, ns, deployment("d7"), "alice").status_code == 201
    cfg = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d7"},
        "status": {"replicas": 7},
    }
    r = apply(client, ns, cfg, "ctrl", sub="status")
    assert r.status_code == 200, r.text
    assert r.json()["status"]["replicas"] == 7
    e = entries(r.json())[("ctrl", "Apply", "status")]
    assert e["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_apply_errors(client: httpx.Client, ns: str) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/bad"
    body = json.dumps(deployment("bad"))
    r = client.patch(path, content=body, headers={"Content-Type": APPLY})
    assert r.status_code == 422
    assert r.json()["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    r = client.patch(path, params={"fieldManager": "x"}, content="a: [", headers={"Content-Type": APPLY})
    assert r.status_code == 400 and r.json()["message"].startswith("error decoding YAML")
    wrong = deployment("bad")
    wrong["apiVersion"] = "apps/v1beta1"
    r = client.patch(
        path, params={"fieldManager": "x"}, content=json.dumps(wrong), headers={"Content-Type": APPLY}
    )
    assert r.status_code == 400
    assert r.json()["message"] == (
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"
    )
    unknown = deployment("bad", foo=1)
    r = client.patch(
        path, params={"fieldManager": "x"}, content=json.dumps(unknown), headers={"Content-Type": APPLY}
    )
    assert r.status_code == 400
    assert r.json()["message"] == (
        f"failed to create typed patch object ({ns}/bad; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema"
    )
    mf = deployment("bad")
    mf["metadata"]["managedFields"] = [{"manager": "x"}]
    r = client.patch(
        path, params={"fieldManager": "x"}, content=json.dumps(mf), headers={"Content-Type": APPLY}
    )
    assert r.status_code == 400 and r.json()["message"] == "metadata.managedFields must be nil"
    assert client.get(path).status_code == 404  # nothing was created
    r = client.patch(
        path,
        params={"fieldManager": "x", "force": "true"},
        content=json.dumps({"spec": {}}),
        headers={"Content-Type": MERGE},
    )
    assert (
        r.status_code == 422
        and "force: Forbidden: may not be specified for non-apply patch" in r.json()["message"]
    )


def test_apply_yaml_dry_run_and_duplicate_keys(client: httpx.Client, ns: str) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/d8"
    doc = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d8\nspec:\n  replicas: 1\n  replicas: 2\n"
        "  selector:\n    matchLabels: {app: d8}\n  template:\n    metadata:\n      labels: {app: d8}\n"
        "    spec:\n      containers:\n      - {name: c, image: nginx}\n"
    )
    r = client.patch(
        path,
        params={"fieldManager": "x", "fieldValidation": "Strict"},
        content=doc,
        headers={"Content-Type": APPLY},
    )
    assert r.status_code == 400
    assert 'line 7: key "replicas" already set in map' in r.json()["message"]
    r = client.patch(
        path, params={"fieldManager": "x", "dryRun": "All"}, content=doc, headers={"Content-Type": APPLY}
    )
    assert r.status_code == 201, r.text
    assert r.headers.get("warning") == '299 - "line 7: key \\"replicas\\" already set in map"'
    assert r.json()["spec"]["replicas"] == 2
    assert client.get(path).status_code == 404  # dry run persisted nothing
