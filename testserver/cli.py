"""The ``testserver`` command: one subcommand per component, and ``up`` for a whole local cluster.

::

    testserver apiserver [--bind 127.0.0.1] [--port 6443] [--data-dir DIR]
                         [--storage memory|sqlite:PATH|etcd://HOST:PORT] [--kubeconfig PATH]
    testserver controller-manager|scheduler|kubelet|proxy|dns [their kube flags]
    testserver up        [the API server's flags] [--nodes N] [--fake-nodes M] [--detach] ...
    testserver down      [--data-dir DIR]

Only the chosen subcommand's module is imported: a component's start does not pay for the others'
imports, and one component that does not import breaks only itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_apiserver_flags", "apiserver_options", "main"]


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _cidr(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _port_range(value: str) -> str:
    lo, sep, hi = value.partition("-")
    try:
        first, last = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port range {value!r}: use BASE-LAST") from None
    if not 1 <= first <= last <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port range {value!r}")
    return f"{first}-{last}"


def add_apiserver_flags(p: argparse.ArgumentParser) -> None:
    """The flags of ``testserver apiserver`` (also taken by ``testserver up``)."""
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=6443, help="port (default 6443; 0 = any free port)")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".testserver"),
        help="PKI, kubeconfig and sqlite data (default ./.testserver)",
    )
    p.add_argument(
        "--storage", default="memory", help="memory (default), sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...]"
    )
    p.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="where to write the admin kubeconfig (default DATA_DIR/kubeconfig)",
    )
    p.add_argument("--insecure", action="store_true", help="serve plain HTTP instead of HTTPS")
    p.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process exits")
    p.add_argument(
        "--bookmark-interval", type=float, default=60.0, help="seconds between watch bookmarks (default 60)"
    )
    p.add_argument(
        "--ready-file", type=Path, default=None, help="write the URL and kubeconfig path here once serving"
    )
    p.add_argument(
        "--history-window",
        type=_positive_int,
        default=None,
        help="about how many revisions stay readable before resourceVersions expire (default: storage's)",
    )
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--service-cluster-ip-range",
        type=_cidr,
        default="10.96.0.0/12",
        help="CIDR for Service cluster IPs (default 10.96.0.0/12)",
    )
    p.add_argument(
        "--service-node-port-range",
        type=_port_range,
        default="30000-32767",
        help="inclusive port range for Service NodePorts (default 30000-32767)",
    )
    p.add_argument(
        "--standin-controllers",
        action="store_true",
        help="also do the controllers' work (default ServiceAccounts, namespace deletion, ResourceQuota "
        "status, PDB allowance at eviction) for use without a controller-manager (default off: "
        "kube-apiserver alone)",
    )
    p.add_argument(
        "--authorization-mode",
        type=_authorization_modes,
        default="AlwaysAllow",
        help="ordered comma-separated authorizers: AlwaysAllow, AlwaysDeny, RBAC (default AlwaysAllow; "
        "system:masters is always allowed)",
    )
    p.add_argument("--etcd-cafile", type=Path, default=None, help="etcd storage: CA to verify etcd (TLS)")
    p.add_argument("--etcd-certfile", type=Path, default=None, help="etcd storage: client certificate")
    p.add_argument("--etcd-keyfile", type=Path, default=None, help="etcd storage: client key")
    p.add_argument(
        "--etcd-compaction-interval",
        type=float,
        default=300.0,
        help="etcd storage: seconds between history compactions (default 300; 0 = never)",
    )


def _authorization_modes(value: str) -> str:
    from testserver.apiserver.authz.authorizer import parse_authorization_modes

    try:
        return ",".join(parse_authorization_modes(value))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def apiserver_options(args: argparse.Namespace) -> object:
    """The API server's ``ServerOptions`` from :func:`add_apiserver_flags`' arguments."""
    from testserver.apiserver.server import ServerOptions

    return ServerOptions(
        bind=args.bind,
        port=args.port,
        data_dir=args.data_dir,
        storage=args.storage,
        kubeconfig=args.kubeconfig,
        tls=not args.insecure,
        exit_with_parent=args.exit_with_parent,
        bookmark_interval=args.bookmark_interval,
        ready_file=args.ready_file,
        log_level=args.log_level,
        history_window=args.history_window,
        service_cluster_ip_range=args.service_cluster_ip_range,
        service_node_port_range=args.service_node_port_range,
        standin_controllers=args.standin_controllers,
        authorization_mode=args.authorization_mode,
        etcd_cafile=args.etcd_cafile,
        etcd_certfile=args.etcd_certfile,
        etcd_keyfile=args.etcd_keyfile,
        etcd_compaction_interval=args.etcd_compaction_interval,
    )


# Each command but ``apiserver`` lives in a module exposing
# ``configure_parser(parser: argparse.ArgumentParser) -> None`` and ``run(args) -> int``.
_COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("testserver.cluster.cli", "run a local cluster: the API server and every reference component"),
    "down": ("testserver.cluster.down_cli", "stop a cluster started with `up --detach`"),
    "controller-manager": ("testserver.controllers.cli", "run the controller-manager"),
    "scheduler": ("testserver.scheduler.cli", "run the scheduler"),
    "kubelet": ("testserver.kubelet.cli", "run a kubelet (real or fake nodes)"),
    "proxy": ("testserver.proxy.cli", "run the service proxy"),
    "dns": ("testserver.dns.cli", "run the cluster DNS server"),
}
_APISERVER_HELP = "run the API server"


def _chosen_command(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names (the first argument that is not an option)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = _chosen_command(argv)
    parser = argparse.ArgumentParser(prog="testserver", description="The pyclientgo reference cluster.")
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("apiserver", help=_APISERVER_HELP)
    if chosen == "apiserver":
        add_apiserver_flags(api)
    module: Any = None
    for command, (module_name, help_text) in _COMMANDS.items():
        command_parser = sub.add_parser(command, help=help_text)
        if command == chosen:
            import importlib

            module = importlib.import_module(module_name)
            module.configure_parser(command_parser)
    args = parser.parse_args(argv)
    if module is not None:
        return int(module.run(args))

    from testserver.apiserver.server import run_apiserver

    try:
        return run_apiserver(apiserver_options(args))  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
