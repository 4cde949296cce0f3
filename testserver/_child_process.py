"""The base of :class:`~testserver.testing.TestServer` and :class:`~testserver.etcd_process.EtcdProcess`.

A child process started from a data directory (a temporary one by default, removed by
:meth:`ChildProcess.cleanup`), its output appended to a log file there (never a pipe nobody
drains: a full pipe blocks the child), polled until a readiness check passes, and stopped by
PID (SIGTERM, then SIGKILL after a deadline).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["ChildProcess"]


class ChildProcess:
    """A child process with a data directory and a log file; subclasses define :meth:`start`."""

    __test__ = False  # not a pytest test class

    _name = "process"
    """What the process is called in errors."""
    _log_name = "process.log"
    """The log file's name inside the data directory."""

    def __init__(
        self, *, data_dir: str | os.PathLike[str] | None, temp_prefix: str, startup_timeout: float
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix=temp_prefix))
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        """Where the process's stdout and stderr go."""
        return self.data_dir / self._log_name

    def start(self) -> Self:
        raise NotImplementedError

    def _spawn_until(self, args: list[str], ready: Callable[[], bool], *, poll_interval: float) -> float:
        """Start ``args`` and poll until ``ready()``; the monotonic time it was started at.

        Raises what :meth:`_exited` returns if the process exits first, and ``TimeoutError``
        (after stopping it) if it is not ready within ``startup_timeout`` seconds.
        """
        t0 = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            process = self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = t0 + self.startup_timeout
        while not ready():
            if process.poll() is not None:
                raise self._exited(process.returncode, self.log_path.read_text(errors="replace")[-4000:])
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"{self._name} not ready after {self.startup_timeout}s; see {self.log_path}"
                )
            time.sleep(poll_interval)
        return t0

    def _exited(self, returncode: int, log_tail: str) -> Exception:
        """The error for a process that exited before it was ready."""
        return RuntimeError(f"{self._name} exited with {returncode}:\n{log_tail}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the process (by PID) and wait; SIGKILL after ``timeout``. Returns the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def cleanup(self) -> None:
        """Stop the process; remove the data directory if it is a temporary one."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()
