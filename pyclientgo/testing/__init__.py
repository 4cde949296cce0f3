"""Helpers for testing code that uses pyclientgo.

* fake clocks: :class:`AsyncFakeClock`, :class:`FakeClock`;
* fake clientsets answered in memory: :class:`AsyncFakeClientset` (asyncio) and :class:`FakeClientset`
  (blocking, generated twin), backed by an :class:`ObjectTracker` (imported lazily: they pull in the
  whole typed clientset).
"""

from __future__ import annotations

import typing
from typing import Any

from pyclientgo.testing.clock import AsyncFakeClock, FakeClock

if typing.TYPE_CHECKING:
    from pyclientgo.testing._async.fake_clientset import AsyncFakeClientset
    from pyclientgo.testing._sync.fake_clientset import FakeClientset
    from pyclientgo.testing.fake_transport import Action, FakeApiTransport
    from pyclientgo.testing.tracker import ObjectTracker

__all__ = [
    "Action",
    "AsyncFakeClientset",
    "AsyncFakeClock",
    "FakeApiTransport",
    "FakeClientset",
    "FakeClock",
    "ObjectTracker",
]

_LAZY = {
    "AsyncFakeClientset": "pyclientgo.testing._async.fake_clientset",
    "FakeClientset": "pyclientgo.testing._sync.fake_clientset",
    "Action": "pyclientgo.testing.fake_transport",
    "FakeApiTransport": "pyclientgo.testing.fake_transport",
    "ObjectTracker": "pyclientgo.testing.tracker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pyclientgo.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
