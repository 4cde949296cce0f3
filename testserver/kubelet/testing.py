"""A ``testserver kubelet`` child process for tests: :class:`KubeletProcess`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from testserver._child_process import ChildProcess

__all__ = ["KubeletProcess"]


class KubeletProcess(ChildProcess):
    """``testserver kubelet --fake`` (by default; ``fake=False``: the process runtime) against
    ``kubeconfig``, ready once its ready file is written (nodes registered is the caller's to wait
    for); its kubelet API listens on a free port unless ``extra_args`` set ``--port``."""

    _name = "kubelet"
    _log_name = "kubelet.log"

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        *,
        node_name: str = "node",
        nodes: int = 1,
        fake: bool = True,
        extra_args: list[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(data_dir=data_dir, temp_prefix="kubelet-", startup_timeout=startup_timeout)
        self.kubeconfig = Path(kubeconfig)
        self.node_name = node_name
        self.nodes = nodes
        self.fake = fake
        self.extra_args = extra_args or []
        self.url = ""

    def start(self) -> KubeletProcess:
        ready = self.data_dir / "ready"
        ready.unlink(missing_ok=True)
        args = [
            sys.executable, "-m", "testserver.cli", "kubelet",
            "--kubeconfig", str(self.kubeconfig),
            "--hostname-override", self.node_name,
            "--root-dir", str(self.data_dir / "root"),
            "--secure-port", "0",
            "--ready-file", str(ready),
            "--nodes", str(self.nodes),
        ]  # fmt: skip
        if not any(a == "--port" or a.startswith("--port=") for a in self.extra_args):
            args += ["--port", "0"]  # the kubelet API on a free port (the Node reports it)
        if self.fake:
            args.append("--fake")
        args += self.extra_args
        self._spawn_until(args, ready.exists, poll_interval=0.02)
        self.url = json.loads(ready.read_text())["url"]
        return self
