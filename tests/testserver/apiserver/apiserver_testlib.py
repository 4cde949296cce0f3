"""Helpers shared by the API server's wire tests: an httpx client on a real server, namespaces,
small object bodies and a deadline-bounded wait. The ``client`` fixture (conftest.py) uses
:func:`client_for` on the session's ``apiserver``."""

from __future__ import annotations

import copy
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from testserver.testing import TestServer

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
OPEN_SCHEMA: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def client_for(server: TestServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        verify=ssl.create_default_context(cafile=str(server.ca_cert)),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def new_namespace(client: httpx.Client, prefix: str = "t") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert r.status_code == 201, r.text
    return name


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod(name: str, image: str = "nginx:1.25", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def wait_for(fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``fn`` every 20 ms until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def crd_body(
    group: str,
    plural: str,
    kind: str,
    *,
    scope: str = "Namespaced",
    schema: dict[str, Any] = OPEN_SCHEMA,
    **names: Any,
) -> dict[str, Any]:
    """A CustomResourceDefinition ``<plural>.<group>`` with one version ``v1`` (served, storage).

    ``names`` are added to ``spec.names``; ``schema`` is copied, so tests may edit the body.
    """
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "kind": kind, **names},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(schema)},
                }
            ],
        },
    }


def crd_conditions(client: httpx.Client, name: str) -> dict[str, dict[str, Any]]:
    """The stored CRD's status conditions by type."""
    crd = client.get(f"{CRDS}/{name}").json()
    return {c["type"]: c for c in (crd.get("status") or {}).get("conditions") or []}


def create_established(client: httpx.Client, body: dict[str, Any]) -> str:
    """Create the CRD ``body`` (201) and wait until it is Established; its name."""
    r = client.post(CRDS, json=body)
    assert r.status_code == 201, r.text
    name: str = body["metadata"]["name"]
    wait_for(lambda: crd_conditions(client, name).get("Established", {}).get("status") == "True")
    return name
