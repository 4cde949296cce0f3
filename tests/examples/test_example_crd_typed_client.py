"""The crd_typed_client example runs against a real test server with its generated typed clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from examples_testlib import ROOT

from testserver.testing import TestServer


def test_crd_typed_client_example(apiserver: TestServer) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "crd_typed_client" / "main.py"),
            "--kubeconfig",
            str(apiserver.kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen == {
        "defaultedImage": "busybox",
        "defaultedReplicas": 1,
        "scaledTo": 3,
        "replicas": 3,
        "statusReplicas": 1,
        "listed": ["nightly"],
        "type": "CronTab",
    }
