"""A ``testserver dns`` child process for tests and benchmarks.

::

    with TestServer() as server, DNSProcess(server.kubeconfig) as dns_server:
        resolver = dns_server.resolver()  # a dnspython resolver asking 127.0.0.1:<port>

DNS on a free loopback port (UDP and TCP), health and metrics on another; ready once the caches
have synced and DNS is served.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import dns.resolver

from testserver._child_process import ChildProcess

__all__ = ["DNSProcess"]


class DNSProcess(ChildProcess):
    """``testserver dns --kubeconfig K --port 0 --dns-bind-address 127.0.0.1 ...`` as a child process."""

    _name = "dns"
    _log_name = "dns.log"

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        *extra_args: str,
        data_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="dns-", startup_timeout=startup_timeout)
        self.kubeconfig = Path(kubeconfig)
        self.extra_args = list(extra_args)
        self.url = ""
        self.port = 0
        self.ready_file = self.data_dir / "ready.json"
        self.port_file = self.data_dir / "dns-port"

    def start(self) -> DNSProcess:
        self.ready_file.unlink(missing_ok=True)
        self.port_file.unlink(missing_ok=True)
        args = [
            sys.executable,
            "-m",
            "testserver.cli",
            "dns",
            "--kubeconfig",
            str(self.kubeconfig),
            "--port",
            "0",
            "--dns-bind-address",
            "127.0.0.1",
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            "0",
            "--ready-file",
            str(self.ready_file),
            "--dns-port-file",
            str(self.port_file),
            "--exit-with-parent",
            *self.extra_args,
        ]
        self._spawn_until(
            args, lambda: self.ready_file.exists() and self.port_file.exists(), poll_interval=0.02
        )
        self.url = json.loads(self.ready_file.read_text())["url"]
        self.port = int(self.port_file.read_text())
        return self

    def resolver(self, *, timeout: float = 2.0) -> dns.resolver.Resolver:
        """A resolver that asks only this server."""
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.timeout = r.lifetime = timeout
        return r
