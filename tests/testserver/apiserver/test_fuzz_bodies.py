"""Bad input never gets a 5xx: random bodies, patches, selectors and query values against a real server.

Every answer must be a Kubernetes Status with a 4xx code (or a success), the server must stay up, and
a failed write must leave the stored object as it was.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from apiserver_testlib import cm, new_namespace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Objects that look a little like Kubernetes objects, so validation paths past the JSON decoder run.
_object_like = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.sampled_from(["v1", "apps/v1", "", "v2", 1]) | st.text(max_size=8),
        "kind": st.sampled_from(["ConfigMap", "Pod", "Deployment", "", None]) | st.text(max_size=8),
        "metadata": _json
        | st.fixed_dictionaries(
            {},
            optional={
                "name": st.text(max_size=70) | _json,
                "namespace": st.text(max_size=10) | _json,
                "labels": _json,
                "annotations": _json,
                "resourceVersion": st.text(max_size=6) | _json,
                "finalizers": _json,
                "generateName": st.text(max_size=70),
            },
        ),
        "data": _json,
        "spec": _json,
        "status": _json,
    },
)
_content_types = st.sampled_from(
    [
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
        "application/apply-patch+yaml",
        "application/vnd.kubernetes.protobuf",
        "text/plain",
        "",
    ]
)
_bodies = st.one_of(
    st.binary(max_size=200),
    _json.map(lambda v: json.dumps(v).encode()),
    _object_like.map(lambda v: json.dumps(v).encode()),
)


@pytest.fixture(scope="module")
def target(client: httpx.Client) -> tuple[str, bytes]:
    """A namespace with one configmap; returns its path and its stored JSON."""
    ns = new_namespace(client, "fuzz")
    r = client.post(f"/api/v1/namespaces/{ns}/configmaps", json=cm("keep", a="1"))
    assert r.status_code == 201, r.text
    return f"/api/v1/namespaces/{ns}", r.content


def _assert_not_server_error(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:300]}"
    if r.status_code >= 400:
        status: Any = r.json()
        assert (
            status["kind"] == "Status" and status["status"] == "Failure" and status["code"] == r.status_code
        )


_settings = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@_settings
@given(body=_bodies, content_type=_content_types, method=st.sampled_from(["POST", "PUT", "PATCH"]))
def test_random_writes_never_5xx_and_never_change_the_object(
    client: httpx.Client, target: tuple[str, bytes], body: bytes, content_type: str, method: str
) -> None:
    base, _ = target
    before = client.get(f"{base}/configmaps/keep")
    path = f"{base}/configmaps" if method == "POST" else f"{base}/configmaps/keep"
    r = client.request(method, path, content=body, headers={"Content-Type": content_type})
    _assert_not_server_error(r)
    if r.status_code >= 400:
        after = client.get(f"{base}/configmaps/keep")
        assert after.json() == before.json(), "a failed write changed the object"


@_settings
@given(
    label=st.text(max_size=30),
    field=st.text(max_size=30),
    rv=st.text(max_size=8),
    limit=st.text(max_size=5),
    cont=st.text(max_size=40),
    watch=st.sampled_from(["", "true", "false", "x"]),
)
def test_random_list_parameters_never_5xx(
    client: httpx.Client,
    target: tuple[str, bytes],
    label: str,
    field: str,
    rv: str,
    limit: str,
    cont: str,
    watch: str,
) -> None:
    base, _ = target
    params = {
        "labelSelector": label,
        "fieldSelector": field,
        "resourceVersion": rv,
        "limit": limit,
        "continue": cont,
    }
    if watch:
        params["watch"] = watch
        params["timeoutSeconds"] = "1"
    r = client.get(f"{base}/configmaps", params=params)
    _assert_not_server_error(r)


@_settings
@given(segments=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=7))
def test_random_paths_never_5xx(client: httpx.Client, segments: list[str]) -> None:
    r = client.get("/" + "/".join(quote(s, safe="") for s in segments))
    _assert_not_server_error(r)


def test_unknown_field_with_control_characters_gets_a_valid_warning_header(
    client: httpx.Client, target: tuple[str, bytes]
) -> None:
    """Found by the fuzzer: the Warning header echoed the raw field name and the server dropped the connection."""
    base, _ = target
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "warned"},
        "data": {},
        "\f\x1f bad": 1,
    }
    r = client.post(f"{base}/configmaps", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["warning"] == '299 - "unknown field \\"\\\\f\\\\u001f bad\\""'


def test_put_without_a_name_is_rejected_and_changes_nothing(
    client: httpx.Client, target: tuple[str, bytes]
) -> None:
    """kube's checkName: the body of a PUT must name the object the URL names."""
    base, _ = target
    before = client.get(f"{base}/configmaps/keep").json()
    r = client.put(f"{base}/configmaps/keep", json={"apiVersion": "v1", "kind": "ConfigMap", "data": {}})
    assert r.status_code == 400
    assert r.json()["message"] == "the name of the object () does not match the name on the URL (keep)"
    assert client.get(f"{base}/configmaps/keep").json() == before
