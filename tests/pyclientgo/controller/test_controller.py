"""Controller unit tests over AsyncFakeClientset (in-memory API) with fake clocks for the queue."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from pyclientgo.api.core.v1 import ConfigMap, Secret
from pyclientgo.controller import (
    Controller,
    ControllerError,
    ControllerOptions,
    Request,
    Result,
    TerminalError,
    label_selector_predicate,
)
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.testing import AsyncFakeClientset, AsyncFakeClock
from pyclientgo.workqueue import ItemExponentialFailureRateLimiter

DEADLINE = 10.0
NS = "default"
_names = itertools.count()


async def until(cond: Callable[[], object], what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def settle() -> None:
    """Let queued callbacks and tasks run (not a synchronisation: callers then assert a NON-event)."""
    for _ in range(50):
        await asyncio.sleep(0)


def cm(name: str, **labels: str) -> ConfigMap:
    return ConfigMap(metadata={"name": name, "namespace": NS, "labels": labels or None}, data={"k": "v"})


class Recorder:
    """A reconciler that records requests and answers from a script (default ``Result()``)."""

    def __init__(self, script: Callable[[Request, int], Awaitable[Result | None]] | None = None) -> None:
        self.requests: list[Request] = []
        self.script = script

    async def reconcile(self, request: Request) -> Result:
        self.requests.append(request)
        if self.script is None:
            return Result()
        n = sum(1 for r in self.requests if r == request)
        return await self.script(request, n) or Result()

    def count(self, request: Request) -> int:
        return sum(1 for r in self.requests if r == request)


@pytest.fixture
async def cs() -> AsyncIterator[AsyncFakeClientset]:
    clientset = AsyncFakeClientset()
    yield clientset
    await clientset.aclose()


@pytest.fixture
async def factory(cs: AsyncFakeClientset) -> AsyncIterator[SharedInformerFactory]:
    f = SharedInformerFactory(cs)
    yield f
    await f.shutdown()


class Running:
    """Runs a controller in a task; stops it on exit."""

    def __init__(self, ctrl: Controller, factory: SharedInformerFactory) -> None:
        self.ctrl = ctrl
        self.factory = factory
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Controller:
        self.factory.start()
        self.task = asyncio.create_task(self.ctrl.run())
        await until(lambda: self.ctrl.is_running() or self.task.done(), "controller running")  # type: ignore[union-attr]
        if self.task.done():
            self.task.result()
        return self.ctrl

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def options(**kw: Any) -> ControllerOptions:
    kw.setdefault("registry", CollectorRegistry())
    return ControllerOptions(**kw)


async def test_reconciles_on_add_update_and_delete(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    await cs.core_v1.configmaps(NS).create(cm("before"))
    rec = Recorder()
    ctrl = Controller("cm", rec, options()).for_(factory.core_v1.configmaps().informer)
    async with Running(ctrl, factory):
        await until(lambda: rec.count(Request(NS, "before")) == 1, "initial list reconciled")
        await cs.core_v1.configmaps(NS).create(cm("a"))
        await until(lambda: rec.count(Request(NS, "a")) == 1, "add")
        await cs.core_v1.configmaps(NS).patch("a", {"data": {"k": "w"}}, patch_type="merge")
        await until(lambda: rec.count(Request(NS, "a")) == 2, "update")
        await cs.core_v1.configmaps(NS).delete("a")
        await until(lambda: rec.count(Request(NS, "a")) == 3, "delete")
    assert set(rec.requests) == {Request(NS, "before"), Request(NS, "a")}


async def test_requeue_after_forgets_and_waits_on_the_clock(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    clock = AsyncFakeClock(autojump=False)

    async def script(req: Request, n: int) -> Result:
        return Result(requeue_after=30.0) if n == 1 else Result()

    rec = Recorder(script)
    ctrl = Controller("requeue-after", rec, options(clock=clock)).for_(factory.core_v1.configmaps().informer)
    async with Running(ctrl, factory):
        await cs.core_v1.configmaps(NS).create(cm("x"))
        await until(lambda: ctrl.queue.waiting == 1, "request waiting for its time")
        assert rec.count(Request(NS, "x")) == 1
        assert ctrl.queue.num_requeues(Request(NS, "x")) == 0  # requeue_after resets the back-off
        clock.advance(29.0)
        await settle()
        assert rec.count(Request(NS, "x")) == 1
        clock.advance(1.0)
        await until(lambda: rec.count(Request(NS, "x")) == 2, "reconciled again after 30 s")


async def test_errors_are_retried_with_back_off(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    clock = AsyncFakeClock(autojump=False)
    registry = CollectorRegistry()

    async def script(req: Request, n: int) -> Result:
        if n <= 2:
            raise RuntimeError(f"boom {n}")
        return Result()

    rec = Recorder(script)
    limiter = ItemExponentialFailureRateLimiter(1.0, 100.0)
    ctrl = Controller("retry", rec, options(clock=clock, rate_limiter=limiter, registry=registry))
    ctrl.for_(factory.core_v1.configmaps().informer)
    req = Request(NS, "flaky")
    async with Running(ctrl, factory):
        await cs.core_v1.configmaps(NS).create(cm("flaky"))
        await until(lambda: ctrl.queue.num_requeues(req) == 1 and ctrl.queue.waiting == 1, "first failure")
        clock.advance(0.99)
        await settle()
        assert rec.count(req) == 1
        clock.advance(0.01)  # 1 s back-off
        await until(lambda: ctrl.queue.num_requeues(req) == 2 and ctrl.queue.waiting == 1, "second failure")
        clock.advance(1.99)
        await settle()
        assert rec.count(req) == 2
        clock.advance(0.01)  # 2 s back-off
        await until(lambda: rec.count(req) == 3 and ctrl.queue.num_requeues(req) == 0, "success forgets")
    assert registry.get_sample_value("workqueue_retries_total", {"name": "retry"}) == 2
    assert (
        registry.get_sample_value("controller_runtime_reconcile_errors_total", {"controller": "retry"}) == 2
    )
    assert (
        registry.get_sample_value(
            "controller_runtime_reconcile_total", {"controller": "retry", "result": "success"}
        )
        == 1
    )


async def test_requeue_true_is_rate_limited(cs: AsyncFakeClientset, factory: SharedInformerFactory) -> None:
    clock = AsyncFakeClock(autojump=False)

    async def script(req: Request, n: int) -> Result:
        return Result(requeue=n == 1)

    rec = Recorder(script)
    ctrl = Controller(
        "requeue", rec, options(clock=clock, rate_limiter=ItemExponentialFailureRateLimiter(5.0, 100.0))
    ).for_(factory.core_v1.configmaps().informer)
    async with Running(ctrl, factory):
        await cs.core_v1.configmaps(NS).create(cm("r"))
        await until(lambda: ctrl.queue.waiting == 1, "requeued")
        assert ctrl.queue.num_requeues(Request(NS, "r")) == 1
        clock.advance(5.0)
        await until(lambda: rec.count(Request(NS, "r")) == 2, "second reconcile")


async def test_terminal_error_is_not_retried(cs: AsyncFakeClientset, factory: SharedInformerFactory) -> None:
    registry = CollectorRegistry()

    async def script(req: Request, n: int) -> Result:
        raise TerminalError("bad spec")

    rec = Recorder(script)
    ctrl = Controller("terminal", rec, options(registry=registry)).for_(factory.core_v1.configmaps().informer)
    async with Running(ctrl, factory):
        await cs.core_v1.configmaps(NS).create(cm("t"))
        await until(lambda: rec.count(Request(NS, "t")) == 1, "reconciled once")
        await settle()
        assert ctrl.queue.waiting == 0 and len(ctrl.queue) == 0
        assert ctrl.queue.num_requeues(Request(NS, "t")) == 0
        # a new event of the object brings it back
        await cs.core_v1.configmaps(NS).patch("t", {"data": {"k": "fixed"}}, patch_type="merge")
        await until(lambda: rec.count(Request(NS, "t")) == 2, "reconciled after a change")
    labels = {"controller": "terminal"}
    assert registry.get_sample_value("controller_runtime_terminal_reconcile_errors_total", labels) == 2
    assert registry.get_sample_value("workqueue_retries_total", {"name": "terminal"}) in (None, 0)


async def test_owner_watch_enqueues_the_controller_owner(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    rec = Recorder()
    ctrl = Controller("owner", rec, options())
    ctrl.for_(factory.core_v1.configmaps().informer)
    ctrl.owns(factory.core_v1.secrets().informer, ConfigMap)

    def secret(name: str, refs: list[dict[str, Any]]) -> Secret:
        return Secret(metadata={"name": name, "namespace": NS, "ownerReferences": refs})

    def ref(kind: str, name: str, *, controller: bool = True, api_version: str = "v1") -> dict[str, Any]:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": name,
            "uid": "u-" + name,
            "controller": controller,
        }

    async with Running(ctrl, factory):
        await cs.core_v1.secrets(NS).create(secret("s1", [ref("ConfigMap", "owner-a")]))
        await until(lambda: rec.count(Request(NS, "owner-a")) == 1, "owner of a new secret")
        await cs.core_v1.secrets(NS).create(
            secret(
                "s2",
                [
                    ref("ConfigMap", "not-controller", controller=False),
                    ref("Deployment", "other-kind", api_version="apps/v1"),
                    ref("ConfigMap", "wrong-group", api_version="example.com/v1"),
                ],
            )
        )
        await cs.core_v1.secrets(NS).patch("s1", {"data": {"x": "eQ=="}}, patch_type="merge")
        await until(lambda: rec.count(Request(NS, "owner-a")) == 2, "owner of an updated secret")
        await cs.core_v1.secrets(NS).delete("s1")
        await until(lambda: rec.count(Request(NS, "owner-a")) == 3, "owner of a deleted secret")
    assert set(rec.requests) == {Request(NS, "owner-a")}
    assert Request(NS, "s1") not in rec.requests


async def test_watches_map_function_and_predicates(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    rec = Recorder()
    ctrl = Controller("mapped", rec, options())
    ctrl.for_(factory.core_v1.configmaps().informer, predicates=[label_selector_predicate("watch=yes")])

    async def to_target(obj: Any) -> list[Request]:
        target = (obj.metadata.labels or {}).get("target")
        return [Request(NS, target)] if target else []

    ctrl.watches(factory.core_v1.secrets().informer, to_target)
    async with Running(ctrl, factory):
        await cs.core_v1.configmaps(NS).create(cm("ignored"))
        await cs.core_v1.configmaps(NS).create(cm("watched", watch="yes"))
        await until(lambda: rec.count(Request(NS, "watched")) == 1, "selected configmap")
        await cs.core_v1.secrets(NS).create(
            Secret(metadata={"name": "s", "namespace": NS, "labels": {"target": "t1"}})
        )
        await until(lambda: rec.count(Request(NS, "t1")) == 1, "mapped request")
        # leaving the selection is still seen (old object matched)
        await cs.core_v1.configmaps(NS).patch(
            "watched", {"metadata": {"labels": {"watch": "no"}}}, patch_type="merge"
        )
        await until(lambda: rec.count(Request(NS, "watched")) == 2, "configmap leaving the selection")
    assert Request(NS, "ignored") not in rec.requests


async def test_workers_never_reconcile_one_key_concurrently(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    in_flight: set[Request] = set()
    violations: list[Request] = []
    peak = 0
    done = 0

    async def reconcile(req: Request) -> Result:
        nonlocal peak, done
        if req in in_flight:
            violations.append(req)
        in_flight.add(req)
        peak = max(peak, len(in_flight))
        try:
            for _ in range(5):
                await asyncio.sleep(0)
                ctrl.queue.add(req) if done < 300 else None  # re-add while processing
        finally:
            in_flight.discard(req)
            done += 1
        return Result()

    ctrl = Controller("concurrent", reconcile, options(max_concurrent_reconciles=8))
    ctrl.for_(factory.core_v1.configmaps().informer)
    async with Running(ctrl, factory):
        for i in range(12):
            ctrl.queue.add(Request(NS, f"k{i % 6}"))
        await until(lambda: done >= 300 and not in_flight and len(ctrl.queue) == 0, "work finished")
    assert violations == []
    assert peak == 6  # every distinct key ran at once, never more


async def test_cancel_drains_the_queue_and_removes_handlers(
    cs: AsyncFakeClientset, factory: SharedInformerFactory
) -> None:
    gate = asyncio.Event()
    finished: list[Request] = []

    async def reconcile(req: Request) -> Result:
        await gate.wait()
        finished.append(req)
        return Result()

    informer = factory.core_v1.configmaps().informer
    ctrl = Controller("drain", reconcile, options()).for_(informer)
    factory.start()
    task = asyncio.create_task(ctrl.run())
    await until(ctrl.is_running, "running")
    for name in ("a", "b", "c"):
        await cs.core_v1.configmaps(NS).create(cm(name))
    await until(lambda: len(ctrl.queue) == 2, "one in progress, two queued")
    task.cancel()
    await settle()
    assert not task.done()  # waiting for the in-progress reconcile and the queued ones
    gate.set()
    await asyncio.gather(task, return_exceptions=True)
    assert sorted(r.name for r in finished) == ["a", "b", "c"]
    assert ctrl.queue.shutting_down()
    await cs.core_v1.configmaps(NS).create(cm("late"))
    await settle()
    assert len(ctrl.queue) == 0


async def test_runs_once_and_needs_watches(factory: SharedInformerFactory) -> None:
    ctrl = Controller("empty", lambda req: asyncio.sleep(0, Result()), options())
    with pytest.raises(ControllerError, match="no watches"):
        await ctrl.run()
    with pytest.raises(ControllerError, match="more than once"):
        await ctrl.run()
    with pytest.raises(ValueError):
        Controller("bad", lambda req: asyncio.sleep(0, Result()), options(max_concurrent_reconciles=0))


async def test_cache_sync_timeout(factory: SharedInformerFactory) -> None:
    ctrl = Controller("nosync", lambda req: asyncio.sleep(0, Result()), options(cache_sync_timeout=0.05))
    ctrl.for_(factory.core_v1.configmaps().informer)  # the factory is never started
    with pytest.raises(ControllerError, match="sync"):
        await ctrl.run()


def test_request() -> None:
    assert Request.from_key("ns/a") == Request("ns", "a")
    assert Request.from_key("node-1") == Request("", "node-1")
    assert Request("", "n").key == "n" and str(Request("ns", "a")) == "ns/a"
    assert len({Request("ns", "a"), Request("ns", "a")}) == 1
    assert Result().is_zero() and not Result(requeue_after=1).is_zero()
    _ = next(_names)
