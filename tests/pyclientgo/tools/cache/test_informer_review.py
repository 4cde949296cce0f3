"""Second-review tests: cancellation paths, task leaks, thread-safe reads, late handler ordering."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from informer_fakes import Events, FakeCluster, new_informer, running, until

from pyclientgo.api.core.v1 import ConfigMap, Namespace, Pod
from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.rest import WatchEvent
from pyclientgo.tools.cache import (
    ListOptions,
    ListWatch,
    SharedIndexInformer,
    drop_managed_fields,
    meta_namespace_key_func,
    object_name,
)
from testserver.testing import TestServer


def _state(objs: Any) -> dict[str, str]:
    return {object_name(o): o.metadata.resource_version for o in objs}


def _other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_stop_while_async_handler_runs_cancels_it_and_leaks_no_task() -> None:
    before = _other_tasks()
    cluster = FakeCluster()
    cluster.apply("a")
    informer, _ = new_informer(cluster)
    entered = asyncio.Event()
    outcome: list[str] = []

    async def stuck(obj: Any, initial: bool) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    informer.add_event_handler(on_add=stuck)
    task = informer.start()
    await entered.wait()
    await asyncio.wait_for(informer.stop(), 5)
    await task
    assert outcome == ["cancelled"]
    assert informer.is_stopped()
    await asyncio.sleep(0)
    assert _other_tasks() - before == set()


class ClosingCluster(FakeCluster):
    """Records how many watch generators were opened and how many were closed."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0
        self.closed = 0

    def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
        inner = super().watch(options)

        async def gen() -> AsyncIterator[WatchEvent[Any]]:
            self.opened += 1
            try:
                async for event in inner:
                    yield event
            finally:
                self.closed += 1

        return gen()


async def test_stop_mid_watch_closes_the_watch_and_leaks_no_task() -> None:
    before = _other_tasks()
    cluster = ClosingCluster()
    cluster.apply("a")
    informer, _ = new_informer(cluster)
    async with running(informer):
        await until(lambda: informer.has_synced() and cluster.opened == 1)
    assert cluster.closed == 1
    await asyncio.sleep(0)
    assert _other_tasks() - before == set()


async def test_stop_mid_list_leaves_cache_empty_and_leaks_no_task() -> None:
    before = _other_tasks()
    cluster = FakeCluster()
    cluster.apply("a")
    cluster.list_gate = asyncio.Event()
    informer, _ = new_informer(cluster)
    async with running(informer):
        await until(lambda: len(cluster.list_calls) == 1)
    cluster.list_gate.set()
    assert informer.get_indexer().list() == []
    assert not informer.has_synced()
    await asyncio.sleep(0)
    assert _other_tasks() - before == set()


async def test_late_handler_added_while_events_flow_sees_a_consistent_history() -> None:
    cluster = FakeCluster()
    for i in range(20):
        cluster.apply(f"o{i}")
    informer, _ = new_informer(cluster)
    async with running(informer):
        await until(informer.has_synced)
        late: Events | None = None
        for i in range(200):
            name = f"o{i % 30}"
            if i % 7 == 0 and f"default/{name}" in cluster.objects:
                cluster.delete(name)
            else:
                cluster.apply(name, data={"i": str(i)})
            if i == 50:
                late = Events()
                informer.add_event_handler(late)
            if i % 10 == 0:
                await asyncio.sleep(0)
        assert late is not None
        final = {k: obj.metadata.resource_version for k, obj in cluster.objects.items()}
        await until(
            lambda: (
                {
                    f"default/{object_name(o)}": o.metadata.resource_version
                    for o in informer.get_indexer().list()
                }
                == final
            )
        )
        expected_names = {k.split("/")[1] for k in final}
        assert late is not None

        def replay() -> dict[str, str]:
            state: dict[str, str] = {}
            for entry in late.log:
                if entry[0] == "add":
                    assert entry[1] not in state, f"add of a known object {entry}"
                    state[entry[1]] = entry[2]
                elif entry[0] == "update":
                    assert entry[1] in state, f"update of an unknown object {entry}"
                    state[entry[1]] = entry[3]
                else:
                    name = object_name(entry[1])
                    assert name in state, f"delete of an unknown object {entry}"
                    del state[name]
            return state

        await until(lambda: set(replay()) == expected_names)
        assert replay() == {k.split("/")[1]: v for k, v in final.items()}


async def test_indexer_reads_from_other_threads_while_the_informer_writes() -> None:
    cluster = FakeCluster()
    informer, _ = new_informer(cluster, indexers={"label": lambda o: [o.metadata.labels.get("g", "")]})
    indexer = informer.get_indexer()
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                for obj in indexer.by_index("label", "x"):
                    assert obj.metadata.labels["g"] == "x"
                for key in indexer.index_keys("label", "y"):
                    indexer.get_by_key(key)
                indexer.list_index_func_values("label")
                for obj in indexer.list():
                    object_name(obj)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    async with running(informer):
        await until(informer.has_synced)
        for t in threads:
            t.start()
        try:
            for i in range(600):
                name = f"o{i % 40}"
                if i % 5 == 0 and f"default/{name}" in cluster.objects:
                    cluster.delete(name)
                else:
                    cluster.apply(name, labels={"g": "x" if i % 2 else "y"})
                if i % 20 == 0:
                    await asyncio.sleep(0.005)  # let the readers run between bursts
            await until(lambda: _state(indexer.list()) == _state(cluster.objects.values()))
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert errors == []
    by_x = sorted(object_name(o) for o in indexer.by_index("label", "x"))
    assert by_x == sorted(
        o.metadata.name for o in cluster.objects.values() if o.metadata.labels.get("g") == "x"
    )


def test_drop_managed_fields_keeps_lazy_models_lazy_and_smaller() -> None:
    wire = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "resourceVersion": "7",
            "managedFields": [{"manager": "m", "operation": "Update", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    pod = Pod.from_json(orjson.dumps(wire))
    meta_namespace_key_func(pod)  # the DeltaFIFO keys it before the transform
    out = drop_managed_fields(pod)
    assert is_lazy(out)  # the wire form was not decoded into a full model
    assert len(out.to_json()) < len(pod.to_json())
    assert out.metadata.managed_fields is None
    expected = {**wire, "metadata": {k: v for k, v in wire["metadata"].items() if k != "managedFields"}}  # type: ignore[attr-defined]
    assert out.to_dict() == expected
    # nothing to drop: the very same object comes back
    assert drop_managed_fields(out) is out
    # eager models and dicts are edited in place
    eager = Pod.from_dict(wire)
    assert drop_managed_fields(eager) is eager and eager.metadata.managed_fields is None
    raw = orjson.loads(orjson.dumps(wire))
    assert "managedFields" not in drop_managed_fields(raw)["metadata"]


async def test_server_restart_costs_a_rewatch_not_a_relist(tmp_path: Path) -> None:
    # A real server drops every connection and comes back on the same port with the same storage:
    # the broken watch stream is a normal end, so the informer re-watches from its last RV (backing
    # off while the port refuses connections) and never relists.
    with TestServer(data_dir=tmp_path / "server") as server:
        config = dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
        async with AsyncClientset(config) as cs:
            await cs.core_v1.namespaces().create(Namespace(metadata={"name": "restart"}))
            configmaps = cs.core_v1.config_maps("restart")
            inner = ListWatch.from_client(configmaps)
            lists: list[ListOptions] = []
            watches: list[ListOptions] = []

            async def list_func(options: ListOptions) -> Any:
                lists.append(options)
                return await inner.list(options)

            def watch_func(options: ListOptions) -> AsyncIterator[WatchEvent[Any]]:
                watches.append(options)
                return inner.watch(options)

            lw = ListWatch(list_func=list_func, watch_func=watch_func)
            informer = SharedIndexInformer(lw, ConfigMap)
            names = Events()
            informer.add_event_handler(names)
            async with running(informer):
                await until(informer.has_synced, timeout=15)
                await configmaps.create(ConfigMap(metadata={"name": "before"}))
                await until(lambda: ("add", "before") in [e[:2] for e in names.log], timeout=15)
                assert len(watches) == 1
                await asyncio.to_thread(server.restart, down_seconds=0.3)
                await configmaps.create(ConfigMap(metadata={"name": "after"}))
                await until(lambda: ("add", "after") in [e[:2] for e in names.log], timeout=30)
            assert len(lists) == 1, [o.resource_version for o in lists]
            assert len(watches) >= 2
            assert watches[1].resource_version is not None
            assert int(watches[1].resource_version) >= int(watches[0].resource_version or "0")
