"""A ``testserver scheduler`` child process and Node/Pod builders, for tests and benchmarks.

::

    with SchedulerProcess(server.kubeconfig) as sched:
        ...  # sched.url serves /healthz and /metrics

The process writes a ready file (JSON pid/url/component) once healthy and synced; it is stopped by
PID (SIGTERM, SIGKILL after a deadline), or :meth:`SchedulerProcess.kill` for kill -9 tests.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from testserver._child_process import ChildProcess

__all__ = ["SchedulerProcess", "make_node", "make_pod", "parse_metrics"]


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
        profile_to: str | os.PathLike[str] | None = None,
        program: list[str] | None = None,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="scheduler-", startup_timeout=startup_timeout)
        self.program = program or ["-m", "testserver.cli", "scheduler"]
        """What Python runs (default ``-m testserver.cli scheduler``; a script with the same flags)."""
        self.profile_to = profile_to
        """Run under cProfile, writing the stats there when the process stops (benchmarks)."""
        self.kubeconfig = Path(kubeconfig)
        self.extra_args = list(extra_args)
        self.leader_elect = leader_elect
        self.url = ""
        self.ready_file = self.data_dir / "ready.json"

    def start(self) -> SchedulerProcess:
        self.ready_file.unlink(missing_ok=True)
        profile = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to is not None else []
        args = [
            sys.executable,
            *profile,
            *self.program,
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
    extended: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Ready Node object with the given allocatable (``extended``: more resources), labels and taints."""
    resources = {"cpu": cpu, "memory": memory, "pods": pods, **(extended or {})}
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


def make_pod(
    name: str,
    *,
    cpu: str | None = None,
    memory: str | None = None,
    labels: dict[str, str] | None = None,
    scheduler_name: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A one-container pod with optional requests; extra keyword arguments go into ``spec`` as is."""
    requests: dict[str, str] = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    container: dict[str, Any] = {"name": "c", "image": "registry.k8s.io/pause:3.10"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {"containers": [container], **spec}
    if scheduler_name is not None:
        body["schedulerName"] = scheduler_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": body,
    }


def parse_metrics(text: str) -> dict[str, float]:
    """``name{labels}`` → value of a Prometheus text exposition (labels as printed)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out
