"""Importing the SDK pulls in only what it uses: not httpx's command-line client (click, rich,
pygments), which httpx imports whenever those are installed."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_clientset_does_not_import_httpx_cli_dependencies() -> None:
    code = (
        "import json, sys; import pyclientgo.kubernetes, httpx; "
        "print(json.dumps({'loaded': sorted(m for m in ('click', 'rich', 'pygments') if m in sys.modules), "
        "'main': callable(httpx.main)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"loaded": [], "main": True}
