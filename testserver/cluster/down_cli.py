"""``testserver down``: stop a cluster started with ``testserver up --detach``.

::

    testserver down [--data-dir .testserver] [--timeout 60]

Reads ``DATA_DIR/cluster.json``, sends SIGTERM to the supervisor (which stops its components in
reverse start order) and waits until the supervisor and every component PID named there are gone;
whatever is still alive after ``--timeout`` seconds gets SIGKILL. A PID counts only while its command
line is a testserver one (a reused PID of another program is left alone).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from testserver.cluster.state import STATE_FILE, pid_alive, read_state

__all__ = ["configure_parser", "run", "stop_cluster"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".testserver"),
        help="the cluster's data directory (default ./.testserver)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait before SIGKILL (default 60)"
    )


def _wait_gone(pids: list[int], deadline: float) -> list[int]:
    while True:
        alive = [p for p in pids if pid_alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def stop_cluster(data_dir: Path, *, timeout: float = 60.0) -> list[int] | None:
    """Stop the cluster whose state is in ``data_dir``; the PIDs it stopped (None: no cluster there)."""
    state_path = data_dir / STATE_FILE
    state = read_state(state_path)
    if state is None:
        return None
    pids = state.pids()
    if pid_alive(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGTERM)
    alive = _wait_gone(pids, time.monotonic() + timeout)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_gone(alive, time.monotonic() + 5.0)
    state_path.unlink(missing_ok=True)
    return pids


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    pids = stop_cluster(data_dir, timeout=args.timeout)
    if pids is None:
        print(f"testserver down: no cluster is running in {data_dir}", file=sys.stderr, flush=True)
        return 0
    print(f"testserver down: stopped the cluster in {data_dir} (pids {' '.join(map(str, pids))})", flush=True)
    return 0
