"""TokenReview runs the server's authenticator (issue 19 item 2: it answered ``authenticated: false``
even for the server's own token, so components' delegated authentication refused everyone)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from testserver.testing import TestServer

PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


def review(token: str, audiences: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"token": token}
    if audiences is not None:
        spec["audiences"] = audiences
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}


def test_the_servers_token_is_authenticated_with_its_user_and_audiences(
    client: httpx.Client, apiserver: TestServer
) -> None:
    r = client.post(PATH, json=review(apiserver.token))
    assert r.status_code == 201, r.text
    status = r.json()["status"]
    assert status["authenticated"] is True
    assert status["user"] == {"username": "admin", "groups": ["system:masters", "system:authenticated"]}
    assert status["audiences"] == ["https://kubernetes.default.svc.cluster.local"]


def test_an_unknown_token_is_not_authenticated(client: httpx.Client) -> None:
    status = client.post(PATH, json=review("not-a-token")).json()["status"]
    assert "authenticated" not in status
    assert status["error"] == "invalid bearer token"


def test_audiences_must_meet_the_apis(client: httpx.Client, apiserver: TestServer) -> None:
    api = "https://kubernetes.default.svc.cluster.local"
    status = client.post(PATH, json=review(apiserver.token, ["other", api])).json()["status"]
    assert (status["authenticated"], status["audiences"]) == (True, [api])
    status = client.post(PATH, json=review(apiserver.token, ["other"])).json()["status"]
    assert "authenticated" not in status and "audiences" in status["error"]


def test_a_review_without_a_token_is_invalid(client: httpx.Client) -> None:
    r = client.post(PATH, json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {}})
    assert r.status_code == 422
    assert r.json()["details"]["causes"][0]["field"] == "spec.token"


def test_kubectl_creates_a_token_review(kubectl: Any, apiserver: TestServer) -> None:
    out = kubectl("create", "-o", "json", "-f", "-", input=json.dumps(review(apiserver.token)))
    assert json.loads(out)["status"]["user"]["username"] == "admin"
