"""Start a private etcd for tests, benchmarks and ``scripts/up``: free loopback ports, its own data dir.

::

    from testserver.etcd_process import EtcdProcess

    with EtcdProcess() as etcd:                 # 127.0.0.1, free ports, a temporary data dir
        storage = await EtcdStorage.open(etcd.endpoints)
        ...                                     # or: TestServer(storage=etcd.storage_spec)

etcd (a Go binary) cannot watch its parent itself, so it runs under a tiny Python watchdog
(``python -m testserver.etcd_process --parent PID -- etcd ...``): the watchdog starts etcd with
``PR_SET_PDEATHSIG=SIGKILL`` (etcd dies when the watchdog dies, even by SIGKILL), polls the PID
of the process that started it, and stops etcd when that process is gone. So an etcd started
here never outlives the test run, even when pytest is killed. It is stopped by PID (SIGTERM,
then SIGKILL after a deadline).

etcd comes from Debian's ``etcd-server`` package (``scripts/install-system-deps``); a missing
binary raises :class:`EtcdNotInstalled` with that hint, so tests fail loudly instead of skipping.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from testserver._child_process import ChildProcess

__all__ = ["EtcdNotInstalled", "EtcdProcess", "etcd_binary", "main"]

_INSTALL_HINT = (
    "install it with scripts/install-system-deps (Debian: apt-get install -y etcd-server etcd-client)"
)


class EtcdNotInstalled(RuntimeError):
    """No ``etcd`` binary on PATH (or at ``$ETCD_BINARY``)."""


def etcd_binary() -> str:
    """The path of the ``etcd`` binary: ``$ETCD_BINARY``, else ``etcd`` on PATH, else /usr/bin/etcd."""
    explicit = os.environ.get("ETCD_BINARY")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise EtcdNotInstalled(f"$ETCD_BINARY={explicit} is not executable; {_INSTALL_HINT}")
        return explicit
    found = shutil.which("etcd") or ("/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None)
    if found is None:
        raise EtcdNotInstalled(f"etcd is not installed; {_INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EtcdProcess(ChildProcess):
    """A single-member etcd on 127.0.0.1 (client and peer port picked free), under a watchdog.

    Keyword arguments:

    * ``data_dir``: etcd's data directory (default: a new temporary one, removed by
      :meth:`cleanup`). Reusing a directory restarts the same member with its data.
    * ``client_port`` / ``peer_port``: fixed ports (default: free ones; kept across restarts).
    * ``extra_args``: more etcd flags, e.g. ``["--experimental-watch-progress-notify-interval=1s"]``.

    ``pid`` is the watchdog's PID (killing it kills etcd too); etcd's output goes to
    ``log_path`` (beside its member data).
    """

    _name = "etcd"
    _log_name = "etcd.log"

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        client_port: int | None = None,
        peer_port: int | None = None,
        startup_timeout: float = 30.0,
        extra_args: list[str] | None = None,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="etcd-", startup_timeout=startup_timeout)
        self.client_port = client_port or 0
        self.peer_port = peer_port or 0
        self.extra_args = list(extra_args or [])

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``, the client endpoint."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def endpoints(self) -> list[str]:
        return [self.endpoint]

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def storage_spec(self) -> str:
        """The API server's ``--storage`` value for this etcd."""
        return f"etcd://{self.endpoint}"

    def _args(self) -> list[str]:
        member = self.data_dir / "member-data"
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [
            etcd_binary(),
            "--name=testserver",
            f"--data-dir={member}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=testserver={peer}",
            "--initial-cluster-state=new",
            "--heartbeat-interval=50",
            "--election-timeout=500",
            "--logger=zap",
            "--log-level=warn",
            "--experimental-watch-progress-notify-interval=5s",
            *self.extra_args,
        ]

    def start(self) -> EtcdProcess:
        """Start etcd and wait until it answers ``/health``; retried on a port taken meanwhile."""
        etcd_binary()  # raises EtcdNotInstalled before anything else
        fixed = bool(self.client_port and self.peer_port)
        for attempt in range(5):
            if not fixed:
                self.client_port, self.peer_port = _free_port(), _free_port()
            try:
                self._start_once()
                return self
            except _PortInUse:
                if fixed or attempt == 4:
                    raise RuntimeError(f"etcd could not bind its ports; see {self.log_path}") from None
        raise AssertionError("unreachable")

    def _start_once(self) -> None:
        args = [
            sys.executable,
            "-m",
            "testserver.etcd_process",
            "--parent",
            str(os.getpid()),
            "--",
            *self._args(),
        ]
        self._spawn_until(args, self._healthy, poll_interval=0.02)

    def _exited(self, returncode: int, log_tail: str) -> Exception:
        if "address already in use" in log_tail:
            return _PortInUse()
        return super()._exited(returncode, log_tail)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1.0) as resp:
                return b'"true"' in resp.read()
        except OSError:
            return False


class _PortInUse(Exception):
    pass


# -- the watchdog (python -m testserver.etcd_process --parent PID -- etcd ...) -------------------


def _set_pdeathsig() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    """Run etcd as a child; stop it when this process is told to stop or ``--parent`` dies."""
    parser = argparse.ArgumentParser(prog="python -m testserver.etcd_process")
    parser.add_argument("--parent", type=int, required=True, help="stop etcd when this PID is gone")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- etcd and its flags")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    child = subprocess.Popen(command, preexec_fn=_set_pdeathsig)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while child.poll() is None and not stopping and _alive(args.parent) and os.getppid() != 1:
        time.sleep(0.2)
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0 if stopping else (child.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
