"""The real kubectl: patch (strategic with every directive, merge, json, status), label, annotate,
scale, dry runs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

POD_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  finalizers: [example.com/a, example.com/b]
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: a, image: nginx, env: [{{name: FOO, value: "1"}}, {{name: BAR, value: "2"}}]}}
      - {{name: b, image: busybox}}
"""


@pytest.fixture(scope="module")
def ns(kubectl: Any) -> str:
    name = f"patch-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name


def make(kubectl: Any, ns: str, name: str) -> None:
    kubectl("-n", ns, "create", "-f", "-", input=POD_DEPLOYMENT.format(name=name))


def get(kubectl: Any, ns: str, name: str) -> dict[str, Any]:
    out = kubectl("-n", ns, "get", "deployment", name, "-o", "json", "--show-managed-fields")
    return json.loads(out)  # type: ignore[no-any-return]


def patch(kubectl: Any, ns: str, name: str, body: Any, *extra: str) -> str:
    return kubectl("-n", ns, "patch", "deployment", name, "-p", json.dumps(body), *extra)  # type: ignore[no-any-return]


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_strategic_merge_by_key_delete_and_order(kubectl: Any, ns: str) -> None:
    make(kubectl, ns, "smp")
    # merge by name: only container a changes, b stays
    patch(
        kubectl,
        ns,
        "smp",
        {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:2"}]}}}},
    )
    obj = get(kubectl, ns, "smp")
    assert [(c["name"], c["image"]) for c in containers(obj)] == [("a", "nginx:2"), ("b", "busybox")]
    # $patch: delete removes one item by its merge key (nested list: env)
    body = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "a", "env": [{"name": "FOO", "$patch": "delete"}]}]}
            }
        }
    }
    patch(kubectl, ns, "smp", body)
    assert [e["name"] for e in containers(get(kubectl, ns, "smp"))[0]["env"]] == ["BAR"]
    # $setElementOrder reorders and adds
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}],
                    "containers": [{"name": "c", "image": "redis"}],
                }
            }
        }
    }
    patch(kubectl, ns, "smp", body)
    assert [c["name"] for c in containers(get(kubectl, ns, "smp"))] == ["c", "b", "a"]
    # $patch: replace on a list replaces it entirely
    body = {
        "spec": {"template": {"spec": {"containers": [{"name": "z", "image": "x"}, {"$patch": "replace"}]}}}
    }
    patch(kubectl, ns, "smp", body)
    assert [c["name"] for c in containers(get(kubectl, ns, "smp"))] == ["z"]
    # $patch: replace on a map
    patch(kubectl, ns, "smp", {"metadata": {"labels": {"$patch": "replace", "only": "this"}}})
    assert get(kubectl, ns, "smp")["metadata"]["labels"] == {"only": "this"}


def test_strategic_retain_keys_and_primitive_list(kubectl: Any, ns: str) -> None:
    make(kubectl, ns, "rk")
    assert get(kubectl, ns, "rk")["spec"]["strategy"]["rollingUpdate"]
    patch(kubectl, ns, "rk", {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert get(kubectl, ns, "rk")["spec"]["strategy"] == {"type": "Recreate"}
    patch(kubectl, ns, "rk", {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}})
    assert get(kubectl, ns, "rk")["metadata"]["finalizers"] == ["example.com/b"]
    patch(kubectl, ns, "rk", {"metadata": {"finalizers": ["example.com/c"]}})  # merge strategy: union
    # kube's mergeSortedSlice puts patch items before server-only ones it cannot place
    assert get(kubectl, ns, "rk")["metadata"]["finalizers"] == ["example.com/c", "example.com/b"]
    patch(kubectl, ns, "rk", {"metadata": {"finalizers": None}})
    assert "finalizers" not in get(kubectl, ns, "rk")["metadata"]
    bad = kubectl.run(
        "-n", ns, "patch", "deployment", "rk", "-p", json.dumps({"spec": {"strategy": {"$retainKeys": ["type"], "x": 1}}}),
        check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "invalid patch format of retainKeys" in bad.stderr


def test_merge_and_json_patch(kubectl: Any, ns: str) -> None:
    make(kubectl, ns, "mp")
    # merge patch replaces lists wholesale
    patch(
        kubectl,
        ns,
        "mp",
        {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}},
        "--type",
        "merge",
    )
    assert [c["name"] for c in containers(get(kubectl, ns, "mp"))] == ["only"]
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels", "value": {"k": "v"}},
        {"op": "test", "path": "/spec/replicas", "value": 3},
    ]
    kubectl("-n", ns, "patch", "deployment", "mp", "--type", "json", "-p", json.dumps(ops))
    obj = get(kubectl, ns, "mp")
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["labels"] == {"k": "v"}
    rv = obj["metadata"]["resourceVersion"]
    failing = [
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "test", "path": "/spec/replicas", "value": 1},
    ]
    bad = kubectl.run(
        "-n", ns, "patch", "deployment", "mp", "--type", "json", "-p", json.dumps(failing), check=False
    )
    assert bad.returncode != 0
    assert "The request is invalid" in bad.stderr and "test operation" in bad.stderr  # 422
    assert get(kubectl, ns, "mp")["metadata"]["resourceVersion"] == rv  # nothing changed
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 5}}
    bad = kubectl.run(
        "-n", ns, "patch", "deployment", "mp", "--type", "merge", "-p", json.dumps(stale), check=False
    )
    assert bad.returncode != 0 and "the object has been modified" in bad.stderr


def test_status_subresource_dry_run_label_annotate_scale(kubectl: Any, ns: str) -> None:
    make(kubectl, ns, "st")
    patch(kubectl, ns, "st", {"status": {"replicas": 5}}, "--subresource=status", "--type", "merge")
    obj = get(kubectl, ns, "st")
    assert obj["status"]["replicas"] == 5
    status_entries = [e for e in obj["metadata"]["managedFields"] if e.get("subresource") == "status"]
    assert status_entries and status_entries[0]["fieldsV1"] == {"f:status": {"f:replicas": {}}}
    patch(kubectl, ns, "st", {"spec": {"replicas": 9}}, "--dry-run=server")
    assert get(kubectl, ns, "st")["spec"]["replicas"] == 1
    kubectl("-n", ns, "label", "deployment", "st", "tier=web")
    kubectl("-n", ns, "label", "deployment", "st", "tier=db", "--overwrite")
    kubectl("-n", ns, "annotate", "deployment", "st", "note=hi")
    obj = get(kubectl, ns, "st")
    assert obj["metadata"]["labels"] == {"tier": "db"} and obj["metadata"]["annotations"]["note"] == "hi"
    kubectl("-n", ns, "label", "deployment", "st", "tier-")
    kubectl("-n", ns, "annotate", "deployment", "st", "note-")
    obj = get(kubectl, ns, "st")
    assert "tier" not in (obj["metadata"].get("labels") or {})
    assert "note" not in (obj["metadata"].get("annotations") or {})
    kubectl("-n", ns, "scale", "deployment", "st", "--replicas=4")
    assert get(kubectl, ns, "st")["spec"]["replicas"] == 4
    bad = kubectl.run(
        "-n", ns, "scale", "deployment", "st", "--current-replicas=2", "--replicas=6", check=False
    )
    assert bad.returncode != 0
    assert get(kubectl, ns, "st")["spec"]["replicas"] == 4
    managers = {
        (e["manager"], e.get("subresource", "")) for e in get(kubectl, ns, "st")["metadata"]["managedFields"]
    }
    assert ("kubectl-label", "") in managers and ("kubectl", "scale") in managers
