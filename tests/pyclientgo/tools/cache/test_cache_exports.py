"""The public surface of pyclientgo.tools.cache: a sorted, complete, resolvable __all__."""

from __future__ import annotations

import importlib

import pyclientgo.tools.cache as cache

MODULES = [
    "controller",
    "delta_fifo",
    "handlers",
    "index",
    "listwatch",
    "meta",
    "shared_informer",
    "store",
    "thread_safe_store",
]


def test_all_is_sorted_and_resolves() -> None:
    assert cache.__all__ == sorted(cache.__all__)
    assert len(set(cache.__all__)) == len(cache.__all__)
    for name in cache.__all__:
        assert getattr(cache, name) is not None, name


def test_module_all_lists_are_sorted_and_public_classes_exported() -> None:
    for mod_name in MODULES:
        mod = importlib.import_module(f"pyclientgo.tools.cache.{mod_name}")
        assert mod.__all__ == sorted(mod.__all__), mod_name
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod_name}.{name}"
    for name in (
        "SharedIndexInformer",
        "DeltaFIFO",
        "Reflector",
        "ListWatch",
        "ListOptions",
        "ListerWatcher",
    ):
        assert name in cache.__all__
