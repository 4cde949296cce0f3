"""Writes to ``/status``: the status and the metadata the kind's status strategy allows, never spec.

What upstream's Ingress/CronJob/Service/Namespace "API operations" conformance specs check: a merge
patch of ``/status`` carrying an annotation keeps the annotation; a spec change in the same write is
ignored.
"""

from __future__ import annotations

from typing import Any

import httpx
from apiserver_testlib import new_namespace

MERGE = {"Content-Type": "application/merge-patch+json"}


def ingress(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": {"defaultBackend": {"service": {"name": "default-backend", "port": {"number": 8080}}}},
    }


def cronjob(name: str) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": template}}},
    }


def test_ingress_status_patch_keeps_annotation_and_ignores_spec(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
    assert client.post(base, json=ingress("ing")).status_code == 201
    patch = {
        "metadata": {"annotations": {"patchedstatus": "true"}},
        "spec": {"defaultBackend": {"service": {"name": "other", "port": {"number": 9}}}},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}]}},
    }
    r = client.patch(f"{base}/ing/status", json=patch, headers=MERGE)
    assert r.status_code == 200, r.text
    got = client.get(f"{base}/ing").json()
    assert got["metadata"]["annotations"] == {"patchedstatus": "true"}
    assert got["spec"]["defaultBackend"]["service"]["name"] == "default-backend"
    assert got["status"]["loadBalancer"]["ingress"] == [{"ip": "203.0.113.1"}]
    assert got["metadata"]["generation"] == 1


def test_cronjob_status_put_keeps_label_and_ignores_spec(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/apis/batch/v1/namespaces/{ns}/cronjobs"
    assert client.post(base, json=cronjob("cj")).status_code == 201
    obj = client.get(f"{base}/cj").json()
    obj["metadata"]["labels"] = {"statusupdated": "yes"}
    obj["spec"]["schedule"] = "0 0 * * *"
    obj["status"] = {"lastScheduleTime": "2026-12-08T00:00:00Z"}
    r = client.put(f"{base}/cj/status", json=obj)
    assert r.status_code == 200, r.text
    got = client.get(f"{base}/cj").json()
    assert got["metadata"]["labels"] == {"statusupdated": "yes"}
    assert got["spec"]["schedule"] == "*/1 * * * *"
    assert got["status"]["lastScheduleTime"] == "2026-12-08T00:00:00Z"


def test_service_and_namespace_status_patches_keep_metadata(client: httpx.Client) -> None:
    ns = new_namespace(client)
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
    base = f"/api/v1/namespaces/{ns}/services"
    assert client.post(base, json=svc).status_code == 201
    patch = {
        "metadata": {"annotations": {"patchedstatus": "true"}},
        "spec": {"ports": [{"port": 81}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.2"}]}},
    }
    r = client.patch(f"{base}/s/status", json=patch, headers=MERGE)
    assert r.status_code == 200, r.text
    got = client.get(f"{base}/s").json()
    assert got["metadata"]["annotations"] == {"patchedstatus": "true"}
    assert [p["port"] for p in got["spec"]["ports"]] == [80]
    assert got["status"]["loadBalancer"]["ingress"][0]["ip"] == "203.0.113.2"

    cond = {"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from an e2e test"}
    patch = {"metadata": {"annotations": {"e2e-patched": "true"}}, "status": {"conditions": [cond]}}
    r = client.patch(f"/api/v1/namespaces/{ns}/status", json=patch, headers=MERGE)
    assert r.status_code == 200, r.text
    got = client.get(f"/api/v1/namespaces/{ns}").json()
    assert got["metadata"]["annotations"] == {"e2e-patched": "true"}
    assert got["status"]["conditions"] == [cond]
    assert got["status"]["phase"] == "Active"


def test_kinds_whose_status_strategy_resets_metadata(client: httpx.Client) -> None:
    ns = new_namespace(client)
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "1"}},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    assert client.post(base, json=deploy).status_code == 201
    patch = {
        "metadata": {"labels": {"a": "2"}, "annotations": {"x": "y"}},
        "status": {"observedGeneration": 1},
    }
    r = client.patch(f"{base}/d/status", json=patch, headers=MERGE)
    assert r.status_code == 200, r.text
    got = client.get(f"{base}/d").json()
    assert got["metadata"]["labels"] == {"a": "1"}  # deploymentStatusStrategy keeps the labels
    assert got["metadata"]["annotations"]["x"] == "y"

    fs = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": f"fs-{ns}"},
        "spec": {"priorityLevelConfiguration": {"name": "global-default"}},
    }
    fbase = "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas"
    r = client.post(fbase, json=fs)
    assert r.status_code == 201, r.text
    patch = {"metadata": {"labels": {"a": "2"}}, "status": {"conditions": []}}
    r = client.patch(f"{fbase}/fs-{ns}/status", json=patch, headers=MERGE)
    assert r.status_code == 200, r.text
    assert "labels" not in client.get(f"{fbase}/fs-{ns}").json()["metadata"]
    client.delete(f"{fbase}/fs-{ns}")
