"""The component process on a real API server: ready file, health and metrics, leader election on a
Lease, graceful stop on SIGTERM with the Lease released, two instances never both acting."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.config import load_config
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.testing import TestServer

SAMPLE = Path(__file__).with_name("sample_component.py")
DEADLINE = 30.0


def wait_for(cond: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Component:
    def __init__(self, server: TestServer, tmp: Path, name: str, *extra: str) -> None:
        self.ready = tmp / f"{name}.ready"
        self.log = tmp / f"{name}.log"
        self.args = [
            sys.executable,
            str(SAMPLE),
            f"--kubeconfig={server.kubeconfig}",
            "--secure-port=0",
            f"--ready-file={self.ready}",
            "--leader-elect-lease-duration=2s",
            "--leader-elect-renew-deadline=1s",
            "--leader-elect-retry-period=0.2s",
            "--leader-elect-resource-namespace=default",
            *extra,
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Component:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        return self

    def info(self) -> dict[str, Any]:
        def read() -> dict[str, Any] | None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"component exited {self.proc.returncode}: {self.log.read_text()}")
            return json.loads(self.ready.read_text()) if self.ready.exists() else None

        return wait_for(read, f"{self.ready.name}")  # type: ignore[no-any-return]

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


@pytest.fixture
def components(apiserver: TestServer, tmp_path: Path) -> Iterator[Callable[..., Component]]:
    started: list[Component] = []

    def start(name: str, *extra: str) -> Component:
        c = Component(apiserver, tmp_path, name, *extra).start()
        started.append(c)
        return c

    try:
        yield start
    finally:
        for c in started:
            if c.proc is not None and c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()


@pytest.fixture
def cs(apiserver: TestServer) -> Iterator[Clientset]:
    with Clientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as clientset:
        yield clientset


def holder(cs: Clientset, name: str) -> str:
    try:
        return cs.coordination_v1.leases("default").get(name).spec.holder_identity or ""
    except NotFound:
        return ""


def test_ready_file_health_metrics_and_graceful_stop(
    components: Callable[..., Component], cs: Clientset
) -> None:
    c = components("one", "--leader-elect-resource-name=sample-one")
    info = c.info()
    assert info["component"] == "sample-component" and info["pid"] == c.proc.pid  # type: ignore[union-attr]
    url = info["url"]
    for path in ("/healthz", "/livez", "/readyz"):
        r = httpx.get(url + path)
        assert (r.status_code, r.text) == (200, "ok\n"), path
    verbose = httpx.get(url + "/healthz?verbose").text
    assert "[+]ping ok" in verbose and "[+]leaderElection ok" in verbose and "healthz check passed" in verbose
    assert "[+]informers ok" in httpx.get(url + "/readyz?verbose").text
    assert httpx.get(url + "/healthz/nope").status_code == 404

    identity = wait_for(lambda: holder(cs, "sample-one"), "the Lease to be held")
    cs.core_v1.configmaps("default").create(ConfigMap(metadata={"name": "component-base-one"}))
    wait_for(
        lambda: (
            (cs.core_v1.configmaps("default").get("component-base-one").metadata.annotations or {}).get(
                "sample/leader"
            )
            == identity
        ),
        "the leader to act",
    )
    metrics = httpx.get(url + "/metrics").text
    assert 'leader_election_master_status{name="sample-one"} 1.0' in metrics
    assert "workqueue_adds_total" in metrics

    assert c.stop() == 0
    assert holder(cs, "sample-one") == "", "the Lease is released on SIGTERM"
    assert not c.ready.exists()
    assert "received SIGTERM, shutting down" in c.log.read_text()
    cs.core_v1.configmaps("default").delete("component-base-one")


def test_two_instances_one_leader_then_handover(components: Callable[..., Component], cs: Clientset) -> None:
    a = components("a", "--leader-elect-resource-name=sample-ha")
    b = components("b", "--leader-elect-resource-name=sample-ha")
    a.info(), b.info()  # both are healthy and ready while only one leads
    first = wait_for(lambda: holder(cs, "sample-ha"), "a leader")
    cs.core_v1.configmaps("default").create(ConfigMap(metadata={"name": "component-base-ha"}))

    def stamped() -> str:
        return (cs.core_v1.configmaps("default").get("component-base-ha").metadata.annotations or {}).get(
            "sample/leader", ""
        )

    assert wait_for(stamped, "the leader to stamp") == first
    leader = wait_for(lambda: _leading(first, a, b), "the leader to log that it leads")
    standby = b if leader is a else a
    os.kill(leader.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
    leader.proc.wait()  # type: ignore[union-attr]
    second = wait_for(lambda: (h := holder(cs, "sample-ha")) != first and h, "the standby to take over")
    cs.core_v1.configmaps("default").patch("component-base-ha", {"data": {"poke": "1"}}, patch_type="merge")
    assert wait_for(lambda: stamped() == second, "the new leader to act")
    assert standby.stop() == 0
    cs.core_v1.configmaps("default").delete("component-base-ha")


def _leading(identity: str, *candidates: Component) -> Component | None:
    """The candidate whose log says ``identity`` leads (the manager logs ``<identity>: leading``)."""
    for c in candidates:
        if f"{identity}: leading" in c.log.read_text():
            return c
    return None


def test_exit_with_parent_stops_the_component_when_its_parent_dies(
    apiserver: TestServer, tmp_path: Path
) -> None:
    """A parent starts the component with --exit-with-parent and dies (kill -9): the component, now
    an orphan, stops gracefully on its own (the ready file names its PID)."""
    sample = Component(apiserver, tmp_path, "orphan", "--exit-with-parent", "--leader-elect=false")
    launcher = (
        "import subprocess, sys, time; "
        f"subprocess.Popen({sample.args!r}, stdout=open({str(sample.log)!r}, 'ab'), stderr=subprocess.STDOUT); "
        "time.sleep(600)"
    )
    parent = subprocess.Popen([sys.executable, "-c", launcher])
    pid = 0
    try:
        info = wait_for(
            lambda: json.loads(sample.ready.read_text()) if sample.ready.exists() else None, "ready"
        )
        pid = int(info["pid"])
        parent.kill()
        parent.wait()

        def gone() -> bool:  # exited: no such process, or a zombie its new parent has not reaped yet
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                return True
            return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")

        wait_for(gone, "the orphaned component to stop")
        assert "stopped" in sample.log.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
