"""The endpoints controller (v1 Endpoints) in a real controller-manager process, against a real API
server with a fake kubelet running the pods; readiness written by the test where it tests a specific
condition, and (over-capacity test) pods without a node whose status the test writes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from endpoints_fixture import NODES, EndpointsCluster, endpoints_cluster, new_pod, set_pod_ready

from pyclientgo.api.core.v1 import Service
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.controllers.endpoints import repack_subsets, truncate_subsets

PORTS = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointsCluster]:
    yield from endpoints_cluster(tmp_path_factory.mktemp("endpoints"), "endpoint")


@pytest.fixture
async def cs(cluster: EndpointsCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


def _service(name: str, selector: dict[str, str], **spec: Any) -> Service:
    return Service.from_dict(
        {
            "metadata": {"name": name, "labels": {"tier": "front"}},
            "spec": {
                "selector": selector,
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"name": "metrics", "port": 9090, "targetPort": 9090},
                ],
                **spec,
            },
        }
    )


async def _endpoints(cs: AsyncClientset, ns: str, name: str) -> dict[str, Any]:
    return (await cs.core_v1.endpoints(ns).get(name)).to_dict()


def _names(subset: dict[str, Any], field: str) -> list[str]:
    return [a["targetRef"]["name"] for a in subset.get(field) or []]


async def test_endpoints_ready_not_ready_and_deletion(
    cs: AsyncClientset, cluster: EndpointsCluster, tmp_path: Path
) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("front", {"app": "front"}))
    for i in range(3):
        await cs.core_v1.pods(ns).create(
            new_pod(f"front-{i}", {"app": "front"}, node=NODES[i % 2], ports=PORTS)
        )

    async def all_ready() -> dict[str, Any] | None:
        ep = await _endpoints(cs, ns, "front")
        subsets = ep.get("subsets") or []
        return ep if len(subsets) == 1 and len(_names(subsets[0], "addresses")) == 3 else None

    ep = await wait_until(all_ready, what="3 ready addresses")
    meta = ep["metadata"]
    assert meta["labels"] == {"tier": "front"}
    assert "endpoints.kubernetes.io/last-change-trigger-time" in meta["annotations"]
    subset = ep["subsets"][0]
    assert sorted(subset["ports"], key=lambda p: p["name"]) == [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "metrics", "port": 9090, "protocol": "TCP"},
    ]
    pod = await cs.core_v1.pods(ns).get("front-0")
    first = next(a for a in subset["addresses"] if a["targetRef"]["name"] == "front-0")
    assert first == {
        "ip": pod.status.pod_ip,  # type: ignore[union-attr]
        "nodeName": NODES[0],
        "targetRef": {"kind": "Pod", "namespace": ns, "name": "front-0", "uid": pod.metadata.uid},  # type: ignore[union-attr]
    }

    # a pod turning not ready moves to notReadyAddresses
    await set_pod_ready(cs, ns, "front-1", False)

    async def split() -> bool:
        subsets = (await _endpoints(cs, ns, "front")).get("subsets") or []
        return (
            len(subsets) == 1
            and sorted(_names(subsets[0], "addresses")) == ["front-0", "front-2"]
            and _names(subsets[0], "notReadyAddresses") == ["front-1"]
        )

    await wait_until(split, what="front-1 in notReadyAddresses")

    # kubectl shows the ready addresses
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    out = subprocess.run(
        [kubectl, "get", "endpoints", "front", "-n", ns],
        env=cluster.cluster.kubectl_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    header, row = out.strip().splitlines()
    assert header.split() == ["NAME", "ENDPOINTS", "AGE"]
    assert row.split()[0] == "front" and ":8080" in row and ":9090" in row

    # a deleted pod leaves; a deleted Service takes its Endpoints along
    await cs.core_v1.pods(ns).delete("front-2")

    async def removed() -> bool:
        subsets = (await _endpoints(cs, ns, "front")).get("subsets") or []
        return bool(subsets) and "front-2" not in _names(subsets[0], "addresses")

    await wait_until(removed, what="front-2 removed")
    await cs.core_v1.services(ns).delete("front")

    async def endpoints_gone() -> bool:
        try:
            await cs.core_v1.endpoints(ns).get("front")
        except NotFound:
            return True
        return False

    await wait_until(endpoints_gone, what="Endpoints deleted with the Service")


async def test_deleted_endpoints_recreated_and_headless_label(cs: AsyncClientset) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("hl", {"app": "hl"}, clusterIP="None"))
    await cs.core_v1.pods(ns).create(
        new_pod("hl-0", {"app": "hl"}, ports=PORTS, hostname="h0", subdomain="hl")
    )

    async def with_address() -> dict[str, Any] | None:
        ep = await _endpoints(cs, ns, "hl")
        subsets = ep.get("subsets") or []
        return ep if subsets and _names(subsets[0], "addresses") == ["hl-0"] else None

    ep = await wait_until(with_address, what="headless endpoints")
    assert ep["metadata"]["labels"] == {"tier": "front", "service.kubernetes.io/headless": ""}
    assert ep["subsets"][0]["addresses"][0]["hostname"] == "h0"
    uid = ep["metadata"]["uid"]
    await cs.core_v1.endpoints(ns).delete("hl")

    async def recreated() -> bool:
        again = await _endpoints(cs, ns, "hl")
        return again["metadata"]["uid"] != uid and bool(again.get("subsets"))

    await wait_until(recreated, what="Endpoints recreated")


def _addr(i: int) -> dict[str, Any]:
    return {
        "ip": f"10.1.{i // 250}.{i % 250 + 1}",
        "targetRef": {"kind": "Pod", "name": f"p{i}", "uid": f"u{i}"},
    }


def test_repack_groups_addresses_by_port_set() -> None:
    # p0 serves http and metrics, p1 only http, p2 is not ready on http: kube's RepackSubsets shape
    http = {"name": "http", "port": 8080, "protocol": "TCP"}
    metrics = {"name": "metrics", "port": 9090, "protocol": "TCP"}
    subsets = repack_subsets(
        [
            {"addresses": [_addr(0)], "ports": [http]},
            {"addresses": [_addr(0)], "ports": [metrics]},
            {"addresses": [_addr(1)], "ports": [http]},
            {"notReadyAddresses": [_addr(2)], "ports": [http]},
        ]
    )
    by_ports = {tuple(p["name"] for p in s["ports"]): s for s in subsets}
    assert set(by_ports) == {("http",), ("metrics",)}
    assert [a["ip"] for a in by_ports[("http",)]["addresses"]] == ["10.1.0.1", "10.1.0.2"]
    assert [a["ip"] for a in by_ports[("http",)]["notReadyAddresses"]] == ["10.1.0.3"]
    assert [a["ip"] for a in by_ports[("metrics",)]["addresses"]] == ["10.1.0.1"]
    # same address set on two ports: one subset with both ports
    both = repack_subsets(
        [{"addresses": [_addr(0)], "ports": [http]}, {"addresses": [_addr(0)], "ports": [metrics]}]
    )
    assert len(both) == 1 and [p["name"] for p in both[0]["ports"]] == ["http", "metrics"]


def test_truncate_at_1000_keeps_ready_first() -> None:
    # 900 ready + 300 not ready: the not-ready ones are cut to 100
    subsets = [
        {
            "addresses": [_addr(i) for i in range(900)],
            "notReadyAddresses": [_addr(i) for i in range(900, 1200)],
        }
    ]
    assert truncate_subsets(subsets) is True
    assert len(subsets[0]["addresses"]) == 900 and len(subsets[0]["notReadyAddresses"]) == 100
    # 1200 ready over two subsets: proportional cut, not-ready dropped
    subsets = [
        {"addresses": [_addr(i) for i in range(600)], "notReadyAddresses": [_addr(5000)]},
        {"addresses": [_addr(i) for i in range(600, 1200)]},
    ]
    assert truncate_subsets(subsets) is True
    assert [len(s["addresses"]) for s in subsets] == [500, 500] and "notReadyAddresses" not in subsets[0]
    # at capacity: untouched
    exact = [{"addresses": [_addr(i) for i in range(1000)]}]
    assert truncate_subsets(exact) is False and len(exact[0]["addresses"]) == 1000
