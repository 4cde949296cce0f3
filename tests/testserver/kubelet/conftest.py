"""Fixtures for the process-runtime kubelet tests: a private API server, a process kubelet on it, a
clientset, the real kubectl and condition waiting."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, ServiceAccount
from pyclientgo.config import load_config
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

PROC_NODE = "proc-node"


def wait_for(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``cond`` until it returns something truthy (returned), else fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = cond()
        except NotFound as err:
            last = err
        else:
            if last:
                return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture(scope="module")
def proc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    server = TestServer(data_dir=tmp_path_factory.mktemp("apiserver-kubelet"), startup_timeout=90)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def proc_cs(proc_server: TestServer) -> Iterator[Clientset]:
    with Clientset(load_config(kubeconfig=str(proc_server.kubeconfig))) as c:
        # what the serviceaccount controller would do (no controller-manager here)
        c.core_v1.service_accounts("default").create(ServiceAccount(metadata={"name": "default"}))
        # and what the root-ca-cert-publisher would (the kube-api-access volume projects it)
        ca = (proc_server.data_dir / "pki" / "ca.crt").read_text()
        c.core_v1.configmaps("default").create(
            ConfigMap(metadata={"name": "kube-root-ca.crt"}, data={"ca.crt": ca})
        )
        yield c


@pytest.fixture(scope="module")
def proc_kubelet(proc_server: TestServer, proc_cs: Clientset) -> Iterator[KubeletProcess]:
    proc = KubeletProcess(
        proc_server.kubeconfig,
        node_name=PROC_NODE,
        fake=False,
        startup_timeout=90,  # a loaded machine
        extra_args=[
            "--crash-loop-backoff-initial",
            "0.5",
            "--crash-loop-backoff-max",
            "2",
            "--sync-frequency",
            "1s",  # configMap/secret volume updates within a second
        ],
    )
    try:
        proc.start()
        wait_for(lambda: proc_cs.core_v1.nodes().get(PROC_NODE), what="node registered")
        yield proc
    finally:
        proc.cleanup()


class Kubectl:
    """The real kubectl against the private server."""

    def __init__(self, kubeconfig: Path, home: Path) -> None:
        exe = shutil.which("kubectl")
        if exe is None:
            pytest.fail("kubectl is not on PATH")
        self.exe = exe
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        self.env.update(KUBECONFIG=str(kubeconfig), HOME=str(home), KUBECTL_NO_COLOR="1")

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.exe, *args], env=self.env, capture_output=True, text=True, check=check, timeout=timeout
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.exe, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture(scope="module")
def proc_kubectl(proc_server: TestServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(proc_server.kubeconfig, tmp_path_factory.mktemp("kubectl-home"))
