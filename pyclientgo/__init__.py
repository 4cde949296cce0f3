"""pyclientgo: a Kubernetes SDK in the spirit of client-go."""

import sys as _sys

__version__ = "0.1.0"

if "httpx" not in _sys.modules and "httpx._main" not in _sys.modules:
    # httpx's package import also imports its command-line client (click, rich and pygments, about
    # half a second) whenever those happen to be installed; the SDK never uses it. ``None`` in
    # sys.modules makes that one import fail, and httpx then defines its stub ``main`` instead.
    _sys.modules["httpx._main"] = None  # type: ignore[assignment]
