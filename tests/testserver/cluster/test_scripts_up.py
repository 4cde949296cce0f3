"""``./scripts/up`` as a new user runs it: the cluster starts, and the kubectl lines it prints show nodes
Ready, a pod scheduled, run and logged, a Deployment's pods and the sample controller at work.

``UP_DEMO_ONLY=1`` makes the script stop the cluster right after the demo (its EXIT trap runs
``testserver down``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from testserver.cluster.state import pid_alive

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.timeout(600)


def _log_tails(logs: Path, lines: int = 15) -> str:
    tails = []
    for log in sorted(logs.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"\n==> {log.name} <==\n" + "\n".join(tail))
    return "\n# component logs (for diagnosis)" + "".join(tails) + "\n"


def test_scripts_up_shows_a_working_cluster(tmp_path: Path) -> None:
    assert shutil.which("kubectl"), "kubectl must be on PATH"
    data_dir = tmp_path / "cluster"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(UP_DEMO_ONLY="1", HOME=str(tmp_path))
    result = subprocess.run(
        [str(ROOT / "scripts" / "up"), "--port", "0", "--data-dir", str(data_dir)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    out = result.stdout + _log_tails(data_dir / "logs")  # the logs help when an assertion fails
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"^node-0\s+Ready\s", out, re.M), out
    assert "$ kubectl get --raw /readyz\nok\n" in out
    assert re.search(r"^hello\s+1/1\s+Running\s", out, re.M), out
    assert "hello from a pod on" in out
    if importlib.util.find_spec("testserver.controllers.deployment") is not None:
        assert re.search(r"^web\s+2/2\s+2\s+2\s", out, re.M), out
        assert len(re.findall(r"^web-[a-z0-9]+-[a-z0-9]+\s+1/1\s+Running", out, re.M)) == 2, out
        assert re.search(r"^hello from \S+$", out, re.M), out
    else:
        assert "deployment web has no available pods yet" in out
    assert '"pyclientgo.dev/checksum":"sha256:' in out
    assert "testserver down: stopped the cluster" in out
    if importlib.util.find_spec("testserver.proxy.cli") is not None:
        # the proxy ran, in userspace mode (up does not rewrite this machine's nftables by default)
        assert "Using userspace proxy mode" in (data_dir / "logs" / "proxy.log").read_text()
    # the EXIT trap stopped everything: no process of this cluster is left
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(data_dir).encode() in (entry / "cmdline").read_bytes() and pid_alive(int(entry.name)):
                    leftovers.append(int(entry.name))
            except OSError:
                continue
    assert leftovers == []
