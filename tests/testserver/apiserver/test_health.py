"""/livez, /readyz and /healthz with kube-apiserver's named checks (docs/reference/apiserver_behavior.md §15).

Against a private real server (httpx and the real kubectl), and :class:`ApiServerHealth` in process
for the failing states a healthy server does not show (start-up not finished, storage gone, shutdown).
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apiserver_testlib import client_for

from testserver.apiserver.health import POST_START_HOOKS, ApiServerHealth
from testserver.storage.memory import MemoryStorage
from testserver.testing import TestServer

LIVEZ = [
    "[+]ping ok",
    "[+]log ok",
    "[+]etcd ok",
    *(f"[+]poststarthook/{hook} ok" for hook in POST_START_HOOKS),
]
READYZ = [
    "[+]ping ok",
    "[+]log ok",
    "[+]etcd ok",
    "[+]etcd-readiness ok",
    "[+]informer-sync ok",
    *(f"[+]poststarthook/{hook} ok" for hook in POST_START_HOOKS),
    "[+]shutdown ok",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    srv = TestServer(data_dir=tmp_path_factory.mktemp("health"))
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def client(server: TestServer) -> Iterator[httpx.Client]:
    with client_for(server) as c:
        yield c


@pytest.fixture(scope="module")
def anonymous(server: TestServer) -> Iterator[httpx.Client]:
    """No credentials at all: the health paths are public (system:public-info-viewer)."""
    with httpx.Client(
        base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_cert)), timeout=10
    ) as c:
        yield c


def test_livez_and_readyz_answer_ok(anonymous: httpx.Client) -> None:
    for path in ("/livez", "/readyz", "/healthz"):
        r = anonymous.get(path)
        assert (r.status_code, r.text) == (200, "ok"), path
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_verbose_lists_every_named_check_in_kube_order(anonymous: httpx.Client) -> None:
    assert anonymous.get("/livez?verbose").text == "\n".join([*LIVEZ, "livez check passed"]) + "\n"
    assert anonymous.get("/readyz?verbose").text == "\n".join([*READYZ, "readyz check passed"]) + "\n"
    assert anonymous.get("/healthz?verbose").text == "\n".join([*LIVEZ, "healthz check passed"]) + "\n"


def test_individual_checks_have_their_own_paths(anonymous: httpx.Client) -> None:
    for path in ("/livez/etcd", "/readyz/etcd-readiness", "/readyz/informer-sync", "/readyz/shutdown"):
        r = anonymous.get(path)
        assert (r.status_code, r.text) == (200, "ok"), path
    r = anonymous.get("/readyz/poststarthook/bootstrap-controller")
    assert (r.status_code, r.text) == (200, "ok")
    missing = anonymous.get("/livez/no-such-check")
    assert missing.status_code == 404
    assert missing.json()["reason"] == "NotFound"
    assert anonymous.get("/livez/shutdown").status_code == 404  # a readyz-only check
    assert anonymous.get("/livezz").status_code == 404


def test_exclude_skips_checks_and_warns_about_unknown_names(anonymous: httpx.Client) -> None:
    r = anonymous.get("/readyz", params=[("verbose", ""), ("exclude", "etcd"), ("exclude", "nope")])
    assert r.status_code == 200
    lines = r.text.splitlines()
    assert lines[2] == "[+]etcd excluded: ok"
    assert "[+]etcd-readiness ok" in lines
    assert lines[-2] == 'warn: some health checks cannot be excluded: no matches for "nope"'
    assert lines[-1] == "readyz check passed"
    assert anonymous.get("/livez?exclude=etcd").text == "ok"


def test_kubectl_get_raw_readyz_verbose(server: TestServer, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is not on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(server.kubeconfig), HOME=str(tmp_path))
    out = subprocess.run(
        [kubectl, "get", "--raw", "/readyz?verbose"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [*READYZ, "readyz check passed"]
    out = subprocess.run(
        [kubectl, "get", "--raw", "/livez/etcd"], env=env, capture_output=True, text=True, timeout=30
    )
    assert (out.returncode, out.stdout) == (0, "ok")


# -- failing states, in process ------------------------------------------------------------------


async def test_post_start_hooks_fail_until_finished() -> None:
    storage = MemoryStorage()
    synced = False
    health = ApiServerHealth(storage=lambda: storage, informers_synced=lambda: synced)
    status, body = await _serve(health, "/livez")
    assert status == 500
    lines = body.decode().splitlines()
    assert lines[:3] == ["[+]ping ok", "[+]log ok", "[+]etcd ok"]
    assert "[-]poststarthook/bootstrap-controller failed: reason withheld" in lines
    assert lines[-1] == "livez check failed"
    assert await _serve(health, "/livez/poststarthook/bootstrap-controller") == (
        500,
        b"internal server error: not finished\n",
    )
    health.hooks_finished(*POST_START_HOOKS)
    assert await _serve(health, "/livez") == (200, b"ok")
    status, body = await _serve(health, "/readyz")  # informers not synced yet
    assert status == 500
    assert "[-]informer-sync failed: reason withheld" in body.decode().splitlines()
    synced = True
    assert await _serve(health, "/readyz") == (200, b"ok")
    with pytest.raises(ValueError, match="unknown post-start hooks"):
        health.hooks_finished("no-such-hook")
    await storage.close()


async def test_storage_failure_fails_etcd_checks() -> None:
    storage = MemoryStorage()
    health = ApiServerHealth(storage=lambda: storage, informers_synced=lambda: True)
    health.hooks_finished(*POST_START_HOOKS)
    assert await _serve(health, "/readyz") == (200, b"ok")
    await storage.close()
    status, body = await _serve(health, "/readyz")
    assert status == 500
    lines = body.decode().splitlines()
    assert "[-]etcd failed: reason withheld" in lines
    assert "[-]etcd-readiness failed: reason withheld" in lines
    assert "[+]ping ok" in lines and lines[-1] == "readyz check failed"
    status, body = await _serve(health, "/livez/etcd")
    assert status == 500 and body.startswith(b"internal server error: ")
    no_storage = ApiServerHealth(storage=lambda: None, informers_synced=lambda: True)
    assert await _serve(no_storage, "/livez/etcd") == (
        500,
        b"internal server error: the storage is not open yet\n",
    )


async def test_shutdown_fails_readyz_only() -> None:
    storage = MemoryStorage()
    health = ApiServerHealth(storage=lambda: storage, informers_synced=lambda: True)
    health.hooks_finished(*POST_START_HOOKS)
    health.shutdown_initiated()
    status, body = await _serve(health, "/readyz")
    assert status == 500
    assert body.decode().splitlines()[-2:] == ["[-]shutdown failed: reason withheld", "readyz check failed"]
    assert await _serve(health, "/livez") == (200, b"ok")
    await storage.close()


async def _serve(health: ApiServerHealth, target: str) -> tuple[int, bytes]:
    path, _, query = target.partition("?")
    params: dict[str, list[str]] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        params.setdefault(key, []).append(value)
    answer = await health.serve(path, params)
    assert answer is not None, target
    return answer
