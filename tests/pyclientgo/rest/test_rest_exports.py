from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module", ["pyclientgo.rest", "pyclientgo.config", "pyclientgo.errors", "pyclientgo.testing"]
)
def test_all_sorted_and_importable(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__ == sorted(mod.__all__)
    for name in mod.__all__:
        assert getattr(mod, name) is not None
    public = {n for n in vars(mod) if not n.startswith("_") and not isinstance(getattr(mod, n), type(mod))}
    public -= {"annotations"}
    assert public <= set(mod.__all__) | {"Any", "ClassVar", "Self", "Mapping", "dataclass", "orjson", "re"}
