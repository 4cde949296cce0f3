"""``python -m testserver.cluster.launch``: a component run with only its own module imported, held at
a gate, and left out (exit 69) when its module does not import."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from testserver.cluster import components, launch
from testserver.cluster.components import UNAVAILABLE_EXIT


def test_a_module_that_does_not_import_exits_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken_component_cli.py").write_text("raise ImportError('half-written module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(components.COMPONENTS, "broken", "broken_component_cli")
    assert launch.main(["broken", "--kubeconfig", "x"]) == UNAVAILABLE_EXIT == 69
    assert "cannot import broken_component_cli: ImportError: half-written module" in capsys.readouterr().out


def test_unknown_component_and_bad_flags_are_errors() -> None:
    with pytest.raises(SystemExit, match="unknown component 'nope'"):
        launch.main(["nope"])
    with pytest.raises(SystemExit):
        launch.main(["--gate"])


def test_the_gate_holds_the_component_until_it_exists(tmp_path: Path) -> None:
    """Flags parsed and module imported, the process waits for its gate file; then it runs."""
    gate = tmp_path / "gate"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testserver.cluster.launch",
            "--gate",
            str(gate),
            "apiserver",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
            "--ready-file",
            str(tmp_path / "ready"),
            "--exit-with-parent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # a bad flag would have exited by now; it waits for the gate instead (checked for a while)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            assert proc.poll() is None
            assert not (tmp_path / "ready").exists()
            time.sleep(0.1)
        gate.touch()
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None, "the API server exited"
            assert time.monotonic() < deadline, "not ready after the gate opened"
            time.sleep(0.05)
        assert (tmp_path / "ready").read_text().startswith("https://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(30)
