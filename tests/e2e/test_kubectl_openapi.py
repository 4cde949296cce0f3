"""The real kubectl against the testserver's OpenAPI documents: explain, create -f, apply."""

from __future__ import annotations

from typing import Any

import pytest

POD_YAML = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: openapi-e2e
data:
  a: "1"
"""

BAD_YAML = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: openapi-e2e-bad
bogusField: 1
"""


def test_explain_pods(kubectl: Any) -> None:
    out = kubectl("explain", "pods")
    assert "KIND:" in out and "Pod" in out
    assert "spec" in out and "metadata" in out


def test_explain_nested_field(kubectl: Any) -> None:
    out = kubectl("explain", "pods.spec.containers")
    assert "FIELD: containers" in out
    assert "image" in out


def test_explain_recursive(kubectl: Any) -> None:
    out = kubectl("explain", "deployment.spec", "--recursive")
    assert "replicas" in out and "template" in out and "strategy" in out


def test_create_from_file_uses_openapi(kubectl: Any) -> None:
    out = kubectl("create", "-n", "default", "-f", "-", input=POD_YAML)
    assert "configmap/openapi-e2e created" in out
    proc = kubectl.run("create", "-n", "default", "-f", "-", input=BAD_YAML, check=False)
    # kubectl found fieldValidation on the PATCH operation of ConfigMap and sent Strict.
    assert proc.returncode != 0
    assert "bogusField" in proc.stderr


def test_apply(kubectl: Any) -> None:
    out = kubectl(
        "apply", "-n", "default", "-f", "-", input=POD_YAML.replace("openapi-e2e", "openapi-e2e-apply")
    )
    assert "configmap/openapi-e2e-apply" in out
    if "created" not in out and "configured" not in out and "unchanged" not in out:
        pytest.fail(out)
