"""Helpers shared by the defaults / validation / admission tests: an httpx client on a real server."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from testserver.testing import TestServer


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


def pod(name: str, image: str = "nginx:1.25", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def wait_for(fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)
