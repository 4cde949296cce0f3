"""Informers converge under faults: several informers (typed, namespaced, dynamic, metadata-only) on pods
and configmaps while a writer creates, updates and deletes thousands of objects and the test server's
fault switches fire at random (dropped watches, 410s, 5xx, cut streams, an in-process restart).

Afterwards every cache equals the server's state exactly (name → resourceVersion), every handler saw a
consistent event sequence (no update or delete before the add, an update's old object is the one the
handler saw last, no event after the final delete), and nothing is missing.

``CONVERGENCE_SEED`` picks the random sequence (printed on failure).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace, Pod
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.config import Config, load_config
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.dynamic.informer import DynamicSharedInformerFactory
from pyclientgo.dynamic.metadata_informer import MetadataSharedInformerFactory
from pyclientgo.errors import AlreadyExists, ApiError, Conflict, NotFound, TransportError
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.informers.factory import SharedInformerFactoryBase
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    SharedIndexInformer,
    deletion_handling_meta_namespace_key_func,
    meta_namespace_key_func,
    resource_version,
)
from pyclientgo.tools.cache.backoff import ExponentialBackoffManager
from testserver.testing import TestServer

NAMESPACES = ("conv-a", "conv-b")
CONFIGMAPS_PER_NS = 600
PODS_PER_NS = 400
WRITERS = 6
FAULT_EVERY = (0.3, 0.9)
CONVERGE_DEADLINE = 40.0
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
PODS = GroupVersionResource("", "v1", "pods")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = TestServer(
        data_dir=tmp_path_factory.mktemp("convergence"),
        bookmark_interval=0.5,
        history_window=1500,
        standin_controllers=True,
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


class Tracker:
    """A handler that checks the event sequence per key and keeps its own view: key → resourceVersion."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.live: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.violations: list[str] = []
        self.events = 0

    def _bad(self, what: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(f"{self.name}: {what}")

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self.events += 1
        key = meta_namespace_key_func(obj)
        if key in self.live:
            self._bad(f"add of {key} already present")
        if key in self.deleted:
            self._bad(f"add of {key} after its final delete")
        self.live[key] = resource_version(obj)

    def on_update(self, old: Any, new: Any) -> None:
        self.events += 1
        key = meta_namespace_key_func(new)
        if key not in self.live:
            self._bad(f"update of {key} before its add")
        elif self.live[key] != resource_version(old):
            self._bad(f"update of {key}: old rv {resource_version(old)} but handler saw {self.live[key]}")
        if int(resource_version(new)) < int(resource_version(old)):
            self._bad(f"update of {key} went back in time")
        if key in self.deleted:
            self._bad(f"update of {key} after its final delete")
        self.live[key] = resource_version(new)

    def on_delete(self, obj: Any) -> None:
        self.events += 1
        key = deletion_handling_meta_namespace_key_func(obj)
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        if key not in self.live:
            self._bad(f"delete of {key} never added (or deleted twice)")
        self.live.pop(key, None)
        self.deleted.add(key)


@dataclasses.dataclass
class Watched:
    """One informer under test: what it should hold and the handlers on it."""

    name: str
    informer: SharedIndexInformer
    resource: GroupVersionResource
    namespace: str | None
    trackers: list[Tracker]

    def cache(self) -> dict[str, str]:
        return {meta_namespace_key_func(o): resource_version(o) for o in self.informer.get_indexer().list()}


def _track(name: str, informer: SharedIndexInformer) -> Tracker:
    tracker = Tracker(name)
    informer.add_event_handler(tracker)
    return tracker


async def _writer(cs: AsyncClientset, rng: random.Random, jobs: asyncio.Queue[tuple[str, str, int]]) -> int:
    """Creates an object, updates it 0-3 times, deletes ~40% of them. Tolerates the faults' errors."""
    ops = 0
    while True:
        try:
            kind, ns, i = jobs.get_nowait()
        except asyncio.QueueEmpty:
            return ops
        name = f"{kind}-{i}"
        client: Any = cs.core_v1.config_maps(ns) if kind == "cm" else cs.core_v1.pods(ns)
        if kind == "cm":
            obj: Any = ConfigMap(metadata={"name": name, "labels": {"n": str(i % 7)}}, data={"v": "0"})
        else:
            obj = Pod(
                metadata={"name": name, "labels": {"n": str(i % 7)}},
                spec={"containers": [{"name": "c", "image": "busybox"}]},
            )
        steps: list[tuple[str, Any]] = [("create", obj)]
        steps += [("patch", {"metadata": {"labels": {"u": str(u)}}}) for u in range(rng.randint(0, 3))]
        if rng.random() < 0.4:
            steps.append(("delete", None))
        for verb, arg in steps:
            for _attempt in range(20):
                try:
                    if verb == "create":
                        await client.create(arg)
                    elif verb == "patch":
                        await client.patch(name, arg, patch_type="merge")
                    else:
                        await client.delete(name)
                    ops += 1
                    break
                except (AlreadyExists, NotFound, Conflict):
                    break  # a retried write that had gone through
                except (TransportError, ApiError):
                    await asyncio.sleep(0.05)  # the server is restarting: try again


async def _faults(server: TestServer, rng: random.Random, stop: asyncio.Event, log: list[str]) -> None:
    faults = server.faults
    choices: list[tuple[str, Callable[[], Any]]] = [
        ("drop watches", lambda: faults.drop_watches(abrupt=rng.random() < 0.5)),
        ("410 in watch", lambda: faults.fail_next(rng.randint(1, 3), code=410, verb="watch", in_stream=True)),
        ("410 on list", lambda: faults.fail_next(rng.randint(1, 2), code=410, verb="list")),
        ("500 on list", lambda: faults.fail_next(rng.randint(1, 3), code=500, verb="list")),
        ("503 on watch", lambda: faults.fail_next(rng.randint(1, 3), code=503, verb="watch")),
        ("429 on watch", lambda: faults.fail_next(1, code=429, verb="watch", retry_after=1)),
        (
            "cut watch",
            lambda: faults.cut_next(rng.randint(1, 3), after_events=rng.randint(1, 40), verb="watch"),
        ),
        ("cut list", lambda: faults.cut_next(1, after_bytes=rng.randint(50, 5000), verb="list")),
        ("bookmarks off", lambda: faults.bookmarks(False)),
        ("bookmarks on", lambda: faults.bookmarks(True)),
        ("restart", lambda: server.restart(down_seconds=rng.uniform(0.05, 0.4))),
    ]
    while not stop.is_set():
        with_timeout = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait_for(asyncio.shield(with_timeout), rng.uniform(*FAULT_EVERY))
        except TimeoutError:
            pass
        finally:
            with_timeout.cancel()
        if stop.is_set():
            return
        name, fire = rng.choice(choices)
        log.append(name)
        await asyncio.to_thread(fire)


async def _server_state(cs: AsyncClientset, dyn: AsyncDynamicClient, w: Watched) -> dict[str, str]:
    listed = await dyn.resource(w.resource, w.namespace).list()
    return {meta_namespace_key_func(o): resource_version(o) for o in listed["items"]}


@pytest.mark.timeout(180)
async def test_informers_converge_under_faults(server: TestServer, tmp_path: Path) -> None:
    seed = int(os.environ.get("CONVERGENCE_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    config: Config = dataclasses.replace(load_config(kubeconfig=str(server.kubeconfig)), qps=-1)
    fault_log: list[str] = []
    reflector_opts = {"backoff": ExponentialBackoffManager(initial=0.2, cap=2.0)}
    opts: dict[str, Any] = {"idle_timeout": 5.0, "reflector_options": reflector_opts}
    async with AsyncClientset(config) as cs, AsyncDynamicClient(cs.rest) as dyn:
        for ns in NAMESPACES:
            await cs.core_v1.namespaces().create(Namespace(metadata={"name": ns}))
        factories: list[SharedInformerFactoryBase] = [
            SharedInformerFactory(cs, informer_options=opts),
            SharedInformerFactory(cs, namespace=NAMESPACES[0], informer_options=opts),
            DynamicSharedInformerFactory(dyn, informer_options=opts),
            MetadataSharedInformerFactory(cs, informer_options=opts),
        ]
        all_typed, one_ns, dynamic, metadata = factories
        assert isinstance(all_typed, SharedInformerFactory) and isinstance(one_ns, SharedInformerFactory)
        assert isinstance(dynamic, DynamicSharedInformerFactory)
        assert isinstance(metadata, MetadataSharedInformerFactory)
        watched = [
            Watched("pods", all_typed.core_v1.pods().informer, PODS, None, []),
            Watched("configmaps", all_typed.core_v1.config_maps().informer, CONFIGMAPS, None, []),
            Watched("ns pods", one_ns.core_v1.pods().informer, PODS, NAMESPACES[0], []),
            Watched("ns configmaps", one_ns.core_v1.config_maps().informer, CONFIGMAPS, NAMESPACES[0], []),
            Watched("dynamic configmaps", dynamic.for_resource(CONFIGMAPS).informer, CONFIGMAPS, None, []),
            Watched("metadata pods", metadata.for_resource(PODS).informer, PODS, None, []),
        ]
        for w in watched:
            w.trackers.append(_track(w.name, w.informer))
        w = watched[1]
        w.trackers.append(_track(f"{w.name} (2nd handler)", w.informer))
        try:
            for f in factories:
                f.start()
            for f in factories:
                assert all((await f.wait_for_cache_sync(timeout=30)).values())

            jobs: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
            for ns in NAMESPACES:
                for i in range(CONFIGMAPS_PER_NS):
                    jobs.put_nowait(("cm", ns, i))
                for i in range(PODS_PER_NS):
                    jobs.put_nowait(("pod", ns, i))
            stop_faults = asyncio.Event()
            fault_task = asyncio.ensure_future(_faults(server, rng, stop_faults, fault_log))
            writers = [
                asyncio.ensure_future(_writer(cs, random.Random(seed + k), jobs)) for k in range(WRITERS)
            ]
            # a handler that joins while the writes and faults are going on
            await asyncio.sleep(0.5)
            w = watched[0]
            w.trackers.append(_track(f"{w.name} (late handler)", w.informer))
            ops = sum(await asyncio.gather(*writers))
            stop_faults.set()
            await fault_task
            await asyncio.to_thread(server.faults.reset)

            # convergence: every cache and every handler's view equals the server's state
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CONVERGE_DEADLINE
            pending = list(watched)
            expected: dict[str, dict[str, str]] = {}
            while pending:
                w = pending[0]
                expected[w.name] = await _server_state(cs, dyn, w)
                if w.cache() == expected[w.name] and all(t.live == expected[w.name] for t in w.trackers):
                    pending.pop(0)
                    continue
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.1)
            context = f"seed={seed} ops={ops} faults={fault_log}"
            for w in pending:
                cache = w.cache()
                want = expected[w.name]
                missing = sorted(set(want) - set(cache))[:5]
                extra = sorted(set(cache) - set(want))[:5]
                stale = sorted(k for k in want if k in cache and cache[k] != want[k])[:5]
                views = {t.name: len(t.live) for t in w.trackers}
                raise AssertionError(
                    f"{w.name} did not converge: missing {missing} extra {extra} stale {stale} "
                    f"(cache {len(cache)}, server {len(want)}, handlers {views}); {context}"
                )
            violations = [v for w in watched for t in w.trackers for v in t.violations]
            assert not violations, f"{violations}; {context}"
            assert ops >= len(NAMESPACES) * (CONFIGMAPS_PER_NS + PODS_PER_NS), context
            assert len(expected["configmaps"]) > 0 and len(expected["pods"]) > 0
            assert fault_log, context
            print(
                f"converged: {context}; events per handler",
                {t.name: t.events for w in watched for t in w.trackers},
            )
        finally:
            for f in factories:
                await f.shutdown()
