"""RuntimeClass admission: a Pod naming a missing (or deleted) RuntimeClass is Forbidden with kube's
message (upstream's "should reject a Pod requesting a non-existent/deleted RuntimeClass"); the
class's overhead and scheduling (node selector, tolerations) are set on the Pod."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from apiserver_testlib import new_namespace, pod

from testserver.apiserver.admission.runtime_class import merge_tolerations

RC = "/apis/node.k8s.io/v1/runtimeclasses"


def runtime_class(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": name},
        "handler": "runc",
        **extra,
    }


def test_missing_and_deleted_runtime_class_is_forbidden(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/api/v1/namespaces/{ns}/pods"
    r = client.post(base, json=pod("p1", runtimeClassName="does-not-exist"))
    assert r.status_code == 403, r.text
    assert (
        r.json()["message"] == 'pods "p1" is forbidden: pod rejected: RuntimeClass "does-not-exist" not found'
    )
    name = f"rc-{uuid.uuid4().hex[:8]}"
    assert client.post(RC, json=runtime_class(name)).status_code == 201
    assert client.post(base, json=pod("p2", runtimeClassName=name)).status_code == 201
    assert client.delete(f"{RC}/{name}").status_code == 200
    r = client.post(base, json=pod("p3", runtimeClassName=name))
    assert r.status_code == 403 and f'RuntimeClass "{name}" not found' in r.json()["message"]


def test_overhead_and_scheduling_from_the_class(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/api/v1/namespaces/{ns}/pods"
    name = f"rc-{uuid.uuid4().hex[:8]}"
    rc = runtime_class(
        name,
        overhead={"podFixed": {"cpu": "250m", "memory": "120Mi"}},
        scheduling={
            "nodeSelector": {"sandbox": "gvisor"},
            "tolerations": [
                {"key": "sandbox", "operator": "Exists", "effect": "NoSchedule"},
                {"key": "sandbox", "operator": "Equal", "value": "x", "effect": "NoSchedule"},
            ],
        },
    )
    assert client.post(RC, json=rc).status_code == 201, rc
    try:
        r = client.post(base, json=pod("p", runtimeClassName=name, nodeSelector={"zone": "a"}))
        assert r.status_code == 201, r.text
        spec = r.json()["spec"]
        assert spec["overhead"] == {"cpu": "250m", "memory": "120Mi"}
        assert spec["nodeSelector"] == {"zone": "a", "sandbox": "gvisor"}
        assert {"key": "sandbox", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert not any(t.get("value") == "x" for t in spec["tolerations"])  # covered by Exists
        # a Pod that brings its own, different overhead, or a conflicting selector: Forbidden
        r = client.post(base, json=pod("q", runtimeClassName=name, overhead={"cpu": "1"}))
        assert r.status_code == 403
        assert (
            "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
            in r.json()["message"]
        )
        r = client.post(
            base, json=pod("s", runtimeClassName=name, overhead={"cpu": "0.25", "memory": "120Mi"})
        )
        assert r.status_code == 201, r.text  # the same quantities, written differently
        r = client.post(base, json=pod("c", runtimeClassName=name, nodeSelector={"sandbox": "kata"}))
        assert r.status_code == 403
        assert (
            "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = gvisor; pod.spec.nodeSelector[sandbox] = kata"
            in r.json()["message"]
        )
        r = client.post(base, json=pod("o", overhead={"cpu": "1"}))
        assert r.status_code == 403
        assert "Pod Overhead set without corresponding RuntimeClass defined Overhead" in r.json()["message"]
    finally:
        client.delete(f"{RC}/{name}")


def test_merge_tolerations_drops_covered_ones() -> None:
    exists_all = {"operator": "Exists"}
    a = {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}
    b = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}
    c = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
    assert merge_tolerations([a], [a]) == [a]
    assert merge_tolerations([a, b], [exists_all]) == [exists_all]
    assert merge_tolerations([c], [b]) == [b]  # 30 s tolerates what 10 s does
    assert merge_tolerations([a], [b]) == [a, b]
