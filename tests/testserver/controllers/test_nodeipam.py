"""The node IPAM controller: the CIDR set on its own, and node pod CIDRs in a real controller-manager."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterator

import pytest
from controller_manager_fixture import Cluster, start_cluster, stop_cluster, wait_until

from pyclientgo.api.core.v1 import Node
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.nodeipam import CIDRSet, CIDRSetError, parse_cluster_cidrs


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def test_cidr_set_allocates_round_robin_and_reuses_released_ranges_last() -> None:
    cidrs = CIDRSet(net("10.0.0.0/22"), 24)
    assert cidrs.max_cidrs == 4
    first = [str(cidrs.allocate_next()) for _ in range(3)]
    assert first == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    cidrs.release(net("10.0.0.0/24"))
    # the next candidate is after the last allocation, so the released range comes after .3
    assert str(cidrs.allocate_next()) == "10.0.3.0/24"
    assert str(cidrs.allocate_next()) == "10.0.0.0/24"
    with pytest.raises(CIDRSetError, match="no remaining CIDRs"):
        cidrs.allocate_next()


def test_cidr_set_occupies_larger_and_partial_ranges() -> None:
    cidrs = CIDRSet(net("10.1.0.0/16"), 24)
    cidrs.occupy(net("10.1.0.0/23"))  # two node ranges at once
    assert cidrs.allocated == 2
    assert str(cidrs.allocate_next()) == "10.1.2.0/24"
    with pytest.raises(CIDRSetError, match="outside the cluster CIDR"):
        cidrs.occupy(net("192.168.0.0/24"))


def test_cidr_set_ipv6_and_limits() -> None:
    cidrs = CIDRSet(net("fd00:10::/56"), 64)
    assert str(cidrs.allocate_next()) == "fd00:10::/64"
    assert str(cidrs.allocate_next()) == "fd00:10:0:1::/64"
    with pytest.raises(CIDRSetError, match="shorter"):
        CIDRSet(net("10.0.0.0/16"), 8)
    with pytest.raises(CIDRSetError, match="16 bits"):
        CIDRSet(net("10.0.0.0/8"), 28)


def test_parse_cluster_cidrs() -> None:
    assert [str(c) for c in parse_cluster_cidrs("10.244.0.0/16,fd00::/48")] == ["10.244.0.0/16", "fd00::/48"]
    with pytest.raises(ValueError, match="one IPv4 and one IPv6"):
        parse_cluster_cidrs("10.0.0.0/16,10.1.0.0/16")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # a pool of four /24s, of which the Service range takes one
    c = start_cluster(
        tmp_path_factory.mktemp("nodeipam"),
        "--controllers",
        "nodeipam",
        "--allocate-node-cidrs",
        "--cluster-cidr",
        "10.77.0.0/22",
        "--node-cidr-mask-size",
        "24",
        "--service-cluster-ip-range",
        "10.77.3.0/24",
    )
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture
async def cs(cluster: Cluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


async def _pod_cidrs(cs: AsyncClientset, name: str) -> list[str] | None:
    node = await cs.core_v1.nodes().get(name)
    if node.spec is None or not node.spec.pod_cidrs:
        return None
    assert node.spec.pod_cidr == node.spec.pod_cidrs[0]
    return list(node.spec.pod_cidrs)


async def test_nodes_get_distinct_ranges_until_the_pool_is_empty(cs: AsyncClientset) -> None:
    # a node that brings its own range keeps it, and that range is not handed out again
    await cs.core_v1.nodes().create(
        Node(metadata={"name": "ipam-own"}, spec={"podCIDR": "10.77.1.0/24", "podCIDRs": ["10.77.1.0/24"]})
    )
    await cs.core_v1.nodes().create(Node(metadata={"name": "ipam-a"}))
    a = await wait_until(lambda: _pod_cidrs(cs, "ipam-a"), what="ipam-a podCIDRs")
    await cs.core_v1.nodes().create(Node(metadata={"name": "ipam-b"}))
    b = await wait_until(lambda: _pod_cidrs(cs, "ipam-b"), what="ipam-b podCIDRs")
    assert sorted(a + b) == ["10.77.0.0/24", "10.77.2.0/24"]  # not .1 (held) nor .3 (Services)
    assert await _pod_cidrs(cs, "ipam-own") == ["10.77.1.0/24"]

    # the pool is empty now: the next node gets kube's CIDRNotAvailable event and waits
    await cs.core_v1.nodes().create(Node(metadata={"name": "ipam-c"}))

    async def not_available() -> bool:
        events = await cs.core_v1.events("default").list(field_selector="involvedObject.name=ipam-c")
        return any(
            e.reason == "CIDRNotAvailable" and e.message == "Node ipam-c status is now: CIDRNotAvailable"
            for e in events.items or []
        )

    await wait_until(not_available, what="CIDRNotAvailable event")
    assert await _pod_cidrs(cs, "ipam-c") is None

    # a deleted node's range goes back to the pool, and the waiting node gets it
    await cs.core_v1.nodes().delete("ipam-a")
    c = await wait_until(lambda: _pod_cidrs(cs, "ipam-c"), timeout=60, what="ipam-c podCIDRs after a release")
    assert c == a
