"""The DNS server: UDP and TCP on one port, answering from a :class:`~testserver.dns.records.Zone`.

Message parsing and the wire format are dnspython's. Responses are authoritative (AA), without
recursion (a question outside the zone is REFUSED); a UDP response larger than the client's limit
(512 bytes, or its EDNS payload size) is sent truncated (TC) so the client retries over TCP. A
message that does not parse gets FORMERR when its header could be read, else is dropped.

Answers are cached by the query's bytes after its ID (question, flags, EDNS) until the zone changes,
so a repeated question costs a dictionary lookup instead of a parse and a render.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
from prometheus_client import CollectorRegistry, Counter, Histogram

from testserver.dns.records import Zone

__all__ = ["DNSServer"]

_log = logging.getLogger("coredns")


class _Metrics:
    """CoreDNS's request metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "coredns_dns_requests",
            "Counter of DNS requests made per zone, protocol and family.",
            ["proto", "type"],
            registry=registry,
        )
        self.responses = Counter(
            "coredns_dns_responses", "Counter of response status codes.", ["rcode"], registry=registry
        )
        self.duration = Histogram(
            "coredns_dns_request_duration_seconds",
            "Histogram of the time (in seconds) each request took.",
            buckets=(
                0.00025,
                0.0005,
                0.001,
                0.002,
                0.004,
                0.008,
                0.016,
                0.032,
                0.064,
                0.128,
                0.256,
                0.512,
                1.024,
            ),
            registry=registry,
        )


class DNSServer:
    """Serves ``zone`` on ``host:port`` over UDP and TCP (port 0: a free port, the same for both)."""

    def __init__(
        self, zone: Zone, *, host: str = "0.0.0.0", port: int = 53, registry: CollectorRegistry | None = None
    ) -> None:
        self.zone = zone
        self.host = host
        self.port = port
        """After :meth:`start`, the bound port."""
        self._metrics = _Metrics(registry if registry is not None else CollectorRegistry())
        self._cache: dict[tuple[str, bytes], tuple[bytes, str, str]] = {}
        self._cache_version = -1
        self.cache_size = 10000
        """Cached answers at most (the cache is emptied when full or when the zone changes)."""
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def answer(self, wire: bytes, proto: str = "udp") -> bytes | None:
        """The response to one query message (``None``: not answerable, dropped)."""
        start = time.monotonic()
        if self._cache_version != self.zone.version:
            self._cache.clear()
            self._cache_version = self.zone.version
        key = (proto, wire[2:])
        hit = self._cache.get(key) if len(wire) >= 12 else None
        if hit is not None:
            body, hit_qtype, hit_rcode = hit
            self._count(proto, hit_qtype, hit_rcode, start)
            return wire[:2] + body
        version = self.zone.version
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return self._formerr(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        qtype = "other"
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        else:
            q = query.question[0]
            qtype = dns.rdatatype.to_text(q.rdtype)
            if q.rdclass != dns.rdataclass.IN:
                response.set_rcode(dns.rcode.REFUSED)
            else:
                rcode, answer, authority = self.zone.lookup(q.name, q.rdtype)
                response.set_rcode(dns.rcode.Rcode(rcode))
                if rcode == dns.rcode.REFUSED:
                    response.flags &= ~dns.flags.AA
                response.answer.extend(answer)
                response.authority.extend(authority)
        limit = 65535
        if proto == "udp":
            limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            out = response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.flags |= dns.flags.TC
            out = response.to_wire(max_size=limit)
        rcode_text = dns.rcode.to_text(response.rcode())
        if version == self.zone.version:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[key] = (out[2:], qtype, rcode_text)
        self._count(proto, qtype, rcode_text, start)
        return out

    def _count(self, proto: str, qtype: str, rcode: str, start: float) -> None:
        self._metrics.requests.labels(proto, qtype).inc()
        self._metrics.responses.labels(rcode).inc()
        self._metrics.duration.observe(time.monotonic() - start)

    def _formerr(self, wire: bytes) -> bytes | None:
        if len(wire) < 12:
            return None
        (qid,) = struct.unpack("!H", wire[:2])
        flags = 0x8000 | (wire[2] & 0x78) << 8 | dns.rcode.FORMERR  # QR, the query's opcode, FORMERR
        self._metrics.responses.labels("FORMERR").inc()
        return struct.pack("!HHHHHH", qid, flags, 0, 0, 0, 0)

    async def start(self) -> None:
        """Bind UDP, then TCP on the same port."""
        loop = asyncio.get_running_loop()
        server = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = cast(asyncio.DatagramTransport, transport)

            def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
                try:
                    out = server.answer(data, "udp")
                except Exception:
                    _log.exception("answering a query from %s", addr)
                    return
                if out is not None:
                    self.transport.sendto(out, addr)

        transport, _ = await loop.create_datagram_endpoint(Udp, local_addr=(self.host, self.port))
        self._udp = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port, reuse_address=True)
        _log.info("serving DNS for %s on %s:%d (udp, tcp)", self.zone.origin_text, self.host, self.port)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readexactly(2), 30.0)
                    (length,) = struct.unpack("!H", head)
                    wire = await asyncio.wait_for(reader.readexactly(length), 10.0)
                except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                    return
                out = self.answer(wire, "tcp")
                if out is None:
                    return
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        finally:
            writer.close()

    async def stop(self) -> None:
        """Close both sockets."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def serve(self) -> None:
        """Start and serve until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
