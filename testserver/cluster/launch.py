"""How ``testserver up`` starts a component: ``python -m testserver.cluster.launch [--gate FILE] NAME ARGS...``.

It runs exactly what ``testserver NAME ARGS...`` runs (the component CLI module's
``configure_parser`` and ``run``, or the API server's flags and ``run_apiserver``), with two
differences that make a cluster start faster:

- only that component's module is imported (if it does not import, the process exits with
  ``UNAVAILABLE_EXIT`` (69) and ``up`` goes on without it) (``testserver``'s own CLI builds every component's
  parser, so each process would import them all);
- with ``--gate FILE``, the process imports its module and parses its flags, then waits until
  ``FILE`` exists before it runs. The supervisor spawns a component early and creates its gate once
  the components it needs are ready (its readiness gate): the seconds of interpreter start and
  imports overlap with the API server's start instead of following it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from testserver.cluster.components import COMPONENTS, UNAVAILABLE_EXIT

__all__ = ["main"]

_GATE_POLL = 0.01


def _wait_for_gate(gate: Path) -> None:
    parent = os.getppid()
    while not gate.exists():
        if os.getppid() != parent:  # the supervisor is gone: never start
            raise SystemExit(1)
        time.sleep(_GATE_POLL)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    gate: Path | None = None
    if argv[:1] == ["--gate"]:
        if len(argv) < 2:
            raise SystemExit("--gate needs a file")
        gate, argv = Path(argv[1]), argv[2:]
    if not argv:
        raise SystemExit(f"usage: launch [--gate FILE] {{apiserver,{','.join(COMPONENTS)}}} ARGS...")
    name, rest = argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog=f"testserver {name}")
    if name == "apiserver":
        from testserver.cli import add_apiserver_flags, apiserver_options

        add_apiserver_flags(parser)
        args = parser.parse_args(rest)
        from testserver.apiserver.server import run_apiserver

        if gate is not None:
            _wait_for_gate(gate)
        try:
            return run_apiserver(apiserver_options(args))  # type: ignore[arg-type]
        except KeyboardInterrupt:
            return 0
    if name not in COMPONENTS:
        raise SystemExit(f"unknown component {name!r}: choose from apiserver, {', '.join(COMPONENTS)}")
    try:
        module = importlib.import_module(COMPONENTS[name])
    except Exception as err:  # a component that cannot even be imported here: say why, exit 69
        print(f"testserver {name}: cannot import {COMPONENTS[name]}: {type(err).__name__}: {err}", flush=True)
        return UNAVAILABLE_EXIT
    module.configure_parser(parser)
    args = parser.parse_args(rest)
    if gate is not None:
        _wait_for_gate(gate)
    return int(module.run(args))


if __name__ == "__main__":
    sys.exit(main())
