"""Strict field validation reports a typed body's problems as kube does: one pass over a JSON body
in document order with full field paths (upstream's "should detect unknown and duplicate fields of
a typed object"), YAML duplicates by line first."""

from __future__ import annotations

import httpx
from apiserver_testlib import new_namespace

DEPLOYMENT = b"""{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "my-dep", "labels": {"app": "nginx"}},
  "spec": {
    "unknownField": "foo",
    "replicas": 2,
    "replicas": 3,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:latest", "bogus": 1}]}
    }
  }
}"""


def test_json_problems_in_document_order_with_paths(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    headers = {"Content-Type": "application/json"}
    r = client.post(base, params={"fieldValidation": "Strict"}, content=DEPLOYMENT, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["message"].endswith(
        'strict decoding error: unknown field "spec.unknownField", duplicate field "spec.replicas", '
        'unknown field "spec.template.spec.containers[0].bogus"'
    )
    r = client.post(base, params={"fieldValidation": "Warn"}, content=DEPLOYMENT, headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers.get_list("warning") == [
        '299 - "unknown field \\"spec.unknownField\\""',
        '299 - "duplicate field \\"spec.replicas\\""',
        '299 - "unknown field \\"spec.template.spec.containers[0].bogus\\""',
    ]
    assert r.json()["spec"]["replicas"] == 3  # the last value wins, as Go's decoder


def test_yaml_duplicates_by_line_before_unknown_fields(client: httpx.Client) -> None:
    ns = new_namespace(client)
    body = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: y
zzz: 1
data:
  a: "1"
  a: "2"
"""
    r = client.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        params={"fieldValidation": "Strict"},
        content=body,
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["message"].endswith(
        'strict decoding error: line 8: key "a" already set in map, unknown field "zzz"'
    )
