"""examples/configmap_to_secret.py as a process against the session's test server."""

from __future__ import annotations

import base64
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from examples_testlib import new_namespace, running_example, wait_for

from pyclientgo.api.core.v1 import ConfigMap, Secret
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset

LABEL = "example.com/mirror"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def namespace(cs: Clientset) -> str:
    return new_namespace(cs, "mirror")


@pytest.fixture
def controller(kubeconfig: Path, namespace: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    with running_example(
        "configmap_to_secret.py",
        "--kubeconfig",
        str(kubeconfig),
        "--namespace",
        namespace,
        "--probe-port",
        str(port),
    ) as proc:
        yield proc, port


def secret_or_none(cs: Clientset, ns: str, name: str) -> Secret | None:
    try:
        return cs.core_v1.secrets(ns).get(name)
    except NotFound:
        return None


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def test_mirrors_configmaps_into_owned_secrets(
    controller: tuple[subprocess.Popen[bytes], int], cs: Clientset, namespace: str
) -> None:
    proc, port = controller
    ns = namespace
    cms = cs.core_v1.config_maps(ns)
    cm = cms.create(ConfigMap(metadata={"name": "app", "labels": {LABEL: "true"}}, data={"mode": "fast"}))
    cms.create(ConfigMap(metadata={"name": "plain"}, data={"x": "y"}))

    secret = wait_for(lambda: secret_or_none(cs, ns, "app"), "the Secret")
    assert secret.data == {"mode": b64("fast")}
    refs = secret.metadata.owner_references or []
    assert [(r.kind, r.name, r.uid, r.controller) for r in refs] == [
        ("ConfigMap", "app", cm.metadata.uid, True)
    ]

    def mirrored_events() -> list[Any]:
        events = cs.core_v1.events(ns).list().items or []
        return [e for e in events if e.reason == "Mirrored" and e.involved_object.name == "app"]

    assert wait_for(mirrored_events, "a Mirrored event")[0].type == "Normal"

    cms.patch("app", {"data": {"mode": "slow", "extra": "1"}}, patch_type="merge")
    wait_for(
        lambda: (
            (s := secret_or_none(cs, ns, "app")) is not None
            and s.data == {"mode": b64("slow"), "extra": b64("1")}
        ),
        "the Secret updated",
    )
    # Someone edits the Secret: the owner watch brings the controller back to repair it.
    cs.core_v1.secrets(ns).patch("app", {"data": {"mode": b64("tampered")}}, patch_type="merge")
    wait_for(
        lambda: (s := secret_or_none(cs, ns, "app")) is not None and s.data["mode"] == b64("slow"), "repaired"
    )

    # Removing the label removes the Secret; labelling again brings it back; deleting the ConfigMap removes it.
    cms.patch("app", {"metadata": {"labels": {LABEL: None}}}, patch_type="merge")
    wait_for(lambda: secret_or_none(cs, ns, "app") is None, "the Secret deleted on unlabel")
    cms.patch("app", {"metadata": {"labels": {LABEL: "true"}}}, patch_type="merge")
    wait_for(lambda: secret_or_none(cs, ns, "app"), "the Secret back")
    cms.delete("app")
    wait_for(lambda: secret_or_none(cs, ns, "app") is None, "the Secret deleted with its ConfigMap")
    assert secret_or_none(cs, ns, "plain") is None

    # A Secret the controller does not own is left alone (terminal error + Warning event).
    cs.core_v1.secrets(ns).create(Secret(metadata={"name": "taken"}, string_data={"k": "mine"}))
    cms.create(ConfigMap(metadata={"name": "taken", "labels": {LABEL: "true"}}, data={"k": "theirs"}))
    wait_for(
        lambda: any(e.reason == "SecretExists" for e in cs.core_v1.events(ns).list().items or []),
        "a SecretExists warning",
    )
    taken = cs.core_v1.secrets(ns).get("taken")
    assert not taken.metadata.owner_references

    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert (health.status_code, health.text) == (200, "ok\n")
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'controller_runtime_terminal_reconcile_errors_total{controller="configmap-to-secret"}' in metrics
    assert proc.poll() is None, "the controller exited early"
