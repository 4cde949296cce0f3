"""Admission plugins over the wire: NamespaceLifecycle, ServiceAccount, Priority, LimitRanger,
ResourceQuota, Service IP/NodePort allocation (small configured ranges, release, restart) and
PodDisruptionBudget-aware eviction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver_testlib import client_for, new_namespace, pod, wait_for

from testserver.testing import TestServer

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    """A private server with a /29 service range (5 free IPs after kubernetes) and 3 node ports."""
    server = TestServer(
        data_dir=tmp_path_factory.mktemp("small-ranges"),
        storage="sqlite:state.db",
        standin_controllers=True,
        extra_args=["--service-cluster-ip-range", "10.0.0.0/29", "--service-node-port-range", "30000-30002"],
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def svc(name: str, **spec: Any) -> dict[str, Any]:
    body = {"ports": [{"port": 80}], "selector": {"app": name}}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}


# -- NamespaceLifecycle ---------------------------------------------------------------------------


def test_missing_namespace_404(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/namespaces/nope-404/configmaps",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
    )
    assert r.status_code == 404 and r.json()["message"] == 'namespaces "nope-404" not found'


def test_terminating_namespace_403(client: httpx.Client) -> None:
    ns = new_namespace(client, "term")
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "keep", "finalizers": ["example.com/hold"]},
    }
    assert client.post(f"/api/v1/namespaces/{ns}/configmaps", json=cm).status_code == 201
    assert client.delete(f"/api/v1/namespaces/{ns}").status_code == 200
    r = client.post(
        f"/api/v1/namespaces/{ns}/configmaps",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new"}},
    )
    assert r.status_code == 403, r.text
    status = r.json()
    assert status["message"] == (
        f'configmaps "new" is forbidden: unable to create new content in namespace {ns} because it is being terminated'
    )
    assert status["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    client.patch(
        f"/api/v1/namespaces/{ns}/configmaps/keep", json={"metadata": {"finalizers": None}}, headers=MERGE
    )


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_immortal_namespaces(client: httpx.Client, name: str) -> None:
    r = client.delete(f"/api/v1/namespaces/{name}")
    assert r.status_code == 403
    assert r.json()["message"] == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    assert "deletionTimestamp" not in client.get(f"/api/v1/namespaces/{name}").json()["metadata"]


# -- ServiceAccount -------------------------------------------------------------------------------


def test_service_account_default_and_missing(client: httpx.Client) -> None:
    ns = new_namespace(client, "sa")
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("first"))  # right after the namespace
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["serviceAccountName"] == "default"
    wait_for(lambda: client.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default").status_code == 200)
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("other", serviceAccountName="robot"))
    assert r.status_code == 403
    assert r.json()["message"] == (
        f'pods "other" is forbidden: error looking up service account {ns}/robot: serviceaccount "robot" not found'
    )
    no_token = pod("quiet", automountServiceAccountToken=False)
    spec = client.post(f"/api/v1/namespaces/{ns}/pods", json=no_token).json()["spec"]
    assert "volumes" not in spec or not spec["volumes"]


# -- Priority -------------------------------------------------------------------------------------


def test_priority_classes(client: httpx.Client) -> None:
    ns = new_namespace(client, "prio")
    r = client.post(
        f"/api/v1/namespaces/{ns}/pods", json=pod("crit", priorityClassName="system-cluster-critical")
    )
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["priority"] == 2000000000
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("unknown", priorityClassName="gold"))
    assert r.status_code == 403
    assert r.json()["message"] == 'pods "unknown" is forbidden: no PriorityClass with name gold was found'
    pc = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": f"{ns}-default"},
        "value": 1000,
        "globalDefault": True,
    }
    assert client.post("/apis/scheduling.k8s.io/v1/priorityclasses", json=pc).status_code == 201
    try:
        spec = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("plain")).json()["spec"]
        assert spec["priority"] == 1000 and spec["priorityClassName"] == f"{ns}-default"
        second = dict(pc, metadata={"name": f"{ns}-second"})
        r = client.post("/apis/scheduling.k8s.io/v1/priorityclasses", json=second)
        assert r.status_code == 403 and "is already marked as default" in r.json()["message"]
    finally:
        client.delete(f"/apis/scheduling.k8s.io/v1/priorityclasses/{ns}-default")


# -- LimitRanger ----------------------------------------------------------------------------------


def test_limit_range_defaults_and_max(client: httpx.Client) -> None:
    ns = new_namespace(client, "limits")
    lr = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "lr"},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"cpu": "1"},
                    "default": {"cpu": "500m"},
                    "defaultRequest": {"cpu": "100m"},
                }
            ]
        },
    }
    assert client.post(f"/api/v1/namespaces/{ns}/limitranges", json=lr).status_code == 201
    created = client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("dflt")).json()
    resources = created["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "500m"}, "requests": {"cpu": "100m"}}
    assert "kubernetes.io/limit-ranger" in created["metadata"]["annotations"]
    body = pod("big")
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "2"}}
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code == 403
    assert (
        r.json()["message"] == 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
    )


# -- ResourceQuota --------------------------------------------------------------------------------


def test_resource_quota_count_and_status(client: httpx.Client) -> None:
    ns = new_namespace(client, "quota")
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q"},
        "spec": {"hard": {"pods": "2", "requests.cpu": "1"}},
    }
    assert client.post(f"/api/v1/namespaces/{ns}/resourcequotas", json=quota).status_code == 201
    for name in ("a", "b"):
        body = pod(name)
        body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "200m"}}
        assert client.post(f"/api/v1/namespaces/{ns}/pods", json=body).status_code == 201
    body = pod("c")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "200m"}}
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code == 403
    assert (
        r.json()["message"]
        == 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
    )
    assert client.get(f"/api/v1/namespaces/{ns}/pods/c").status_code == 404

    def used() -> Any:
        status = client.get(f"/api/v1/namespaces/{ns}/resourcequotas/q").json().get("status") or {}
        return status if status.get("used") == {"pods": "2", "requests.cpu": "400m"} else None

    status = wait_for(used)
    assert status["hard"] == {"pods": "2", "requests.cpu": "1"}
    client.delete(f"/api/v1/namespaces/{ns}/pods/a")
    wait_for(
        lambda: (
            (client.get(f"/api/v1/namespaces/{ns}/resourcequotas/q").json().get("status") or {})
            .get("used", {})
            .get("pods")
            == "1"
        )
    )
    r = client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert r.status_code == 201, r.text


# -- Service allocation ---------------------------------------------------------------------------


def test_cluster_ip_exhaustion_release_and_restart(small: TestServer) -> None:
    with client_for(small) as c:
        ns = new_namespace(c, "alloc")
        kube = c.get("/api/v1/namespaces/default/services/kubernetes").json()
        assert kube["spec"]["clusterIP"] == "10.0.0.1"
        ips = set()
        for i in range(5):
            r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc(f"s{i}"))
            assert r.status_code == 201, r.text
            ips.add(r.json()["spec"]["clusterIP"])
        assert ips == {f"10.0.0.{n}" for n in range(2, 7)}
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("full"))
        assert r.status_code == 500
        assert r.json()["message"] == "Internal error occurred: failed to allocate a serviceIP: range is full"
        headless = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("headless", clusterIP="None"))
        assert headless.status_code == 201 and headless.json()["spec"]["clusterIP"] == "None"
        taken = c.get(f"/api/v1/namespaces/{ns}/services/s0").json()["spec"]["clusterIP"]
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("dup", clusterIP=taken))
        assert r.status_code == 422
        assert r.json()["details"]["causes"][0] == {
            "reason": "FieldValueInvalid",
            "field": "spec.clusterIPs",
            "message": f'Invalid value: []string{{"{taken}"}}: failed to allocate IP {taken}: provided IP is already allocated',
        }
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("far", clusterIP="10.1.0.9"))
        assert r.status_code == 422
        assert "The range of valid IPs is 10.0.0.0/29" in r.json()["message"]
        assert c.delete(f"/api/v1/namespaces/{ns}/services/s0").status_code == 200
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("reuse", clusterIP=taken))
        assert r.status_code == 201, r.text
        dry = c.post(f"/api/v1/namespaces/{ns}/services?dryRun=All", json=svc("dry"))
        assert dry.status_code == 500  # still full
    # a restarted server (sqlite) derives the same allocations from the stored Services
    small.stop()
    small.start()
    with client_for(small) as c:
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("after", clusterIP=taken))
        assert r.status_code == 422, r.text
        assert (
            c.get("/api/v1/namespaces/default/services/kubernetes").json()["spec"]["clusterIP"] == "10.0.0.1"
        )


def test_node_port_allocation(small: TestServer) -> None:
    with client_for(small) as c:
        ns = new_namespace(c, "np")
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("n1", type="NodePort", clusterIP="None"))
        assert r.status_code == 201, r.text
        r = c.post(
            f"/api/v1/namespaces/{ns}/services",
            json=svc(
                "n2",
                type="NodePort",
                clusterIP="None",
                ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81}],
            ),
        )
        assert r.status_code == 201, r.text
        ports = {p["nodePort"] for p in r.json()["spec"]["ports"]}
        assert len(ports) == 2 and ports <= {30000, 30001, 30002}
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("n3", type="NodePort", clusterIP="None"))
        assert r.status_code == 500
        assert r.json()["message"] == "Internal error occurred: failed to allocate a nodePort: range is full"
        r = c.post(
            f"/api/v1/namespaces/{ns}/services",
            json=svc("n4", type="NodePort", clusterIP="None", ports=[{"port": 80, "nodePort": 31000}]),
        )
        assert r.status_code == 422
        assert r.json()["details"]["causes"][0]["message"] == (
            "Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30002"
        )
        assert c.delete(f"/api/v1/namespaces/{ns}/services/n2").status_code == 200
        r = c.post(f"/api/v1/namespaces/{ns}/services", json=svc("n5", type="NodePort", clusterIP="None"))
        assert r.status_code == 201, r.text


def test_service_port_taken_422(client: httpx.Client) -> None:
    ns = new_namespace(client, "np-dup")
    r = client.post(
        f"/api/v1/namespaces/{ns}/services",
        json=svc("a", type="NodePort", ports=[{"port": 80, "nodePort": 32100}]),
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/namespaces/{ns}/services",
        json=svc("b", type="NodePort", ports=[{"port": 80, "nodePort": 32100}]),
    )
    assert r.status_code == 422
    assert r.json()["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"
    assert (
        r.json()["details"]["causes"][0]["message"]
        == "Invalid value: 32100: provided port is already allocated"
    )
    # switching type to NodePort on update allocates a port
    assert client.post(f"/api/v1/namespaces/{ns}/services", json=svc("c")).status_code == 201
    r = client.patch(
        f"/api/v1/namespaces/{ns}/services/c", json={"spec": {"type": "NodePort"}}, headers=MERGE
    )
    assert r.status_code == 200, r.text
    assert 30000 <= r.json()["spec"]["ports"][0]["nodePort"] <= 32767


# -- eviction -------------------------------------------------------------------------------------


def _running_ready(client: httpx.Client, ns: str, name: str) -> None:
    status = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    r = client.patch(f"/api/v1/namespaces/{ns}/pods/{name}/status", json=status, headers=MERGE)
    assert r.status_code == 200, r.text


def test_eviction_respects_pdb(client: httpx.Client) -> None:
    ns = new_namespace(client, "evict")
    for name in ("w1", "w2"):
        body = pod(name)
        body["metadata"]["labels"] = {"app": "web"}
        assert client.post(f"/api/v1/namespaces/{ns}/pods", json=body).status_code == 201
        _running_ready(client, ns, name)
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    assert client.post(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", json=pdb).status_code == 201
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "w1", "namespace": ns}}
    r = client.post(f"/api/v1/namespaces/{ns}/pods/w1/eviction", json=eviction)
    assert r.status_code == 429, r.text
    status = r.json()
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web needs 2 healthy pods and has 2 currently",
        }
    ]
    assert client.get(f"/api/v1/namespaces/{ns}/pods/w1").status_code == 200
    r = client.patch(
        f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web",
        json={"spec": {"minAvailable": 1}},
        headers=MERGE,
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/namespaces/{ns}/pods/w1/eviction", json=eviction)
    assert r.status_code == 201, r.text


def test_cli_flags_validate(tmp_path: Path) -> None:
    server = TestServer(
        data_dir=tmp_path, extra_args=["--service-node-port-range", "5-1"], startup_timeout=20
    )
    with pytest.raises(RuntimeError, match="invalid port range"):
        server.start()
    server.cleanup()
