"""Fixtures of the kube-proxy tests: a private API server (no stand-ins), loopback backends (HTTP and
UDP servers the test runs on free ports), Services and EndpointSlices written by the test, and
condition waiting with deadlines."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.config import load_config
from pyclientgo.kubernetes import Clientset
from testserver.testing import TestServer


def wait_for(
    cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition", interval: float = 0.02
) -> Any:
    """Poll ``cond`` until it returns something truthy (returned), else fail after ``timeout``."""
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
        time.sleep(interval)


class Backend:
    """An HTTP server on a loopback address answering every GET with its name."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = outer.name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = str(self.server.server_address[0]), int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class UdpBackend:
    """A UDP server on a loopback address answering every datagram with ``name:datagram``."""

    def __init__(self, name: str, host: str = "127.0.0.1") -> None:
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            self.sock.sendto(self.name.encode() + b":" + data, addr)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def backends() -> Iterator[Callable[..., Backend]]:
    made: list[Backend] = []

    def make(name: str, host: str = "127.0.0.1", port: int = 0) -> Backend:
        b = Backend(name, host, port)
        made.append(b)
        return b

    try:
        yield make
    finally:
        for b in made:
            b.close()


@pytest.fixture
def udp_backends() -> Iterator[Callable[..., UdpBackend]]:
    made: list[UdpBackend] = []

    def make(name: str, host: str = "127.0.0.1") -> UdpBackend:
        b = UdpBackend(name, host)
        made.append(b)
        return b

    try:
        yield make
    finally:
        for b in made:
            b.close()


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    server = TestServer(data_dir=tmp_path_factory.mktemp("proxy-apiserver"), bookmark_interval=1.0)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def cs(apiserver: TestServer) -> Iterator[Clientset]:
    with Clientset(load_config(kubeconfig=str(apiserver.kubeconfig))) as client:
        yield client


def make_service(
    cs: Clientset,
    name: str,
    ports: list[dict[str, Any]],
    *,
    namespace: str = "default",
    type_: str = "ClusterIP",
    headless: bool = False,
    **spec: Any,
) -> Service:
    """Create a Service (no selector: its EndpointSlices are the test's) and return it as stored."""
    body: dict[str, Any] = {"type": type_, "ports": ports, **spec}
    if headless:
        body["clusterIP"] = "None"
    return cs.core_v1.services(namespace).create(
        Service.from_dict({"metadata": {"name": name}, "spec": body})
    )


def endpoint(
    ip: str, *, ready: bool = True, serving: bool | None = None, terminating: bool = False, **extra: Any
) -> dict[str, Any]:
    """One endpoint of a slice."""
    cond: dict[str, Any] = {"ready": ready, "serving": ready if serving is None else serving}
    if terminating:
        cond["terminating"] = True
    return {"addresses": [ip], "conditions": cond, **extra}


def write_slice(
    cs: Clientset,
    service: str,
    name: str,
    ports: list[dict[str, Any]],
    endpoints: list[dict[str, Any]],
    *,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
) -> EndpointSlice:
    """Create or replace the EndpointSlice ``name`` of ``service``."""
    body = EndpointSlice.from_dict(
        {
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/service-name": service, **(labels or {})},
            },
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": endpoints,
        }
    )
    client = cs.discovery_v1.endpoint_slices(namespace)
    try:
        current = client.get(name)
    except Exception:
        return client.create(body)
    assert current.metadata is not None and body.metadata is not None
    body.metadata.resource_version = current.metadata.resource_version
    return client.update(body)


def data_dir(tmp: Path, name: str) -> Path:
    d = tmp / name
    d.mkdir(parents=True, exist_ok=True)
    return d
