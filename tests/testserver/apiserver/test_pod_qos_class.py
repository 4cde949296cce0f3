"""status.qosClass set on pod create, as kube-apiserver's pod strategy sets it (qos.GetPodQOS; the API
server uses pyclientgo.component_helpers.qos), seen through the API and kubectl."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apiserver_testlib import new_namespace, pod


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "qos")


def res(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if requests is not None:
        out["requests"] = requests
    if limits is not None:
        out["limits"] = limits
    return out


CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], str]] = [
    ("no resources", [{}], [], "BestEffort"),
    ("zero requests only", [res({"cpu": "0", "memory": "0"})], [], "BestEffort"),
    (
        "limits only (requests default to limits)",
        [res(None, {"cpu": "1", "memory": "1Gi"})],
        [],
        "Guaranteed",
    ),
    (
        "equal values written differently",
        [res({"cpu": "1000m", "memory": "1024Mi"}, {"cpu": "1", "memory": "1Gi"})],
        [],
        "Guaranteed",
    ),
    (
        "two guaranteed containers",
        [res(None, {"cpu": "1", "memory": "1Gi"}), res(None, {"cpu": "2", "memory": "2Gi"})],
        [],
        "Guaranteed",
    ),
    ("requests below limits", [res({"cpu": "500m"}, {"cpu": "1", "memory": "1Gi"})], [], "Burstable"),
    ("memory only", [res(None, {"memory": "1Gi"})], [], "Burstable"),
    (
        "hugepages do not count",
        [res({"hugepages-2Mi": "2Mi", "memory": "0"}, {"hugepages-2Mi": "2Mi"})],
        [],
        "BestEffort",
    ),
    ("a burstable init container", [{}], [res({"cpu": "10m"}, {"cpu": "100m"})], "Burstable"),
]


@pytest.mark.parametrize(("containers", "init", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_qos_class_on_create(
    client: httpx.Client, ns: str, containers: list[dict[str, Any]], init: list[dict[str, Any]], want: str
) -> None:
    body = pod("p")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "qos-"
    body["spec"]["containers"] = [
        {"name": f"c{i}", "image": "busybox", **({"resources": r} if r else {})}
        for i, r in enumerate(containers)
    ]
    if init:
        body["spec"]["initContainers"] = [
            {"name": f"i{i}", "image": "busybox", "resources": r} for i, r in enumerate(init)
        ]
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"]["qosClass"] == want


def test_bad_quantity_is_rejected_by_validation(client: httpx.Client, ns: str) -> None:
    body = pod("bad-qty")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "lots"}}
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code in (400, 422), r.text
    message = r.json()["message"]
    assert "spec.containers[0].resources.requests[cpu]" in message
    assert "quantities must match the regular expression" in message


def test_kubectl_shows_the_qos_class(client: httpx.Client, ns: str, kubectl: Any) -> None:
    body = pod("guaranteed")
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "250m", "memory": "64Mi"}}
    assert client.post(f"/api/v1/namespaces/{ns}/pods", json=body).status_code == 201
    out = kubectl("get", "pod", "guaranteed", "-n", ns, "-o", "jsonpath={.status.qosClass}")
    assert out == "Guaranteed"
