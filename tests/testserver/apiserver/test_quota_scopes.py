"""ResourceQuota scopes: a scoped quota counts and limits only the pods its scopes match
(upstream's "should verify ResourceQuota with terminating scopes" / "with best effort scope"):
status ``used`` and admission both honour Terminating/NotTerminating and BestEffort/NotBestEffort."""

from __future__ import annotations

from typing import Any

import httpx
from apiserver_testlib import new_namespace, pod, wait_for

RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}


def quota(name: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {"hard": {"pods": "1"}, "scopes": scopes},
    }


def used_pods(client: httpx.Client, ns: str, name: str) -> str | None:
    status = client.get(f"/api/v1/namespaces/{ns}/resourcequotas/{name}").json().get("status") or {}
    return (status.get("used") or {}).get("pods")


def test_terminating_scopes(client: httpx.Client) -> None:
    ns = new_namespace(client)
    quotas = f"/api/v1/namespaces/{ns}/resourcequotas"
    pods = f"/api/v1/namespaces/{ns}/pods"
    assert client.post(quotas, json=quota("terminating", ["Terminating"])).status_code == 201
    assert client.post(quotas, json=quota("not-terminating", ["NotTerminating"])).status_code == 201
    wait_for(
        lambda: (
            used_pods(client, ns, "terminating") == "0" and used_pods(client, ns, "not-terminating") == "0"
        )
    )
    assert client.post(pods, json=pod("long")).status_code == 201
    wait_for(lambda: used_pods(client, ns, "not-terminating") == "1")
    assert used_pods(client, ns, "terminating") == "0"
    r = client.post(pods, json=pod("long-2"))
    assert r.status_code == 403 and "exceeded quota: not-terminating" in r.json()["message"]
    assert client.post(pods, json=pod("short", activeDeadlineSeconds=3600)).status_code == 201
    wait_for(lambda: used_pods(client, ns, "terminating") == "1")
    r = client.post(pods, json=pod("short-2", activeDeadlineSeconds=3600))
    assert r.status_code == 403 and "exceeded quota: terminating" in r.json()["message"]


def test_best_effort_scopes(client: httpx.Client) -> None:
    ns = new_namespace(client)
    quotas = f"/api/v1/namespaces/{ns}/resourcequotas"
    pods = f"/api/v1/namespaces/{ns}/pods"
    assert client.post(quotas, json=quota("best-effort", ["BestEffort"])).status_code == 201
    assert client.post(quotas, json=quota("not-best-effort", ["NotBestEffort"])).status_code == 201
    assert client.post(pods, json=pod("be")).status_code == 201
    wait_for(lambda: used_pods(client, ns, "best-effort") == "1")
    assert used_pods(client, ns, "not-best-effort") == "0"
    assert client.post(pods, json=pod("be-2")).status_code == 403
    burstable = pod("burstable")
    burstable["spec"]["containers"][0]["resources"] = RESOURCES
    assert client.post(pods, json=burstable).status_code == 201
    wait_for(lambda: used_pods(client, ns, "not-best-effort") == "1")
    assert used_pods(client, ns, "best-effort") == "1"
