"""The nftables proxier: kube-proxy's nftables ruleset (kube's pkg/proxy/nftables/proxier.go).

:func:`render_ruleset` writes the whole ruleset of the table ``ip kube-proxy`` (``ip6`` for IPv6)
as one ``nft -f -`` transaction in the syntax kube's knftables writes: the base chains
(``filter-*``/``nat-*``), the ``services`` chain dispatching through the ``service-ips`` and
``service-nodeports`` verdict maps to a chain per service port (``service-<HASH>-ns/name/proto/port``),
which picks an endpoint chain (``endpoint-<HASH>-...__ip/port``) with ``numgen random mod N``; masquerade
marks; ``external-``/``local-`` chains for NodePorts and ``Local`` traffic policies; ClientIP affinity
through per-endpoint dynamic sets with a timeout; ``no-endpoint-services``/``no-endpoint-nodeports``
rejecting (or dropping) traffic to Services without endpoints.

A full sync (the first, then every ``full_sync_period``, and after a failure) creates the table,
deletes it and writes it anew in one transaction, so it replaces whatever was there atomically
(ClientIP affinity sets restart empty then). Between full syncs a sync is partial, as kube's: only
the chains of the service ports whose Service or endpoints changed are flushed and rewritten, map
elements are added and deleted by difference, and chains and affinity sets no longer used are
deleted — still one transaction. :class:`NftablesProxier` runs it with ``nft -f -`` (optionally
inside a network namespace, for tests) or, with ``dry_run``, prints it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
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


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@functools.lru_cache(maxsize=200_000)
def _hash_and_truncate(name: str) -> str:
    # the first 8 base32 characters of the sha256 are the encoding of its first 5 bytes
    head = int.from_bytes(hashlib.sha256(name.encode()).digest()[:5], "big")
    digest = "".join(_B32[(head >> shift) & 31] for shift in range(35, -1, -5))
    out = f"{digest}-{name}"
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
    set_names: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    elements: dict[tuple[str, str], str] = field(default_factory=dict)
    """(container, key) → its ``add element`` command."""

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
        self.elements.setdefault((container, key), f"add element {self.table} {container} {{ {key}{c}{v} }}")


@dataclass(frozen=True)
class _Family:
    ipx: str
    addr_type: str
    no_localhost: str
    table: str
    mark: str


def _family(o: NftablesOptions) -> _Family:
    v6 = o.ip_family == "IPv6"
    ipx = "ip6" if v6 else "ip"
    return _Family(
        ipx=ipx,
        addr_type="ipv6_addr" if v6 else "ipv4_addr",
        no_localhost="ip6 daddr != ::1" if v6 else "ip daddr != 127.0.0.0/8",
        table=f"{ipx} kube-proxy",
        mark=f"{1 << o.masquerade_bit:#08x}",
    )


def render_ruleset(
    service_map: ServicePortMap, endpoints_map: EndpointsMap, options: NftablesOptions | None = None
) -> str:
    """The whole ``nft -f -`` transaction for these services and endpoints."""
    o = options or NftablesOptions()
    fam = _family(o)
    services = [
        render_service(service_map[spn], endpoints_map.get(spn, []), o) for spn in sorted(service_map)
    ]
    return _full_transaction(_static_tx(o), services, fam.table)


def _full_transaction(static: _Tx, services: list[_Tx], table: str) -> str:
    """Replace the table with the static part and every service's part, objects before their users."""
    head = [
        f'add table {table} {{ comment "rules for kube-proxy" ; }}',
        f"delete table {table}",
        f'add table {table} {{ comment "rules for kube-proxy" ; }}',
    ]
    parts = [static, *services]
    elements: dict[tuple[str, str], str] = {}
    for part in parts:
        for k, line in part.elements.items():
            elements.setdefault(k, line)
    lines = head
    for part in parts:
        lines += part.chains
    for part in parts:
        lines += part.sets
    for part in parts:
        lines += part.rules
    lines += elements.values()
    return "\n".join(lines) + "\n"


def _static_tx(o: NftablesOptions) -> _Tx:
    """The base chains, jumps, sets and maps every ruleset has."""
    fam = _family(o)
    ipx, addr_type, no_localhost, table, mark = fam.ipx, fam.addr_type, fam.no_localhost, fam.table, fam.mark
    tx = _Tx(table)
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
    return tx


def render_service(svc: ServicePortInfo, all_endpoints: list[EndpointInfo], o: NftablesOptions) -> _Tx:
    """The chains, sets, rules and map elements of one service port."""
    fam = _family(o)
    ipx, addr_type = fam.ipx, fam.addr_type
    tx = _Tx(fam.table)
    spn = svc.name
    protocol = svc.protocol.lower()
    name_str = str(spn)
    base = service_chain_base(spn)
    cluster_eps, local_eps, reachable, has_endpoints = categorize_endpoints(all_endpoints, svc)
    bases = {ep: endpoint_chain_base(spn, ep) for ep in reachable}
    for ep in reachable:
        tx.chain("endpoint-" + bases[ep])
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
            set_name = f"affinity-{bases[ep]}"
            tx.set_names.append(set_name)
            tx.sets.append(
                f"add set {tx.table} {set_name} {{ type {addr_type} ; "
                f"flags dynamic,timeout ; timeout {svc.sticky_max_age_seconds}s ; }}"
            )
    if uses_cluster_chain:
        _service_to_endpoints(tx, svc, cluster_chain, cluster_eps, ipx, bases)
    if uses_local_chain:
        _service_to_endpoints(tx, svc, local_chain, local_eps, ipx, bases)
    for ep in reachable:
        chain = "endpoint-" + bases[ep]
        tx.rule(chain, f"{ipx} saddr {ep.ip} jump mark-for-masquerade")
        if svc.session_affinity_client_ip:
            tx.rule(chain, f"update @affinity-{bases[ep]} {{ {ipx} saddr }}")
        tx.rule(chain, f"meta l4proto {protocol} dnat to {ep}")
    return tx


def _service_to_endpoints(
    tx: _Tx,
    svc: ServicePortInfo,
    chain: str,
    endpoints: list[EndpointInfo],
    ipx: str,
    bases: dict[EndpointInfo, str],
) -> None:
    if svc.session_affinity_client_ip:
        for ep in endpoints:
            tx.rule(
                chain,
                f"{ipx} saddr @affinity-{bases[ep]} goto {'endpoint-' + bases[ep]}",
            )
    vmap = " , ".join(f"{i} : goto {'endpoint-' + bases[ep]}" for i, ep in enumerate(endpoints))
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
        full_sync_period: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or NftablesOptions()
        self.dry_run = dry_run
        self.netns = netns
        """Run nft inside this network namespace (``ip netns exec``; tests)."""
        self.out = out or sys.stdout
        self.full_sync_period = full_sync_period
        """A full sync (the table replaced) at least this often; partial syncs in between."""
        self._clock = clock
        self.last_transaction = ""
        """The last transaction sent to nft (or printed)."""
        self.last_sync_full = False
        self._static = _static_tx(self.options)
        self._table = _family(self.options).table
        self._rendered: dict[ServicePortName, tuple[ServicePortInfo, tuple[EndpointInfo, ...], _Tx]] = {}
        self._applied: dict[ServicePortName, _Tx] | None = None
        self._applied_elements: dict[tuple[str, str], str] = {}
        self._last_full = 0.0

    def command(self, *args: str) -> list[str]:
        """The nft command line (inside the namespace if one is set)."""
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, "nft", *args]

    def _render(self, service_map: ServicePortMap, endpoints_map: EndpointsMap) -> dict[ServicePortName, _Tx]:
        """Every service's part, re-rendered only where the service or its endpoints changed."""
        out: dict[ServicePortName, _Tx] = {}
        rendered: dict[ServicePortName, tuple[ServicePortInfo, tuple[EndpointInfo, ...], _Tx]] = {}
        for spn in service_map:  # map order; a full transaction sorts
            svc, eps = service_map[spn], tuple(endpoints_map.get(spn, ()))
            cached = self._rendered.get(spn)
            if cached is not None and cached[0] == svc and cached[1] == eps:
                rendered[spn] = cached
            else:
                rendered[spn] = (svc, eps, render_service(svc, list(eps), self.options))
            out[spn] = rendered[spn][2]
        self._rendered = rendered
        return out

    def _partial_transaction(
        self, services: dict[ServicePortName, _Tx]
    ) -> tuple[str, dict[tuple[str, str], str]]:
        """Only what changed since the applied state: the changed services' chains flushed and
        rewritten, map elements added/removed, chains and affinity sets no longer used deleted."""
        assert self._applied is not None
        t = self._table
        applied = self._applied
        changed = [tx for spn, tx in services.items() if applied.get(spn) is not tx]
        new_chains = {n for tx in services.values() for n in tx.chain_set}
        old_chains = {n for tx in applied.values() for n in tx.chain_set}
        new_sets = {n for tx in services.values() for n in tx.set_names}
        old_sets = {n for tx in applied.values() for n in tx.set_names}
        elements: dict[tuple[str, str], str] = dict(self._static.elements)
        for tx in services.values():
            for k, line in tx.elements.items():
                elements.setdefault(k, line)
        lines = [f'add table {t} {{ comment "rules for kube-proxy" ; }}']
        for tx in changed:
            for name in tx.chain_set:
                lines.append(f"add chain {t} {name}")
                lines.append(f"flush chain {t} {name}")
        stale_chains = sorted(old_chains - new_chains)
        lines += [f"flush chain {t} {name}" for name in stale_chains]
        for tx in changed:
            lines += tx.sets
            lines += tx.rules
        for key, line in self._applied_elements.items():
            if elements.get(key) != line:
                lines.append(f"delete element {t} {key[0]} {{ {key[1]} }}")
        for key, line in elements.items():
            if self._applied_elements.get(key) != line:
                lines.append(line)
        lines += [f"delete set {t} {name}" for name in sorted(old_sets - new_sets)]
        lines += [f"delete chain {t} {name}" for name in stale_chains]
        return "\n".join(lines) + "\n", elements

    async def sync(self, service_map: ServicePortMap, endpoints_map: EndpointsMap) -> None:
        """Render and apply (or print) the changes; raises on nft's failure (the next sync is full)."""
        services = self._render(service_map, endpoints_map)
        now = self._clock()
        full = self._applied is None or now - self._last_full >= self.full_sync_period
        if full:
            transaction = _full_transaction(
                self._static, [services[n] for n in sorted(services)], self._table
            )
            elements = dict(self._static.elements)
            for tx in services.values():
                for k, line in tx.elements.items():
                    elements.setdefault(k, line)
        else:
            transaction, elements = self._partial_transaction(services)
        self.last_transaction = transaction
        self.last_sync_full = full
        if self.dry_run:
            self.out.write(transaction)
            self.out.write("\n")
            self.out.flush()
        else:
            try:
                await self._run_nft(transaction)
            except Exception:
                self._applied = None  # the next sync rewrites everything
                raise
        self._applied = services
        self._applied_elements = elements
        if full:
            self._last_full = now

    async def _run_nft(self, transaction: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self.command("-f", "-"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate(transaction.encode())
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
