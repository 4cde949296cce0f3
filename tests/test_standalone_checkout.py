"""A checkout stands alone: nothing outside the repository is read, and codegen works in a bare copy.

The copy holds exactly the files git tracks (their working-tree contents), in an empty temporary
folder with nothing beside it — what a fresh clone of the current tree would be — so a schema that is
only on this machine, or a path that climbs out of the repository, fails here as it would on a new
machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Paths that leave the checkout: a sibling folder of the repository, this machine's layout, or a
# tool at a fixed place instead of on PATH.
# (spelled in pieces, so this file does not match itself)
_OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./" + r"shared\b",
            r"/" + r"work/(?:shared|main)\b",
            r"/" + r"usr/(?:local/)?bin/" + r"kubectl\b",
        ]
    )
)
_CHECKED_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yaml", ".yml"}


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("the standalone-checkout tests need git and a git checkout of the repository")
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached"],
        check=True,
        capture_output=True,
    ).stdout
    return [Path(p.decode()) for p in out.split(b"\0") if p]


def test_no_code_test_or_script_names_a_path_outside_the_checkout() -> None:
    offenders = []
    for rel in _tracked_files():
        path = ROOT / rel
        is_script = rel.parts[:1] == ("scripts",) or rel.parts[:1] == (".ci",)
        if not path.is_file() or (path.suffix not in _CHECKED_SUFFIXES and not is_script):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if _OUTSIDE.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


def test_codegen_check_passes_in_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    for rel in _tracked_files():
        source = ROOT / rel
        if not source.is_file():
            continue  # deleted in the working tree
        target = checkout / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkout"]

    # `python -c` run in the copy's root imports the copy's codegen (the current directory comes first
    # on sys.path, before the editable install of this checkout), whose default root is the copy.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [sys.executable, "-c", "import codegen; print(codegen.__file__)"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).resolve().is_relative_to(checkout.resolve())
    result = subprocess.run(
        [sys.executable, "-c", "import sys, codegen.cli; sys.exit(codegen.cli.main(['--check']))"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout + result.stderr
