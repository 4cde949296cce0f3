"""A ``testserver proxy`` child process for tests and benchmarks.

::

    with TestServer() as server, ProxyProcess(server.kubeconfig, "--proxy-mode", "userspace") as proxy:
        ...  # connect to service_listen_address(svc.spec.cluster_ip):port

The health server (``/healthz``, ``/livez``, ``/metrics``) is on a free loopback port, the separate
metrics server is off; the process writes its ready file once its caches have synced.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from testserver._child_process import ChildProcess

__all__ = ["ProxyProcess"]


class ProxyProcess(ChildProcess):
    """``testserver proxy --kubeconfig K --healthz-bind-address 127.0.0.1:0 ...`` as a child process."""

    _name = "kube-proxy"
    _log_name = "kube-proxy.log"

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        *extra_args: str,
        data_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="kube-proxy-", startup_timeout=startup_timeout)
        self.kubeconfig = Path(kubeconfig)
        self.extra_args = list(extra_args)
        self.url = ""
        self.ready_file = self.data_dir / "ready.json"

    def start(self) -> ProxyProcess:
        self.ready_file.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "testserver.cli",
            "proxy",
            "--kubeconfig",
            str(self.kubeconfig),
            "--healthz-bind-address",
            "127.0.0.1:0",
            "--metrics-bind-address",
            "",
            "--ready-file",
            str(self.ready_file),
            "--exit-with-parent",
            *self.extra_args,
        ]
        self._spawn_until(args, self.ready_file.exists, poll_interval=0.02)
        self.url = json.loads(self.ready_file.read_text())["url"]
        return self

    def log_text(self) -> str:
        """What the process wrote so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
