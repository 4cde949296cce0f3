"""The API server speaks application/vnd.kubernetes.protobuf: request bodies, negotiated responses
(objects, lists, Status errors), protobuf watch frames, and the right Status for bad input."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from apiserver_testlib import CRDS, cm, crd_body

from pyclientgo.apimachinery import protobuf as pb

PB = "application/vnd.kubernetes.protobuf"
GO_ACCEPT = f"{PB}, */*"  # what kubectl sends for protobuf requests


@pytest.fixture
def ns(client: httpx.Client) -> str:
    name = f"pb-{uuid.uuid4().hex[:8]}"
    body = pb.encode_object({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}})
    r = client.post("/api/v1/namespaces", content=body, headers={"Content-Type": PB, "Accept": GO_ACCEPT})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == PB
    created = pb.decode_object(r.content)
    assert created["metadata"]["name"] == name and created["status"] == {"phase": "Active"}
    return name


def post_pb(client: httpx.Client, path: str, obj: dict[str, Any] | bytes, **params: str) -> httpx.Response:
    body = obj if isinstance(obj, bytes) else pb.encode_object(obj)
    return client.post(path, content=body, params=params, headers={"Content-Type": PB, "Accept": GO_ACCEPT})


def test_create_get_list_update_delete(client: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    r = post_pb(client, base, cm("a", k="v"))
    assert r.status_code == 201, r.text
    created = pb.decode_object(r.content)
    assert created["data"] == {"k": "v"} and created["metadata"]["uid"]
    # JSON readers see the same object
    assert client.get(f"{base}/a").json()["data"] == {"k": "v"}
    r = client.get(f"{base}/a", headers={"Accept": f"{PB},application/json"})
    assert r.headers["content-type"] == PB
    got = pb.decode_object(r.content)
    assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    # a JSON-first Accept gets JSON
    assert client.get(f"{base}/a", headers={"Accept": f"application/json,{PB}"}).json()["kind"] == "ConfigMap"
    r = client.get(base, headers={"Accept": PB})
    listed = pb.decode_object(r.content)
    assert listed["kind"] == "ConfigMapList" and [i["metadata"]["name"] for i in listed["items"]] == ["a"]
    got["data"] = {"k": "v2"}
    r = client.put(f"{base}/a", content=pb.encode_object(got), headers={"Content-Type": PB, "Accept": PB})
    assert r.status_code == 200, r.text
    assert pb.decode_object(r.content)["data"] == {"k": "v2"}
    delete_opts = pb.encode_object(
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    )
    r = client.request("DELETE", f"{base}/a", content=delete_opts, headers={"Content-Type": PB, "Accept": PB})
    assert r.status_code == 200, r.text
    assert client.get(f"{base}/a").status_code == 404


def test_dry_run_and_deployment(client: httpx.Client, ns: str) -> None:
    dep = {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    r = post_pb(client, path, dep, dryRun="All")
    assert r.status_code == 201, r.text
    assert client.get(f"{path}/web").status_code == 404
    r = post_pb(client, path, dep)
    assert r.status_code == 201, r.text
    stored = client.get(f"{path}/web").json()
    assert stored["spec"]["replicas"] == 0  # an explicit zero survives protobuf
    assert stored["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]


def test_status_errors_are_protobuf(client: httpx.Client, ns: str) -> None:
    r = client.get(f"/api/v1/namespaces/{ns}/configmaps/missing", headers={"Accept": GO_ACCEPT})
    assert r.status_code == 404
    assert r.headers["content-type"] == PB
    status = pb.decode_object(r.content)
    assert status["kind"] == "Status" and status["reason"] == "NotFound" and status["code"] == 404
    r = post_pb(client, f"/api/v1/namespaces/{ns}/configmaps", cm("dup"))
    assert r.status_code == 201
    r = post_pb(client, f"/api/v1/namespaces/{ns}/configmaps", cm("dup"))
    assert r.status_code == 409 and pb.decode_object(r.content)["reason"] == "AlreadyExists"


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b'{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}',
        pb.MAGIC + b"\x0a\xff",
        pb.encode_unknown("v1", "ConfigMap", b"\x0a\x05\x0a\x01"),
        pb.encode_unknown("v1", "NoSuchKind", b""),
        pb.encode_unknown("v1", "Secret", b""),  # the wrong kind for the URL
        pb.encode_unknown("v1", "ConfigMap", b"\x1a\x03\x0a\x01\xff"),  # invalid UTF-8 in a map entry
    ],
)
def test_malformed_protobuf_is_400(client: httpx.Client, ns: str, body: bytes) -> None:
    r = client.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        content=body,
        headers={"Content-Type": PB, "Accept": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["reason"] == "BadRequest"
    assert client.get(f"/api/v1/namespaces/{ns}/configmaps").json()["items"] == []


def test_patch_with_protobuf_is_415(client: httpx.Client, ns: str) -> None:
    assert post_pb(client, f"/api/v1/namespaces/{ns}/configmaps", cm("p")).status_code == 201
    r = client.patch(
        f"/api/v1/namespaces/{ns}/configmaps/p",
        content=pb.encode_object(cm("p")),
        headers={"Content-Type": PB},
    )
    assert r.status_code == 415, r.text
    assert r.json()["reason"] == "UnsupportedMediaType"


def test_review_kinds(client: httpx.Client) -> None:
    review = {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}},
    }
    r = post_pb(client, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert r.status_code == 201, r.text
    assert pb.decode_object(r.content)["status"]["allowed"] is True
    rules = {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "spec": {"namespace": "default"},
    }
    r = post_pb(client, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", rules)
    assert r.status_code == 201, r.text
    assert pb.decode_object(r.content)["status"]["resourceRules"][0]["verbs"] == ["*"]


def test_watch_protobuf_frames(client: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    assert post_pb(client, base, cm("w1")).status_code == 201
    headers = {"Accept": f"{PB}, application/json"}
    with client.stream("GET", base, params={"watch": "true", "resourceVersion": "0"}, headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == pb.WATCH_CONTENT_TYPE
        buf = b""
        events: list[tuple[str, dict[str, Any]]] = []
        created = False
        deadline = time.monotonic() + 10
        for chunk in r.iter_raw():
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                size = 4 + int.from_bytes(buf[:4], "big")
                events.extend(pb.iter_watch_frames(buf[:size]))
                buf = buf[size:]
            if events and not created:
                assert post_pb(client, base, cm("w2")).status_code == 201
                created = True
            if len(events) >= 2 or time.monotonic() > deadline:
                break
    assert [(t, o["metadata"]["name"]) for t, o in events[:2]] == [("ADDED", "w1"), ("ADDED", "w2")]
    assert events[0][1]["kind"] == "ConfigMap"


def test_protobuf_only_accept(client: httpx.Client, ns: str) -> None:
    r = client.get(f"/api/v1/namespaces/{ns}/configmaps", headers={"Accept": PB})
    assert r.status_code == 200 and r.headers["content-type"] == PB


def test_custom_resources_have_no_protobuf(client: httpx.Client, ns: str) -> None:
    body = crd_body("pb.example.com", "widgets", "Widget", singular="widget", listKind="WidgetList")
    r = client.post(CRDS, json=body)
    if r.status_code not in (201, 409):
        pytest.skip(f"CRDs not served by this server yet ({r.status_code})")
    path = f"/apis/pb.example.com/v1/namespaces/{ns}/widgets"
    deadline = time.monotonic() + 10
    while client.get(path).status_code == 404:
        if time.monotonic() > deadline:
            pytest.skip("custom resources not served by this server yet")
        time.sleep(0.05)
    widget = {"kind": "Widget", "apiVersion": "pb.example.com/v1", "metadata": {"name": "w"}}
    body = pb.encode_unknown(
        "pb.example.com/v1", "Widget", orjson.dumps(widget), content_type="application/json"
    )
    r = client.post(path, content=body, headers={"Content-Type": PB})
    assert r.status_code == 415, r.text
    assert r.json()["reason"] == "UnsupportedMediaType"
    assert client.get(path, headers={"Accept": PB}).status_code == 406
    r = client.post(path, json=widget, headers={"Accept": f"{PB}, application/json"})
    assert r.status_code == 201 and r.headers["content-type"].startswith("application/json")


def test_openapi_v2_protobuf_request(client: httpx.Client) -> None:
    """kubectl asks /openapi/v2 as gnostic protobuf: an empty (valid) Document; JSON stays JSON."""
    r = client.get(
        "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/com.github.proto-openapi.spec.v2")
    assert r.content == b""
    assert "definitions" in client.get("/openapi/v2", headers={"Accept": "application/json"}).json()


def test_put_creates_lease_from_protobuf(client: httpx.Client, ns: str) -> None:
    """PUT of a missing object that kube creates on update (leases): the protobuf body goes through."""
    lease = {
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {"name": "leader", "namespace": ns},
        "spec": {
            "holderIdentity": "a",
            "leaseDurationSeconds": 15,
            "renewTime": "2024-01-02T03:04:05.123456Z",
        },
    }
    r = client.put(
        f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/leader",
        content=pb.encode_object(lease),
        headers={"Content-Type": PB, "Accept": GO_ACCEPT},
    )
    assert r.status_code == 201, r.text
    assert pb.decode_object(r.content)["spec"] == lease["spec"]
