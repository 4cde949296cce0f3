"""`testserver apiserver` alone behaves as kube-apiserver alone (issue 12 §4, issue 19 items 4 and 5):
no default ServiceAccount, namespaces stay Terminating until finalized, eviction reads the disruption
controller's PodDisruptionBudget status; the kube-system ConfigMaps kube-apiserver publishes at start."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from apiserver_testlib import client_for, new_namespace, pod

from testserver.testing import TestServer


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    """A private server without the stand-in controllers (the default)."""
    server = TestServer(data_dir=tmp_path_factory.mktemp("alone"))
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def client(alone: TestServer) -> Iterator[httpx.Client]:
    with client_for(alone) as c:
        yield c


def _sa(client: httpx.Client, ns: str) -> None:
    r = client.post(
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
    )
    assert r.status_code == 201, r.text


def test_no_default_service_account_and_pods_wait_for_it(client: httpx.Client) -> None:
    ns = new_namespace(client)
    assert client.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default").status_code == 404
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("p"))
    assert r.status_code == 403, r.text
    assert (
        f'error looking up service account {ns}/default: serviceaccount "default" not found'
        in r.json()["message"]
    )
    _sa(client, ns)  # what the controller-manager's serviceaccount controller does
    assert client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("p")).status_code == 201
    # the controller's own create of the account is not answered 409 by a server-made one
    assert client.get(f"/api/v1/namespaces/{ns}/serviceaccounts").json()["items"][0]["metadata"]["name"] == (
        "default"
    )


def test_namespace_stays_terminating_until_finalized(client: httpx.Client) -> None:
    ns = new_namespace(client)
    r = client.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "c"}, "data": {}})
    assert r.status_code == 201, r.text
    deleted = client.delete(f"/api/v1/namespaces/{ns}")
    assert deleted.status_code == 200, deleted.text
    got = client.get(f"/api/v1/namespaces/{ns}").json()
    assert got["status"]["phase"] == "Terminating"
    assert got["spec"]["finalizers"] == ["kubernetes"]
    # its content is the namespace controller's to delete: still there
    assert client.get(f"/api/v1/namespaces/{ns}/configmaps/c").status_code == 200
    # the namespace controller's last step: empty spec.finalizers through /finalize
    assert client.delete(f"/api/v1/namespaces/{ns}/configmaps/c").status_code == 200
    got["spec"]["finalizers"] = []
    r = client.put(f"/api/v1/namespaces/{ns}/finalize", json=got)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/namespaces/{ns}").status_code == 404


def _running_ready_pod(client: httpx.Client, ns: str, name: str) -> None:
    body = pod(name)
    body["metadata"]["labels"] = {"app": "web"}
    body["spec"]["nodeName"] = "node-1"
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code == 201, r.text
    obj = r.json()
    obj["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    r = client.put(f"/api/v1/namespaces/{ns}/pods/{name}/status", json=obj)
    assert r.status_code == 200, r.text


def _evict(client: httpx.Client, ns: str, name: str) -> httpx.Response:
    return client.post(
        f"/api/v1/namespaces/{ns}/pods/{name}/eviction",
        json={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}},
    )


def test_eviction_reads_the_disruption_controllers_status(client: httpx.Client) -> None:
    ns = new_namespace(client)
    _sa(client, ns)
    for name in ("a", "b", "c"):
        _running_ready_pod(client, ns, name)
    pdbs = f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"
    r = client.post(
        pdbs,
        json={
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    assert r.status_code == 201, r.text
    # no controller has observed the budget yet: kube answers 429 "still being processed"
    r = _evict(client, ns, "a")
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == "10"
    status: dict[str, Any] = r.json()
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web is still being processed by the server.",
        }
    ]
    # the disruption controller writes its status: one disruption allowed
    pdb = client.get(f"{pdbs}/web").json()
    pdb["status"] = {
        "observedGeneration": pdb["metadata"]["generation"],
        "disruptionsAllowed": 1,
        "currentHealthy": 3,
        "desiredHealthy": 2,
        "expectedPods": 3,
    }
    r = client.put(f"{pdbs}/web/status", json=pdb)
    assert r.status_code == 200, r.text
    r = _evict(client, ns, "a")
    assert r.status_code == 201, r.text
    after = client.get(f"{pdbs}/web").json()["status"]
    assert after["disruptionsAllowed"] == 0
    assert set(after["disruptedPods"]) == {"a"}
    assert [c["type"] for c in after["conditions"] if c["status"] == "False"] == ["DisruptionAllowed"]
    # the allowance is spent (the controller has not recomputed it): refused as kube refuses
    r = _evict(client, ns, "b")
    assert r.status_code == 429, r.text
    assert r.json()["details"]["causes"][0]["message"] == (
        "The disruption budget web needs 2 healthy pods and has 3 currently"
    )
    assert client.get(f"/api/v1/namespaces/{ns}/pods/b").status_code == 200


def test_kube_system_configmaps_published_at_start(client: httpx.Client, alone: TestServer) -> None:
    auth = client.get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")
    assert auth.status_code == 200, auth.text
    assert auth.json()["data"]["client-ca-file"] == alone.ca_cert.read_text()
    tracking = client.get(
        "/api/v1/namespaces/kube-system/configmaps/kube-apiserver-legacy-service-account-token-tracking"
    )
    assert tracking.status_code == 200, tracking.text
    since = tracking.json()["data"]["since"]
    assert len(since) == 10 and since[4] == "-" and since[7] == "-", since


def test_node_keeps_its_status_on_create(client: httpx.Client) -> None:
    status = {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
        "config": {"active": {}},
    }
    r = client.post(
        "/api/v1/nodes",
        json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n-status"}, "status": status},
    )
    assert r.status_code == 201, r.text
    got = client.get("/api/v1/nodes/n-status").json()["status"]
    assert got["capacity"] == status["capacity"] and got["allocatable"] == status["allocatable"]
    assert got["conditions"][0]["reason"] == "KubeletReady"
    assert "config" not in got  # nodeStrategy.PrepareForCreate drops status.config
    # other kinds with a status subresource still reset it on create
    r = client.post(
        "/api/v1/namespaces/default/resourcequotas",
        json={"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1"}}, "status": {"hard": {"pods": "9"}}},
    )
    assert r.status_code == 201, r.text
    assert not r.json().get("status")


def test_secret_string_data_is_merged_into_data_and_never_stored(client: httpx.Client) -> None:
    ns = new_namespace(client)
    r = client.post(
        f"/api/v1/namespaces/{ns}/secrets",
        json={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"a": base64.b64encode(b"old").decode(), "b": base64.b64encode(b"kept").decode()},
            "stringData": {"a": "new", "c": "plain"},
        },
    )
    assert r.status_code == 201, r.text
    for obj in (r.json(), client.get(f"/api/v1/namespaces/{ns}/secrets/s").json()):
        assert "stringData" not in obj
        assert {k: base64.b64decode(v).decode() for k, v in obj["data"].items()} == {
            "a": "new",
            "b": "kept",
            "c": "plain",
        }
    r = client.patch(
        f"/api/v1/namespaces/{ns}/secrets/s",
        json={"stringData": {"d": "x"}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert "stringData" not in r.json() and base64.b64decode(r.json()["data"]["d"]) == b"x"
