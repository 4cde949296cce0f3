"""EndpointSlices carry a generation, as kube's strategy sets it (1 on create, +1 when the content changes):
the endpointslice controller's cache tracker and kube-proxy's change tracking compare it."""

from __future__ import annotations

import httpx
from apiserver_testlib import new_namespace


def test_generation_starts_at_one_and_follows_content_changes(client: httpx.Client) -> None:
    ns = new_namespace(client, "eps")
    path = f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
    body = {
        "metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
    }
    created = client.post(path, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["generation"] == 1
    patched = client.patch(
        f"{path}/web-abc",
        json={"endpoints": [{"addresses": ["10.0.0.2"], "conditions": {"ready": False}}]},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["metadata"]["generation"] == 2
    annotated = client.patch(
        f"{path}/web-abc",
        json={"metadata": {"annotations": {"a": "b"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert annotated.json()["metadata"]["generation"] == 2
