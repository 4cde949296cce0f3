"""The real kubectl (found on PATH) with a CRD: apply, wait Established, custom resources through short
names and printer columns, validation errors, pruning (Strict and --validate=false), defaults,
status and scale subresources, explain, and deleting the CRD with its objects."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest


def crd_manifest(group: str) -> str:
    return f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct{group[:4]}], categories: [all]}}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
      scale: {{specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
    additionalPrinterColumns:
    - {{name: Spec, type: string, jsonPath: .spec.cronSpec}}
    - {{name: Replicas, type: integer, jsonPath: .spec.replicas}}
    - {{name: Age, type: date, jsonPath: .metadata.creationTimestamp}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: The desired schedule.
            properties:
              cronSpec: {{type: string, pattern: '^(\\S+\\s+){{4}}\\S+$', description: A cron expression.}}
              image: {{type: string, default: busybox}}
              replicas: {{type: integer, minimum: 0, maximum: 10, default: 1}}
          status:
            type: object
            properties:
              replicas: {{type: integer}}
"""


def crontab(name: str, group: str, spec: str) -> str:
    return f"apiVersion: {group}/v1\nkind: CronTab\nmetadata: {{name: {name}}}\nspec: {spec}\n"


@pytest.fixture
def group(kubectl: Any) -> str:
    group = f"k{uuid.uuid4().hex[:6]}.example.com"
    kubectl("apply", "-f", "-", input=crd_manifest(group))
    kubectl("wait", "--for", "condition=established", "--timeout=20s", f"crd/crontabs.{group}")
    return group


def test_crd_lifecycle_with_kubectl(kubectl: Any, group: str) -> None:
    short = f"ct{group[:4]}"
    kubectl("apply", "-f", "-", input=crontab("c1", group, '{cronSpec: "* * * * */5"}'))
    out = kubectl("get", short)
    assert out.splitlines()[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert out.splitlines()[1].split()[:7] == ["c1", "*", "*", "*", "*", "*/5", "1"]
    obj = json.loads(kubectl("get", f"crontabs.{group}", "c1", "-o", "json"))
    assert obj["spec"] == {"cronSpec": "* * * * */5", "image": "busybox", "replicas": 1}  # defaults

    # validation errors as kubectl shows them
    bad = kubectl.run(
        "apply", "-f", "-", input=crontab("c2", group, '{cronSpec: "bad", replicas: 20}'), check=False
    )
    assert bad.returncode != 0
    assert 'The CronTab "c2" is invalid' in bad.stderr
    assert (
        "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10"
        in bad.stderr
    )
    assert 'spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match' in bad.stderr
    bad = kubectl.run(
        "apply", "-f", "-", input=crontab("c3", group, '{cronSpec: "* * * * *", replicas: "x"}'), check=False
    )
    assert (
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'
        in bad.stderr
    )

    # pruning: kubectl asks Strict field validation, --validate=false lets the server prune
    strict = kubectl.run(
        "apply", "-f", "-", input=crontab("c4", group, '{cronSpec: "* * * * *", foo: bar}'), check=False
    )
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "spec.foo"' in strict.stderr
    kubectl(
        "apply",
        "--validate=false",
        "-f",
        "-",
        input=crontab("c4", group, '{cronSpec: "* * * * *", foo: bar}'),
    )
    pruned = json.loads(kubectl("get", short, "c4", "-o", "json"))
    assert "foo" not in pruned["spec"]

    # status and scale subresources
    kubectl(
        "patch", short, "c1", "--subresource=status", "--type", "merge", "-p", '{"status":{"replicas":2}}'
    )
    kubectl("scale", short, "c1", "--replicas=3")
    got = json.loads(kubectl("get", short, "c1", "-o", "json"))
    assert got["spec"]["replicas"] == 3 and got["status"] == {"replicas": 2}
    assert got["metadata"]["generation"] == 2
    kubectl("patch", short, "c1", "--type", "merge", "-p", '{"spec":{"image":"alpine"}}')
    assert json.loads(kubectl("get", short, "c1", "-o", "json"))["spec"]["image"] == "alpine"

    # categories: `kubectl get all` includes it
    assert "c1" in kubectl("get", "all")

    explained = kubectl("explain", f"crontabs.{group}.spec")
    assert (
        "cronSpec" in explained and "A cron expression." in explained and "The desired schedule." in explained
    )

    kubectl.run("delete", "crd", f"crontabs.{group}", timeout=60)
    listed = json.loads(kubectl("get", "--raw", "/apis"))
    assert all(g["name"] != group for g in listed["groups"])
    missing = kubectl.run("get", "--raw", f"/apis/{group}/v1/namespaces/default/crontabs", check=False)
    assert missing.returncode != 0
