"""examples/leader_elected_controller.py as two processes: the leader is SIGKILLed, the other takes over."""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path

from examples_testlib import new_namespace, spawn_example, wait_for

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset

LABEL = "example.com/leader-demo"
ANNOTATION = "example.com/reconciled-by"


def test_failover_after_the_leader_is_killed(kubeconfig: Path, cs: Clientset) -> None:
    ns = new_namespace(cs, "leader")
    lease = f"lec-{uuid.uuid4().hex[:6]}"
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(identity: str) -> None:
        procs[identity] = spawn_example(
            "leader_elected_controller.py",
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
