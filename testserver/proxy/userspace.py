"""The userspace proxier (kube-proxy's original design, pkg/proxy/userspace before 1.26), on asyncio.

Every Service port gets a listener on a loopback address — ``127.b.c.d`` for the ClusterIP
``a.b.c.d`` (:func:`service_listen_address`), or the ClusterIP itself when the node may add
addresses (``bind_cluster_ips``) — and every NodePort a listener on the node's NodePort addresses.
A connection (TCP) or a client's datagrams (UDP) go to the next ready endpoint round-robin
(:class:`LoadBalancerRR`), or to the endpoint a client was last sent to when the Service has
``sessionAffinity: ClientIP`` (for ``timeoutSeconds``). An endpoint that refuses a connection is
skipped and the next one tried, each once; a connection to a Service without endpoints is reset at
once. Once connected, a TCP connection's bytes move in the kernel with splice(2), one thread per
direction (asyncio piping where splice is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from testserver.proxy.endpoints import EndpointsMap, categorize_endpoints
from testserver.proxy.service import ServicePortInfo, ServicePortMap, ServicePortName

__all__ = ["LoadBalancerRR", "UserspaceProxier", "service_listen_address"]

_log = logging.getLogger("kube-proxy")

_HIGH_WATER = 4 * 1024 * 1024


def service_listen_address(cluster_ip: str, bind_cluster_ips: bool = False) -> str:
    """Where the userspace proxier listens for ``cluster_ip``: 127.b.c.d for a.b.c.d (IPv6: ::1)."""
    if bind_cluster_ips:
        return cluster_ip
    ip = ipaddress.ip_address(cluster_ip)
    if ip.version == 6:
        return "::1"
    b = ip.packed
    return f"127.{b[1]}.{b[2]}.{b[3]}"


@dataclass
class _Balancer:
    endpoints: list[str] = field(default_factory=list)
    index: int = 0
    affinity_seconds: int = 0
    affinity: dict[str, tuple[str, float]] = field(default_factory=dict)


class LoadBalancerRR:
    """Round-robin over each service port's endpoints, with ClientIP affinity (kube's LoadBalancerRR)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._services: dict[tuple[ServicePortName, str], _Balancer] = {}

    def update(self, key: tuple[ServicePortName, str], endpoints: list[str], affinity_seconds: int) -> None:
        """Set the endpoints ("ip:port") of a service port; affinity to a removed endpoint is dropped."""
        b = self._services.setdefault(key, _Balancer())
        if b.endpoints != endpoints:
            b.endpoints = list(endpoints)
            b.index = 0
            live = set(endpoints)
            b.affinity = {c: v for c, v in b.affinity.items() if v[0] in live}
        if affinity_seconds != b.affinity_seconds:
            b.affinity_seconds = affinity_seconds
            if not affinity_seconds:
                b.affinity.clear()

    def remove(self, key: tuple[ServicePortName, str]) -> None:
        """Forget a service port."""
        self._services.pop(key, None)

    def endpoints(self, key: tuple[ServicePortName, str]) -> list[str]:
        """The endpoints in rotation."""
        b = self._services.get(key)
        return list(b.endpoints) if b is not None else []

    def next_endpoint(
        self, key: tuple[ServicePortName, str], client_ip: str, skip: set[str] | None = None
    ) -> str | None:
        """The endpoint for a new connection from ``client_ip`` (not one in ``skip``), or None."""
        b = self._services.get(key)
        if b is None or not b.endpoints:
            return None
        now = self._clock()
        skip = skip or set()
        if b.affinity_seconds:
            held = b.affinity.get(client_ip)
            if held is not None and held[0] not in skip and now - held[1] < b.affinity_seconds:
                b.affinity[client_ip] = (held[0], now)
                return held[0]
        for _ in range(len(b.endpoints)):
            ep = b.endpoints[b.index % len(b.endpoints)]
            b.index = (b.index + 1) % len(b.endpoints)
            if ep in skip:
                continue
            if b.affinity_seconds:
                b.affinity[client_ip] = (ep, now)
            return ep
        return None


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


class _Pipe(asyncio.Protocol):
    """One side of a proxied TCP connection; forwards what it receives to ``peer``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=_HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def eof_received(self) -> bool:
        if self.peer is not None and self.peer.transport is not None and self.peer.transport.can_write_eof():
            self.peer.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _ClientPipe(_Pipe):
    """The accepted side: connects to an endpoint, then pipes both ways."""

    def __init__(self, proxier: UserspaceProxier, key: tuple[ServicePortName, str]) -> None:
        super().__init__()
        self.proxier = proxier
        self.key = key

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        peer = self.transport.get_extra_info("peername")
        client_ip = peer[0] if peer else ""
        task = asyncio.get_running_loop().create_task(self._connect(client_ip))
        self.proxier._tasks.add(task)
        task.add_done_callback(self.proxier._tasks.discard)

    async def _connect(self, client_ip: str) -> None:
        loop = asyncio.get_running_loop()
        tried: set[str] = set()
        while self.transport is not None:
            endpoint = self.proxier.balancer.next_endpoint(self.key, client_ip, tried)
            if endpoint is None:
                _reset(self.transport)
                return
            tried.add(endpoint)
            host, port = _split(endpoint)
            upstream_sock = socket.socket(
                socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM
            )
            upstream_sock.setblocking(False)
            try:
                await asyncio.wait_for(
                    loop.sock_connect(upstream_sock, (host, port)), self.proxier.connect_timeout
                )
            except (OSError, TimeoutError) as err:
                upstream_sock.close()
                _log.debug("%s: endpoint %s failed (%s), trying the next", self.key[0], endpoint, err)
                continue
            if self.transport is None:
                upstream_sock.close()
                return
            if _HAVE_SPLICE:
                self._splice(upstream_sock)
                return
            _, upstream = await loop.create_connection(_Pipe, sock=upstream_sock)
            if self.transport is None:
                if upstream.transport is not None:
                    upstream.transport.close()
                return
            upstream.peer, self.peer = self, upstream
            self.transport.resume_reading()
            return

    def _splice(self, upstream: socket.socket) -> None:
        """Hand both connections to two threads moving bytes with splice(2) (no copy through Python)."""
        assert self.transport is not None
        client_sock = self.transport.get_extra_info("socket")
        client = socket.socket(fileno=os.dup(client_sock.fileno()))
        self.transport.close()  # closes asyncio's descriptor; the duplicate keeps the connection
        self.transport = None
        client.setblocking(True)
        upstream.setblocking(True)
        _SpliceRelay(client, upstream).start()


_HAVE_SPLICE = hasattr(os, "splice")
_F_SETPIPE_SZ = 1031


class _SpliceRelay:
    """Two threads, one per direction, each splicing socket → pipe → socket until EOF."""

    def __init__(self, a: socket.socket, b: socket.socket) -> None:
        self.a, self.b = a, b
        self._left = 2
        self._lock = threading.Lock()

    def start(self) -> None:
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            threading.Thread(target=self._pump, args=(src, dst), name="userspace-splice", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        r, w = os.pipe()
        try:
            with contextlib.suppress(OSError):
                fcntl.fcntl(w, _F_SETPIPE_SZ, 1 << 20)
            while True:
                n = os.splice(src.fileno(), w, 1 << 20)
                if n == 0:
                    break
                while n:
                    n -= os.splice(r, dst.fileno(), n)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        except OSError:  # reset: stop the other direction too
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        finally:
            os.close(r)
            os.close(w)
            with self._lock:
                self._left -= 1
                last = self._left == 0
            if last:
                self.a.close()
                self.b.close()


def _reset(transport: asyncio.Transport) -> None:
    """Close with RST (SO_LINGER 0): the client sees the connection refused/reset at once."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


class _UdpSession(asyncio.DatagramProtocol):
    """A client's datagrams to one endpoint, and the endpoint's replies back to the client."""

    def __init__(self, listener: _UdpListener, client: tuple[str, int], endpoint: str) -> None:
        self.listener = listener
        self.client = client
        self.endpoint = endpoint
        self.transport: asyncio.DatagramTransport | None = None
        self.last_used = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.last_used = time.monotonic()
        if self.listener.transport is not None:
            self.listener.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        _log.debug("udp endpoint %s: %s", self.endpoint, exc)
        self.listener.drop(self.client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class _UdpListener(asyncio.DatagramProtocol):
    """The Service port's UDP socket: a session per client address."""

    def __init__(self, proxier: UserspaceProxier, key: tuple[ServicePortName, str]) -> None:
        self.proxier = proxier
        self.key = key
        self.transport: asyncio.DatagramTransport | None = None
        self.sessions: dict[tuple[str, int], _UdpSession] = {}
        self._pending: dict[tuple[str, int], list[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        client = (str(addr[0]), int(addr[1]))
        session = self.sessions.get(client)
        if session is not None and session.transport is not None:
            session.last_used = time.monotonic()
            session.transport.sendto(data)
            return
        if client in self._pending:
            self._pending[client].append(data)
            return
        endpoint = self.proxier.balancer.next_endpoint(self.key, client[0])
        if endpoint is None:
            return  # no endpoints: dropped
        self._pending[client] = [data]
        task = asyncio.get_running_loop().create_task(self._open(client, endpoint))
        self.proxier._tasks.add(task)
        task.add_done_callback(self.proxier._tasks.discard)

    async def _open(self, client: tuple[str, int], endpoint: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, session = await loop.create_datagram_endpoint(
                lambda: _UdpSession(self, client, endpoint), remote_addr=_split(endpoint)
            )
        except OSError as err:
            _log.debug("udp endpoint %s: %s", endpoint, err)
            self._pending.pop(client, None)
            return
        self.sessions[client] = session
        for data in self._pending.pop(client, []):
            if session.transport is not None:
                session.transport.sendto(data)

    def drop(self, client: tuple[str, int]) -> None:
        session = self.sessions.pop(client, None)
        if session is not None and session.transport is not None:
            session.transport.close()

    def expire(self, idle: float) -> None:
        now = time.monotonic()
        for client, session in list(self.sessions.items()):
            if now - session.last_used > idle or session.endpoint not in self.proxier.balancer.endpoints(
                self.key
            ):
                self.drop(client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for client in list(self.sessions):
            self.drop(client)


@dataclass
class _Listener:
    address: str
    port: int
    protocol: str
    close: Callable[[], None]


class UserspaceProxier:
    """Listeners per Service port and NodePort, balanced by :class:`LoadBalancerRR`."""

    def __init__(
        self,
        *,
        nodeport_addresses: tuple[str, ...] = ("0.0.0.0",),
        bind_cluster_ips: bool = False,
        udp_idle_timeout: float = 0.25,
        connect_timeout: float = 2.0,
    ) -> None:
        self.nodeport_addresses = nodeport_addresses
        self.bind_cluster_ips = bind_cluster_ips
        self.udp_idle_timeout = udp_idle_timeout
        self.connect_timeout = connect_timeout
        self.balancer = LoadBalancerRR()
        self._listeners: dict[tuple[ServicePortName, str], list[_Listener]] = {}
        self._udp: dict[tuple[ServicePortName, str], _UdpListener] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None

    def listen_addresses(self, svc: ServicePortInfo) -> list[tuple[str, str, int]]:
        """(kind, address, port) of every listener ``svc`` gets: its ClusterIP's, and its NodePorts."""
        out = [("cluster", service_listen_address(svc.cluster_ip, self.bind_cluster_ips), svc.port)]
        if svc.node_port:
            out += [("nodeport", addr, svc.node_port) for addr in self.nodeport_addresses]
        return out

    async def sync(self, service_map: ServicePortMap, endpoints_map: EndpointsMap) -> None:
        """Open/close listeners for the services and set every rotation to the ready endpoints."""
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap())
        wanted: dict[tuple[ServicePortName, str], tuple[ServicePortInfo, str, int]] = {}
        for spn, svc in service_map.items():
            cluster, local, _, _ = categorize_endpoints(endpoints_map.get(spn, []), svc)
            for kind, addr, port in self.listen_addresses(svc):
                key = (spn, f"{kind}/{addr}")
                wanted[key] = (svc, addr, port)
                local_only = svc.internal_policy_local if kind == "cluster" else svc.external_policy_local
                eps = local if local_only else cluster
                affinity = svc.sticky_max_age_seconds if svc.session_affinity_client_ip else 0
                self.balancer.update(key, [str(e) for e in eps], affinity)
        for key in [k for k in self._listeners if k not in wanted]:
            self._close(key)
        errors: list[str] = []
        for key, (svc, addr, port) in wanted.items():
            current = self._listeners.get(key)
            if current and (current[0].port, current[0].protocol) == (port, svc.protocol):
                continue
            if current:
                self._close(key, keep_balancer=True)
            try:
                await self._open(key, svc.protocol, addr, port)
            except OSError as err:
                errors.append(f"{key[0]} on {addr}:{port}/{svc.protocol}: {err}")
        if errors:
            raise RuntimeError("could not open listeners: " + "; ".join(errors))

    async def _open(self, key: tuple[ServicePortName, str], protocol: str, addr: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        if protocol == "TCP":
            server = await loop.create_server(
                lambda: _ClientPipe(self, key), addr, port, reuse_address=True, backlog=1024
            )
            self._listeners[key] = [_Listener(addr, port, protocol, server.close)]
        elif protocol == "UDP":
            transport, proto = await loop.create_datagram_endpoint(
                lambda: _UdpListener(self, key), local_addr=(addr, port)
            )
            self._udp[key] = proto
            self._listeners[key] = [_Listener(addr, port, protocol, transport.close)]
        else:
            _log.warning("%s: protocol %s is not proxied in userspace mode", key[0], protocol)
            self._listeners[key] = [_Listener(addr, port, protocol, lambda: None)]
            return
        _log.info("%s: listening on %s:%d/%s", key[0], addr, port, protocol)

    def _close(self, key: tuple[ServicePortName, str], keep_balancer: bool = False) -> None:
        for listener in self._listeners.pop(key, []):
            listener.close()
        self._udp.pop(key, None)
        if not keep_balancer:
            self.balancer.remove(key)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, self.udp_idle_timeout / 2))
            for udp in list(self._udp.values()):
                udp.expire(self.udp_idle_timeout)

    async def cleanup(self) -> None:
        """Close every listener."""
        for key in list(self._listeners):
            self._close(key)
        if self._reaper is not None:
            self._reaper.cancel()
        for task in list(self._tasks):
            task.cancel()
