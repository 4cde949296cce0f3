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
from typing import Any, TypeVar, cast

from testserver._child_process import ChildProcess

__all__ = ["SchedCluster", "SchedulerProcess", "eventually", "make_node", "make_pod", "parse_metrics"]

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
        profile_to: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="scheduler-", startup_timeout=startup_timeout)
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
                return cast(T, last)
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


class SchedCluster:
    """An API server with a scheduler on it, seen through a sync clientset, with test helpers."""

    def __init__(self, kubeconfig: Path, scheduler: SchedulerProcess, namespace: str = "default") -> None:
        from pyclientgo.config import load_config
        from pyclientgo.kubernetes import Clientset

        self.kubeconfig = kubeconfig
        self.scheduler = scheduler
        self.namespace = namespace
        self.cs = Clientset(load_config(kubeconfig=str(kubeconfig)))

    def close(self) -> None:
        self.cs.close()

    # -- objects ----------------------------------------------------------------------------------

    def ensure_namespace(self, namespace: str) -> None:
        """The namespace and its ``default`` ServiceAccount (no controller-manager creates it here)."""
        from pyclientgo.api.core.v1 import Namespace, ServiceAccount
        from pyclientgo.errors import AlreadyExists

        try:
            self.cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": namespace}}))
        except AlreadyExists:
            pass
        try:
            self.cs.core_v1.service_accounts(namespace).create(
                ServiceAccount.from_dict({"metadata": {"name": "default"}})
            )
        except AlreadyExists:
            pass

    def create_node(self, name: str, **kwargs: Any) -> Any:
        from pyclientgo.api.core.v1 import Node

        return self.cs.core_v1.nodes().create(Node.from_dict(make_node(name, **kwargs)))

    def create_pod(self, name: str, namespace: str | None = None, **kwargs: Any) -> Any:
        from pyclientgo.api.core.v1 import Pod

        return self.cs.core_v1.pods(namespace or self.namespace).create(
            Pod.from_dict(make_pod(name, **kwargs))
        )

    def pod(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        pod: dict[str, Any] = self.cs.core_v1.pods(namespace or self.namespace).get(name).to_dict()
        return pod

    def wait_bound(self, name: str, namespace: str | None = None, timeout: float = 30.0) -> str:
        """The node the pod gets bound to."""

        def bound() -> str | None:
            node = (self.pod(name, namespace).get("spec") or {}).get("nodeName")
            return str(node) if node else None

        return eventually(bound, timeout=timeout, what=f"pod {name} bound")

    def scheduled_condition(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        for c in (self.pod(name, namespace).get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled":
                return dict(c)
        return None

    def wait_unschedulable(self, name: str, namespace: str | None = None, timeout: float = 30.0) -> str:
        """The message of the pod's PodScheduled=False condition, once the scheduler wrote it."""

        def unschedulable() -> str | None:
            c = self.scheduled_condition(name, namespace)
            if c and c.get("status") == "False" and c.get("reason") == "Unschedulable":
                return str(c.get("message"))
            return None

        return eventually(unschedulable, timeout=timeout, what=f"pod {name} Unschedulable")

    def events(
        self, name: str, reason: str | None = None, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """The events.k8s.io/v1 events about the pod (optionally of one reason)."""
        items = self.cs.events_v1.events(namespace or self.namespace).list().items or []
        out = []
        for e in items:
            d = e.to_dict()
            if (d.get("regarding") or {}).get("name") != name:
                continue
            if reason is None or d.get("reason") == reason:
                out.append(d)
        return out

    def wait_event(self, name: str, reason: str, namespace: str | None = None) -> dict[str, Any]:
        def last() -> dict[str, Any] | None:
            found = self.events(name, reason, namespace)
            return found[-1] if found else None

        return eventually(last, what=f"{reason} event for {name}")

    def metrics(self) -> dict[str, float]:
        import httpx

        return parse_metrics(httpx.get(self.scheduler.url + "/metrics", timeout=5.0).text)

    # -- between tests ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete every pod and node and wait until the scheduler's cache is empty."""
        for ns in self.cs.core_v1.namespaces().list().items or []:
            ns_name = ns.metadata.name if ns.metadata and ns.metadata.name else ""
            for pod in self.cs.core_v1.pods(ns_name).list().items or []:
                if pod.metadata and pod.metadata.name:
                    self.cs.core_v1.pods(ns_name).delete(pod.metadata.name, grace_period_seconds=0)
        for node in self.cs.core_v1.nodes().list().items or []:
            if node.metadata and node.metadata.name:
                self.cs.core_v1.nodes().delete(node.metadata.name)

        def empty() -> bool:
            m = self.metrics()
            return (
                m.get('scheduler_cache_size{type="nodes"}') == 0.0
                and m.get('scheduler_cache_size{type="pods"}') == 0.0
                and m.get('scheduler_pending_pods{queue="active"}') == 0.0
                and m.get('scheduler_pending_pods{queue="unschedulable"}') == 0.0
                and m.get('scheduler_pending_pods{queue="backoff"}') == 0.0
                and m.get('scheduler_pending_pods{queue="gated"}') == 0.0
            )

        eventually(empty, what="an empty scheduler cache and queue")
