"""The controller runtime against the session's real API server: convergence, probes, leader election."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.config import Config, load_config
from pyclientgo.controller import Manager, ManagerOptions, Request, Result, RunnableFunc
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

DEADLINE = 20.0
_ids = itertools.count()


@pytest.fixture(scope="module")
def config(kubeconfig: Path) -> Config:
    return dataclasses.replace(load_config(kubeconfig=str(kubeconfig)), qps=-1)


@pytest.fixture
async def cs(config: Config) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(config) as clientset:
        yield clientset


async def until(cond: Any, what: str) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        value = cond()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def namespace(cs: AsyncClientset) -> str:
    name = f"ctrl-{next(_ids)}-{uuid.uuid4().hex[:5]}"
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))
    return name


async def test_manager_converges_and_serves_probes(cs: AsyncClientset) -> None:
    ns = await namespace(cs)
    registry = CollectorRegistry()
    mgr = Manager(cs, ManagerOptions(probe_port=0, registry=registry, namespace=ns))
    cms = mgr.informer_factory.core_v1.configmaps()

    async def reconcile(req: Request) -> Result:
        try:
            cm = cms.lister.config_maps(req.namespace).get(req.name)
        except NotFound:
            return Result()
        want = str(len(cm.data or {}))
        if (cm.metadata.annotations or {}).get("example.com/keys") != want:
            await cs.core_v1.config_maps(req.namespace).patch(
                req.name, {"metadata": {"annotations": {"example.com/keys": want}}}, patch_type="merge"
            )
        return Result()

    ctrl = mgr.new_controller("key-counter", reconcile, max_concurrent_reconciles=4)
    ctrl.for_(cms.informer)
    task = asyncio.create_task(mgr.run())
    try:
        for i in range(20):
            data = {f"k{j}": "v" for j in range(i % 4)}
            await cs.core_v1.config_maps(ns).create(ConfigMap(metadata={"name": f"cm-{i}"}, data=data))

        async def converged() -> bool:
            items = (await cs.core_v1.config_maps(ns).list()).items or []
            mine = [c for c in items if (c.metadata.name or "").startswith("cm-")]
            return len(mine) == 20 and all(
                (c.metadata.annotations or {}).get("example.com/keys") == str(len(c.data or {})) for c in mine
            )

        await until(converged, "every configmap annotated")
        assert mgr.probe_server is not None
        async with httpx.AsyncClient(base_url=mgr.probe_server.url) as http:
            health = await http.get("/healthz")
            assert (health.status_code, health.text) == (200, "ok\n")
            ready = await http.get("/readyz?verbose")
            assert ready.status_code == 200 and "[+]informers ok" in ready.text
            metrics = (await http.get("/metrics")).text
        assert 'workqueue_adds_total{name="key-counter"}' in metrics
        assert 'controller_runtime_reconcile_total{controller="key-counter",result="success"}' in metrics
        assert 'controller_runtime_max_concurrent_reconciles{controller="key-counter"} 4.0' in metrics
    finally:
        mgr.stop()
        await asyncio.wait_for(task, DEADLINE)
    with pytest.raises(httpx.ConnectError):  # the probe server is gone
        async with httpx.AsyncClient(base_url=mgr.probe_server.url) as http:
            await http.get("/healthz")
    await cs.core_v1.namespaces().delete(ns)


async def test_leader_elected_runnable_starts_only_when_leading(config: Config) -> None:
    lease = f"live-{uuid.uuid4().hex[:8]}"

    def options(identity: str) -> ManagerOptions:
        return ManagerOptions(
            registry=CollectorRegistry(),
            probe_port=0,
            leader_election=True,
            leader_election_id=lease,
            identity=identity,
            lease_duration=2.0,
            renew_deadline=1.0,
            retry_period=0.2,
        )

    started: list[str] = []
    always: list[str] = []

    def runnables(mgr: Manager, who: str) -> None:
        async def lead() -> None:
            started.append(who)
            await asyncio.Event().wait()

        async def background() -> None:
            always.append(who)
            await asyncio.Event().wait()

        mgr.add(RunnableFunc(lead))
        mgr.add(RunnableFunc(background, need_leader_election=False))

    async with AsyncClientset(config) as cs1, AsyncClientset(config) as cs2:
        m1, m2 = Manager(cs1, options("first")), Manager(cs2, options("second"))
        runnables(m1, "first")
        runnables(m2, "second")
        t1 = asyncio.create_task(m1.run())
        await until(lambda: started == ["first"], "first leads")
        t2 = asyncio.create_task(m2.run())
        await until(lambda: sorted(always) == ["first", "second"], "non-leader runnables run everywhere")
        await until(lambda: m2.elector is not None and m2.elector.get_leader() == "first", "second observes")
        assert started == ["first"]
        assert m2.probe_server is not None
        assert m1.probe_server is not None
        gauge = f'leader_election_master_status{{name="{lease}"}}'
        async with httpx.AsyncClient() as http:
            assert f"{gauge} 1.0" in (await http.get(f"{m1.probe_server.url}/metrics")).text
            assert f"{gauge} 0.0" in (await http.get(f"{m2.probe_server.url}/metrics")).text
            assert (await http.get(f"{m2.probe_server.url}/healthz")).status_code == 200
        m1.stop()
        await asyncio.wait_for(t1, DEADLINE)
        await until(lambda: started == ["first", "second"], "second takes over")
        lease_obj = await cs2.coordination_v1.leases("default").get(lease)
        assert lease_obj.spec is not None and lease_obj.spec.holder_identity == "second"
        t2.cancel()
        await asyncio.gather(t2, return_exceptions=True)
        released = await cs2.coordination_v1.leases("default").get(lease)
        assert released.spec is not None and not released.spec.holder_identity
