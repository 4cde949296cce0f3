"""The configmap-checksum example runs against a real test server and keeps its annotation current."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANNOTATION = "pyclientgo.dev/checksum"


def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.05)


@pytest.fixture
def controller(kubeconfig: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "configmap_checksum.py"), "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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

    first = wait_for(annotation)
    assert isinstance(first, str) and first.startswith("sha256:")

    kubectl("patch", "configmap", "settings", "-n", ns, "--type", "merge", "-p", '{"data":{"mode":"slow"}}')
    second = wait_for(lambda: (a := annotation()) not in (None, first) and a)
    assert second != first

    assert controller.poll() is None, "the controller exited early"
