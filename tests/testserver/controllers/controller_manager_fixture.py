"""A ``testserver controller-manager`` child process for tests, and helpers to wait on the cluster.

::

    with TestServer() as server, ControllerManager(server.kubeconfig, "--controllers", "namespace"):
        ...

The process writes a ready file (JSON pid/url/component) once its health server serves and its
caches are synced; :class:`ControllerManager` waits for it, exposes ``url`` (health and metrics),
and is stopped by PID (SIGTERM, SIGKILL after a deadline) — also :meth:`kill` for kill -9 tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from testserver._child_process import ChildProcess

__all__ = ["ControllerManager", "eventually", "health", "wait_until"]

T = TypeVar("T")


class ControllerManager(ChildProcess):
    """``testserver controller-manager --kubeconfig K --secure-port 0 ...`` as a child process."""

    _name = "controller-manager"
    _log_name = "controller-manager.log"

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        *extra_args: str,
        data_dir: str | os.PathLike[str] | None = None,
        leader_elect: bool = False,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(
            data_dir=data_dir, temp_prefix="controller-manager-", startup_timeout=startup_timeout
        )
        self.kubeconfig = Path(kubeconfig)
        self.extra_args = list(extra_args)
        self.leader_elect = leader_elect
        self.url = ""
        self.ready_file = self.data_dir / "ready.json"

    def start(self) -> ControllerManager:
        self.ready_file.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "testserver.cli",
            "controller-manager",
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


def health(url: str, path: str = "/healthz") -> tuple[int, str]:
    """GET a health path of a component."""
    response = httpx.get(url + path, timeout=5.0)
    return response.status_code, response.text


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0, what: str = "condition"
) -> T:
    """Await ``probe()`` every 0.1 s until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = await probe()
        except Exception as err:  # a probe may raise while the state is not there yet
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(0.1)


def eventually(probe: Callable[[], T | None], *, timeout: float = 30.0, what: str = "condition") -> T:
    """Call ``probe()`` every 0.1 s until it returns something truthy (synchronous twin)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as err:
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(0.1)


class Cluster:
    """A private API server (no stand-in controllers) and a controller-manager on it."""

    def __init__(self, server: Any, manager: ControllerManager) -> None:
        self.server = server
        self.manager = manager

    @property
    def kubeconfig(self) -> Path:
        return Path(self.server.kubeconfig)

    def config(self) -> Any:
        from pyclientgo.config import load_config

        return load_config(kubeconfig=str(self.server.kubeconfig))

    def kubectl_env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env.update(KUBECONFIG=str(self.server.kubeconfig), HOME=str(home), KUBECTL_NO_COLOR="1")
        return env


def start_cluster(data_dir: Path, *manager_args: str, leader_elect: bool = False) -> Cluster:
    """Start a TestServer and a controller-manager with ``manager_args``; stop both with :func:`stop_cluster`."""
    from testserver.testing import TestServer

    server = TestServer(data_dir=data_dir / "apiserver", bookmark_interval=1.0)
    server.start()
    try:
        manager = ControllerManager(
            server.kubeconfig, *manager_args, data_dir=data_dir / "cm", leader_elect=leader_elect
        )
        manager.start()
    except BaseException:
        server.cleanup()
        raise
    return Cluster(server, manager)


def stop_cluster(cluster: Cluster) -> None:
    try:
        cluster.manager.cleanup()
    finally:
        cluster.server.cleanup()
