"""Two API server processes on one etcd behave as one cluster; kubectl's writes land in etcd as in
Kubernetes; kill -9 of an API server under write load loses no acknowledged write."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from testserver.etcd_process import EtcdProcess
from testserver.testing import TestServer

KUBECTL = shutil.which("kubectl") or "kubectl"


@pytest.fixture(scope="module")
def two_servers(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestServer, TestServer]]:
    a = TestServer(
        data_dir=tmp_path_factory.mktemp("apiserver-a"), storage=etcd.storage_spec, bookmark_interval=1.0
    )
    b = TestServer(
        data_dir=tmp_path_factory.mktemp("apiserver-b"), storage=etcd.storage_spec, bookmark_interval=1.0
    )
    a.start()
    try:
        b.start()  # bootstraps the same default namespaces: they exist already, which is fine
        yield a, b
    finally:
        b.cleanup()
        a.cleanup()


def client(server: TestServer, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url,
        verify=ssl.create_default_context(cafile=str(server.ca_cert)),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=30,
        **kwargs,
    )


def kubectl(server: TestServer, tmp_home: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(server.kubeconfig), HOME=tmp_home)
    proc = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


async def create_namespace(server: TestServer) -> str:
    name = f"etcd-{uuid.uuid4().hex[:6]}"
    async with client(server) as c:
        r = await c.post(
            "/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
        assert r.status_code == 201, r.text
    return name


async def test_write_through_one_server_is_seen_by_watches_and_lists_on_the_other(
    two_servers: tuple[TestServer, TestServer], tmp_path: Any
) -> None:
    a, b = two_servers
    ns = await create_namespace(a)
    base = f"/api/v1/namespaces/{ns}/configmaps"
    async with client(b) as cb:
        listed = (await cb.get(base)).json()
        assert listed["items"] == []
        params = {
            "watch": "1",
            "resourceVersion": listed["metadata"]["resourceVersion"],
            "timeoutSeconds": "30",
        }
        async with cb.stream("GET", base, params=params) as stream:
            lines = stream.aiter_lines()
            if shutil.which(KUBECTL):
                kubectl(a, str(tmp_path), "create", "configmap", "demo", "-n", ns, "--from-literal=k=v")
            else:  # pragma: no cover - kubectl is part of the test machine
                async with client(a) as ca:
                    body = {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": "demo"},
                        "data": {"k": "v"},
                    }
                    assert (await ca.post(base, json=body)).status_code == 201
            event = json.loads(await asyncio.wait_for(anext(lines), 10))
            assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "demo"
            assert event["object"]["data"] == {"k": "v"}
            rv = event["object"]["metadata"]["resourceVersion"]
        got = (await cb.get(f"{base}/demo")).json()
        assert got["metadata"]["resourceVersion"] == rv and got["data"] == {"k": "v"}
        assert [i["metadata"]["name"] for i in (await cb.get(base)).json()["items"]] == ["demo"]


@pytest.mark.skipif(not shutil.which(KUBECTL), reason="kubectl not installed")
def test_etcdctl_shows_what_kubectl_created(
    etcd: EtcdProcess, two_servers: tuple[TestServer, TestServer], tmp_path: Any
) -> None:
    a, _ = two_servers
    name = f"shown-{uuid.uuid4().hex[:6]}"
    kubectl(a, str(tmp_path), "create", "configmap", name, "--from-literal=greeting=hello")
    out = subprocess.run(
        ["etcdctl", f"--endpoints={etcd.endpoint}", "get", "--prefix", "/registry/configmaps/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.splitlines()
    key = f"/registry/configmaps/default/{name}"
    assert key in out
    stored = json.loads(out[out.index(key) + 1])
    assert stored["kind"] == "ConfigMap" and stored["data"] == {"greeting": "hello"}
    shown = json.loads(kubectl(a, str(tmp_path), "get", "configmap", name, "-o", "json"))
    mod_revision = subprocess.run(
        ["etcdctl", f"--endpoints={etcd.endpoint}", "get", key, "-w", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert str(json.loads(mod_revision)["kvs"][0]["mod_revision"]) == shown["metadata"]["resourceVersion"]


async def test_concurrent_read_modify_write_through_both_servers_loses_no_update(
    two_servers: tuple[TestServer, TestServer],
) -> None:
    servers = two_servers
    ns = await create_namespace(servers[0])
    base = f"/api/v1/namespaces/{ns}/configmaps"
    objects, writers, increments = 5, 50, 4
    async with client(servers[0]) as c:
        for j in range(objects):
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"c{j}"},
                "data": {"n": "0"},
            }
            assert (await c.post(base, json=body)).status_code == 201
    clients = [client(s, limits=httpx.Limits(max_connections=32)) for s in servers]
    done = 0
    conflicts = 0

    async def writer(w: int) -> None:
        nonlocal done, conflicts
        for k in range(increments):
            c = clients[(w + k) % 2]  # alternate servers
            url = f"{base}/c{(w + k) % objects}"
            while True:
                obj = (await c.get(url)).json()
                obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
                r = await c.put(url, content=orjson.dumps(obj), headers={"Content-Type": "application/json"})
                if r.status_code == 409:
                    conflicts += 1
                    continue
                assert r.status_code == 200, r.text
                done += 1
                break

    try:
        await asyncio.wait_for(asyncio.gather(*(writer(w) for w in range(writers))), 120)
        items = (await clients[1].get(base)).json()["items"]
    finally:
        for c in clients:
            await c.aclose()
    total = sum(int(i["data"]["n"]) for i in items)
    assert done == writers * increments
    assert total == done
    assert conflicts > 0  # they did race


async def test_kill_9_during_write_load_loses_no_acknowledged_write(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first = TestServer(data_dir=tmp_path_factory.mktemp("apiserver-killed"), storage=etcd.storage_spec)
    first.start()
    ns = await create_namespace(first)
    base = f"/api/v1/namespaces/{ns}/configmaps"
    acked: dict[str, str] = {}
    attempted: dict[str, str] = {}
    killed = asyncio.Event()

    async def writer(c: httpx.AsyncClient, w: int) -> None:
        i = 0
        while not killed.is_set():
            name, payload = f"w{w}-{i}", f"{w}:{i}:" + "x" * 512
            attempted[name] = payload
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name},
                "data": {"p": payload},
            }
            try:
                r = await c.post(base, json=body)
            except httpx.HTTPError:
                return
            if r.status_code != 201:
                return
            acked[name] = payload
            i += 1

    async with client(first, limits=httpx.Limits(max_connections=16)) as c:
        tasks = [asyncio.create_task(writer(c, w)) for w in range(16)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(acked) < 300 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)  # mid-load: requests are in flight
        killed.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    first.process.wait()  # type: ignore[union-attr]
    assert len(acked) >= 300
    assert len(attempted) > len(acked)  # some writes were in flight when the server died
    try:
        with TestServer(data_dir=first.data_dir, storage=etcd.storage_spec) as second:
            async with client(second) as c:
                items = (await c.get(base)).json()["items"]
    finally:
        first.cleanup()
    stored = {i["metadata"]["name"]: i["data"]["p"] for i in items}
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:5]}"
    # Nothing half-written: every stored object is one a writer sent, complete.
    for name, payload in stored.items():
        assert attempted.get(name) == payload, name


async def test_a_crd_created_through_one_server_is_served_by_the_other(
    two_servers: tuple[TestServer, TestServer],
) -> None:
    a, b = two_servers
    group = f"k{uuid.uuid4().hex[:6]}.example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    async with client(a) as ca, client(b) as cb:
        r = await ca.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
        assert r.status_code == 201, r.text
        url = f"/apis/{group}/v1/namespaces/default/widgets"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        widget = {
            "apiVersion": f"{group}/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 3},
        }
        while True:  # b installs the resource when its CRD controller sees the CRD (through etcd)
            r = await cb.post(url, json=widget)
            if r.status_code == 201 or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 201, r.text
        got = await ca.get(f"{url}/w")
        assert got.status_code == 200 and got.json()["spec"] == {"size": 3}
        assert (
            await ca.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")
        ).status_code == 200


async def test_resource_version_from_one_server_is_not_too_large_on_the_other(
    two_servers: tuple[TestServer, TestServer],
) -> None:
    """B must not answer 504 "too large resource version" for a revision A handed out just now."""
    a, b = two_servers
    ns = await create_namespace(a)
    async with client(a) as ca, client(b) as cb:
        for i in range(20):  # B has not necessarily seen these writes through its watch cache yet
            r = await ca.post(
                f"/api/v1/namespaces/{ns}/configmaps",
                json={"metadata": {"name": f"rv-{i}"}, "data": {"i": str(i)}},
            )
            assert r.status_code == 201, r.text
            rv = r.json()["metadata"]["resourceVersion"]
            got = await cb.get(f"/api/v1/namespaces/{ns}/configmaps/rv-{i}", params={"resourceVersion": rv})
            assert got.status_code == 200, got.text
            listed = await cb.get(
                f"/api/v1/namespaces/{ns}/configmaps",
                params={"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"},
            )
            assert listed.status_code == 200, listed.text
            assert f"rv-{i}" in {item["metadata"]["name"] for item in listed.json()["items"]}
