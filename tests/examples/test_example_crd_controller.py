"""examples/crd_controller/main.py (a ConfigSet controller with generated typed clients) against a test server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from examples_testlib import ROOT, new_namespace, running_example, wait_for

from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.dynamic import DynamicClient
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset

LABEL = "demo.example.com/configset"


@pytest.fixture
def namespace(cs: Clientset) -> str:
    return new_namespace(cs, "cfs")


@pytest.fixture
def controller(kubeconfig: Path, namespace: str) -> Iterator[subprocess.Popen[bytes]]:
    with running_example(
        "crd_controller/main.py", "--kubeconfig", str(kubeconfig), "--namespace", namespace
    ) as proc:
        yield proc


def test_configset_controller(
    controller: subprocess.Popen[bytes], cs: Clientset, namespace: str, kubectl
) -> None:  # type: ignore[no-untyped-def]
    ns = namespace

    configsets = DynamicClient(cs.rest).resource(
        GroupVersionResource("demo.example.com", "v1", "configsets"), ns
    )

    def configset() -> dict[str, Any] | None:
        try:
            return dict(configsets.get("web"))
        except NotFound:
            return None

    def owned() -> dict[str, dict[str, str]]:
        items = cs.core_v1.config_maps(ns).list(label_selector=f"{LABEL}=web").items or []
        return {cm.metadata.name: dict(cm.data or {}) for cm in items}

    def ready(generation: int, copies: int) -> bool:
        obj = configset()
        status = (obj or {}).get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        return (
            status.get("observedGeneration") == generation
            and status.get("readyCopies") == copies
            and conditions.get("Ready", {}).get("status") == "True"
        )

    manifest = f"""\
apiVersion: demo.example.com/v1
kind: ConfigSet
metadata: {{name: web, namespace: {ns}}}
spec: {{copies: 3, data: {{greeting: hello}}}}
"""
    # The controller installs the CRD; apply once the API serves the kind.
    wait_for(
        lambda: kubectl.run("apply", "-f", "-", input=manifest, check=False).returncode == 0, "CR applied"
    )
    wait_for(lambda: owned() == {f"web-{i}": {"greeting": "hello"} for i in range(3)}, "three ConfigMaps")
    wait_for(lambda: ready(1, 3), "status: generation 1, 3 ready")
    cfs = configset()
    assert cfs is not None
    cm = cs.core_v1.config_maps(ns).get("web-0")
    refs = cm.metadata.owner_references or []
    assert [(r.kind, r.name, r.uid, r.controller) for r in refs] == [
        ("ConfigSet", "web", cfs["metadata"]["uid"], True)
    ]
    table = kubectl("get", "configsets", "-n", ns)
    assert table.split("\n")[1].split()[:3] == ["web", "3", "3"]

    kubectl(
        "patch",
        "configset",
        "web",
        "-n",
        ns,
        "--type",
        "merge",
        "-p",
        '{"spec":{"copies":1,"data":{"greeting":"hi"}}}',
    )
    wait_for(lambda: owned() == {"web-0": {"greeting": "hi"}}, "scaled down and updated")
    wait_for(lambda: ready(2, 1), "status: generation 2, 1 ready")

    cs.core_v1.config_maps(ns).delete("web-0")  # an owned ConfigMap disappears: the owner is reconciled
    wait_for(lambda: owned() == {"web-0": {"greeting": "hi"}}, "recreated")

    events = cs.core_v1.events(ns).list().items or []
    assert {"Created", "Updated", "Deleted"} <= {
        e.reason for e in events if e.involved_object.kind == "ConfigSet"
    }

    kubectl("delete", "configset", "web", "-n", ns)
    wait_for(lambda: owned() == {}, "owned ConfigMaps removed with their ConfigSet")
    with pytest.raises(NotFound):
        cs.core_v1.config_maps(ns).get("web-0")
    assert controller.poll() is None, "the controller exited early"


def test_generated_package_is_fresh() -> None:
    """``configset_api/`` is what ``codegen crd`` makes from ``configset.yaml`` today."""
    here = ROOT / "examples" / "crd_controller"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codegen.cli",
            "crd",
            str(here / "configset.yaml"),
            "--package",
            "configset_api",
            "--out",
            str(here),
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
