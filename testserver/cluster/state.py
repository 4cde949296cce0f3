"""The state file of a running cluster, ``DATA_DIR/cluster.json``: what ``testserver down`` and the
test fixture read.

JSON with the supervisor's PID, the admin kubeconfig, the API server's URL, whether the cluster is
ready, and per component its PID, URL, state and restart count. The supervisor rewrites it
(atomically) whenever something changes and removes it when it stops.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "ClusterState", "ComponentRecord", "pid_alive", "read_state", "write_state"]

STATE_FILE = "cluster.json"
"""The state file's name inside the data directory."""


@dataclass(kw_only=True)
class ComponentRecord:
    """One component in the state file."""

    pid: int | None
    """Its current process, None while none runs."""
    url: str = ""
    """Its health URL (the API server: its API URL)."""
    state: str = ""
    """Its supervised state (``Ready``, ``Starting``, ``BackOff``, ...)."""
    restarts: int = 0
    """How many times it was started again."""


@dataclass(kw_only=True)
class ClusterState:
    """The content of the state file."""

    pid: int
    """The supervisor (``testserver up``) process."""
    data_dir: str
    """The cluster's data directory (absolute)."""
    kubeconfig: str
    """The admin kubeconfig."""
    url: str = ""
    """The API server's URL."""
    ready: bool = False
    """Whether every component was healthy and every node Ready (once)."""
    startup_seconds: float | None = None
    """Seconds from the supervisor's start to ready."""
    components: dict[str, ComponentRecord] = field(default_factory=dict)
    """Per component name."""

    def pids(self) -> list[int]:
        """The supervisor's PID and every component's."""
        return [self.pid, *(c.pid for c in self.components.values() if c.pid is not None)]


def write_state(path: Path, state: ClusterState) -> None:
    """Write ``state`` to ``path`` atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
    os.replace(tmp, path)


def read_state(path: Path) -> ClusterState | None:
    """The state in ``path``; None when there is none (or it is not a state file)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        components = {
            name: ComponentRecord(**record) for name, record in dict(data.pop("components", {})).items()
        }
        return ClusterState(**data, components=components)
    except (OSError, ValueError, TypeError):
        return None


def pid_alive(pid: int, *, command_contains: str = "testserver") -> bool:
    """Whether ``pid`` runs (not a zombie) with ``command_contains`` in its command line (so a reused
    PID of another program does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, 0)
            return True  # no /proc (not Linux): the signal check is all there is
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else ""
    return state not in ("Z", "X") and command_contains in cmdline
