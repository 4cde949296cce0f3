"""Shared fixtures: one real API server process per session, its kubeconfig, and a kubectl runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testserver.etcd_process import EtcdProcess
from testserver.testing import TestServer

KUBECTL = shutil.which("kubectl") or "kubectl"
"""The kubectl found on PATH (the ``kubectl`` fixture fails with a clear message when there is none)."""


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    """A real ``testserver apiserver`` on 127.0.0.1:<free port>, TLS, memory storage, 1 s bookmarks."""
    server = TestServer(
        data_dir=tmp_path_factory.mktemp("apiserver"), bookmark_interval=1.0, standin_controllers=True
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdProcess]:
    """A private etcd (free loopback ports, temp data dir) for the session; fails if etcd is missing."""
    with EtcdProcess(data_dir=tmp_path_factory.mktemp("etcd")) as process:
        yield process


@pytest.fixture(scope="session")
def kubeconfig(apiserver: TestServer) -> Path:
    return apiserver.kubeconfig


@pytest.fixture(scope="session")
def kubectl_env(apiserver: TestServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for kubectl: the server's kubeconfig and a private HOME (cache)."""
    home = tmp_path_factory.mktemp("kubectl-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(apiserver.kubeconfig), HOME=str(home), KUBECTL_NO_COLOR="1")
    return env


class Kubectl:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [KUBECTL, *args], input=input, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}"
            )
        return proc

    def __call__(self, *args: str, input: str | None = None) -> str:
        return self.run(*args, input=input).stdout


@pytest.fixture(scope="session")
def kubectl(kubectl_env: dict[str, str]) -> Kubectl:
    if shutil.which(KUBECTL) is None:
        pytest.fail("kubectl is not on PATH: install kubectl (v1.32) to run the tests that drive it")
    return Kubectl(kubectl_env)
