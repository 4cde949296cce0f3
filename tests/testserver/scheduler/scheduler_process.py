"""A ``testserver scheduler`` child process for tests, and helpers to build and wait on a cluster.

::

    with SchedulerProcess(server.kubeconfig) as sched:
        ...  # sched.url serves /healthz and /metrics

The process writes a ready file (JSON pid/url/component) once healthy and synced; it is stopped by
PID (SIGTERM, SIGKILL after a deadline) — also :meth:`kill` for kill -9 tests.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from testserver._child_process import ChildProcess

__all__ = ["SchedulerProcess", "eventually", "make_node"]

T = TypeVar("T")


class SchedulerProcess(ChildProcess):
    """``testserver scheduler --kubeconfig K --secure-port 0 ...`` as a child process."""

    _name = "scheduler"
    _log_name = "scheduler.log"

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        *extra_args: str,
        data_dir: str | os.PathLike[str] | None = None,
        leader_elect: bool = False,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="scheduler-", startup_timeout=startup_timeout)
        self.kubeconfig = Path(kubeconfig)
        self.extra_args = list(extra_args)
        self.leader_elect = leader_elect
        self.url = ""
        self.ready_file = self.data_dir / "ready.json"

    def start(self) -> SchedulerProcess:
        self.ready_file.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "testserver.cli",
            "scheduler",
            "--kubeconfig",
            str(self.kubeconfig),
            "--secure-port",
            "0",
            "--ready-file",
            str(self.ready_file),
            "--leader-elect",
            "true" if self.leader_elect else "false",
            "--exit-with-parent",
            *self.extra_args,
        ]
        self._spawn_until(args, self.ready_file.exists, poll_interval=0.02)
        self.url = json.loads(self.ready_file.read_text())["url"]
        return self

    def kill(self) -> None:
        """SIGKILL the process (by PID) and reap it."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def eventually(probe: Callable[[], T | None], *, timeout: float = 30.0, what: str = "condition") -> T:
    """Call ``probe()`` every 0.05 s until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as err:  # the state may not be there yet
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(0.05)


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    images: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Ready Node object with the given allocatable, labels and taints."""
    resources = {"cpu": cpu, "memory": memory, "pods": pods}
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready"}],
            "images": images or [],
        },
    }
