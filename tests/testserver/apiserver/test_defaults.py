"""Defaults of built-in kinds as clients see them (kube's SetDefaults_*), over the wire."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apiserver_testlib import new_namespace, pod


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "defaults")


def create(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 201, r.text
    got = client.get(f"{path}/{r.json()['metadata']['name']}")
    assert got.status_code == 200
    out: dict[str, Any] = got.json()
    return out


def test_pod_and_container_defaults(client: httpx.Client, ns: str) -> None:
    body = pod("p1")
    c = body["spec"]["containers"][0]
    c["ports"] = [{"containerPort": 80}]
    c["resources"] = {"limits": {"cpu": "500m", "memory": "64Mi"}}
    c["readinessProbe"] = {"httpGet": {"port": 80}}
    body["spec"]["containers"].append({"name": "latest", "image": "busybox"})
    body["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "x"}}, {"name": "scratch"}]
    obj = create(client, f"/api/v1/namespaces/{ns}/pods", body)
    spec = obj["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    assert spec["priority"] == 0 and spec["preemptionPolicy"] == "PreemptLowerPriority"
    tolerations = {t["key"]: t for t in spec["tolerations"]}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        assert tolerations[key] == {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }
    c0, c1 = spec["containers"]
    assert c0["imagePullPolicy"] == "IfNotPresent" and c1["imagePullPolicy"] == "Always"
    assert c0["terminationMessagePath"] == "/dev/termination-log"
    assert c0["terminationMessagePolicy"] == "File"
    assert c0["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c0["resources"]["requests"] == {"cpu": "500m", "memory": "64Mi"}
    probe = c0["readinessProbe"]
    assert probe["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}
    assert (
        probe["timeoutSeconds"],
        probe["periodSeconds"],
        probe["successThreshold"],
        probe["failureThreshold"],
    ) == (1, 10, 1, 3)
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["cfg"]["configMap"]["defaultMode"] == 420
    assert volumes["scratch"] == {"name": "scratch", "emptyDir": {}}
    token = [v for v in volumes if v.startswith("kube-api-access-")]
    assert len(token) == 1
    assert {
        "name": token[0],
        "readOnly": True,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
    } in c0["volumeMounts"]
    assert obj["status"]["phase"] == "Pending" and obj["status"]["qosClass"] == "Burstable"


def test_deployment_replicaset_defaults(client: httpx.Client, ns: str) -> None:
    template = {
        "metadata": {"labels": {"app": "d"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    d = create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": template},
        },
    )["spec"]
    assert d["replicas"] == 1
    assert d["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert d["revisionHistoryLimit"] == 10 and d["progressDeadlineSeconds"] == 600
    assert d["template"]["spec"]["restartPolicy"] == "Always"
    rs = create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/replicasets",
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "r"},
            "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": template},
        },
    )
    assert rs["spec"]["replicas"] == 1 and rs["status"] == {"replicas": 0}


def test_statefulset_daemonset_defaults(client: httpx.Client, ns: str) -> None:
    template = {
        "metadata": {"labels": {"app": "s"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    s = create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/statefulsets",
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "s"},
            "spec": {
                "selector": {"matchLabels": {"app": "s"}},
                "serviceName": "s",
                "template": template,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    )["spec"]
    assert s["podManagementPolicy"] == "OrderedReady"
    assert s["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert s["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert s["revisionHistoryLimit"] == 10 and s["replicas"] == 1
    assert s["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    ds = create(
        client,
        f"/apis/apps/v1/namespaces/{ns}/daemonsets",
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "ds"},
            "spec": {"selector": {"matchLabels": {"app": "s"}}, "template": template},
        },
    )["spec"]
    assert ds["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert ds["revisionHistoryLimit"] == 10


def test_job_and_cronjob_defaults(client: httpx.Client, ns: str) -> None:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
    job = create(
        client,
        f"/apis/batch/v1/namespaces/{ns}/jobs",
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": template}},
    )
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed" and spec["suspend"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    uid = job["metadata"]["uid"]
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["job-name"] == "j" and labels["controller-uid"] == uid
    cj = create(
        client,
        f"/apis/batch/v1/namespaces/{ns}/cronjobs",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "cj"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}},
        },
    )["spec"]
    assert cj["concurrencyPolicy"] == "Allow" and cj["suspend"] is False
    assert (cj["successfulJobsHistoryLimit"], cj["failedJobsHistoryLimit"]) == (3, 1)
    assert "completions" not in cj["jobTemplate"]["spec"]  # job templates get pod defaults only
    assert cj["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def test_service_defaults(client: httpx.Client, ns: str) -> None:
    svc = create(
        client,
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]},
        },
    )["spec"]
    assert svc["type"] == "ClusterIP" and svc["sessionAffinity"] == "None"
    assert svc["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert svc["ipFamilyPolicy"] == "SingleStack" and svc["ipFamilies"] == ["IPv4"]
    assert svc["internalTrafficPolicy"] == "Cluster"
    assert svc["clusterIPs"] == [svc["clusterIP"]] and svc["clusterIP"].startswith("10.")
    np = create(
        client,
        f"/api/v1/namespaces/{ns}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "np"},
            "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]},
        },
    )["spec"]
    assert np["externalTrafficPolicy"] == "Cluster"
    assert 30000 <= np["ports"][0]["nodePort"] <= 32767


def test_namespace_secret_pvc_defaults(client: httpx.Client) -> None:
    ns = new_namespace(client, "nsdef")
    obj = client.get(f"/api/v1/namespaces/{ns}").json()
    assert obj["spec"]["finalizers"] == ["kubernetes"] and obj["status"]["phase"] == "Active"
    assert obj["metadata"]["labels"]["kubernetes.io/metadata.name"] == ns
    secret = create(
        client,
        f"/api/v1/namespaces/{ns}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
    )
    assert secret["type"] == "Opaque"
    pvc = create(
        client,
        f"/api/v1/namespaces/{ns}/persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    )
    assert pvc["spec"]["volumeMode"] == "Filesystem" and pvc["status"]["phase"] == "Pending"


def test_bootstrap_objects(client: httpx.Client) -> None:
    svc = client.get("/api/v1/namespaces/default/services/kubernetes").json()
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443
    names = {
        pc["metadata"]["name"]: pc["value"]
        for pc in client.get("/apis/scheduling.k8s.io/v1/priorityclasses").json()["items"]
    }
    assert names["system-cluster-critical"] == 2000000000 and names["system-node-critical"] == 2000001000
    assert client.get("/api/v1/namespaces/kube-system/serviceaccounts/default").status_code == 200


def test_dry_run_defaults_nothing_stored(client: httpx.Client, ns: str) -> None:
    r = client.post(f"/api/v1/namespaces/{ns}/pods?dryRun=All", json=pod("dry"))
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["dnsPolicy"] == "ClusterFirst"
    assert client.get(f"/api/v1/namespaces/{ns}/pods/dry").status_code == 404
