"""The generator is deterministic, the committed output is fresh, and every generated module imports."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from codegen import cli
from codegen.models import BANNER
from codegen.output import existing_generated, render, render_formatted
from codegen.spec import Spec


def test_render_is_deterministic(spec: Spec) -> None:
    assert render(spec) == render(spec)


def test_committed_output_is_fresh(
    repo_root: Path, spec_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["check", "--root", str(repo_root), "--spec", str(spec_path)])
    assert status == 0, capsys.readouterr().err


def test_check_flag_spelling(repo_root: Path, spec_path: Path) -> None:
    assert cli.main(["--check", "--root", str(repo_root), "--spec", str(spec_path)]) == 0


def _copy_generated(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "repo"
    for rel in existing_generated(repo_root):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo_root / rel, root / rel)
    shutil.copy2(repo_root / "pyproject.toml", root / "pyproject.toml")
    return root


def test_check_fails_after_tampering(
    repo_root: Path,
    spec_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "_sync_twins", lambda: None)  # only codegen's own files here
    root = _copy_generated(tmp_path, repo_root)
    args = ["check", "--root", str(root), "--spec", str(spec_path)]
    assert cli.main(args) == 0
    capsys.readouterr()

    pod_module = root / "pyclientgo/api/core/v1.py"
    pod_module.write_text(pod_module.read_text().replace("class Pod(", "class Pod_(", 1))
    (root / "pyclientgo/api/apps/v1.py").unlink()
    (root / "pyclientgo/api/extra.py").write_text("# stale\n")
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    for rel in ("pyclientgo/api/core/v1.py", "pyclientgo/api/apps/v1.py", "pyclientgo/api/extra.py"):
        assert rel in err
    assert "pyclientgo/api/batch/v1.py" not in err

    assert cli.main(["generate", "--root", str(root), "--spec", str(spec_path)]) == 0
    assert not (root / "pyclientgo/api/extra.py").exists()
    assert cli.main(args) == 0


def test_every_generated_file_has_the_banner(spec: Spec, repo_root: Path) -> None:
    for rel, text in render_formatted(spec, repo_root / "pyproject.toml").items():
        assert text.startswith(BANNER + "\n"), rel


def test_every_generated_module_imports(spec: Spec) -> None:
    for rel in render(spec):
        if not rel.startswith("pyclientgo/api/"):
            continue
        name = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        module = importlib.import_module(name)
        for exported in getattr(module, "__all__", ()):
            assert hasattr(module, exported), f"{name}.{exported}"


def test_clientset_module_imports() -> None:
    try:
        importlib.import_module("pyclientgo.rest").AsyncRESTClient  # noqa: B018
    except (ImportError, AttributeError):
        pytest.skip("pyclientgo.rest is not there yet")
    module = importlib.import_module("pyclientgo.kubernetes._async.clientset")
    core = module.AsyncCoreV1Client
    assert core.configmaps is core.config_maps
    assert module.AsyncPodClient.MODEL.__name__ == "Pod"
    assert module.AsyncPodClient.INFO.plural == "pods"
    assert module.AsyncDeploymentClient.LIST_MODEL.__name__ == "DeploymentList"
