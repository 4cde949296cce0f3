"""The cluster DNS as a child process on a real API server, with the controller-manager's
endpointslice controller making the slices of pods the test marks running and ready (as a kubelet
would): A/SRV of ClusterIP Services, one A per ready pod of a headless Service, pod hostnames through
the headless Service (StatefulSet-style hostname/subdomain), NXDOMAIN with the SOA, over UDP and TCP,
asked with dnspython's resolver on the loopback port."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from pyclientgo.api.core.v1 import Node, Pod, Service
from pyclientgo.config import load_config
from pyclientgo.kubernetes import Clientset
from testserver.dns.testing import DNSProcess
from testserver.testing import TestServer

# the controller-manager child process of the controllers' tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager

ZONE = "cluster.local"


def wait_for(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = cond()
        except Exception as err:  # not there yet
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestServer, DNSProcess]]:
    root = tmp_path_factory.mktemp("dns")
    with TestServer(data_dir=root / "apiserver", bookmark_interval=1.0) as server:
        with ControllerManager(
            server.kubeconfig, "--controllers", "endpointslice,serviceaccount", data_dir=root / "cm"
        ):
            with DNSProcess(server.kubeconfig, data_dir=root / "dns") as dns_server:
                yield server, dns_server


@pytest.fixture(scope="module")
def cs(cluster: tuple[TestServer, DNSProcess]) -> Iterator[Clientset]:
    with Clientset(load_config(kubeconfig=str(cluster[0].kubeconfig))) as client:
        # the endpointslice controller skips pods on a Node it does not know
        client.core_v1.nodes().create(Node.from_dict({"metadata": {"name": "node-a"}}))
        yield client


@pytest.fixture(scope="module")
def resolver(cluster: tuple[TestServer, DNSProcess]) -> dns.resolver.Resolver:
    return cluster[1].resolver()


def running_pod(
    cs: Clientset, name: str, ip: str, *, ready: bool, labels: dict[str, str], **spec: Any
) -> Pod:
    """A pod bound to a node and marked Running (and Ready or not) with ``ip``, as a kubelet would."""
    pod = cs.core_v1.pods("default").create(
        Pod.from_dict(
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "x"}], **spec},
            }
        )
    )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}],
    }
    body = Pod.from_dict({**pod.to_dict(), "status": status})
    return cs.core_v1.pods("default").update_status(body)


def ask(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[str]:
    return sorted(r.to_text() for r in resolver.resolve(name, rdtype))


def test_clusterip_service_a_and_srv(cs: Clientset, resolver: dns.resolver.Resolver) -> None:
    svc = cs.core_v1.services("default").create(
        Service.from_dict({"metadata": {"name": "web"}, "spec": {"ports": [{"name": "http", "port": 80}]}})
    )
    assert svc.spec is not None
    name = f"web.default.svc.{ZONE}"
    assert wait_for(lambda: ask(resolver, name, "A"), what="web's A") == [svc.spec.cluster_ip]
    assert ask(resolver, f"_http._tcp.{name}", "SRV") == [f"0 100 80 {name}."]
    answer = resolver.resolve(name, "A")
    assert answer.response.flags & dns.flags.AA


def test_headless_service_one_record_per_ready_pod(cs: Clientset, resolver: dns.resolver.Resolver) -> None:
    cs.core_v1.services("default").create(
        Service.from_dict(
            {
                "metadata": {"name": "db"},
                "spec": {
                    "clusterIP": "None",
                    "selector": {"app": "db"},
                    "ports": [{"name": "pg", "port": 5432}],
                },
            }
        )
    )
    for i, ready in enumerate([True, True, False]):
        running_pod(
            cs,
            f"db-{i}",
            f"10.244.0.{10 + i}",
            ready=ready,
            labels={"app": "db"},
            hostname=f"db-{i}",
            subdomain="db",
        )
    name = f"db.default.svc.{ZONE}"
    assert wait_for(lambda: ask(resolver, name, "A") == ["10.244.0.10", "10.244.0.11"], what="two ready pods")
    # StatefulSet-style pod hostnames through the governing headless Service
    assert ask(resolver, f"db-0.{name}", "A") == ["10.244.0.10"]
    assert ask(resolver, f"_pg._tcp.{name}", "SRV") == [
        f"0 100 5432 db-0.{name}.",
        f"0 100 5432 db-1.{name}.",
    ]
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve(f"db-2.{name}", "A")  # not ready: not published

    # the third pod becomes ready: it joins
    pod = cs.core_v1.pods("default").get("db-2")
    assert pod.status is not None and pod.status.conditions is not None
    pod.status.conditions[0].status = "True"
    cs.core_v1.pods("default").update_status(pod)
    wait_for(lambda: len(ask(resolver, name, "A")) == 3, what="db-2 published once ready")


def test_nxdomain_carries_the_soa(cluster: tuple[TestServer, DNSProcess]) -> None:
    q = dns.message.make_query(f"nope.default.svc.{ZONE}", "A")
    r = dns.query.udp(q, "127.0.0.1", port=cluster[1].port, timeout=2)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.flags & dns.flags.AA
    assert [rr.rdtype for rr in r.authority] == [dns.rdatatype.SOA]
    assert r.authority[0].name.to_text() == f"{ZONE}."


def test_tcp_and_nodata(
    cs: Clientset, cluster: tuple[TestServer, DNSProcess], resolver: dns.resolver.Resolver
) -> None:
    cs.core_v1.services("default").create(
        Service.from_dict(
            {"metadata": {"name": "tcpq"}, "spec": {"ports": [{"port": 53, "protocol": "UDP"}]}}
        )
    )
    name = f"tcpq.default.svc.{ZONE}"
    wait_for(lambda: ask(resolver, name, "A"), what="tcpq's A")
    r = dns.query.tcp(dns.message.make_query(name, "A"), "127.0.0.1", port=cluster[1].port, timeout=2)
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1
    # the name exists but has no AAAA: NOERROR, no answer, the SOA
    r = dns.query.udp(dns.message.make_query(name, "AAAA"), "127.0.0.1", port=cluster[1].port, timeout=2)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    assert [rr.rdtype for rr in r.authority] == [dns.rdatatype.SOA]


def test_external_name_and_out_of_zone(
    cs: Clientset, cluster: tuple[TestServer, DNSProcess], resolver: dns.resolver.Resolver
) -> None:
    cs.core_v1.services("default").create(
        Service.from_dict(
            {"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.org"}}
        )
    )
    name = f"ext.default.svc.{ZONE}"

    def cname() -> list[str]:
        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=cluster[1].port, timeout=2)
        return [rr.to_text() for rrset in r.answer for rr in rrset]

    assert wait_for(cname, what="ExternalName CNAME") == ["example.org."]
    r = dns.query.udp(
        dns.message.make_query("example.org", "A"), "127.0.0.1", port=cluster[1].port, timeout=2
    )
    assert r.rcode() == dns.rcode.REFUSED


def test_deleted_service_is_nxdomain(cs: Clientset, resolver: dns.resolver.Resolver) -> None:
    cs.core_v1.services("default").create(
        Service.from_dict({"metadata": {"name": "gone"}, "spec": {"ports": [{"port": 80}]}})
    )
    name = f"gone.default.svc.{ZONE}"
    wait_for(lambda: ask(resolver, name, "A"), what="gone's A")
    cs.core_v1.services("default").delete("gone")

    def nx() -> bool:
        try:
            resolver.resolve(name, "A")
        except dns.resolver.NXDOMAIN:
            return True
        return False

    wait_for(nx, what="NXDOMAIN after delete")


def test_pod_records_and_metrics(
    cluster: tuple[TestServer, DNSProcess], resolver: dns.resolver.Resolver
) -> None:
    import httpx

    assert ask(resolver, f"10-244-1-7.default.pod.{ZONE}", "A") == ["10.244.1.7"]
    metrics = httpx.get(cluster[1].url + "/metrics", timeout=5).text
    assert 'coredns_dns_requests_total{proto="udp",type="A"}' in metrics
    assert 'coredns_dns_responses_total{rcode="NOERROR"}' in metrics
