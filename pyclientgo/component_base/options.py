"""The command-line flags every component shares, spelled as the Kubernetes components spell them.

:func:`add_component_flags` adds them to an :mod:`argparse` parser with a component's own defaults
(kube-controller-manager: QPS 20 / burst 30, port 10257; kube-scheduler: QPS 50 / burst 100, port 10259)
and :func:`component_options_from_args` reads them back as a :class:`ComponentOptions`.

Flag names (``--kube-api-qps``, ``--leader-elect-lease-duration``, ...) match the Kubernetes components.
Durations are given as kube's duration strings (``15s``, ``1m30s``, ``500ms``) or plain seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ComponentOptions",
    "add_component_flags",
    "component_options_from_args",
    "parse_bool",
    "parse_duration",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str) -> float:
    """Seconds in a Go duration string (``1m30s``, ``500ms``, ``2h``) or a plain number of seconds."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise argparse.ArgumentTypeError(f"invalid duration {value!r}: negative")
        return seconds
    if not text or _DURATION_PART.sub("", text) != "":
        raise argparse.ArgumentTypeError(f"invalid duration {value!r}: use e.g. 15s, 1m30s, 500ms")
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


@dataclass(kw_only=True)
class ComponentOptions:
    """The shared settings of a component process. Durations are float seconds."""

    name: str
    """The component's name, as it appears in logs, events and the default Lease (e.g.
    ``kube-controller-manager``)."""
    kubeconfig: str | None = None
    """Path of the kubeconfig to use (``--kubeconfig``); None: ``$KUBECONFIG``, ``~/.kube/config`` or
    in-cluster, as client-go's default loading rules."""
    master: str | None = None
    """The API server's address, overriding the kubeconfig's (``--master``)."""
    kube_api_qps: float = 20.0
    """Client-side rate limit towards the API server, requests per second (``--kube-api-qps``)."""
    kube_api_burst: int = 30
    """Token bucket size of that limit (``--kube-api-burst``)."""
    bind_address: str = "127.0.0.1"
    """Address of the health and metrics server (``--bind-address``)."""
    secure_port: int = 0
    """Port of the health and metrics server (``--secure-port``): 0 picks a free port, -1 serves none.
    It is plain HTTP here (the Kubernetes components serve HTTPS with delegated authentication)."""
    leader_elect: bool = False
    """Run the leader-elected work only while holding the Lease (``--leader-elect``)."""
    leader_elect_lease_duration: float = 15.0
    """How long a standby waits, from when it last saw the Lease change, before taking over."""
    leader_elect_renew_deadline: float = 10.0
    """How long the leader keeps retrying to renew before it gives up leading."""
    leader_elect_retry_period: float = 2.0
    """Time between attempts to acquire or renew."""
    leader_elect_resource_namespace: str = "kube-system"
    """Namespace of the Lease (``--leader-elect-resource-namespace``)."""
    leader_elect_resource_name: str = ""
    """Name of the Lease (``--leader-elect-resource-name``); empty means the component's name."""
    verbosity: int = 0
    """Log verbosity (``-v``): 0 to 3 log at INFO, 4 and more at DEBUG, as klog's levels read."""
    ready_file: Path | None = None
    """Written (JSON: pid, url, component) once the component serves and its caches are synced."""
    exit_with_parent: bool = False
    """``--exit-with-parent``: stop (SIGTERM to itself) once the process that started it is gone, so a
    supervisor or test that dies does not leave the component behind."""

    @property
    def lease_name(self) -> str:
        """The Lease this component elects its leader on."""
        return self.leader_elect_resource_name or self.name


def add_component_flags(parser: argparse.ArgumentParser, *, defaults: ComponentOptions) -> None:
    """Add the shared flags to ``parser``, with ``defaults`` (the component's own) as their defaults.

    Without ``defaults.leader_elect`` set and no Lease name, the leader-election flags are still added
    (a component may be run with ``--leader-elect`` by choice).
    """
    d = defaults
    g = parser.add_argument_group("component")
    g.add_argument(
        "--kubeconfig", default=d.kubeconfig, help="path to a kubeconfig with the API server and credentials"
    )
    g.add_argument("--master", default=d.master, help="the API server's address (overrides the kubeconfig's)")
    g.add_argument(
        "--kube-api-qps",
        type=float,
        default=d.kube_api_qps,
        help=f"QPS towards the API server (default {d.kube_api_qps:g})",
    )
    g.add_argument(
        "--kube-api-burst",
        type=int,
        default=d.kube_api_burst,
        help=f"burst towards the API server (default {d.kube_api_burst})",
    )
    g.add_argument(
        "--bind-address",
        default=d.bind_address,
        help=f"address of /healthz and /metrics (default {d.bind_address})",
    )
    g.add_argument(
        "--secure-port",
        type=int,
        default=d.secure_port,
        help=f"port of /healthz, /livez, /readyz and /metrics, plain HTTP (default {d.secure_port}; 0 = a free port, -1 = none)",
    )
    g.add_argument(
        "--leader-elect",
        type=parse_bool,
        nargs="?",
        const=True,
        default=d.leader_elect,
        help=f"run only while holding the leader Lease (default {str(d.leader_elect).lower()})",
    )
    g.add_argument(
        "--leader-elect-lease-duration", type=parse_duration, default=d.leader_elect_lease_duration
    )
    g.add_argument(
        "--leader-elect-renew-deadline", type=parse_duration, default=d.leader_elect_renew_deadline
    )
    g.add_argument("--leader-elect-retry-period", type=parse_duration, default=d.leader_elect_retry_period)
    g.add_argument("--leader-elect-resource-namespace", default=d.leader_elect_resource_namespace)
    g.add_argument("--leader-elect-resource-name", default=d.lease_name)
    g.add_argument(
        "-v", "--v", dest="verbosity", type=int, default=d.verbosity, help="log verbosity (4+ = debug)"
    )
    g.add_argument(
        "--ready-file",
        type=Path,
        default=d.ready_file,
        help="write pid and health URL here (JSON) once ready",
    )
    g.add_argument(
        "--exit-with-parent",
        action="store_true",
        default=d.exit_with_parent,
        help="stop when the parent process exits (supervisors, tests)",
    )


def component_options_from_args(args: argparse.Namespace, *, name: str) -> ComponentOptions:
    """The :class:`ComponentOptions` that :func:`add_component_flags`' flags parsed into."""
    opts = ComponentOptions(
        name=name,
        kubeconfig=args.kubeconfig,
        master=args.master,
        kube_api_qps=args.kube_api_qps,
        kube_api_burst=args.kube_api_burst,
        bind_address=args.bind_address,
        secure_port=args.secure_port,
        leader_elect=bool(args.leader_elect),
        leader_elect_lease_duration=args.leader_elect_lease_duration,
        leader_elect_renew_deadline=args.leader_elect_renew_deadline,
        leader_elect_retry_period=args.leader_elect_retry_period,
        leader_elect_resource_namespace=args.leader_elect_resource_namespace,
        leader_elect_resource_name=args.leader_elect_resource_name,
        verbosity=args.verbosity,
        ready_file=args.ready_file,
        exit_with_parent=bool(getattr(args, "exit_with_parent", False)),
    )
    _validate(opts)
    return opts


def _validate(opts: ComponentOptions) -> None:
    if opts.leader_elect:
        if not opts.leader_elect_lease_duration > opts.leader_elect_renew_deadline:
            raise ValueError(
                "leaderElection.leaseDuration must be greater than leaderElection.renewDeadline "
                f"({opts.leader_elect_lease_duration:g}s <= {opts.leader_elect_renew_deadline:g}s)"
            )
        if not opts.leader_elect_renew_deadline > opts.leader_elect_retry_period:
            raise ValueError(
                "leaderElection.renewDeadline must be greater than leaderElection.retryPeriod "
                f"({opts.leader_elect_renew_deadline:g}s <= {opts.leader_elect_retry_period:g}s)"
            )
    if opts.secure_port < -1 or opts.secure_port > 65535:
        raise ValueError(f"--secure-port {opts.secure_port} must be between 0 and 65535 (or -1 for none)")


def parse_bool(value: str) -> bool:
    """A boolean flag value: true/false, t/f, 1/0 (as Go's strconv.ParseBool) and yes/no, in any case."""
    lowered = value.strip().lower()
    if lowered in ("1", "t", "true", "yes"):
        return True
    if lowered in ("0", "f", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {value!r}")


def replace_options(opts: ComponentOptions, **changes: object) -> ComponentOptions:
    """A copy of ``opts`` with ``changes`` (validated as the flags are)."""
    new = dataclasses.replace(opts, **changes)  # type: ignore[arg-type]
    _validate(new)
    return new
