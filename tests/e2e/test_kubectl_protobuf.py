"""The real kubectl's protobuf paths: `kubectl create namespace|configmap|secret|deployment|serviceaccount`
(and their --dry-run=server variants) and `kubectl auth can-i` POST application/vnd.kubernetes.protobuf
and read protobuf answers; `kubectl get -o json` afterwards shows what was stored."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

PB = "application/vnd.kubernetes.protobuf"


@pytest.fixture
def ns(kubectl: Any) -> str:
    name = f"kpb-{uuid.uuid4().hex[:8]}"
    proc = kubectl.run("create", "namespace", name, "-v=7")
    assert f"namespace/{name} created" in proc.stdout
    # kubectl really spoke protobuf both ways
    assert f"Content-Type: {PB}" in proc.stderr
    assert "Response Status: 201 Created" in proc.stderr
    return name


def get_json(kubectl: Any, *args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json"))


def test_create_namespace(kubectl: Any, ns: str) -> None:
    obj = get_json(kubectl, "namespace", ns)
    assert obj["status"]["phase"] == "Active"
    assert obj["spec"]["finalizers"] == ["kubernetes"]
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": ns}


def test_create_configmap_and_secret(kubectl: Any, ns: str) -> None:
    out = kubectl("create", "configmap", "cm", "--from-literal=a=b", "--from-literal=empty=", "-n", ns)
    assert "configmap/cm created" in out
    assert get_json(kubectl, "configmap", "cm", "-n", ns)["data"] == {"a": "b", "empty": ""}
    out = kubectl("create", "secret", "generic", "s", "--from-literal=password=hunter2", "-n", ns)
    assert "secret/s created" in out
    secret = get_json(kubectl, "secret", "s", "-n", ns)
    assert secret["type"] == "Opaque"  # Go sent "" (dropped as omitempty): the server defaults it
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2"


def test_create_deployment_and_serviceaccount(kubectl: Any, ns: str) -> None:
    out = kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=80", "-n", ns)
    assert "deployment.apps/web created" in out
    dep = get_json(kubectl, "deployment", "web", "-n", ns)
    assert dep["spec"]["replicas"] == 0  # an explicit zero survives
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"  # Go sent an empty DeploymentStrategy
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"
    # Go writes non-pointer zeros (hostPort 0): kept, since protobuf cannot tell them from pointer zeros
    assert container["ports"][0]["containerPort"] == 80 and container["ports"][0]["protocol"] == "TCP"
    assert container["ports"][0].get("hostPort", 0) == 0
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert "serviceaccount/robot created" in kubectl("create", "serviceaccount", "robot", "-n", ns)
    assert get_json(kubectl, "serviceaccount", "robot", "-n", ns)["metadata"]["name"] == "robot"


def test_dry_run_server(kubectl: Any, ns: str) -> None:
    for args, shown in (
        (("configmap", "dry", "--from-literal=a=b"), "configmap/dry created (server dry run)"),
        (("secret", "generic", "dry", "--from-literal=a=b"), "secret/dry created (server dry run)"),
        (("deployment", "dry", "--image=nginx"), "deployment.apps/dry created (server dry run)"),
        (("serviceaccount", "dry"), "serviceaccount/dry created (server dry run)"),
    ):
        assert shown in kubectl("create", *args, "-n", ns, "--dry-run=server")
    out = kubectl("create", "namespace", f"{ns}-dry", "--dry-run=server", "-o", "json")
    assert json.loads(out)["metadata"]["name"] == f"{ns}-dry"
    for kind in ("configmap", "secret", "deployment", "serviceaccount"):
        proc = kubectl.run("get", kind, "dry", "-n", ns, check=False)
        assert proc.returncode != 0 and "NotFound" in proc.stderr
    assert kubectl.run("get", "namespace", f"{ns}-dry", check=False).returncode != 0


def test_create_conflict_reports_status(kubectl: Any, ns: str) -> None:
    kubectl("create", "configmap", "twice", "-n", ns)
    proc = kubectl.run("create", "configmap", "twice", "-n", ns, check=False)
    assert proc.returncode != 0
    assert 'configmaps "twice" already exists' in proc.stderr


def test_auth_can_i(kubectl: Any) -> None:
    proc = kubectl.run("auth", "can-i", "create", "pods", "-v=7")
    assert proc.stdout.strip() == "yes"
    assert f"Content-Type: {PB}" in proc.stderr
    assert kubectl("auth", "can-i", "delete", "deployments.apps", "-n", "default").strip() == "yes"


def test_auth_can_i_list(kubectl: Any) -> None:
    out = kubectl("auth", "can-i", "--list")
    lines = out.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert any(line.split()[:1] == ["*.*"] and line.rstrip().endswith("[*]") for line in lines[1:])


def _list_manifest(ns: str, extra: str = "") -> str:
    return f"""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {{name: l1, namespace: {ns}}}
  data: {{a: b}}{extra}
- apiVersion: v1
  kind: ConfigMap
  metadata: {{name: l2, namespace: {ns}}}
"""


def test_kind_list_manifests(kubectl: Any, ns: str) -> None:
    """kubectl validates `kind: List` with /openapi/v2 as gnostic protobuf before sending the items."""
    out = kubectl("create", "-f", "-", input=_list_manifest(ns))
    assert "configmap/l1 created" in out and "configmap/l2 created" in out
    assert get_json(kubectl, "configmap", "l1", "-n", ns)["data"] == {"a": "b"}
    assert "configmap/l1 configured" in kubectl("apply", "-f", "-", input=_list_manifest(ns))
    # unknown fields are still refused (by the server's strict field validation)
    proc = kubectl.run("create", "-f", "-", input=_list_manifest(f"{ns}", "\n  bogus: 1"), check=False)
    assert proc.returncode != 0 and 'unknown field "bogus"' in proc.stderr
