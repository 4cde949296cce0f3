"""kubectl against the server: defaults after `create deployment`, `expose` gets a cluster IP,
and an eviction (what `kubectl drain` does) blocked by a PodDisruptionBudget."""

from __future__ import annotations

import json
import uuid
from typing import Any


def _ns(kubectl: Any) -> str:
    name = f"kadm-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name


def test_create_deployment_defaults(kubectl: Any) -> None:
    ns = _ns(kubectl)
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "-n", ns)
    spec = json.loads(kubectl("get", "deployment", "web", "-n", ns, "-o", "json"))["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert (
        spec["revisionHistoryLimit"] == 10
        and spec["progressDeadlineSeconds"] == 600
        and spec["replicas"] == 1
    )
    container = spec["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"


def test_expose_allocates_cluster_ip(kubectl: Any) -> None:
    ns = _ns(kubectl)
    kubectl("create", "deployment", "api", "--image=nginx", "-n", ns)
    kubectl("expose", "deployment", "api", "--port=80", "--target-port=8080", "-n", ns)
    svc = json.loads(kubectl("get", "service", "api", "-n", ns, "-o", "json"))["spec"]
    assert svc["clusterIP"].startswith("10.") and svc["clusterIPs"] == [svc["clusterIP"]]
    assert svc["type"] == "ClusterIP" and svc["ports"][0]["targetPort"] == 8080
    out = kubectl("get", "service", "api", "-n", ns)
    assert svc["clusterIP"] in out


def test_kubectl_run_in_new_namespace_and_invalid_name(kubectl: Any) -> None:
    ns = _ns(kubectl)
    kubectl("run", "p", "--image=busybox", "-n", ns)
    pod = json.loads(kubectl("get", "pod", "p", "-n", ns, "-o", "json"))
    assert pod["spec"]["serviceAccountName"] == "default"
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    proc = kubectl.run("run", "Bad", "--image=busybox", "-n", ns, check=False)
    assert proc.returncode != 0
    assert 'The Pod "Bad" is invalid' in proc.stderr and "metadata.name" in proc.stderr


def test_eviction_blocked_by_pdb(kubectl: Any) -> None:
    ns = _ns(kubectl)
    kubectl("run", "solo", "--image=nginx", "--labels=app=solo", "-n", ns)
    kubectl(
        "patch",
        "pod",
        "solo",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}',
    )
    kubectl("create", "poddisruptionbudget", "solo", "--selector=app=solo", "--min-available=1", "-n", ns)
    eviction = json.dumps(
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "solo", "namespace": ns}}
    )
    proc = kubectl.run(
        "create",
        "--raw",
        f"/api/v1/namespaces/{ns}/pods/solo/eviction",
        "-f",
        "-",
        input=eviction,
        check=False,
    )
    assert proc.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget" in proc.stderr
    assert "solo" in kubectl("get", "pod", "solo", "-n", ns, "-o", "name")
