"""kube-proxy (userspace mode) fed by the controller-manager's real endpointslice controller: a
selector Service over three pods the test marks running and ready (as a kubelet would) with IPs on
loopback (127.0.0.2-4, one backend each on the same port), a pod going not-ready leaving the rotation."""

from __future__ import annotations

import importlib
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import Node, Pod, Service
from pyclientgo.config import load_config
from pyclientgo.kubernetes import Clientset
from testserver.proxy.testing import ProxyProcess
from testserver.proxy.userspace import service_listen_address
from testserver.testing import TestServer

from .conftest import Backend, wait_for
from .test_userspace import get, try_get

# the controller-manager child process of the controllers' tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "controllers"))
ControllerManager: Any = importlib.import_module("controller_manager_fixture").ControllerManager

IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Clientset, ProxyProcess]]:
    root = tmp_path_factory.mktemp("proxy-eps")
    with TestServer(data_dir=root / "apiserver", bookmark_interval=1.0) as server:
        with ControllerManager(
            server.kubeconfig, "--controllers", "endpointslice,serviceaccount", data_dir=root / "cm"
        ):
            with ProxyProcess(
                server.kubeconfig,
                "--proxy-mode",
                "userspace",
                "--min-sync-period",
                "50ms",
                data_dir=root / "proxy",
            ) as proxy:
                with Clientset(load_config(kubeconfig=str(server.kubeconfig))) as cs:
                    cs.core_v1.nodes().create(Node.from_dict({"metadata": {"name": "node-a"}}))
                    yield cs, proxy


def _free_port_on_all() -> int:
    """A port free on every address in IPS."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((IPS[0], 0))
            port = int(s.getsockname()[1])
        try:
            for ip in IPS[1:]:
                with socket.socket() as t:
                    t.bind((ip, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no common free port")


def _set_ready(cs: Clientset, name: str, ip: str, ready: bool) -> None:
    pod = cs.core_v1.pods("default").get(name)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}],
    }
    cs.core_v1.pods("default").update_status(Pod.from_dict({**pod.to_dict(), "status": status}))


def test_controller_made_slices_are_proxied(
    stack: tuple[Clientset, ProxyProcess], backends: Callable[..., Backend]
) -> None:
    cs, _ = stack
    port = _free_port_on_all()
    for i, ip in enumerate(IPS):
        backends(f"pod-{i}", ip, port)
        cs.core_v1.pods("default").create(
            Pod.from_dict(
                {
                    "metadata": {"name": f"pod-{i}", "labels": {"app": "hello"}},
                    "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "x"}]},
                }
            )
        )
        _set_ready(cs, f"pod-{i}", ip, True)
    svc = cs.core_v1.services("default").create(
        Service.from_dict(
            {
                "metadata": {"name": "hello"},
                "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": port}]},
            }
        )
    )
    assert svc.spec is not None and svc.spec.cluster_ip
    addr = service_listen_address(svc.spec.cluster_ip)
    wait_for(
        lambda: {try_get(addr, 80) for _ in range(6)} == {"pod-0", "pod-1", "pod-2"},
        what="all pods in rotation",
    )
    assert len({get(addr, 80) for _ in range(20)}) >= 2

    _set_ready(cs, "pod-1", IPS[1], False)
    wait_for(
        lambda: "pod-1" not in {get(addr, 80) for _ in range(6)}, what="pod-1 out after it went not-ready"
    )
    assert "pod-1" not in {get(addr, 80) for _ in range(12)}
