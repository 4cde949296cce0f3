"""Custom resources whose kind equals a built-in kind (``Pod``, ``Namespace`` in ``example.com``) get
none of the built-in validation, defaults, admission or deletion rules; and creating custom
resources while their CRD is being deleted is refused (405) as kube's crdHandler does."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from apiserver_testlib import CRDS, crd_body, create_established, wait_for

from pyclientgo.api import builtin_registry
from testserver.apiserver.registry.defaults_core import CORE_DEFAULTERS
from testserver.apiserver.registry.defaults_workloads import WORKLOAD_DEFAULTERS
from testserver.apiserver.registry.validation_core import CORE_UPDATE_VALIDATORS, CORE_VALIDATORS
from testserver.apiserver.registry.validation_workloads import (
    WORKLOAD_UPDATE_VALIDATORS,
    WORKLOAD_VALIDATORS,
)

OPEN_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def crd(group: str, kind: str, plural: str, *, scope: str = "Namespaced") -> dict[str, Any]:
    return crd_body(group, plural, kind, scope=scope, schema=OPEN_SCHEMA)


def new_group() -> str:
    return f"b{uuid.uuid4().hex[:6]}.example.com"


def test_registry_tables_are_keyed_by_builtin_group_and_kind() -> None:
    known = {(i.group, i.kind) for i in builtin_registry()}
    for table in (
        CORE_DEFAULTERS,
        WORKLOAD_DEFAULTERS,
        CORE_VALIDATORS,
        CORE_UPDATE_VALIDATORS,
        WORKLOAD_VALIDATORS,
        WORKLOAD_UPDATE_VALIDATORS,
    ):
        assert set(table) <= known, set(table) - known


def test_custom_pod_gets_no_pod_validation_defaults_or_admission(client: httpx.Client) -> None:
    group = new_group()
    create_established(client, crd(group, "Pod", "pods"))
    base = f"/apis/{group}/v1/namespaces/default/pods"
    # core Pod validation would say spec.containers: Required value (and the container name is bad)
    body = {
        "apiVersion": f"{group}/v1",
        "kind": "Pod",
        "metadata": {"name": "p1"},
        "spec": {"nodeName": "node-1", "initContainers": [{"name": "Not A Name"}]},
    }
    r = client.post(base, json=body)
    assert r.status_code == 201, r.text
    obj = r.json()
    # no Pod defaults (restartPolicy, dnsPolicy, ...), no ServiceAccount/toleration admission,
    # no initial Pod status
    assert obj["spec"] == {"nodeName": "node-1", "initContainers": [{"name": "Not A Name"}]}
    assert "status" not in obj
    # an update is not checked against Pod's immutable spec either
    obj["spec"]["initContainers"] = []
    r = client.put(f"{base}/p1", json=obj)
    assert r.status_code == 200, r.text
    # a Pod with a nodeName is deleted gracefully by kube; a custom resource goes at once
    r = client.delete(f"{base}/p1")
    assert r.status_code == 200, r.text
    assert client.get(f"{base}/p1").status_code == 404
    # Pod-only subresources do not exist on the custom resource
    assert client.post(base, json={**body, "spec": {}}).status_code == 201
    r = client.post(f"{base}/p1/eviction", json={"apiVersion": "policy/v1", "kind": "Eviction"})
    assert r.status_code in (404, 405), r.text
    assert client.get(f"{base}/p1").status_code == 200
    client.delete(f"{CRDS}/pods.{group}")


def test_custom_namespace_kind_uses_custom_resource_rules(client: httpx.Client) -> None:
    group = new_group()
    create_established(client, crd(group, "Namespace", "namespaces", scope="Cluster"))
    base = f"/apis/{group}/v1/namespaces"
    # a Namespace name must be a DNS label (no dots); a custom resource's a DNS subdomain
    r = client.post(
        base, json={"apiVersion": f"{group}/v1", "kind": "Namespace", "metadata": {"name": "a.b"}}
    )
    assert r.status_code == 201, r.text
    assert "status" not in r.json()  # no phase: Active
    assert "labels" not in r.json()["metadata"]  # no kubernetes.io/metadata.name label
    r = client.delete(f"{base}/a.b")
    assert r.status_code == 200, r.text
    assert client.get(f"{base}/a.b").status_code == 404  # not held in Terminating
    client.delete(f"{CRDS}/namespaces.{group}")


def test_create_refused_while_crd_terminating(client: httpx.Client) -> None:
    group = new_group()
    create_established(client, crd(group, "Gadget", "gadgets"))
    base = f"/apis/{group}/v1/namespaces/default/gadgets"

    def gadget(name: str, **meta: Any) -> dict[str, Any]:
        return {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": name, **meta}}

    assert client.post(base, json=gadget("held", finalizers=["example.com/hold"])).status_code == 201
    assert client.delete(f"{CRDS}/gadgets.{group}").status_code == 200

    r = client.post(base, json=gadget("late"))
    assert r.status_code == 405, r.text
    status = r.json()
    assert status["reason"] == "MethodNotAllowed"
    assert status["message"] == "create not allowed while custom resource definition is terminating"
    assert status["details"] == {"group": group, "kind": "gadgets"}
    assert client.get(f"{base}/late").status_code == 404  # nothing was stored

    def terminating() -> bool:
        conds = client.get(f"{CRDS}/gadgets.{group}").json()["status"]["conditions"]
        return any(c["type"] == "Terminating" and c["status"] == "True" for c in conds)

    wait_for(terminating)
    assert client.post(base, json=gadget("later")).status_code == 405
    # reads and updates still work, so the held object can be released
    held = wait_for(lambda: (r := client.get(f"{base}/held")).status_code == 200 and r.json())
    assert client.get(base).status_code == 200
    held["metadata"]["finalizers"] = []
    assert client.put(f"{base}/held", json=held).status_code == 200
    wait_for(lambda: client.get(f"{CRDS}/gadgets.{group}").status_code == 404)
