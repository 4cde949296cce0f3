"""The public names of pyclientgo.controller: sorted, complete, importable."""

from __future__ import annotations

import pyclientgo.controller as controller


def test_exports_sorted_and_complete() -> None:
    names = controller.__all__
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    for name in names:
        assert getattr(controller, name) is not None
    public = {
        n
        for n, v in vars(controller).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("pyclientgo.controller.")
    }
    assert public <= set(names), public - set(names)
