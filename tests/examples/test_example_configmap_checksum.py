"""The configmap-checksum example runs against a real test server and keeps its annotation current."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from examples_testlib import running_example, wait_for

ANNOTATION = "pyclientgo.dev/checksum"


@pytest.fixture
def controller(kubeconfig: Path) -> Iterator[subprocess.Popen[bytes]]:
    with running_example("configmap_checksum.py", "--kubeconfig", str(kubeconfig), clean_exit=False) as proc:
        yield proc


def test_stamps_and_restamps_checksum(controller: subprocess.Popen[bytes], kubectl) -> None:  # type: ignore[no-untyped-def]
    ns = f"cm-{uuid.uuid4().hex[:6]}"
    # (``kubectl create namespace|configmap`` sends protobuf, which the server learns in a later issue.)
    manifest = f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: fast
"""
    kubectl("create", "-f", "-", input=manifest)

    def annotation() -> str | None:
        out = json.loads(kubectl("get", "configmap", "settings", "-n", ns, "-o", "json"))
        value = (out["metadata"].get("annotations") or {}).get(ANNOTATION)
        return value if isinstance(value, str) else None

    first = wait_for(annotation, "the checksum annotation")
    assert isinstance(first, str) and first.startswith("sha256:")

    kubectl("patch", "configmap", "settings", "-n", ns, "--type", "merge", "-p", '{"data":{"mode":"slow"}}')
    second = wait_for(lambda: (a := annotation()) not in (None, first) and a, "a new checksum")
    assert second != first

    assert controller.poll() is None, "the controller exited early"
