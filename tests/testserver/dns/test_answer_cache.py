"""The DNS server's answer cache: the query's ID is echoed, and a zone change is seen at once."""

from __future__ import annotations

import dns.message
import dns.rcode

from pyclientgo.api.core.v1 import Service
from testserver.dns.records import Zone, service_records
from testserver.dns.server import DNSServer


def _svc(ip: str) -> Service:
    return Service.from_dict(
        {"metadata": {"namespace": "ns", "name": "a"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
    )


def test_cached_answers_echo_the_id_and_follow_zone_changes() -> None:
    zone = Zone("cluster.local")
    server = DNSServer(zone)
    zone.set_service("ns", "a", service_records(_svc("10.96.0.1"), [], zone.origin_text))
    for qid in (1, 2, 65535):
        q = dns.message.make_query("a.ns.svc.cluster.local", "A")
        q.id = qid
        wire = server.answer(q.to_wire())
        assert wire is not None
        r = dns.message.from_wire(wire)
        assert r.id == qid and [rr.to_text() for rr in r.answer[0]] == ["10.96.0.1"]
    zone.set_service("ns", "a", service_records(_svc("10.96.0.2"), [], zone.origin_text))
    wire = server.answer(dns.message.make_query("a.ns.svc.cluster.local", "A").to_wire())
    assert wire is not None
    assert [rr.to_text() for rr in dns.message.from_wire(wire).answer[0]] == ["10.96.0.2"]
    zone.set_service("ns", "a", None)
    wire = server.answer(dns.message.make_query("a.ns.svc.cluster.local", "A").to_wire())
    assert wire is not None and dns.message.from_wire(wire).rcode() == dns.rcode.NXDOMAIN


def test_garbage_gets_formerr_or_nothing() -> None:
    server = DNSServer(Zone())
    assert server.answer(b"\x00\x01") is None
    wire = server.answer(b"\x12\x34" + b"\x01\x00" + b"\x00\x01" + b"\x00" * 6 + b"\xff\xff")
    assert wire is not None and wire[:2] == b"\x12\x34" and wire[3] & 0x0F == dns.rcode.FORMERR
