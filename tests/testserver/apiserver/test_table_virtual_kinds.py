"""A create-only virtual kind (SelfSubjectAccessReview, TokenReview, ...) has no Table conversion:
asked only as a Table it answers 406, as kube-apiserver (upstream's "should return a 406 for a
backend which does not implement metadata"); with a JSON fallback in Accept it answers JSON."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def review() -> dict[str, object]:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}},
    }


def test_self_subject_access_review_as_table_is_406(client: httpx.Client) -> None:
    r = client.post(SSAR, json=review(), headers={"Accept": TABLE})
    assert r.status_code == 406, r.text
    assert (r.json()["kind"], r.json()["reason"], r.json()["code"]) == ("Status", "NotAcceptable", 406)
    r = client.post(SSAR, json=review(), headers={"Accept": f"{TABLE}, application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["status"]["allowed"] is True


def test_stored_kinds_are_not_refused_a_table_accept(client: httpx.Client) -> None:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": f"tbl-{uuid.uuid4().hex[:8]}"},
    }
    r = client.post("/api/v1/namespaces", json=body, headers={"Accept": TABLE})
    assert r.status_code == 201, r.text
    r = client.get("/api/v1/namespaces", headers={"Accept": TABLE})
    assert r.status_code == 200 and r.json()["kind"] == "Table"
    client.delete(f"/api/v1/namespaces/{body['metadata']['name']}")
