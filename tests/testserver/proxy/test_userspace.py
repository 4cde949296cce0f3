"""kube-proxy's userspace mode as a child process on a real API server: Services and EndpointSlices
written by the test, backends the test runs on loopback ports, traffic to the per-service loopback
address (127.b.c.d for the ClusterIP a.b.c.d) and to NodePorts on 127.0.0.1."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from pyclientgo.kubernetes import Clientset
from testserver.proxy.testing import ProxyProcess
from testserver.proxy.userspace import service_listen_address
from testserver.testing import TestServer

from .conftest import Backend, UdpBackend, endpoint, make_service, wait_for, write_slice

NODE = "proxy-node"


@pytest.fixture(scope="module")
def proxy(apiserver: TestServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    p = ProxyProcess(
        apiserver.kubeconfig,
        "--proxy-mode",
        "userspace",
        "--min-sync-period",
        "50ms",
        "--nodeport-addresses",
        "127.0.0.1/32",
        "--hostname-override",
        NODE,
        data_dir=tmp_path_factory.mktemp("kube-proxy"),
    )
    p.start()
    try:
        yield p
    finally:
        p.cleanup()


def get(host: str, port: int, timeout: float = 5.0) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def try_get(host: str, port: int) -> str | None:
    try:
        return get(host, port, timeout=2.0)
    except OSError:
        return None


def slices_for(cs: Clientset, svc: str, bs: list[Backend], *, port_name: str = "") -> None:
    for i, b in enumerate(bs):
        write_slice(
            cs,
            svc,
            f"{svc}-{i}",
            [{"name": port_name, "port": b.port, "protocol": "TCP"}],
            [endpoint(b.host)],
        )


def address(cs: Clientset, name: str) -> str:
    svc = cs.core_v1.services("default").get(name)
    assert svc.spec is not None and svc.spec.cluster_ip
    return service_listen_address(svc.spec.cluster_ip)


def proxied_endpoints(proxy: ProxyProcess) -> float:
    """kubeproxy_proxied_endpoints: the endpoints the last sync programmed."""
    import httpx

    for line in httpx.get(proxy.url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("kubeproxy_proxied_endpoints "):
            return float(line.split()[1])
    return 0.0


def test_mode_logged(proxy: ProxyProcess) -> None:
    assert "using userspace proxy mode: --proxy-mode=userspace" in proxy.log_text()


def test_requests_are_balanced_over_backends(
    proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]
) -> None:
    bs = [backends(f"web-{i}") for i in range(3)]
    make_service(cs, "web", [{"port": 80, "targetPort": 8080}])
    slices_for(cs, "web", bs)
    addr = address(cs, "web")
    # the three slices may reach the proxy in different syncs: wait until all are in rotation
    wait_for(
        lambda: {try_get(addr, 80) for _ in range(6)} == {"web-0", "web-1", "web-2"}, what="web served by all"
    )
    seen = {get(addr, 80) for _ in range(20)}
    assert len(seen) >= 2, seen
    assert seen <= {"web-0", "web-1", "web-2"}


def test_not_ready_endpoint_leaves_rotation_within_1s(
    proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]
) -> None:
    bs = [backends(f"nr-{i}") for i in range(3)]
    make_service(cs, "notready", [{"port": 80}])
    slices_for(cs, "notready", bs)
    addr = address(cs, "notready")
    wait_for(
        lambda: {get(addr, 80) for _ in range(6)} == {"nr-0", "nr-1", "nr-2"}, what="all three in rotation"
    )
    write_slice(
        cs,
        "notready",
        "notready-1",
        [{"port": bs[1].port, "protocol": "TCP"}],
        [endpoint(bs[1].host, ready=False)],
    )

    def gone() -> bool:
        return "nr-1" not in {get(addr, 80) for _ in range(6)}

    wait_for(gone, timeout=1.0, what="nr-1 out of the rotation within 1 s of its slice changing")
    assert "nr-1" not in {get(addr, 80) for _ in range(12)}


def test_service_without_endpoints_is_refused_at_once(
    proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]
) -> None:
    make_service(cs, "empty", [{"port": 80}])
    addr = address(cs, "empty")

    # a listener exists once synced (the kube-proxy metric counts syncs); a connection is reset at once
    def reset() -> bool:
        with socket.create_connection((addr, 80), timeout=2.0) as s:
            s.settimeout(2.0)
            try:
                data = s.recv(1)
            except ConnectionResetError:
                return True
            return data == b""

    assert wait_for(reset, what="connection to a Service without endpoints closed")
    # and the same address serves once an endpoint appears
    b = backends("late")
    write_slice(cs, "empty", "empty-0", [{"port": b.port, "protocol": "TCP"}], [endpoint(b.host)])
    assert wait_for(lambda: try_get(addr, 80), what="served after an endpoint appeared") == "late"


def test_refusing_endpoint_is_skipped(
    proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]
) -> None:
    good = backends("good")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    make_service(cs, "flaky", [{"port": 80}])
    write_slice(cs, "flaky", "flaky-0", [{"port": dead_port, "protocol": "TCP"}], [endpoint("127.0.0.1")])
    write_slice(cs, "flaky", "flaky-1", [{"port": good.port, "protocol": "TCP"}], [endpoint(good.host)])
    addr = address(cs, "flaky")
    wait_for(lambda: try_get(addr, 80), what="flaky served")
    assert [get(addr, 80) for _ in range(10)] == ["good"] * 10


def test_nodeport(proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]) -> None:
    bs = [backends(f"np-{i}") for i in range(2)]
    svc = make_service(cs, "np", [{"port": 80}], type_="NodePort")
    assert svc.spec is not None and svc.spec.ports is not None
    node_port = svc.spec.ports[0].node_port
    assert node_port
    slices_for(cs, "np", bs)
    wait_for(
        lambda: {try_get("127.0.0.1", node_port) for _ in range(4)} == {"np-0", "np-1"},
        what="NodePort served",
    )
    seen = {get("127.0.0.1", node_port) for _ in range(10)}
    assert seen == {"np-0", "np-1"}


def test_client_ip_affinity(proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]) -> None:
    already = proxied_endpoints(proxy)
    bs = [backends(f"aff-{i}") for i in range(3)]
    make_service(
        cs,
        "sticky",
        [{"port": 80}],
        sessionAffinity="ClientIP",
        sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}},
    )
    slices_for(cs, "sticky", bs)
    addr = address(cs, "sticky")
    # all three slices synced (the listener's endpoints count in the proxy's metrics), then sticky
    wait_for(lambda: proxied_endpoints(proxy) >= 3 + already, what="sticky's endpoints synced")
    first = wait_for(lambda: try_get(addr, 80), what="sticky served")
    assert {get(addr, 80) for _ in range(15)} == {first}


def test_udp(proxy: ProxyProcess, cs: Clientset, udp_backends: Callable[..., UdpBackend]) -> None:
    bs = [udp_backends(f"udp-{i}") for i in range(2)]
    make_service(cs, "dns-like", [{"name": "u", "port": 5353, "protocol": "UDP"}])
    for i, b in enumerate(bs):
        write_slice(
            cs,
            "dns-like",
            f"dns-like-{i}",
            [{"name": "u", "port": b.port, "protocol": "UDP"}],
            [endpoint(b.host)],
        )
    addr = address(cs, "dns-like")

    def ask(payload: bytes) -> bytes | None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.5)
            s.sendto(payload, (addr, 5353))
            try:
                return s.recvfrom(65535)[0]
            except TimeoutError:
                return None

    wait_for(
        lambda: {ask(b"ping") for _ in range(4)} == {b"udp-0:ping", b"udp-1:ping"},
        what="UDP answered by both",
    )
    answers = {ask(b"hello") for _ in range(10)}
    assert answers == {b"udp-0:hello", b"udp-1:hello"}


def test_deleted_service_stops_listening(
    proxy: ProxyProcess, cs: Clientset, backends: Callable[..., Backend]
) -> None:
    b = backends("bye")
    make_service(cs, "bye", [{"port": 80}])
    slices_for(cs, "bye", [b])
    addr = address(cs, "bye")
    wait_for(lambda: try_get(addr, 80), what="bye served")
    cs.core_v1.services("default").delete("bye")

    def refused() -> bool:
        try:
            socket.create_connection((addr, 80), timeout=1.0).close()
        except ConnectionRefusedError:
            return True
        return False

    wait_for(refused, what="listener closed after the Service was deleted")


def test_healthz_and_metrics(proxy: ProxyProcess) -> None:
    import httpx

    assert httpx.get(proxy.url + "/healthz", timeout=5).status_code == 200
    assert httpx.get(proxy.url + "/livez", timeout=5).status_code == 200
    metrics = httpx.get(proxy.url + "/metrics", timeout=5).text
    for name in (
        "kubeproxy_sync_proxy_rules_duration_seconds_count",
        "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
        "kubeproxy_network_programming_duration_seconds_count",
    ):
        assert name in metrics
    last = [
        line
        for line in metrics.splitlines()
        if line.startswith("kubeproxy_sync_proxy_rules_last_timestamp_seconds ")
    ]
    assert last and float(last[0].split()[1]) > time.time() - 600
