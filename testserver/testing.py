"""Start a real API server process for tests — ours and our users'.

::

    from testserver.testing import TestServer

    with TestServer() as server:          # a free loopback port, a temporary data dir
        config = load_config(kubeconfig=str(server.kubeconfig))
        ...

The process is started with ``--exit-with-parent`` so it never outlives the test run, and is
stopped by PID (SIGTERM, then SIGKILL after a deadline).

A whole cluster (``testserver up``: the API server and the components chosen, supervised)::

    from testserver.testing import Cluster

    with Cluster(components=["controller-manager", "scheduler", "kubelet"], fake_nodes=3) as c:
        config = load_config(kubeconfig=str(c.kubeconfig))   # every node is Ready by now
        ...
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from testserver._child_process import ChildProcess

if TYPE_CHECKING:
    from testserver.faults_client import FaultsClient

__all__ = ["Cluster", "TestServer"]


class TestServer(ChildProcess):
    """A ``testserver apiserver`` child process on 127.0.0.1 and a free port."""

    _name = "testserver"
    _log_name = "server.log"

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        storage: str = "memory",
        bookmark_interval: float | None = None,
        tls: bool = True,
        startup_timeout: float = 30.0,
        extra_args: list[str] | None = None,
        history_window: int | None = None,
        standin_controllers: bool = False,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="testserver-", startup_timeout=startup_timeout)
        self.storage = storage
        self.bookmark_interval = bookmark_interval
        self.tls = tls
        self.extra_args = extra_args or []
        self.history_window = history_window
        self.standin_controllers = standin_controllers
        """Run with ``--standin-controllers`` (the server does the controllers' work: default
        ServiceAccounts, namespace deletion, quota status, PDB allowance); off = kube-apiserver alone."""
        self.url = ""
        self.kubeconfig = self.data_dir / "kubeconfig"
        self.startup_seconds = 0.0
        """Seconds from process start to ready, as measured by the server itself."""
        self.wall_startup_seconds = 0.0
        """Seconds from ``start()`` to the ready file appearing (includes interpreter start)."""

    @property
    def ca_cert(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    @property
    def token(self) -> str:
        return (self.data_dir / "pki" / "admin.token").read_text().strip()

    def start(self) -> TestServer:
        ready = self.data_dir / "ready"
        ready.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "testserver.cli",
            "apiserver",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--storage",
            self.storage,
            "--kubeconfig",
            str(self.kubeconfig),
            "--ready-file",
            str(ready),
            "--exit-with-parent",
        ]
        if self.bookmark_interval is not None:
            args += ["--bookmark-interval", str(self.bookmark_interval)]
        if self.history_window is not None:
            args += ["--history-window", str(self.history_window)]
        if not self.tls:
            args.append("--insecure")
        if self.standin_controllers:
            args.append("--standin-controllers")
        args += self.extra_args
        t0 = self._spawn_until(args, ready.exists, poll_interval=0.005)
        self.wall_startup_seconds = time.monotonic() - t0
        url, kubeconfig, elapsed = ready.read_text().split("\n")[:3]
        self.url, self.kubeconfig, self.startup_seconds = url, Path(kubeconfig), float(elapsed)
        return self

    @property
    def faults(self) -> FaultsClient:
        """The running server's fault-injection switches (docs/TESTSERVER_FAULTS.md)."""
        from testserver.faults_client import FaultsClient

        return FaultsClient.for_server(self)

    def restart(self, *, keep_storage: bool = True, down_seconds: float = 0.2) -> None:
        """Restart on the same port (memory: in process, same storage object; sqlite: a new process on
        the same database). See :func:`testserver.faults_client.restart`."""
        from testserver.faults_client import restart

        restart(self, keep_storage=keep_storage, down_seconds=down_seconds)


class Cluster(ChildProcess):
    """A ``testserver up`` child process: the API server on a free loopback port and ``components``
    (of ``controller-manager``, ``scheduler``, ``kubelet``, ``proxy``), supervised; ready once every
    component is healthy and every node Ready.

    ``nodes`` real nodes (one kubelet each, named ``node-<i>``) and ``fake_nodes`` simulated ones (one
    fake kubelet, ``fake-node-<i>``); ``component_args`` adds flags per component (e.g.
    ``{"controller-manager": ["--controllers=namespace,serviceaccount"]}``). Stopping it (SIGTERM to
    the supervisor) stops every component; the supervisor runs with ``--exit-with-parent`` and its
    children get SIGTERM when it dies, so nothing outlives the test run.
    """

    _name = "testserver up"
    _log_name = "up.log"

    def __init__(
        self,
        *,
        components: Sequence[str] = ("controller-manager", "scheduler", "kubelet"),
        nodes: int = 1,
        fake_nodes: int = 0,
        component_args: dict[str, list[str]] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        storage: str = "memory",
        tls: bool = True,
        extra_args: list[str] | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="cluster-", startup_timeout=startup_timeout)
        self.components = list(components)
        self.nodes = nodes
        self.fake_nodes = fake_nodes
        self.component_args = component_args or {}
        self.storage = storage
        self.tls = tls
        self.extra_args = extra_args or []
        self.url = ""
        """The API server's URL."""
        self.kubeconfig = self.data_dir / "kubeconfig"
        """The admin kubeconfig."""
        self.startup_seconds = 0.0
        """Seconds from the supervisor's start to the cluster ready, as it measured them."""

    @property
    def state_file(self) -> Path:
        """``DATA_DIR/cluster.json``: the supervisor's view of its components (PIDs, URLs, restarts)."""
        return self.data_dir / "cluster.json"

    def state(self) -> dict[str, object]:
        """The state file's content (see :mod:`testserver.cluster.state`)."""
        data: dict[str, object] = json.loads(self.state_file.read_text())
        return data

    def component_pids(self) -> dict[str, int | None]:
        """Each component's current PID (None while it is not running)."""
        components = self.state()["components"]
        assert isinstance(components, dict)
        return {name: record["pid"] for name, record in components.items()}

    def log_of(self, component: str) -> Path:
        """The log file of ``component`` (``DATA_DIR/logs/<component>.log``)."""
        return self.data_dir / "logs" / f"{component}.log"

    def start(self) -> Cluster:
        ready = self.data_dir / "ready"
        ready.unlink(missing_ok=True)
        args = [
            sys.executable, "-m", "testserver.cli", "up",
            "--bind", "127.0.0.1",
            "--port", "0",
            "--data-dir", str(self.data_dir),
            "--storage", self.storage,
            "--ready-file", str(ready),
            "--components", ",".join(self.components),
            "--nodes", str(self.nodes),
            "--fake-nodes", str(self.fake_nodes),
            "--exit-with-parent",
            "--quiet",
        ]  # fmt: skip
        if not self.tls:
            args.append("--insecure")
        for component, flags in self.component_args.items():
            args += [f"--component-arg={component}={flag}" for flag in flags]
        args += self.extra_args
        self._spawn_until(args, ready.exists, poll_interval=0.02)
        url, kubeconfig, elapsed = ready.read_text().split("\n")[:3]
        self.url, self.kubeconfig, self.startup_seconds = url, Path(kubeconfig), float(elapsed)
        return self

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the supervisor (it stops the components) and wait; SIGKILL after ``timeout``."""
        return super().stop(timeout)
