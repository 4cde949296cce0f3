"""kube-proxy and cluster DNS benchmark. Prints one JSON object:

- ``render_10000_services_x1_seconds`` / ``_x10_seconds``: rendering the whole nftables ruleset
  (one transaction) for 10,000 Services with 1 / 10 endpoints each;
- ``slice_change_to_rules_ms_p50`` / ``_p99``: with 1000 Services x 10 endpoints programmed, from an
  EndpointSlice update reaching the proxier's handler (as the informer delivers it) until the sync
  that programs it has returned from ``nft -f -`` (applied in a network namespace the benchmark creates
  when nft can be used, else dry-run: ``nft_applied`` says which); ``--changes`` updates, one sync each
  (partial syncs); ``of_which_nft_ms_p50``: the ``nft -f -`` process alone; ``full_sync_1000x10_seconds``:
  the first (full) sync;
- ``userspace_throughput_ratio``: bytes/s through the userspace proxier (in its own process) over bytes/s
  of a direct loopback connection, one TCP stream of ``--megabytes``; ``userspace_added_latency_us``:
  the median round trip of 1-byte ping-pongs through the proxier minus the direct one;
- ``dns_queries_per_second``: UDP A queries answered per second by a DNS server process (zone of
  1000 Services), with 64 queries in flight.

Run: ``uv run python tests/benchmarks/proxy.py [--changes 50] [--megabytes 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.rdatatype

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from testserver.dns.records import Zone, service_records
from testserver.dns.server import DNSServer
from testserver.proxy.endpoints import EndpointInfo
from testserver.proxy.nftables import NftablesProxier, can_use_nftables, render_ruleset
from testserver.proxy.proxier import ProxyServer
from testserver.proxy.service import ServicePortInfo, ServicePortName
from testserver.proxy.userspace import UserspaceProxier, service_listen_address


def _ip(base: int, i: int) -> str:
    return f"10.{base + i // 65536}.{i // 256 % 256}.{i % 256}"


def render_figure(services: int, endpoints: int) -> float:
    sm: dict[ServicePortName, ServicePortInfo] = {}
    em: dict[ServicePortName, list[EndpointInfo]] = {}
    for i in range(services):
        spn = ServicePortName("bench", f"svc-{i}", "http", "TCP")
        sm[spn] = ServicePortInfo(spn, _ip(96, i), 80, "TCP")
        em[spn] = [
            EndpointInfo(_ip(200, i * endpoints + j), 8080, True, True, False) for j in range(endpoints)
        ]
    start = time.perf_counter()
    render_ruleset(sm, em)
    return time.perf_counter() - start


def _service(i: int) -> Service:
    return Service.from_dict(
        {
            "metadata": {"namespace": "bench", "name": f"svc-{i}"},
            "spec": {
                "clusterIP": _ip(96, i),
                "clusterIPs": [_ip(96, i)],
                "ports": [{"name": "http", "port": 80}],
            },
        }
    )


def _slice(i: int, generation: int, endpoints: int = 10) -> EndpointSlice:
    return EndpointSlice.from_dict(
        {
            "metadata": {
                "namespace": "bench",
                "name": f"svc-{i}-abc",
                "labels": {"kubernetes.io/service-name": f"svc-{i}"},
            },
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080 + generation % 2}],
            "endpoints": [
                {"addresses": [_ip(200, i * endpoints + j)], "conditions": {"ready": True}}
                for j in range(endpoints)
            ],
        }
    )


@contextlib.contextmanager
def _netns() -> Iterator[str]:
    name = f"pcg-test-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


async def _programming(changes: int, netns: str | None) -> dict[str, Any]:
    with open(os.devnull, "w") as devnull:
        proxier = NftablesProxier(dry_run=netns is None, netns=netns, out=devnull, full_sync_period=3600)
        proxy = ProxyServer(proxier, min_sync_period=0.0, sync_period=3600)
        for i in range(1000):
            proxy.on_service_add(_service(i))
            proxy.on_slice_add(_slice(i, 0))
        proxy.services_synced = proxy.endpoints_synced = True
        start = time.perf_counter()
        await proxy.sync_proxy_rules()
        full = time.perf_counter() - start
        lat: list[float] = []
        nft_ms: list[float] = []
        run_nft = proxier._run_nft

        async def timed(transaction: str) -> None:
            t = time.perf_counter()
            await run_nft(transaction)
            nft_ms.append((time.perf_counter() - t) * 1000)

        if netns is not None:
            proxier._run_nft = timed  # type: ignore[method-assign]
        for n in range(changes):
            i = (n * 37) % 1000
            t0 = time.perf_counter()
            proxy.on_slice_update(None, _slice(i, n + 1))
            await proxy.sync_proxy_rules()
            lat.append((time.perf_counter() - t0) * 1000)
            assert not proxier.last_sync_full
    lat.sort()
    return {
        "full_sync_1000x10_seconds": round(full, 3),
        "slice_change_to_rules_ms_p50": round(statistics.median(lat), 2),
        "slice_change_to_rules_ms_p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
        "changes": changes,
        "nft_applied": netns is not None,
        "of_which_nft_ms_p50": round(statistics.median(nft_ms), 2) if nft_ms else None,
    }


# -- userspace ----------------------------------------------------------------------------------------


def _sink_server() -> tuple[socket.socket, int]:
    """A loopback server that echoes 1-byte pings and discards bulk data."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_handle, args=(conn,), daemon=True).start()

    def _handle(conn: socket.socket) -> None:
        with conn:
            mode = conn.recv(1)
            if mode == b"p":
                while data := conn.recv(1):
                    conn.sendall(data)
            else:
                while conn.recv(1 << 20):
                    pass
                conn.sendall(b"done")

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def _run_userspace(backend_port: int, ready: Any) -> None:
    async def main() -> None:
        proxier = UserspaceProxier(nodeport_addresses=())
        spn = ServicePortName("bench", "us", "", "TCP")
        svc = ServicePortInfo(spn, "10.96.200.1", 18080, "TCP")
        await proxier.sync({spn: svc}, {spn: [EndpointInfo("127.0.0.1", backend_port, True, True, False)]})
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _bulk(host: str, port: int, megabytes: int) -> float:
    chunk = b"x" * (1 << 20)
    with socket.create_connection((host, port)) as s:
        start = time.perf_counter()
        s.sendall(b"b")
        for _ in range(megabytes):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        assert s.recv(4) == b"done"
        return megabytes * (1 << 20) / (time.perf_counter() - start)


def _pingpong(host: str, port: int, n: int = 2000) -> float:
    with socket.create_connection((host, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"p")
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            s.sendall(b"!")
            s.recv(1)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e6


def userspace_figures(megabytes: int) -> dict[str, Any]:
    srv, port = _sink_server()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_run_userspace, args=(port, ready), daemon=True)
    proc.start()
    try:
        assert ready.wait(30), "userspace proxier did not start"
        addr = service_listen_address("10.96.200.1")
        direct = max(_bulk("127.0.0.1", port, megabytes) for _ in range(2))
        proxied = max(_bulk(addr, 18080, megabytes) for _ in range(2))
        direct_rtt = _pingpong("127.0.0.1", port)
        proxied_rtt = _pingpong(addr, 18080)
    finally:
        proc.terminate()
        proc.join(10)
        srv.close()
    return {
        "direct_mb_per_s": round(direct / 1e6, 1),
        "userspace_mb_per_s": round(proxied / 1e6, 1),
        "userspace_throughput_ratio": round(proxied / direct, 3),
        "direct_rtt_us": round(direct_rtt, 1),
        "userspace_added_latency_us": round(proxied_rtt - direct_rtt, 1),
    }


# -- DNS ----------------------------------------------------------------------------------------------


def _run_dns(port_q: Any) -> None:
    async def main() -> None:
        zone = Zone("cluster.local")
        for i in range(1000):
            svc = _service(i)
            zone.set_service("bench", f"svc-{i}", service_records(svc, [], "cluster.local."))
        server = DNSServer(zone, host="127.0.0.1", port=0)
        await server.start()
        port_q.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def dns_figure(seconds: float = 5.0, window: int = 64) -> dict[str, Any]:
    q: Any = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_run_dns, args=(q,), daemon=True)
    proc.start()
    try:
        port = q.get(timeout=30)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        wires = [
            dns.message.make_query(f"svc-{i}.bench.svc.cluster.local", dns.rdatatype.A).to_wire()
            for i in range(1000)
        ]
        answered = lost = 0
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds:
            for _ in range(window):
                s.sendto(wires[i % 1000], ("127.0.0.1", port))
                i += 1
            for _ in range(window):
                try:
                    s.recv(4096)
                    answered += 1
                except TimeoutError:
                    lost += 1
                    break
        elapsed = time.perf_counter() - start
        s.close()
    finally:
        proc.terminate()
        proc.join(10)
    return {"dns_queries_per_second": round(answered / elapsed), "dns_lost": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    out: dict[str, Any] = {
        "render_10000_services_x1_seconds": round(render_figure(10000, 1), 3),
        "render_10000_services_x10_seconds": round(render_figure(10000, 10), 3),
    }
    usable, why = can_use_nftables()
    if usable:
        with _netns() as ns:
            out.update(asyncio.run(_programming(args.changes, ns)))
    else:
        out.update(asyncio.run(_programming(args.changes, None)))
        out["nft_unavailable"] = why
    out.update(userspace_figures(args.megabytes))
    out.update(dns_figure())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
