"""``testserver kubelet``: the kubelet on :mod:`pyclientgo.component_base` (no leader election; the
health server is kube's healthz port 10248, the kubelet API is ``--port``, 10250).

    testserver kubelet --kubeconfig K --root-dir /tmp/kubelet             # the process runtime
    testserver kubelet --kubeconfig K --image-command myimage='python3 -m myapp'
    testserver kubelet --kubeconfig K --fake --nodes 1000 --hostname-override fake-node
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from pyclientgo.apimachinery.quantity import Quantity
from pyclientgo.component_base import (
    ComponentContext,
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
    run_component_sync,
)
from pyclientgo.component_base.options import parse_duration
from pyclientgo.controller import RunnableFunc
from testserver.kubelet.images import ImageTable
from testserver.kubelet.node import NodeConfig, machine_capacity
from testserver.kubelet.pods import BackOff

__all__ = ["configure_parser", "run"]


def _map(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, value.split(",")):
        k, sep, v = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected key=value, got {part!r}")
        out[k.strip()] = v.strip()
    return out


def _taints(value: str) -> list[dict[str, str]]:
    out = []
    for part in filter(None, value.split(",")):
        kv, sep, effect = part.rpartition(":")
        if not sep or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise argparse.ArgumentTypeError(f"invalid taint {part!r}: use key=value:Effect")
        k, _, v = kv.partition("=")
        taint = {"key": k, "effect": effect}
        if v:
            taint["value"] = v
        out.append(taint)
    return out


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_component_flags(
        parser,
        defaults=ComponentOptions(name="kubelet", kube_api_qps=50, kube_api_burst=100, secure_port=10248),
    )
    g = parser.add_argument_group("kubelet")
    g.add_argument("--hostname-override", default=None, help="the node name (default: the hostname)")
    g.add_argument("--node-ip", default="127.0.0.1", help="the node's InternalIP (default 127.0.0.1)")
    g.add_argument(
        "--root-dir", type=Path, default=Path(".testserver/kubelet"), help="kubelet state directory"
    )
    g.add_argument("--fake", action="store_true", help="run the kwok-like fake runtime")
    g.add_argument("--nodes", type=int, default=1, help="fake only: host N nodes named <name>-<i>")
    g.add_argument("--node-labels", type=_map, default={}, help="labels key=value,... to register with")
    g.add_argument("--register-with-taints", type=_taints, default=[], help="taints key=value:Effect,...")
    g.add_argument("--max-pods", type=int, default=110)
    g.add_argument("--port", type=int, default=10250, help="the kubelet API's HTTPS port (0: any free port)")
    g.add_argument("--address", default=None, help="the kubelet API's bind address (default: --node-ip)")
    g.add_argument(
        "--image-command",
        action="append",
        default=[],
        metavar="NAME=CMD",
        help="process runtime: the command of image NAME for containers that set none (repeatable)",
    )
    g.add_argument("--container-log-max-size", default="10Mi", help="rotate a container log at this size")
    g.add_argument("--container-log-max-files", type=int, default=5, help="container log files kept")
    g.add_argument(
        "--sync-frequency",
        type=parse_duration,
        default=60.0,
        help="how often running pods are re-synced: configMap/secret volume updates (default 1m)",
    )
    g.add_argument("--cpu", default=None, help="cpu capacity (default: this machine's)")
    g.add_argument("--memory", default=None, help="memory capacity (default: this machine's)")
    g.add_argument("--kube-reserved", type=_map, default={}, help="cpu=..,memory=.. reserved for kube")
    g.add_argument("--system-reserved", type=_map, default={}, help="cpu=..,memory=.. reserved for the OS")
    g.add_argument("--node-status-update-frequency", type=float, default=10.0)
    g.add_argument("--node-status-report-frequency", type=float, default=300.0)
    g.add_argument("--node-lease-duration-seconds", type=int, default=40)
    g.add_argument("--crash-loop-backoff-initial", type=float, default=10.0, help="seconds (kube: 10)")
    g.add_argument("--crash-loop-backoff-max", type=float, default=300.0, help="seconds (kube: 300)")


def run(args: argparse.Namespace) -> int:
    opts = component_options_from_args(args, name="kubelet")
    if args.nodes < 1:
        raise SystemExit("--nodes must be >= 1")
    if args.nodes > 1 and not args.fake:
        raise SystemExit("--nodes > 1 needs --fake")
    try:
        images = dict(ImageTable.parse_flag(v) for v in args.image_command)
        log_max_size = Quantity.parse(args.container_log_max_size).value()
    except ValueError as err:
        raise SystemExit(f"invalid flag: {err}") from err
    if args.container_log_max_files < 2:
        raise SystemExit("--container-log-max-files must be >= 2")
    base = args.hostname_override or socket.gethostname().lower()
    names = [base] if args.nodes == 1 else [f"{base}-{i}" for i in range(args.nodes)]
    capacity = machine_capacity()
    if args.cpu:
        capacity["cpu"] = args.cpu
    if args.memory:
        capacity["memory"] = args.memory
    reserved = dict(args.system_reserved)
    for k, v in args.kube_reserved.items():
        reserved[k] = str(Quantity.parse(reserved[k]) + Quantity.parse(v)) if k in reserved else v
    configs = [
        NodeConfig(
            name=n,
            node_ip=args.node_ip,
            capacity=dict(capacity),
            max_pods=args.max_pods,
            reserved=reserved,
            labels=dict(args.node_labels),
            taints=list(args.register_with_taints),
            node_status_update_frequency=args.node_status_update_frequency,
            node_status_report_frequency=args.node_status_report_frequency,
            node_lease_duration_seconds=args.node_lease_duration_seconds,
            kubelet_port=args.port,
        )
        for n in names
    ]

    async def setup(ctx: ComponentContext) -> None:
        from testserver.kubelet.kubelet import KubeletHost
        from testserver.kubelet.process_runtime import ProcessRuntime
        from testserver.kubelet.runtime import FakeRuntime, RuntimeService
        from testserver.kubelet.server import KubeletServer

        root = Path(args.root_dir).absolute()
        runtime: RuntimeService
        if args.fake:
            runtime = FakeRuntime()
        else:
            runtime = ProcessRuntime(
                root,
                images=ImageTable(images),
                log_max_size=log_max_size,
                log_max_files=args.container_log_max_files,
            )
        host = KubeletHost(
            ctx.clientset,
            runtime,
            configs,
            ctx.manager.event_broadcaster,
            BackOff(initial=args.crash_loop_backoff_initial, maximum=args.crash_loop_backoff_max),
            pods_dir=None if args.fake else root / "pods",
            sync_frequency=args.sync_frequency,
        )
        host.server = KubeletServer(
            host, bind=args.address or args.node_ip, port=args.port, pki_dir=root, sans=(args.node_ip, *names)
        )
        for factory in host.factories:
            ctx.manager.add_informer_factory(factory)
        ctx.manager.add(RunnableFunc(host.run, need_leader_election=False))

    return run_component_sync(opts, setup)
