"""Rendering the whole generated tree, formatting it with ruff, writing it, and comparing it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from codegen.clientset import PATH as CLIENTSET_PATH
from codegen.clientset import render_clientset
from codegen.informers import INFORMERS_PATH, LISTERS_PATH, render_informer_files
from codegen.models import BANNER, render_all
from codegen.proto import render_protobuf
from codegen.resources import extract_resources, render_registry_data
from codegen.spec import Spec

__all__ = [
    "GENERATED_DIRS",
    "GENERATED_FILES",
    "diff_trees",
    "existing_generated",
    "format_tree",
    "remove_stale",
    "render",
    "render_formatted",
    "write_tree",
]

GENERATED_DIRS: tuple[str, ...] = ("pyclientgo/api",)
"""Directories whose every ``.py`` file is generated (a file codegen does not produce there is stale)."""
GENERATED_FILES: tuple[str, ...] = (CLIENTSET_PATH, LISTERS_PATH, INFORMERS_PATH)
"""Generated files that live beside hand-written ones."""

_API_INIT = f'''{BANNER}
"""Generated models of the built-in Kubernetes API, one module per group/version.

``pyclientgo.api.core.v1`` (the core group), ``pyclientgo.api.apps.v1``, ``pyclientgo.api.rbac.v1``
(group ``rbac.authorization.k8s.io``: a module is named by its group's first label), ...,
``pyclientgo.api.meta.v1`` (ObjectMeta, Status, ...) and ``pyclientgo.api.version`` (``Info``).
"""

import functools

from pyclientgo.apimachinery.registry import Registry

__all__ = ["builtin_registry"]


@functools.cache
def builtin_registry() -> Registry:
    """The built-in resources (:data:`pyclientgo.api._registry_data.RESOURCES`) as a :class:`Registry`.

    Cached: callers that add resources (CRDs) should build their own ``Registry(list(RESOURCES))``.
    """
    from pyclientgo.api._registry_data import RESOURCES

    return Registry(list(RESOURCES))
'''


def render(spec: Spec) -> dict[str, str]:
    """Path relative to the repository root → unformatted source, for every generated file."""
    files = render_all(spec)
    files["pyclientgo/api/__init__.py"] = _API_INIT
    resources = extract_resources(spec)
    files["pyclientgo/api/_registry_data.py"] = render_registry_data(resources)
    files[CLIENTSET_PATH] = render_clientset(resources)
    files.update(render_informer_files(resources))  # typed listers and informers
    files.update(render_protobuf(spec))
    return dict(sorted(files.items()))


def _ruff() -> str:
    candidate = Path(sys.executable).with_name("ruff")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ruff")
    if found is None:
        raise RuntimeError("ruff is not installed: run codegen with `uv run codegen`")
    return found


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def format_tree(root: Path, rel_paths: list[str], config: Path) -> None:
    """``ruff format`` the given files under ``root`` with the project's ruff settings."""
    subprocess.run(
        [_ruff(), "format", "--quiet", "--config", str(config), *rel_paths],
        cwd=root,
        check=True,
    )


def render_formatted(spec: Spec, config: Path) -> dict[str, str]:
    """Every generated file's final text (rendered, then formatted by ruff in a scratch directory)."""
    files = render(spec)
    with tempfile.TemporaryDirectory(prefix="codegen-") as tmp:
        scratch = Path(tmp)
        write_tree(scratch, files)
        format_tree(scratch, list(files), config)
        return {rel: (scratch / rel).read_text() for rel in files}


def existing_generated(root: Path) -> list[str]:
    """Files now on disk that codegen owns (every .py under GENERATED_DIRS, and GENERATED_FILES)."""
    found: set[str] = set()
    for rel_dir in GENERATED_DIRS:
        base = root / rel_dir
        if base.is_dir():
            for dirpath, _, filenames in os.walk(base):
                for filename in filenames:
                    if filename.endswith(".py"):
                        found.add(Path(dirpath, filename).relative_to(root).as_posix())
    found.update(rel for rel in GENERATED_FILES if (root / rel).exists())
    return sorted(found)


def diff_trees(root: Path, files: dict[str, str]) -> list[str]:
    """Generated paths that differ from ``files``: changed, missing, or stale (no longer generated)."""
    stale = [rel for rel in existing_generated(root) if rel not in files]
    changed = [
        rel for rel, text in files.items() if not (root / rel).exists() or (root / rel).read_text() != text
    ]
    return sorted(set(stale) | set(changed))


def remove_stale(root: Path, files: dict[str, str]) -> list[str]:
    removed = [rel for rel in existing_generated(root) if rel not in files]
    for rel in removed:
        (root / rel).unlink()
    return removed
