"""The real kubectl (found on PATH) against the API server over TLS with the generated kubeconfig."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from typing import Any

import pytest
import yaml

from testserver.testing import TestServer

KUBECTL = shutil.which("kubectl") or "kubectl"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
"""


@pytest.fixture
def ns(kubectl: Any) -> str:
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    kubectl("create", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
    return name


def test_get_namespaces_and_raw(kubectl: Any) -> None:
    out = kubectl("get", "namespaces")
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert "kube-system" in out and "Active" in out
    raw = json.loads(kubectl("get", "--raw", "/api/v1/namespaces"))
    assert raw["kind"] == "NamespaceList"
    assert "v1.32" in kubectl("version", "-o", "json")


def test_api_resources_and_explain(kubectl: Any) -> None:
    out = kubectl("api-resources")
    assert "deployments" in out and "apps/v1" in out and "configmaps" in out
    explained = kubectl("explain", "deployment.spec.replicas")
    assert "FIELD: replicas <integer>" in explained


def test_create_get_describe_scale_label_replace_delete(kubectl: Any, ns: str) -> None:
    assert "deployment.apps/web created" in kubectl("-n", ns, "create", "-f", "-", input=DEPLOYMENT)
    table = kubectl("-n", ns, "get", "deployments")
    assert table.split()[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    obj = json.loads(kubectl("-n", ns, "get", "deployment", "web", "-o", "json"))
    assert obj["spec"]["strategy"]["type"] == "RollingUpdate" and obj["metadata"]["generation"] == 1
    as_yaml = yaml.safe_load(kubectl("-n", ns, "get", "deployment", "web", "-o", "yaml"))
    assert as_yaml["metadata"]["uid"] == obj["metadata"]["uid"]
    assert "Replicas:" in kubectl("-n", ns, "describe", "deployment", "web")
    kubectl("-n", ns, "scale", "deployment", "web", "--replicas=3")
    kubectl("-n", ns, "label", "deployment", "web", "tier=frontend")
    kubectl("-n", ns, "annotate", "deployment", "web", "note=hello")
    obj = json.loads(kubectl("-n", ns, "get", "deployment", "web", "-o", "json"))
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["labels"]["tier"] == "frontend"
    assert obj["metadata"]["annotations"]["note"] == "hello" and obj["metadata"]["generation"] == 2
    assert kubectl("-n", ns, "get", "deploy", "-l", "tier=frontend", "-o", "name") == "deployment.apps/web\n"
    obj["spec"]["replicas"] = 1
    kubectl("-n", ns, "replace", "-f", "-", input=json.dumps(obj))
    assert json.loads(kubectl("-n", ns, "get", "deploy", "web", "-o", "json"))["spec"]["replicas"] == 1
    stale = kubectl.run("-n", ns, "replace", "-f", "-", input=json.dumps(obj), check=False)
    assert stale.returncode != 0 and "the object has been modified" in stale.stderr
    assert 'deployment.apps "web" deleted' in kubectl("-n", ns, "delete", "deployment", "web")
    missing = kubectl.run("-n", ns, "get", "deployment", "web", check=False)
    assert missing.returncode != 0 and 'deployments.apps "web" not found' in missing.stderr


def test_apply_client_side(kubectl: Any, ns: str) -> None:
    assert "created" in kubectl("-n", ns, "apply", "-f", "-", input=DEPLOYMENT)
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 4").replace("nginx:1.25", "nginx:1.26")
    assert "configured" in kubectl("-n", ns, "apply", "-f", "-", input=changed)
    obj = json.loads(kubectl("-n", ns, "get", "deploy", "web", "-o", "json"))
    assert obj["spec"]["replicas"] == 4
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert "unchanged" in kubectl("-n", ns, "apply", "-f", "-", input=changed)


def test_configmap_lifecycle_and_selectors(kubectl: Any, ns: str) -> None:
    for i in range(3):
        kubectl(
            "-n",
            ns,
            "create",
            "-f",
            "-",
            input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, labels: {{idx: '{i}'}}}}\ndata: {{k: v}}\n",
        )
    assert kubectl("-n", ns, "get", "cm", "-l", "idx in (0,2)", "-o", "name").split() == [
        "configmap/c0",
        "configmap/c2",
    ]
    assert (
        kubectl("-n", ns, "get", "cm", "--field-selector", "metadata.name=c1", "-o", "name").strip()
        == "configmap/c1"
    )
    bad = kubectl.run("-n", ns, "get", "cm", "--field-selector", "spec.x=1", check=False)
    assert bad.returncode != 0 and "field label not supported: spec.x" in bad.stderr
    assert "c1" in kubectl("get", "cm", "-A")
    kubectl("-n", ns, "delete", "cm", "-l", "idx=0")
    assert "c0" not in kubectl("-n", ns, "get", "cm")


def test_get_watch(kubectl_env: dict[str, str], kubectl: Any, ns: str) -> None:
    proc = subprocess.Popen(
        [KUBECTL, "-n", ns, "get", "cm", "-w", "--no-headers"],
        env=kubectl_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        kubectl(
            "-n",
            ns,
            "create",
            "-f",
            "-",
            input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\n",
        )
        line = proc.stdout.readline()  # listed or watched: either way the row arrives
        assert line.split()[0] == "watched"
    finally:
        proc.terminate()
        proc.wait(10)


def test_delete_namespace(kubectl: Any) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}"
    kubectl("create", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
    kubectl("-n", name, "create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert f'namespace "{name}" deleted' in kubectl("delete", "namespace", name, "--timeout=20s")
    assert kubectl.run("get", "namespace", name, check=False).returncode != 0


def test_restart_with_sqlite_keeps_data(tmp_path: object) -> None:
    from pathlib import Path

    data = Path(str(tmp_path)) / "data"
    with TestServer(data_dir=data, storage="sqlite:state.db") as server:
        env = {"KUBECONFIG": str(server.kubeconfig), "HOME": str(data)}
        subprocess.run(
            [KUBECTL, "create", "-f", "-"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: durable}\ndata: {a: b}\n",
        )
        first_rv = json.loads(
            subprocess.run(
                [KUBECTL, "get", "cm", "durable", "-o", "json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["metadata"]["resourceVersion"]
        assert server.stop() == 0
        server.start()
        got = subprocess.run(
            [KUBECTL, "get", "cm", "durable", "-o", "json"], env=env, capture_output=True, text=True
        )
        assert got.returncode == 0, got.stderr
        obj = json.loads(got.stdout)
        assert obj["data"] == {"a": "b"} and obj["metadata"]["resourceVersion"] == first_rv
