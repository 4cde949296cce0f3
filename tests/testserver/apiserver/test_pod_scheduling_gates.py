"""Pod scheduling readiness on update, as kube validates it: scheduling gates may only be removed,
and a gated pod's nodeSelector may gain entries (the scheduler's gate-removing controllers do both)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from apiserver_testlib import new_namespace, pod

MERGE = {"Content-Type": "application/merge-patch+json"}


def gated(name: str) -> dict[str, Any]:
    body = pod(name)
    body["spec"]["schedulingGates"] = [{"name": "example.com/quota"}, {"name": "example.com/zone"}]
    body["spec"]["nodeSelector"] = {"disk": "ssd"}
    return body


def test_gates_can_be_removed_but_not_added(client: httpx.Client) -> None:
    ns = new_namespace(client, "gates")
    path = f"/api/v1/namespaces/{ns}/pods"
    client.post(path, json=gated("p")).raise_for_status()
    r = client.patch(
        f"{path}/p",
        content=json.dumps({"spec": {"schedulingGates": [{"name": "example.com/zone"}]}}),
        headers=MERGE,
    )
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["schedulingGates"] == [{"name": "example.com/zone"}]
    r = client.patch(
        f"{path}/p",
        content=json.dumps(
            {"spec": {"schedulingGates": [{"name": "example.com/zone"}, {"name": "example.com/new"}]}}
        ),
        headers=MERGE,
    )
    assert r.status_code == 422
    cause = r.json()["details"]["causes"][0]
    assert cause["field"] == "spec.schedulingGates[1].name"
    assert "only deletion is allowed, but found new scheduling gate 'example.com/new'" in cause["message"]


def test_a_gated_pods_node_selector_may_only_grow(client: httpx.Client) -> None:
    ns = new_namespace(client, "gates")
    path = f"/api/v1/namespaces/{ns}/pods"
    client.post(path, json=gated("q")).raise_for_status()
    r = client.patch(
        f"{path}/q", content=json.dumps({"spec": {"nodeSelector": {"zone": "a"}}}), headers=MERGE
    )
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["nodeSelector"] == {"disk": "ssd", "zone": "a"}
    r = client.patch(
        f"{path}/q", content=json.dumps({"spec": {"nodeSelector": {"disk": "hdd"}}}), headers=MERGE
    )
    assert r.status_code == 422
    assert "only additions to spec.nodeSelector are allowed" in r.text
    # once ungated, the nodeSelector is fixed like the rest of the spec
    client.patch(
        f"{path}/q", content=json.dumps({"spec": {"schedulingGates": None}}), headers=MERGE
    ).raise_for_status()
    r = client.patch(
        f"{path}/q", content=json.dumps({"spec": {"nodeSelector": {"more": "x"}}}), headers=MERGE
    )
    assert r.status_code == 422
    assert "pod updates may not change fields other than" in r.text
