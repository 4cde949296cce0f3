"""The API server keeps the ``kubernetes`` Service's Endpoints and EndpointSlice in ``default``
pointing at itself (upstream's "should find a service from listing all namespaces" / "should test
the lifecycle of an Endpoint" read them): its address and secure port, kube's labels."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from testserver.testing import TestServer


def test_kubernetes_endpoints_and_slice_point_at_the_server(
    client: httpx.Client, apiserver: TestServer
) -> None:
    url = urlsplit(apiserver.url)
    eps = client.get("/api/v1/namespaces/default/endpoints/kubernetes")
    assert eps.status_code == 200, eps.text
    body = eps.json()
    assert body["metadata"]["labels"]["endpointslice.kubernetes.io/skip-mirror"] == "true"
    assert body["subsets"] == [
        {
            "addresses": [{"ip": url.hostname}],
            "ports": [{"name": "https", "port": url.port, "protocol": "TCP"}],
        }
    ]
    r = client.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
    assert r.status_code == 200, r.text
    eps_slice = r.json()
    assert eps_slice["metadata"]["labels"]["kubernetes.io/service-name"] == "kubernetes"
    assert eps_slice["addressType"] == "IPv4"
    assert [e["addresses"] for e in eps_slice["endpoints"]] == [[url.hostname]]
    assert eps_slice["endpoints"][0]["conditions"]["ready"] is True
    assert eps_slice["ports"] == [{"name": "https", "port": url.port, "protocol": "TCP"}]
    listed = client.get(
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        params={"labelSelector": "kubernetes.io/service-name=kubernetes"},
    ).json()
    assert [i["metadata"]["name"] for i in listed["items"]] == ["kubernetes"]
