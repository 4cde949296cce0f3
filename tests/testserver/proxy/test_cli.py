"""``testserver proxy`` and ``testserver dns`` reject bad flags with a clear error before starting."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "testserver.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_min_sync_period_above_sync_period() -> None:
    r = run("proxy", "--kubeconfig", "/nonexistent", "--min-sync-period", "5s", "--sync-period", "1s")
    assert r.returncode == 1
    assert "--min-sync-period (5.0s) must be <= --sync-period (1.0s)" in r.stderr


def test_bad_flag_values() -> None:
    r = run("proxy", "--healthz-bind-address", "nocolon")
    assert r.returncode == 2 and "expected HOST:PORT" in r.stderr
    r = run("proxy", "--nodeport-addresses", "300.1.1.1/8")
    assert r.returncode == 2 and "invalid --nodeport-addresses entry" in r.stderr
    r = run("dns", "--kubeconfig", "/nonexistent", "--port", "70000")
    assert r.returncode == 1 and "--port 70000 must be between 0 and 65535" in r.stderr
