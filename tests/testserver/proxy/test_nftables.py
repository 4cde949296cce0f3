"""The nftables proxier: the ruleset for a fixed set of Services and EndpointSlices (golden file,
regenerated with ``PCG_UPDATE_GOLDEN=1``), ``--dry-run`` in a real kube-proxy process, and — where
``nft`` exists and this process may change the network — the ruleset applied by a kube-proxy process
inside a network namespace the test creates (never the host's), with traffic to a ClusterIP and a
NodePort DNATed to a backend in that namespace."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.kubernetes import Clientset
from testserver.proxy.endpoints import EndpointsChangeTracker, EndpointsMap
from testserver.proxy.nftables import NftablesOptions, can_use_nftables, render_ruleset
from testserver.proxy.service import ServiceChangeTracker, ServicePortMap
from testserver.proxy.testing import ProxyProcess
from testserver.testing import TestServer

from .conftest import endpoint, make_service, wait_for, write_slice

GOLDEN = Path(__file__).parent / "testdata" / "nftables-golden.nft"
NODE = "node-a"


def _svc(ns: str, name: str, ip: str, ports: list[dict[str, Any]], **spec: Any) -> Service:
    return Service.from_dict(
        {
            "metadata": {"namespace": ns, "name": name},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": ports, **spec},
        }
    )


def _slice(
    ns: str, svc: str, name: str, ports: list[dict[str, Any]], eps: list[dict[str, Any]]
) -> EndpointSlice:
    return EndpointSlice.from_dict(
        {
            "metadata": {"namespace": ns, "name": name, "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": eps,
        }
    )


def fixed_maps() -> tuple[ServicePortMap, EndpointsMap]:
    """Services and slices covering the ruleset's cases, through the change trackers."""
    services = [
        _svc("ns1", "svc1", "10.96.0.41", [{"name": "p80", "port": 80}]),
        _svc(
            "ns2",
            "dns",
            "10.96.0.10",
            [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}],
        ),
        _svc("ns3", "np", "10.96.0.42", [{"name": "http", "port": 80, "nodePort": 30080}], type="NodePort"),
        _svc(
            "ns3",
            "np-local",
            "10.96.0.43",
            [{"port": 80, "nodePort": 30081}],
            type="NodePort",
            externalTrafficPolicy="Local",
        ),
        _svc("ns4", "empty", "10.96.0.44", [{"port": 80, "nodePort": 30082}], type="NodePort"),
        _svc("ns5", "itp-local", "10.96.0.45", [{"port": 80}], internalTrafficPolicy="Local"),
        _svc(
            "ns6",
            "sticky",
            "10.96.0.46",
            [{"port": 80}],
            sessionAffinity="ClientIP",
            sessionAffinityConfig={"clientIP": {"timeoutSeconds": 300}},
        ),
        _svc("ns7", "ext", "10.96.0.47", [{"port": 80}], externalIPs=["192.168.99.1"]),
        _svc("ns8", "headless", "None", [{"port": 80}]),
        _svc("ns8", "terminating", "10.96.0.48", [{"port": 80}]),
    ]
    slices = [
        _slice(
            "ns1",
            "svc1",
            "svc1-a",
            [{"name": "p80", "port": 8080}],
            [endpoint("10.180.0.1"), endpoint("10.180.0.2"), endpoint("10.180.0.3", ready=False)],
        ),
        _slice(
            "ns2",
            "dns",
            "dns-a",
            [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}],
            [endpoint("10.180.0.10"), endpoint("10.180.0.11")],
        ),
        _slice(
            "ns3",
            "np",
            "np-a",
            [{"name": "http", "port": 80}],
            [endpoint("10.180.1.1", nodeName=NODE), endpoint("10.180.2.1", nodeName="node-b")],
        ),
        _slice(
            "ns3",
            "np-local",
            "np-local-a",
            [{"port": 80}],
            [endpoint("10.180.1.2", nodeName=NODE), endpoint("10.180.2.2", nodeName="node-b")],
        ),
        _slice(
            "ns5", "itp-local", "itp-local-a", [{"port": 80}], [endpoint("10.180.2.5", nodeName="node-b")]
        ),
        _slice("ns6", "sticky", "sticky-a", [{"port": 80}], [endpoint("10.180.0.6"), endpoint("10.180.0.7")]),
        _slice("ns7", "ext", "ext-a", [{"port": 80}], [endpoint("10.180.0.8")]),
        _slice(
            "ns8",
            "terminating",
            "terminating-a",
            [{"port": 80}],
            [endpoint("10.180.0.9", ready=False, serving=True, terminating=True)],
        ),
    ]
    st, et = ServiceChangeTracker(), EndpointsChangeTracker(NODE)
    for s in services:
        st.update(None, s)
    for sl in slices:
        et.update(sl)
    service_map: ServicePortMap = {}
    endpoints_map: EndpointsMap = {}
    st.apply(service_map)
    et.apply(endpoints_map)
    return service_map, endpoints_map


OPTIONS = NftablesOptions(cluster_cidr="10.180.0.0/16", service_cidrs=("10.96.0.0/12",))


def test_golden_ruleset() -> None:
    ruleset = render_ruleset(*fixed_maps(), OPTIONS)
    if os.environ.get("PCG_UPDATE_GOLDEN"):
        GOLDEN.write_text(ruleset)
    assert ruleset == GOLDEN.read_text()


def test_ruleset_cases() -> None:
    """What the golden file must say, spelled out (so a regenerated golden file is still checked)."""
    lines = set(render_ruleset(*fixed_maps(), OPTIONS).splitlines())
    text = "\n".join(sorted(lines))
    assert 'add table ip kube-proxy { comment "rules for kube-proxy" ; }' in lines
    # ready endpoints only, random over the endpoint chains
    assert "numgen random mod 2 vmap" in text and "10.180.0.3" not in text
    # no endpoints: rejected, for the ClusterIP and the NodePort
    assert (
        'add element ip kube-proxy no-endpoint-services { 10.96.0.44 . tcp . 80 comment "ns4/empty" : goto reject-chain }'
        in lines
    )
    assert (
        'add element ip kube-proxy no-endpoint-nodeports { tcp . 30082 comment "ns4/empty" : goto reject-chain }'
        in lines
    )
    # internalTrafficPolicy Local without a local endpoint: dropped, not rejected
    assert (
        'add element ip kube-proxy no-endpoint-services { 10.96.0.45 . tcp . 80 comment "ns5/itp-local" : drop }'
        in lines
    )
    # externalTrafficPolicy Local: the NodePort goes to the local endpoint only
    local_chains = [
        line for line in lines if line.startswith("add rule ip kube-proxy local-") and "numgen" in line
    ]
    assert (
        len(local_chains) == 1
        and "numgen random mod 1" in local_chains[0]
        and "10.180.1.2" in local_chains[0]
    )
    # ClientIP affinity: a dynamic set per endpoint with the timeout, and the update rule
    assert sum("flags dynamic,timeout ; timeout 300s" in line for line in lines) == 2
    assert any("update @affinity-" in line for line in lines)
    # externalIPs go through the external chain; a headless Service has no rules
    assert any(
        line.startswith("add element ip kube-proxy service-ips { 192.168.99.1 . tcp . 80 : goto external-")
        for line in lines
    )
    assert "ns8/headless" not in text
    # terminating but serving endpoints are used when none is ready
    assert "dnat to 10.180.0.9:80" in text
    assert "masquerade fully-random" in text and "mark set mark or 0x004000" in text


needs_nft = pytest.mark.skipif(not can_use_nftables("x")[0], reason=can_use_nftables("x")[1])


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"pcg-test-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def in_ns(ns: str, *cmd: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, **kw)


@needs_nft
def test_golden_ruleset_is_accepted_by_nft(netns: str) -> None:
    ruleset = render_ruleset(*fixed_maps(), OPTIONS)
    for _ in range(2):  # applying twice replaces the table (one transaction each)
        r = in_ns(netns, "nft", "-f", "-", input=ruleset)
        assert r.returncode == 0, r.stderr
    listed = in_ns(netns, "nft", "list", "table", "ip", "kube-proxy").stdout
    assert "10.96.0.41 . tcp . 80 : goto service-" in listed


def test_dry_run_prints_the_ruleset(apiserver: TestServer, cs: Clientset, tmp_path: Path) -> None:
    with ProxyProcess(
        apiserver.kubeconfig,
        "--proxy-mode",
        "nftables",
        "--dry-run",
        "--min-sync-period",
        "50ms",
        data_dir=tmp_path,
    ) as proxy:
        assert "using nftables proxy mode: --dry-run" in proxy.log_text()
        make_service(cs, "dry", [{"port": 80}])
        write_slice(cs, "dry", "dry-0", [{"port": 8080, "protocol": "TCP"}], [endpoint("10.244.0.5")])
        wait_for(
            lambda: "dnat to 10.244.0.5:8080" in proxy.log_text(),
            what="the ruleset with the endpoint printed",
        )
        assert "delete table ip kube-proxy" in proxy.log_text()


BACKEND = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"in-netns"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
"""

CLIENT = """
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=2)
c.request("GET", "/"); print(c.getresponse().read().decode())
"""


@needs_nft
def test_applied_in_a_network_namespace(
    apiserver: TestServer, cs: Clientset, netns: str, tmp_path: Path
) -> None:
    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "add", "pcg0", "type", "veth", "peer", "name", "pcg1"],
        ["ip", "addr", "add", "10.201.0.2/24", "dev", "pcg0"],
        ["ip", "link", "set", "pcg0", "up"],
        ["ip", "link", "set", "pcg1", "up"],
        ["ip", "route", "add", "10.96.0.0/12", "dev", "pcg0"],
    ):
        r = in_ns(netns, *cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    backend = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c", BACKEND, "10.201.0.2", "8080"]
    )
    try:
        svc = make_service(cs, "innet", [{"port": 80}], type_="NodePort")
        assert svc.spec is not None and svc.spec.ports is not None
        cluster_ip, node_port = svc.spec.cluster_ip, svc.spec.ports[0].node_port
        write_slice(cs, "innet", "innet-0", [{"port": 8080, "protocol": "TCP"}], [endpoint("10.201.0.2")])
        with ProxyProcess(
            apiserver.kubeconfig,
            "--proxy-mode",
            "nftables",
            "--nft-netns",
            netns,
            "--min-sync-period",
            "50ms",
            "--nodeport-addresses",
            "10.201.0.2/32",
            data_dir=tmp_path,
        ) as proxy:
            assert "using nftables proxy mode" in proxy.log_text()

            def listed() -> bool:
                return (
                    f"{cluster_ip} . tcp . 80 : goto service-"
                    in in_ns(netns, "nft", "list", "table", "ip", "kube-proxy").stdout
                )

            wait_for(listed, what="the service in the namespace's ruleset")

            def via(host: str, port: int) -> str:
                return in_ns(netns, sys.executable, "-c", CLIENT, host, str(port), timeout=10).stdout.strip()

            assert wait_for(lambda: via(str(cluster_ip), 80), what="ClusterIP DNATed") == "in-netns"
            assert via("10.201.0.2", int(node_port or 0)) == "in-netns"
            # the endpoint goes away: the ClusterIP is rejected at once
            write_slice(cs, "innet", "innet-0", [{"port": 8080, "protocol": "TCP"}], [])

            def rejected() -> bool:
                r = in_ns(netns, sys.executable, "-c", CLIENT, str(cluster_ip), "80", timeout=10)
                return "ConnectionRefusedError" in r.stderr

            wait_for(rejected, what="connection refused without endpoints")
    finally:
        backend.terminate()
        backend.wait(timeout=10)
