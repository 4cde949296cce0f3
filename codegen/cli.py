"""The ``codegen`` command.

``codegen generate`` writes every generated file (models, registry data, typed clientset, then the
sync twins via :mod:`codegen.sync_twins` when present); ``codegen check`` (or ``codegen --check``)
regenerates in memory and fails listing every file that differs or is stale.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codegen import crd
from codegen.output import diff_trees, remove_stale, render_formatted, write_tree
from codegen.spec import Spec, fetch_spec, load_spec

__all__ = ["main"]

_DEFAULT_SPEC = Path("schemas/openapi/swagger.json.gz")
"""The OpenAPI v2 document inside the repository (``schemas/README.md``); v3 documents beside it."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--check", action="store_true", help="same as the `check` command")
    sub = parser.add_subparsers(dest="command")
    for name, text in (
        ("generate", "write every generated file"),
        ("check", "fail when a generated file is missing, stale or differs from what would be generated"),
    ):
        cmd = sub.add_parser(name, help=text)
        _common(cmd)
    crd.add_parser(sub)  # `codegen crd`: models and clients for CRDs (codegen.crd)
    _common(parser)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=argparse.SUPPRESS,
        help="repository root (default: the one holding this codegen package)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        default=argparse.SUPPRESS,
        help="OpenAPI v2 document, .json or .json.gz (default: schemas/openapi/swagger.json.gz under the root)",
    )
    parser.add_argument(
        "--v3-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="directory of OpenAPI v3 documents (default: v3/ beside the v2 spec, if present)",
    )
    parser.add_argument(
        "--from-server",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="read /openapi/v2 and v3 from a server",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, default=argparse.SUPPRESS, help="credentials for --from-server"
    )
    parser.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        default=argparse.SUPPRESS,
        help="do not verify the server's certificate (--from-server)",
    )


def _load(args: argparse.Namespace, root: Path) -> Spec:
    url: str | None = getattr(args, "from_server", None)
    if url:
        return fetch_spec(
            url,
            kubeconfig=getattr(args, "kubeconfig", None),
            insecure=getattr(args, "insecure_skip_tls_verify", False),
        )
    spec_path: Path = getattr(args, "spec", None) or (root / _DEFAULT_SPEC)
    v3_dir: Path | None = getattr(args, "v3_dir", None) or spec_path.parent / "v3"
    return load_spec(spec_path, v3_dir)


def _sync_twins() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("codegen.sync_twins")
    except ModuleNotFoundError as exc:
        if exc.name != "codegen.sync_twins":
            raise
        return None
    generate: Callable[..., Any] | None = getattr(module, "generate", None)
    return generate


def _generate(root: Path, spec: Spec) -> int:
    files = render_formatted(spec, root / "pyproject.toml")
    write_tree(root, files)
    removed = remove_stale(root, files)
    for rel in removed:
        print(f"removed stale {rel}")
    print(f"codegen: wrote {len(files)} files")
    twins = _sync_twins()
    if twins is not None:
        twins(root, False)
    return 0


def _check(root: Path, spec: Spec) -> int:
    files = render_formatted(spec, root / "pyproject.toml")
    differing = diff_trees(root, files)
    twins = _sync_twins()
    if twins is not None:
        differing += [str(p) for p in twins(root, True)]
    if differing:
        print("codegen: generated files are out of date (run `uv run codegen generate`):", file=sys.stderr)
        for rel in differing:
            print(f"  {rel}", file=sys.stderr)
        return 1
    print(f"codegen: {len(files)} generated files are up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root: Path = (getattr(args, "root", None) or Path(__file__).resolve().parent.parent).resolve()
    if args.command == "crd":
        return crd.run(args, root)
    command = "check" if args.check else (args.command or "generate")
    started = time.perf_counter()
    spec = _load(args, root)
    status = _check(root, spec) if command == "check" else _generate(root, spec)
    print(f"codegen: {command} took {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
