"""The test tree itself: module basenames are unique where pytest imports them by basename.

Test folders have no ``__init__.py`` (pytest's default "prepend" import mode imports each test module
by its file name), so two ``test_kubectl.py`` in different folders stop the whole run at collection.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _package_root(path: Path) -> Path:
    """The folder a module is imported from: above its outermost ``__init__.py`` package."""
    folder = path.parent
    while (folder / "__init__.py").exists():
        folder = folder.parent
    return folder


def test_test_module_names_are_unique() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("*.py"):
        if "benchmarks" in path.parts or path.name == "conftest.py":
            continue
        module = ".".join(path.relative_to(_package_root(path)).with_suffix("").parts)
        by_name[module].append(str(path.relative_to(TESTS)))
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
