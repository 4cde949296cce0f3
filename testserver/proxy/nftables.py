"""The nftables proxier: kube-proxy's nftables ruleset (kube's pkg/proxy/nftables/proxier.go).

:func:`render_ruleset` writes the whole ruleset of the table ``ip kube-proxy`` (``ip6`` for IPv6)
as one ``nft -f -`` transaction in the syntax kube's knftables writes: the base chains
(``filter-*``/``nat-*``), the ``services`` chain dispatching through the ``service-ips`` and
``service-nodeports`` verdict maps to a chain per service port (``service-<HASH>-ns/name/proto/port``),
which picks an endpoint chain (``endpoint-<HASH>-...__ip/port``) with ``numgen random mod N``; masquerade
marks; ``external-``/``local-`` chains for NodePorts and ``Local`` traffic policies; ClientIP affinity
through per-endpoint dynamic sets with a timeout; ``no-endpoint-services``/``no-endpoint-nodeports``
rejecting (or dropping) traffic to Services without endpoints.

The transaction creates the table, deletes it and writes it anew, so it replaces whatever was
there atomically (unlike kube, which patches chains in place, ClientIP affinity sets restart
empty on each sync). :class:`NftablesProxier` runs it with ``nft -f -`` (optionally inside a
network namespace, for tests) or, with ``dry_run``, prints it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from testserver.proxy.endpoints import EndpointInfo, EndpointsMap, categorize_endpoints
from testserver.proxy.service import ServicePortInfo, ServicePortMap, ServicePortName

__all__ = [
    "NftablesOptions",
    "NftablesProxier",
    "can_use_nftables",
    "endpoint_chain_name",
    "render_ruleset",
    "service_chain_base",
]

_log = logging.getLogger("kube-proxy")

_CHAIN_NAME_BASE_MAX = 240

# (name, type, hook, priority) as kube's nftablesBaseChains (knftables writes dstnat as -100, srcnat 100)
_BASE_CHAINS = [
    ("filter-prerouting", "filter", "prerouting", "-110"),
    ("filter-input", "filter", "input", "-110"),
    ("filter-forward", "filter", "forward", "-110"),
    ("filter-output", "filter", "output", "-110"),
    ("filter-output-post-dnat", "filter", "output", "-90"),
    ("nat-prerouting", "nat", "prerouting", "-100"),
    ("nat-output", "nat", "output", "-100"),
    ("nat-postrouting", "nat", "postrouting", "100"),
]

# (destination, source, extra match) as kube's nftablesJumpChains
_JUMP_CHAINS = [
    ("nodeport-endpoints-check", "filter-input", "ct state new "),
    ("service-endpoints-check", "filter-input", "ct state new "),
    ("service-endpoints-check", "filter-forward", "ct state new "),
    ("service-endpoints-check", "filter-output", "ct state new "),
    ("firewall-check", "filter-prerouting", "ct state new "),
    ("firewall-check", "filter-output", "ct state new "),
    ("services", "nat-output", ""),
    ("services", "nat-prerouting", ""),
    ("masquerading", "nat-postrouting", ""),
    ("cluster-ips-check", "filter-forward", "ct state new "),
    ("cluster-ips-check", "filter-output-post-dnat", "ct state new "),
]


@dataclass(frozen=True)
class NftablesOptions:
    """How the ruleset is rendered (kube-proxy's flags)."""

    ip_family: str = "IPv4"
    masquerade_bit: int = 14
    """``--iptables-masquerade-bit`` (kube's default 14: mark 0x4000)."""
    masquerade_all: bool = False
    """``--masquerade-all``: SNAT all Service traffic."""
    cluster_cidr: str = ""
    """``--cluster-cidr``: traffic from outside it to a ClusterIP is masqueraded."""
    service_cidrs: tuple[str, ...] = ()
    """Traffic to an unallocated ClusterIP in these ranges is dropped."""
    nodeport_addresses: tuple[str, ...] = ()
    """``--nodeport-addresses`` as addresses; empty: NodePorts on every local address."""


def _hash_and_truncate(name: str) -> str:
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    out = f"{digest[:8]}-{name}"
    if len(out) > _CHAIN_NAME_BASE_MAX:
        out = out[: _CHAIN_NAME_BASE_MAX - 3] + "..."
    return out


def service_chain_base(spn: ServicePortName) -> str:
    """``HASH-namespace/name/proto/port`` (kube's servicePortChainNameBase)."""
    return _hash_and_truncate(f"{spn.namespace}/{spn.name}/{spn.protocol.lower()}/{spn.port}")


def endpoint_chain_base(spn: ServicePortName, ep: EndpointInfo) -> str:
    """``HASH-namespace/name/proto/port__ip/port`` (kube's servicePortEndpointChainNameBase)."""
    ip = ep.ip.replace(":", ".")
    return _hash_and_truncate(f"{spn.namespace}/{spn.name}/{spn.protocol.lower()}/{spn.port}__{ip}/{ep.port}")


def endpoint_chain_name(spn: ServicePortName, ep: EndpointInfo) -> str:
    """The chain that DNATs to ``ep``."""
    return "endpoint-" + endpoint_chain_base(spn, ep)


@dataclass
class _Tx:
    """The parts of one transaction, written in an order nft accepts (objects before their users)."""

    table: str
    chains: list[str] = field(default_factory=list)
    chain_set: set[str] = field(default_factory=set)
    sets: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)

    def chain(self, name: str, spec: str = "") -> None:
        if name in self.chain_set:
            return
        self.chain_set.add(name)
        self.chains.append(f"add chain {self.table} {name}{spec}")

    def rule(self, chain: str, rule: str, comment: str | None = None) -> None:
        suffix = f' comment "{comment}"' if comment else ""
        self.rules.append(f"add rule {self.table} {chain} {rule}{suffix}")

    def element(self, container: str, key: str, value: str | None = None, comment: str | None = None) -> None:
        c = f' comment "{comment}"' if comment else ""
        v = f" : {value}" if value is not None else ""
        self.elements.append(f"add element {self.table} {container} {{ {key}{c}{v} }}")


def render_ruleset(
    service_map: ServicePortMap, endpoints_map: EndpointsMap, options: NftablesOptions | None = None
) -> str:
    """The whole ``nft -f -`` transaction for these services and endpoints."""
    o = options or NftablesOptions()
    v6 = o.ip_family == "IPv6"
    ipx, addr_type = ("ip6", "ipv6_addr") if v6 else ("ip", "ipv4_addr")
    no_localhost = "ip6 daddr != ::1" if v6 else "ip daddr != 127.0.0.0/8"
    table = f"{ipx} kube-proxy"
    mark = f"{1 << o.masquerade_bit:#08x}"
    tx = _Tx(table)
    head = [
        f'add table {table} {{ comment "rules for kube-proxy" ; }}',
        f"delete table {table}",
        f'add table {table} {{ comment "rules for kube-proxy" ; }}',
    ]
    for name, typ, hook, prio in _BASE_CHAINS:
        tx.chain(name, f" {{ type {typ} hook {hook} priority {prio} ; }}")
    for dst, src, extra in _JUMP_CHAINS:
        tx.chain(dst)
        tx.rule(src, f"{extra}jump {dst}")
    for name in ("services", "cluster-ips-check", "masquerading", "mark-for-masquerade"):
        tx.chain(name)
    tx.chain("reject-chain", ' { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }')
    tx.rule("mark-for-masquerade", f"mark set mark or {mark}")
    tx.rule("masquerading", f"mark and {mark} == 0 return")
    tx.rule("masquerading", f"mark set mark xor {mark}")
    tx.rule("masquerading", "masquerade fully-random")
    tx.sets.append(f'add set {table} cluster-ips {{ type {addr_type} ; comment "Active ClusterIPs" ; }}')
    tx.rule(
        "cluster-ips-check",
        f"{ipx} daddr @cluster-ips reject",
        "Reject traffic to invalid ports of ClusterIPs",
    )
    if o.service_cidrs:
        tx.rule(
            "cluster-ips-check",
            f"{ipx} daddr {{ {', '.join(o.service_cidrs)} }} drop",
            "Drop traffic to unallocated ClusterIPs",
        )
    if o.nodeport_addresses:
        tx.sets.append(
            f'add set {table} nodeport-ips {{ type {addr_type} ; comment "IPs that accept NodePort traffic" ; }}'
        )
        for ip in o.nodeport_addresses:
            tx.element("nodeport-ips", ip)
    vmap3 = f"{addr_type} . inet_proto . inet_service : verdict"
    vmap2 = "inet_proto . inet_service : verdict"
    tx.sets.append(
        f"add map {table} no-endpoint-services {{ type {vmap3} ; "
        'comment "vmap to drop or reject packets to services with no endpoints" ; }'
    )
    tx.sets.append(
        f"add map {table} no-endpoint-nodeports {{ type {vmap2} ; "
        'comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }'
    )
    tx.rule("reject-chain", "reject")
    tx.rule("service-endpoints-check", f"{ipx} daddr . meta l4proto . th dport vmap @no-endpoint-services")
    nodeport_match = f"{ipx} daddr @nodeport-ips" if o.nodeport_addresses else no_localhost
    tx.rule(
        "nodeport-endpoints-check", f"{nodeport_match} meta l4proto . th dport vmap @no-endpoint-nodeports"
    )
    tx.sets.append(
        f"add map {table} firewall-ips {{ type {vmap3} ; "
        'comment "destinations that are subject to LoadBalancerSourceRanges" ; }'
    )
    tx.rule("firewall-check", f"{ipx} daddr . meta l4proto . th dport vmap @firewall-ips")
    tx.sets.append(
        f'add map {table} service-ips {{ type {vmap3} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }}'
    )
    tx.sets.append(f'add map {table} service-nodeports {{ type {vmap2} ; comment "NodePort traffic" ; }}')
    tx.rule("services", f"{ipx} daddr . meta l4proto . th dport vmap @service-ips")
    if o.nodeport_addresses:
        tx.rule("services", f"{ipx} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")
    else:
        tx.rule(
            "services", f"fib daddr type local {no_localhost} meta l4proto . th dport vmap @service-nodeports"
        )
    seen_cluster_ips: set[str] = set()
    for spn in sorted(service_map):
        _render_service(
            tx, service_map[spn], endpoints_map.get(spn, []), o, ipx, addr_type, mark, seen_cluster_ips
        )
    return "\n".join([*head, *tx.chains, *tx.sets, *tx.rules, *tx.elements]) + "\n"


def _render_service(
    tx: _Tx,
    svc: ServicePortInfo,
    all_endpoints: list[EndpointInfo],
    o: NftablesOptions,
    ipx: str,
    addr_type: str,
    mark: str,
    seen_cluster_ips: set[str],
) -> None:
    spn = svc.name
    protocol = svc.protocol.lower()
    name_str = str(spn)
    base = service_chain_base(spn)
    cluster_eps, local_eps, reachable, has_endpoints = categorize_endpoints(all_endpoints, svc)
    for ep in reachable:
        tx.chain(endpoint_chain_name(spn, ep))
    cluster_chain, local_chain, external_chain = "service-" + base, "local-" + base, "external-" + base
    uses_cluster_chain = bool(cluster_eps) and svc.uses_cluster_endpoints
    if uses_cluster_chain:
        tx.chain(cluster_chain)
    uses_local_chain = bool(local_eps) and svc.uses_local_endpoints
    if uses_local_chain:
        tx.chain(local_chain)
    internal_chain, has_internal = cluster_chain, has_endpoints
    if svc.internal_policy_local:
        internal_chain, has_internal = local_chain, bool(local_eps)
    external_policy_chain, has_external = cluster_chain, has_endpoints
    if svc.external_policy_local:
        external_policy_chain, has_external = local_chain, bool(local_eps)
    uses_external_chain = has_endpoints and svc.externally_accessible
    if uses_external_chain:
        tx.chain(external_chain)
    if not has_endpoints:
        internal_verdict = external_verdict = "goto reject-chain"
    else:
        internal_verdict = "" if has_internal else "drop"
        external_verdict = "" if has_external else "drop"

    if svc.cluster_ip not in seen_cluster_ips:
        seen_cluster_ips.add(svc.cluster_ip)
        tx.element("cluster-ips", svc.cluster_ip)
    key = f"{svc.cluster_ip} . {protocol} . {svc.port}"
    if has_internal:
        tx.element("service-ips", key, f"goto {internal_chain}")
    else:
        tx.element("no-endpoint-services", key, internal_verdict, name_str)
    for ext_ip in svc.external_ips:
        ext_key = f"{ext_ip} . {protocol} . {svc.port}"
        if has_endpoints:
            tx.element("service-ips", ext_key, f"goto {external_chain}")
        if not has_external:
            tx.element("no-endpoint-services", ext_key, external_verdict, name_str)
    for lb_ip in svc.load_balancer_vips:
        if has_endpoints:
            tx.element("service-ips", f"{lb_ip} . {protocol} . {svc.port}", f"goto {external_chain}")
    if not has_external:
        for lb_ip in svc.load_balancer_vips:
            tx.element(
                "no-endpoint-services", f"{lb_ip} . {protocol} . {svc.port}", external_verdict, name_str
            )
    if svc.node_port:
        np_key = f"{protocol} . {svc.node_port}"
        if has_endpoints:
            tx.element("service-nodeports", np_key, f"goto {external_chain}")
        if not has_external:
            tx.element("no-endpoint-nodeports", np_key, external_verdict, name_str)

    if has_internal:
        match = f"{ipx} daddr {svc.cluster_ip} {protocol} dport {svc.port}"
        if o.masquerade_all:
            tx.rule(internal_chain, f"{match} jump mark-for-masquerade")
        elif o.cluster_cidr:
            tx.rule(internal_chain, f"{match} {ipx} saddr != {o.cluster_cidr} jump mark-for-masquerade")
    if uses_external_chain:
        if not svc.external_policy_local:
            tx.rule(external_chain, "jump mark-for-masquerade")
        else:
            if o.cluster_cidr:
                tx.rule(
                    external_chain,
                    f"{ipx} saddr {o.cluster_cidr} goto {cluster_chain}",
                    "short-circuit pod traffic",
                )
            tx.rule(
                external_chain, "fib saddr type local jump mark-for-masquerade", "masquerade local traffic"
            )
            tx.rule(
                external_chain, f"fib saddr type local goto {cluster_chain}", "short-circuit local traffic"
            )
        if has_external:
            tx.rule(external_chain, f"goto {external_policy_chain}")

    if svc.session_affinity_client_ip:
        for ep in reachable:
            tx.sets.append(
                f"add set {tx.table} affinity-{endpoint_chain_base(spn, ep)} {{ type {addr_type} ; "
                f"flags dynamic,timeout ; timeout {svc.sticky_max_age_seconds}s ; }}"
            )
    if uses_cluster_chain:
        _service_to_endpoints(tx, svc, cluster_chain, cluster_eps, ipx)
    if uses_local_chain:
        _service_to_endpoints(tx, svc, local_chain, local_eps, ipx)
    for ep in reachable:
        chain = endpoint_chain_name(spn, ep)
        tx.rule(chain, f"{ipx} saddr {ep.ip} jump mark-for-masquerade")
        if svc.session_affinity_client_ip:
            tx.rule(chain, f"update @affinity-{endpoint_chain_base(spn, ep)} {{ {ipx} saddr }}")
        tx.rule(chain, f"meta l4proto {protocol} dnat to {ep}")


def _service_to_endpoints(
    tx: _Tx, svc: ServicePortInfo, chain: str, endpoints: list[EndpointInfo], ipx: str
) -> None:
    spn = svc.name
    if svc.session_affinity_client_ip:
        for ep in endpoints:
            tx.rule(
                chain,
                f"{ipx} saddr @affinity-{endpoint_chain_base(spn, ep)} goto {endpoint_chain_name(spn, ep)}",
            )
    vmap = " , ".join(f"{i} : goto {endpoint_chain_name(spn, ep)}" for i, ep in enumerate(endpoints))
    tx.rule(chain, f"numgen random mod {len(endpoints)} vmap {{ {vmap} }}")


def can_use_nftables(netns: str | None = None) -> tuple[bool, str]:
    """Whether this process may program nftables, and why (not)."""
    if shutil.which("nft") is None:
        return False, "the nft command is not installed"
    if os.geteuid() != 0 and not _has_cap_net_admin():
        return False, "not root and without CAP_NET_ADMIN"
    if netns is not None and shutil.which("ip") is None:
        return False, "the ip command (for --nft-netns) is not installed"
    return True, "nft is installed and this process may change the network"


def _has_cap_net_admin() -> bool:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << 12))
    except OSError:
        pass
    return False


class NftablesProxier:
    """Writes the ruleset with ``nft -f -`` each sync (or prints it with ``dry_run``)."""

    def __init__(
        self,
        options: NftablesOptions | None = None,
        *,
        dry_run: bool = False,
        netns: str | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.options = options or NftablesOptions()
        self.dry_run = dry_run
        self.netns = netns
        """Run nft inside this network namespace (``ip netns exec``; tests)."""
        self.out = out or sys.stdout
        self.last_ruleset = ""

    def command(self, *args: str) -> list[str]:
        """The nft command line (inside the namespace if one is set)."""
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, "nft", *args]

    async def sync(self, service_map: ServicePortMap, endpoints_map: EndpointsMap) -> None:
        """Render and apply (or print) the ruleset; raises on nft's failure."""
        ruleset = render_ruleset(service_map, endpoints_map, self.options)
        self.last_ruleset = ruleset
        if self.dry_run:
            self.out.write(ruleset)
            self.out.write("\n")
            self.out.flush()
            return
        proc = await asyncio.create_subprocess_exec(
            *self.command("-f", "-"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate(ruleset.encode())
        if proc.returncode != 0:
            raise RuntimeError(f"nft -f - failed ({proc.returncode}): {err.decode(errors='replace').strip()}")

    async def cleanup(self) -> None:
        """Delete our table (on ``--cleanup``)."""
        if self.dry_run:
            return
        family = "ip6" if self.options.ip_family == "IPv6" else "ip"
        proc = await asyncio.create_subprocess_exec(
            *self.command("delete", "table", family, "kube-proxy"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await proc.wait()


def iter_lines(ruleset: str) -> Iterable[str]:
    """The ruleset's commands, one per line (for tests and logs)."""
    return (line for line in ruleset.splitlines() if line)
