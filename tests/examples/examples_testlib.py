"""Helpers shared by the example tests: run an example script as a process, wait on a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import Namespace
from pyclientgo.kubernetes import Clientset

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (``examples/`` lives there)."""


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``condition`` every 50 ms until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def new_namespace(cs: Clientset, prefix: str) -> str:
    """Create a namespace ``<prefix>-<random>``; its name."""
    ns = f"{prefix}-{uuid.uuid4().hex[:6]}"
    cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
    return ns


def spawn_example(script: str, *args: str) -> subprocess.Popen[bytes]:
    """Start ``examples/<script>`` with ``args``; its output (stdout and stderr) on ``proc.stdout``."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM ``proc`` (by PID) and wait; SIGKILL after 10 s. The exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.returncode


@contextmanager
def running_example(script: str, *args: str, clean_exit: bool = True) -> Iterator[subprocess.Popen[bytes]]:
    """:func:`spawn_example`, stopped on exit; with ``clean_exit`` its exit code must then be 0."""
    proc = spawn_example(script, *args)
    try:
        yield proc
    finally:
        code = stop(proc)
        if clean_exit:
            assert code == 0, (proc.stdout.read() if proc.stdout else b"").decode()[-3000:]
