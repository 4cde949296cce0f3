"""examples/leader_elected_controller.py as two processes: the leader is SIGKILLed, the other takes over."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import load_config
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset

ROOT = Path(__file__).resolve().parents[2]
LABEL = "example.com/leader-demo"
ANNOTATION = "example.com/reconciled-by"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cs(kubeconfig: Path) -> Iterator[Clientset]:
    with Clientset(dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)) as clientset:
        yield clientset


def test_failover_after_the_leader_is_killed(kubeconfig: Path, cs: Clientset) -> None:
    ns = f"leader-{uuid.uuid4().hex[:6]}"
    lease = f"lec-{uuid.uuid4().hex[:6]}"
    cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(identity: str) -> None:
        procs[identity] = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "examples" / "leader_elected_controller.py"),
                "--kubeconfig",
                str(kubeconfig),
                "--namespace",
                ns,
                "--identity",
                identity,
                "--lease",
                lease,
                "--lease-duration",
                "2",
                "--renew-deadline",
                "1",
                "--retry-period",
                "0.2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def holder() -> str:
        try:
            spec = cs.coordination_v1.leases("default").get(lease).spec
        except NotFound:
            return ""
        return (spec.holder_identity or "") if spec else ""

    def stamp(name: str) -> str:
        cm = cs.core_v1.config_maps(ns).get(name)
        return (cm.metadata.annotations or {}).get(ANNOTATION, "")

    try:
        start("alpha")
        start("beta")
        leader = wait_for(holder, "a leader")
        other = "beta" if leader == "alpha" else "alpha"
        cms = cs.core_v1.config_maps(ns)
        cms.create(ConfigMap(metadata={"name": "one", "labels": {LABEL: "true"}}))
        wait_for(lambda: stamp("one") == leader, "the leader reconciles")
        assert procs[other].poll() is None

        procs[leader].send_signal(signal.SIGKILL)  # no release: the others wait for the lease to expire
        procs[leader].wait(10)
        wait_for(lambda: holder() == other, "the other copy holds the lease")
        wait_for(lambda: stamp("one") == other, "the new leader re-reconciles")
        cms.create(ConfigMap(metadata={"name": "two", "labels": {LABEL: "true"}}))
        wait_for(lambda: stamp("two") == other, "the new leader keeps reconciling")
        assert procs[other].poll() is None, "the new leader exited"

        procs[other].send_signal(signal.SIGTERM)  # a clean stop releases the lease
        assert procs[other].wait(10) == 0
        assert holder() == ""
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
