"""The real kubectl: client-side apply, server-side apply (conflicts, --force-conflicts), diff."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest


def deployment(
    name: str, *, replicas: int | None = 2, image: str = "nginx:1.25", extra_env: bool = False
) -> str:
    env = "\n        env: [{name: MODE, value: fast}]" if extra_env else ""
    reps = f"\n  replicas: {replicas}" if replicas is not None else ""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:{reps}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports: [{{containerPort: 80}}]{env}
"""


@pytest.fixture(scope="module")
def ns(kubectl: Any) -> str:
    name = f"apply-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name


def get(kubectl: Any, ns: str, what: str) -> dict[str, Any]:
    return json.loads(kubectl("-n", ns, "get", what, "-o", "json", "--show-managed-fields"))  # type: ignore[no-any-return]


def managers(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields") or []}


def test_client_side_apply_reapply_and_removed_fields(kubectl: Any, ns: str) -> None:
    assert "created" in kubectl("-n", ns, "apply", "-f", "-", input=deployment("csa", extra_env=True))
    obj = get(kubectl, ns, "deployment/csa")
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 2
    assert ("kubectl-client-side-apply", "Update") in managers(obj)
    # someone else adds a label: apply must keep it (three-way merge)
    kubectl("-n", ns, "label", "deployment", "csa", "owner=ops")
    # change the image, drop the env var and replicas from the configuration
    out = kubectl("-n", ns, "apply", "-f", "-", input=deployment("csa", replicas=None, image="nginx:1.26"))
    assert "configured" in out
    obj = get(kubectl, ns, "deployment/csa")
    (container,) = obj["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.26"
    assert "env" not in container  # removed from the configuration: deleted
    assert obj["metadata"]["labels"]["owner"] == "ops"  # not ours: kept
    assert obj["spec"]["replicas"] == 1  # deleted, then defaulted
    assert "unchanged" in kubectl(
        "-n", ns, "apply", "-f", "-", input=deployment("csa", replicas=None, image="nginx:1.26")
    )


def test_diff_exit_codes_and_no_change(kubectl: Any, ns: str) -> None:
    kubectl("-n", ns, "apply", "-f", "-", input=deployment("dif"))
    same = kubectl.run("-n", ns, "diff", "-f", "-", input=deployment("dif"), check=False)
    assert same.returncode == 0, same.stderr
    rv = get(kubectl, ns, "deployment/dif")["metadata"]["resourceVersion"]
    changed = kubectl.run("-n", ns, "diff", "-f", "-", input=deployment("dif", replicas=5), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  replicas: 2" in changed.stdout and "+  replicas: 5" in changed.stdout
    after = get(kubectl, ns, "deployment/dif")
    assert after["spec"]["replicas"] == 2 and after["metadata"]["resourceVersion"] == rv  # dry run only
    new = kubectl.run("-n", ns, "diff", "-f", "-", input=deployment("dif-new"), check=False)
    assert new.returncode == 1 and "+  name: dif-new" in new.stdout
    assert kubectl.run("-n", ns, "get", "deployment", "dif-new", check=False).returncode != 0


def test_server_side_apply_conflicts_and_force(kubectl: Any, ns: str) -> None:
    out = kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=deployment("ssa"))
    assert "serverside-applied" in out
    obj = get(kubectl, ns, "deployment/ssa")
    entry = managers(obj)[("kubectl", "Apply")]
    assert "f:replicas" in entry["fieldsV1"]["f:spec"]
    # a second field manager changes replicas: conflict
    bad = kubectl.run(
        "-n", ns, "apply", "--server-side", "--field-manager=other", "-f", "-",
        input=deployment("ssa", replicas=4), check=False,
    )  # fmt: skip
    assert bad.returncode != 0
    assert 'conflict with "kubectl": .spec.replicas' in bad.stderr
    assert get(kubectl, ns, "deployment/ssa")["spec"]["replicas"] == 2
    # the same value is fine: shared ownership
    kubectl("-n", ns, "apply", "--server-side", "--field-manager=other", "-f", "-", input=deployment("ssa"))
    obj = get(kubectl, ns, "deployment/ssa")
    assert "f:replicas" in managers(obj)[("other", "Apply")]["fieldsV1"]["f:spec"]
    assert "f:replicas" in managers(obj)[("kubectl", "Apply")]["fieldsV1"]["f:spec"]
    # --force-conflicts takes it
    kubectl(
        "-n", ns, "apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-",
        input=deployment("ssa", replicas=4),
    )  # fmt: skip
    obj = get(kubectl, ns, "deployment/ssa")
    assert obj["spec"]["replicas"] == 4
    assert "f:replicas" not in managers(obj)[("kubectl", "Apply")]["fieldsV1"]["f:spec"]
    # a field kubectl stops applying (the env list) goes away
    kubectl(
        "-n", ns, "apply", "--server-side", "-f", "-", input=deployment("ssa", replicas=None, extra_env=True)
    )
    assert get(kubectl, ns, "deployment/ssa")["spec"]["template"]["spec"]["containers"][0]["env"]
    kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=deployment("ssa", replicas=None))
    assert "env" not in get(kubectl, ns, "deployment/ssa")["spec"]["template"]["spec"]["containers"][0]


def test_server_side_apply_dry_run_and_update_conflict(kubectl: Any, ns: str) -> None:
    out = kubectl("-n", ns, "apply", "--server-side", "--dry-run=server", "-f", "-", input=deployment("dry"))
    assert "serverside-applied (server dry run)" in out
    assert kubectl.run("-n", ns, "get", "deployment", "dry", check=False).returncode != 0
    kubectl("-n", ns, "apply", "--server-side", "-f", "-", input=deployment("dry"))
    kubectl("-n", ns, "scale", "deployment", "dry", "--replicas=7")
    bad = kubectl.run(
        "-n", ns, "apply", "--server-side", "-f", "-", input=deployment("dry", replicas=3), check=False
    )
    assert bad.returncode != 0 and 'conflict with "kubectl' in bad.stderr and ".spec.replicas" in bad.stderr
    assert get(kubectl, ns, "deployment/dry")["spec"]["replicas"] == 7


def test_server_side_apply_strict_unknown_field(kubectl: Any, ns: str) -> None:
    doc = deployment("strict").replace("  replicas: 2", "  replicas: 2\n  bogus: 1")
    bad = kubectl.run("-n", ns, "apply", "--server-side", "-f", "-", input=doc, check=False)
    assert bad.returncode != 0
    assert ".spec.bogus: field not declared in schema" in bad.stderr
    bad = kubectl.run("-n", ns, "create", "-f", "-", input=doc, check=False)
    assert bad.returncode != 0 and 'unknown field "spec.bogus"' in bad.stderr
