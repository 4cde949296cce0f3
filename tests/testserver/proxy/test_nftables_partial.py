"""Partial syncs of the nftables proxier: only the changed service ports' chains are rewritten, and
the table after a series of partial transactions is the table a full sync of the same state writes
(applied with nft in network namespaces the test creates, where the machine allows)."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from testserver.proxy.endpoints import EndpointInfo, EndpointsMap
from testserver.proxy.nftables import NftablesOptions, NftablesProxier, can_use_nftables
from testserver.proxy.service import ServicePortInfo, ServicePortMap, ServicePortName

OPTIONS = NftablesOptions(cluster_cidr="10.180.0.0/16")


def ep(ip: str, port: int = 8080, ready: bool = True) -> EndpointInfo:
    return EndpointInfo(ip, port, ready, ready, False)


def state() -> tuple[ServicePortMap, EndpointsMap]:
    a = ServicePortName("ns", "a", "http", "TCP")
    b = ServicePortName("ns", "b", "", "UDP")
    c = ServicePortName("ns", "c", "", "TCP")
    sm = {
        a: ServicePortInfo(a, "10.96.0.1", 80, "TCP", node_port=30001),
        b: ServicePortInfo(b, "10.96.0.2", 53, "UDP"),
        c: ServicePortInfo(
            c, "10.96.0.3", 80, "TCP", session_affinity_client_ip=True, sticky_max_age_seconds=60
        ),
    }
    em = {
        a: [ep("10.180.0.1"), ep("10.180.0.2")],
        b: [ep("10.180.0.3", 53)],
        c: [ep("10.180.0.4"), ep("10.180.0.5")],
    }
    return sm, em


def changes(sm: ServicePortMap, em: EndpointsMap) -> Iterator[str]:
    """Mutate the maps step by step (yielding what changed)."""
    a, b, c = sorted(sm, key=lambda n: n.name)
    em[a] = [ep("10.180.0.1"), ep("10.180.0.2", ready=False), ep("10.180.0.9")]
    yield "endpoint replaced"
    em[b] = []
    yield "no endpoints (reject)"
    del sm[c], em[c]
    yield "affinity service deleted"
    d = ServicePortName("ns", "d", "", "TCP")
    sm[d] = ServicePortInfo(d, "10.96.0.4", 8443, "TCP")
    em[d] = [ep("10.180.0.7", 8443)]
    yield "service added"
    sm[a] = replace(sm[a], node_port=0)
    yield "NodePort removed"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_partial_sync_rewrites_only_changed_services() -> None:
    out = io.StringIO()
    proxier = NftablesProxier(OPTIONS, dry_run=True, out=out, full_sync_period=3600)
    sm, em = state()
    run(proxier.sync(sm, em))
    assert proxier.last_sync_full and "delete table ip kube-proxy" in proxier.last_transaction
    run(proxier.sync(sm, em))
    assert not proxier.last_sync_full
    # nothing changed: only the table is ensured
    assert proxier.last_transaction.strip() == 'add table ip kube-proxy { comment "rules for kube-proxy" ; }'
    steps = changes(sm, em)
    next(steps)  # a's endpoints changed
    run(proxier.sync(sm, em))
    text = proxier.last_transaction
    assert "delete table" not in text
    assert "ns/a/tcp/http" in text and "ns/b/" not in text and "ns/c/" not in text
    assert "delete chain ip kube-proxy endpoint-" in text and "10.180.0.2/8080" in text  # the not-ready one
    assert "dnat to 10.180.0.9:8080" in text
    next(steps)  # b has no endpoints
    run(proxier.sync(sm, em))
    assert (
        'add element ip kube-proxy no-endpoint-services { 10.96.0.2 . udp . 53 comment "ns/b" : goto reject-chain }'
        in proxier.last_transaction
    )
    assert "delete element ip kube-proxy service-ips { 10.96.0.2 . udp . 53 }" in proxier.last_transaction


needs_nft = pytest.mark.skipif(not can_use_nftables("x")[0], reason=can_use_nftables("x")[1])


@pytest.fixture
def two_netns() -> Iterator[tuple[str, str]]:
    names = (f"pcg-test-{secrets.token_hex(4)}", f"pcg-test-{secrets.token_hex(4)}")
    for n in names:
        subprocess.run(["ip", "netns", "add", n], check=True)
    try:
        yield names
    finally:
        for n in names:
            subprocess.run(["ip", "netns", "delete", n], check=False)


def table_of(ns: str) -> dict[str, Any]:
    """Chains with their rules, and sets/maps with their elements, of ip kube-proxy (order-free)."""
    r = subprocess.run(
        ["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "ip", "kube-proxy"],
        capture_output=True,
        text=True,
        check=True,
    )
    chains: dict[str, list[str]] = {}
    sets: dict[str, list[str]] = {}
    for item in json.loads(r.stdout)["nftables"]:
        if "chain" in item:
            chains.setdefault(item["chain"]["name"], [])
        elif "rule" in item:
            rule = item["rule"]
            chains.setdefault(rule["chain"], []).append(json.dumps([rule["expr"], rule.get("comment")]))
        for kind in ("set", "map"):
            if kind in item:
                body = item[kind]
                sets[body["name"]] = sorted(json.dumps(e) for e in body.get("elem", []))
    return {"chains": chains, "sets": sets}


@needs_nft
def test_partial_syncs_converge_to_the_full_ruleset(two_netns: tuple[str, str]) -> None:
    partial_ns, full_ns = two_netns
    partial = NftablesProxier(OPTIONS, netns=partial_ns, full_sync_period=3600)
    sm, em = state()
    run(partial.sync(sm, em))
    for what in changes(sm, em):
        run(partial.sync(sm, em))
        assert not partial.last_sync_full, what
        full = NftablesProxier(OPTIONS, netns=full_ns)
        run(full.sync(sm, em))
        assert table_of(partial_ns) == table_of(full_ns), what
