"""Validation with kube's messages and causes: 422, every problem listed, nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apiserver_testlib import new_namespace, pod

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "valid")


def invalid(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body: dict[str, Any] = r.json()
    assert body["reason"] == "Invalid" and body["code"] == 422
    return body


def test_pod_name_and_containers(client: httpx.Client, ns: str) -> None:
    body = pod("Bad_Name")
    body["spec"]["containers"].append({"name": "c"})
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/pods", json=body))
    assert status["message"].startswith('Pod "Bad_Name" is invalid: [')
    causes = status["details"]["causes"]
    assert {
        "reason": "FieldValueInvalid",
        "field": "metadata.name",
        "message": f'Invalid value: "Bad_Name": {SUBDOMAIN}',
    } in causes
    assert {
        "reason": "FieldValueDuplicate",
        "field": "spec.containers[1].name",
        "message": 'Duplicate value: "c"',
    } in causes
    assert {
        "reason": "FieldValueRequired",
        "field": "spec.containers[1].image",
        "message": "Required value",
    } in causes
    assert status["details"]["kind"] == "Pod" and status["details"]["name"] == "Bad_Name"
    assert client.get(f"/api/v1/namespaces/{ns}/pods/Bad_Name").status_code == 404


def test_single_error_message_and_not_supported(client: httpx.Client, ns: str) -> None:
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("p", restartPolicy="Sometimes")))
    assert status["message"] == (
        'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"'
    )
    assert status["details"]["causes"][0]["reason"] == "FieldValueNotSupported"


def test_required_containers_and_ports(client: httpx.Client, ns: str) -> None:
    status = invalid(
        client.post(
            f"/api/v1/namespaces/{ns}/pods",
            json={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e"}, "spec": {}},
        )
    )
    assert status["message"] == 'Pod "e" is invalid: spec.containers: Required value'
    body = pod("ports")
    body["spec"]["containers"][0]["ports"] = [{"containerPort": 70000}]
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/pods", json=body))
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.containers[0].ports[0].containerPort",
            "message": "Invalid value: 70000: must be between 1 and 65535, inclusive",
        }
    ]


def test_name_rules_per_kind(client: httpx.Client, ns: str) -> None:
    status = invalid(
        client.post(
            "/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}}
        )
    )
    assert "a lowercase RFC 1123 label must consist of" in status["message"]
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1abc"},
        "spec": {"ports": [{"port": 80}]},
    }
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/services", json=svc))
    assert "a DNS-1035 label must consist of lower case alphanumeric characters" in status["message"]


def test_labels_and_annotations(client: httpx.Client, ns: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"a/b/c": "x", "ok": "-bad"}},
    }
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/configmaps", json=body))
    fields = [c["field"] for c in status["details"]["causes"]]
    assert fields == ["metadata.labels", "metadata.labels"]
    big = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "big", "annotations": {"a": "x" * (256 * 1024)}},
    }
    status = invalid(client.post(f"/api/v1/namespaces/{ns}/configmaps", json=big))
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueTooLong",
            "field": "metadata.annotations",
            "message": "Too long: may not be more than 262144 bytes",
        }
    ]


def test_deployment_selector_rules_and_group_in_message(client: httpx.Client, ns: str) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    status = invalid(client.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body))
    assert status["message"] == (
        'Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"other"}: `selector` does not match template `labels`'
    )
    assert status["details"]["group"] == "apps"
    body["spec"]["template"]["metadata"]["labels"] = {"app": "d"}
    assert client.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=body).status_code == 201
    patch = {
        "spec": {
            "selector": {"matchLabels": {"app": "e"}},
            "template": {"metadata": {"labels": {"app": "e"}}},
        }
    }
    r = client.patch(
        f"/apis/apps/v1/namespaces/{ns}/deployments/d",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    status = invalid(r)
    assert status["details"]["causes"][0]["field"] == "spec.selector"
    assert status["details"]["causes"][0]["message"].endswith("field is immutable")
    current = client.get(f"/apis/apps/v1/namespaces/{ns}/deployments/d").json()
    assert current["spec"]["selector"] == {"matchLabels": {"app": "d"}}


def test_pod_spec_immutable_except_image(client: httpx.Client, ns: str) -> None:
    assert client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("imm")).status_code == 201
    merge = {"Content-Type": "application/merge-patch+json"}
    ok = client.patch(
        f"/api/v1/namespaces/{ns}/pods/imm",
        json={"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}], "activeDeadlineSeconds": 100}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert ok.status_code == 200, ok.text
    status = invalid(
        client.patch(
            f"/api/v1/namespaces/{ns}/pods/imm", json={"spec": {"restartPolicy": "Never"}}, headers=merge
        )
    )
    cause = status["details"]["causes"][0]
    assert cause["field"] == "spec" and cause["reason"] == "FieldValueForbidden"
    assert cause["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )
    assert client.get(f"/api/v1/namespaces/{ns}/pods/imm").json()["spec"]["restartPolicy"] == "Always"


def test_immutable_configmap_and_secret(client: httpx.Client, ns: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "frozen"},
        "data": {"a": "1"},
        "immutable": True,
    }
    assert client.post(f"/api/v1/namespaces/{ns}/configmaps", json=body).status_code == 201
    merge = {"Content-Type": "application/merge-patch+json"}
    status = invalid(
        client.patch(f"/api/v1/namespaces/{ns}/configmaps/frozen", json={"data": {"a": "2"}}, headers=merge)
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "field": "data",
            "message": "Forbidden: field is immutable when `immutable` is set",
        }
    ]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    assert client.post(f"/api/v1/namespaces/{ns}/secrets", json=secret).status_code == 201
    status = invalid(
        client.patch(f"/api/v1/namespaces/{ns}/secrets/s", json={"type": "kubernetes.io/tls"}, headers=merge)
    )
    assert any(
        c["field"] == "type" and c["message"].endswith("field is immutable")
        for c in status["details"]["causes"]
    )


def test_service_cluster_ip_immutable_and_kept_on_put(client: httpx.Client, ns: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "keep"},
        "spec": {"ports": [{"port": 80}]},
    }
    created = client.post(f"/api/v1/namespaces/{ns}/services", json=body).json()
    ip = created["spec"]["clusterIP"]
    put = dict(body, metadata={"name": "keep", "resourceVersion": created["metadata"]["resourceVersion"]})
    r = client.put(f"/api/v1/namespaces/{ns}/services/keep", json=put)  # omits clusterIP: kept
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["clusterIP"] == ip
    merge = {"Content-Type": "application/merge-patch+json"}
    status = invalid(
        client.patch(
            f"/api/v1/namespaces/{ns}/services/keep",
            json={"spec": {"clusterIP": "10.96.7.7", "clusterIPs": ["10.96.7.7"]}},
            headers=merge,
        )
    )
    assert status["details"]["causes"][0]["field"] == "spec.clusterIPs[0]"
    assert status["details"]["causes"][0]["message"] == 'Invalid value: "10.96.7.7": may not change once set'


def test_job_restart_policy(client: httpx.Client, ns: str) -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    }
    status = invalid(client.post(f"/apis/batch/v1/namespaces/{ns}/jobs", json=body))
    assert status["message"] == (
        'Job.batch "j" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": '
        'supported values: "OnFailure", "Never"'
    )


def test_dry_run_invalid_is_422(client: httpx.Client, ns: str) -> None:
    invalid(client.post(f"/api/v1/namespaces/{ns}/pods?dryRun=All", json=pod("x", dnsPolicy="Nope")))
