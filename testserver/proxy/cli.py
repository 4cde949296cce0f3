"""``testserver proxy``: kube-proxy on :mod:`pyclientgo.component_base`.

::

    testserver proxy --kubeconfig K [--proxy-mode nftables|userspace] [--dry-run]
        [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]
        [--min-sync-period 1s] [--sync-period 30s] [--hostname-override NODE]
        [--nodeport-addresses 127.0.0.0/8] [--cluster-cidr 10.244.0.0/16] [--masquerade-all]

Informers on Services and EndpointSlices only (kube's label selector: not
``service.kubernetes.io/service-proxy-name``, not ``service.kubernetes.io/headless``). Without
``--proxy-mode`` the nftables mode is used where ``nft`` exists and the process may change the
network (root or CAP_NET_ADMIN), else the userspace mode; the choice and why is logged and printed.
``--dry-run`` (nftables) prints each sync's ruleset and applies nothing. No leader election (one
kube-proxy per node).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import logging
import socket
import sys

from prometheus_client import start_http_server

from pyclientgo.component_base import (
    ComponentContext,
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
    run_component_sync,
)
from pyclientgo.component_base.options import parse_bool, parse_duration
from pyclientgo.controller import RunnableFunc
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.tools.cache import ListOptions, drop_managed_fields, wait_for_cache_sync
from testserver.proxy.nftables import NftablesOptions, NftablesProxier, can_use_nftables
from testserver.proxy.proxier import Proxier, ProxyServer
from testserver.proxy.userspace import UserspaceProxier

__all__ = ["COMPONENT_NAME", "choose_mode", "configure_parser", "run"]

COMPONENT_NAME = "kube-proxy"

_LABEL_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"

_DEFAULTS = ComponentOptions(
    name=COMPONENT_NAME, kube_api_qps=5.0, kube_api_burst=10, bind_address="0.0.0.0", secure_port=10256
)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"{value!r}: expected HOST:PORT")
    try:
        n = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: invalid port") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r}: port out of range")
    return host.strip("[]") or "0.0.0.0", n


def _cidrs(value: str) -> list[str]:
    out: list[str] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        if part == "primary":
            out.append(part)
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"invalid --nodeport-addresses entry {part!r}: {err}") from None
    return out


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The shared component flags with kube-proxy's defaults, and kube-proxy's own flags."""
    add_component_flags(parser, defaults=_DEFAULTS)
    g = parser.add_argument_group("kube-proxy")
    g.add_argument(
        "--proxy-mode",
        choices=["", "nftables", "userspace"],
        default="",
        help="default: nftables if usable, else userspace",
    )
    g.add_argument(
        "--dry-run", action="store_true", help="nftables mode: print each sync's ruleset, apply nothing"
    )
    g.add_argument("--cleanup", action="store_true", help="remove the nftables table and exit")
    g.add_argument(
        "--healthz-bind-address",
        type=_host_port,
        default=None,
        help="HOST:PORT of /healthz and /livez (default 0.0.0.0:10256; port 0 = a free port)",
    )
    g.add_argument(
        "--metrics-bind-address",
        default="127.0.0.1:10249",
        help="HOST:PORT of /metrics (default 127.0.0.1:10249; empty = off; /metrics is also on the healthz port)",
    )
    g.add_argument(
        "--min-sync-period", type=parse_duration, default=1.0, help="at most one sync per this (default 1s)"
    )
    g.add_argument(
        "--sync-period",
        type=parse_duration,
        default=30.0,
        help="a full sync at least this often (default 30s)",
    )
    g.add_argument("--hostname-override", default="", help="the node name (default: the host name)")
    g.add_argument(
        "--nodeport-addresses",
        type=_cidrs,
        default=[],
        help="CIDRs of the node addresses NodePorts answer on (default: all; userspace mode listens on 127.0.0.1 "
        "for a range holding it and on the address of a /32)",
    )
    g.add_argument(
        "--cluster-cidr", default="", help="the pods' CIDR: Service traffic from outside it is masqueraded"
    )
    g.add_argument(
        "--service-cidrs", default="", help="Service CIDRs (traffic to an unallocated ClusterIP is dropped)"
    )
    g.add_argument("--masquerade-all", type=parse_bool, nargs="?", const=True, default=False)
    g.add_argument(
        "--iptables-masquerade-bit", type=int, default=14, help="the fwmark bit of masquerading (default 14)"
    )
    g.add_argument("--ip-family", choices=["IPv4", "IPv6"], default="IPv4")
    g.add_argument(
        "--udp-timeout",
        type=parse_duration,
        default=0.25,
        help="userspace mode: idle UDP session timeout (default 250ms)",
    )
    g.add_argument(
        "--bind-cluster-ips",
        action="store_true",
        help="userspace mode: listen on the ClusterIPs themselves (they must be local addresses) instead of 127.b.c.d",
    )
    g.add_argument(
        "--nft-netns", default=None, help="run nft inside this network namespace (ip netns exec; tests)"
    )


def choose_mode(requested: str, dry_run: bool, netns: str | None) -> tuple[str, str]:
    """(mode, why): the proxy mode this process runs in."""
    if requested == "userspace":
        return "userspace", "--proxy-mode=userspace"
    if dry_run:
        return "nftables", "--dry-run: the ruleset is printed, not applied"
    usable, why = can_use_nftables(netns)
    if requested == "nftables":
        if not usable:
            raise ValueError(f"--proxy-mode=nftables cannot be used: {why}")
        return "nftables", f"--proxy-mode=nftables ({why})"
    if usable:
        return "nftables", why
    return "userspace", f"nftables cannot be used: {why}"


def _nodeport_listen_addresses(cidrs: list[str], family: str) -> tuple[str, ...]:
    if not cidrs:
        return ("::",) if family == "IPv6" else ("0.0.0.0",)
    out: list[str] = []
    for c in cidrs:
        if c == "primary":
            out.append("127.0.0.1" if family == "IPv4" else "::1")
            continue
        net = ipaddress.ip_network(c)
        loopback = ipaddress.ip_address("::1" if net.version == 6 else "127.0.0.1")
        if loopback in net:
            out.append(str(loopback))
        elif net.num_addresses == 1:
            out.append(str(net.network_address))
    return tuple(dict.fromkeys(out))


def _nodeport_set_addresses(cidrs: list[str]) -> tuple[str, ...]:
    return tuple(
        str(ipaddress.ip_network(c).network_address)
        for c in cidrs
        if c != "primary" and ipaddress.ip_network(c).num_addresses == 1
    )


def build_proxier(args: argparse.Namespace, mode: str) -> Proxier:
    """The nftables or userspace proxier the flags describe."""
    if mode == "nftables":
        return NftablesProxier(
            NftablesOptions(
                ip_family=args.ip_family,
                masquerade_bit=args.iptables_masquerade_bit,
                masquerade_all=bool(args.masquerade_all),
                cluster_cidr=args.cluster_cidr,
                service_cidrs=tuple(filter(None, (c.strip() for c in args.service_cidrs.split(",")))),
                nodeport_addresses=_nodeport_set_addresses(args.nodeport_addresses),
            ),
            dry_run=args.dry_run,
            netns=args.nft_netns,
            full_sync_period=args.sync_period,
        )
    return UserspaceProxier(
        nodeport_addresses=_nodeport_listen_addresses(args.nodeport_addresses, args.ip_family),
        bind_cluster_ips=args.bind_cluster_ips,
        udp_idle_timeout=args.udp_timeout,
    )


def run(args: argparse.Namespace) -> int:
    """Run kube-proxy until SIGTERM/SIGINT; the exit code."""
    log = logging.getLogger(COMPONENT_NAME)
    try:
        opts = component_options_from_args(args, name=COMPONENT_NAME)
        if args.healthz_bind_address is not None:
            host, port = args.healthz_bind_address
            opts = dataclasses.replace(opts, bind_address=host, secure_port=port)
        metrics_addr = _host_port(args.metrics_bind_address) if args.metrics_bind_address else None
        if args.min_sync_period > args.sync_period:
            raise ValueError(
                f"--min-sync-period ({args.min_sync_period}s) must be <= --sync-period ({args.sync_period}s)"
            )
        mode, why = choose_mode(args.proxy_mode, args.dry_run, args.nft_netns)
    except (ValueError, argparse.ArgumentTypeError) as err:
        log.error("%s", err)
        print(f"Error: {err}", file=sys.stderr, flush=True)
        return 1
    if args.cleanup:
        return asyncio.run(_cleanup(build_proxier(args, "nftables"))) if mode == "nftables" else 0
    node_name = args.hostname_override or socket.gethostname()

    async def setup(ctx: ComponentContext) -> None:
        ctx.log.info("Using %s proxy mode: %s", mode, why)
        print(f"kube-proxy: using {mode} proxy mode: {why}", file=sys.stderr, flush=True)
        if metrics_addr is not None:
            server, _ = start_http_server(metrics_addr[1], metrics_addr[0], registry=ctx.registry)
            ctx.log.info("serving metrics on %s:%d", metrics_addr[0], server.server_port)
        proxier = build_proxier(args, mode)
        proxy = ProxyServer(
            proxier,
            node_name=node_name,
            ip_family=args.ip_family,
            min_sync_period=args.min_sync_period,
            sync_period=args.sync_period,
            registry=ctx.registry,
        )

        def tweak(options: ListOptions) -> None:
            options.label_selector = _LABEL_SELECTOR

        factory = SharedInformerFactory(
            ctx.clientset, tweak_list_options=tweak, transform=drop_managed_fields
        )
        ctx.manager.add_informer_factory(factory)
        services = factory.core_v1.services().informer
        slices = factory.discovery_v1.endpoint_slices().informer
        services.add_event_handler(
            on_add=proxy.on_service_add, on_update=proxy.on_service_update, on_delete=proxy.on_service_delete
        )
        slices.add_event_handler(
            on_add=proxy.on_slice_add, on_update=proxy.on_slice_update, on_delete=proxy.on_slice_delete
        )
        ctx.manager.add_healthz_check("proxier", proxy.healthz)

        async def loop() -> None:
            await wait_for_cache_sync(services.has_synced, slices.has_synced)
            proxy.set_synced()
            try:
                await proxy.run()
            finally:
                if isinstance(proxier, UserspaceProxier):
                    await proxier.cleanup()

        ctx.manager.add(RunnableFunc(loop, need_leader_election=False))

    return run_component_sync(opts, setup)


async def _cleanup(proxier: Proxier) -> int:
    await proxier.cleanup()
    return 0
