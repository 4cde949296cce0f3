"""A controller: informer events → a rate-limited work queue → N reconcile workers
(controller-runtime's ``internal/controller``).

::

    ctrl = Controller("configmap-mirror", reconciler, ControllerOptions(max_concurrent_reconciles=4))
    ctrl.for_(configmaps.informer, predicates=[label_selector_predicate("mirror=true")])
    ctrl.owns(secrets.informer, ConfigMap)          # a change to an owned Secret reconciles its owner
    ctrl.watches(namespaces.informer, lambda ns: [...])
    await ctrl.run()                                # until cancelled

What the workers do with a request (one key is never processed by two workers at once — the queue
guarantees it — and a key added while it is processed is processed again afterwards):

======================================= =========================================================
reconcile outcome                       queue
======================================= =========================================================
``Result()``                            ``forget`` (back-off reset)
``Result(requeue_after=s)``             ``forget`` + ``add_after(request, s)``
``Result(requeue=True)``                ``add_rate_limited`` (exponential back-off per key)
an exception                            ``add_rate_limited``; logged; counted as an error
:class:`~pyclientgo.controller.TerminalError` ``forget``; logged; not retried
======================================= =========================================================

:meth:`Controller.run` registers its handlers on the informers, waits until each handler has seen its
informer's initial list (``cache_sync_timeout``), then runs the workers. It does not start the
informers: their owner does (the :class:`~pyclientgo.controller.Manager` starts its factories).
Cancelling ``run`` shuts the queue down, lets the workers finish what is queued (up to
``graceful_shutdown_timeout`` seconds, then they are cancelled) and removes the handlers.
A controller runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from prometheus_client import CollectorRegistry

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.controller.handler import (
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    EventHandler,
    MapFunc,
)
from pyclientgo.controller.metrics import controller_metrics, workqueue_metrics_provider
from pyclientgo.controller.predicate import Predicate
from pyclientgo.controller.reconcile import Reconciler, ReconcilerFunc, Request, Result, TerminalError
from pyclientgo.errors import PyClientGoError
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
    wait_for_cache_sync,
)
from pyclientgo.workqueue import RateLimiter, RateLimitingQueue, ShutDown, default_controller_rate_limiter

__all__ = ["Controller", "ControllerError", "ControllerOptions"]

log = logging.getLogger("pyclientgo.controller")


class ControllerError(PyClientGoError):
    """A controller cannot run (started twice, caches did not sync)."""


@dataclass(kw_only=True)
class ControllerOptions:
    """How a :class:`Controller` runs."""

    max_concurrent_reconciles: int = 1
    """How many workers reconcile at once (different keys only)."""
    rate_limiter: RateLimiter | None = None
    """Back-off of failed keys; default: client-go's controller limiter (5 ms, doubled per failure, up to
    1000 s, within an overall 10 qps / burst 100 bucket)."""
    clock: AsyncClock | None = None
    """Clock of the queue's delays and the rate limiter; the system clock by default."""
    registry: CollectorRegistry | None = None
    """Prometheus registry of the controller and work queue metrics (``prometheus_client.REGISTRY``)."""
    cache_sync_timeout: float = 120.0
    """Seconds :meth:`Controller.run` waits for the watched informers to sync before failing."""
    graceful_shutdown_timeout: float = 30.0
    """Seconds the workers get to finish the queued requests when the controller is cancelled."""
    need_leader_election: bool = True
    """Whether a :class:`~pyclientgo.controller.Manager` with leader election runs it only while leading."""


class _NowOnly:
    """A synchronous ``Clock`` view of an async clock, for rate limiters (they only read ``now``)."""

    def __init__(self, clock: AsyncClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:  # pragma: no cover - rate limiters never sleep
        raise NotImplementedError


class _Watch:
    """One watch: an informer, an event handler and its predicates, as an informer handler."""

    def __init__(
        self,
        informer: SharedIndexInformer,
        handler: EventHandler,
        predicates: Sequence[Predicate],
        queue: RateLimitingQueue[Request],
    ) -> None:
        self.informer = informer
        self.handler = handler
        self.predicates = tuple(predicates)
        self.queue = queue
        self.registration: ResourceEventHandlerRegistration | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> Awaitable[None] | None:
        if all(p.create(obj) for p in self.predicates):
            return self.handler.create(obj, self.queue)
        return None

    def on_update(self, old: Any, new: Any) -> Awaitable[None] | None:
        if all(p.update(old, new) for p in self.predicates):
            return self.handler.update(old, new, self.queue)
        return None

    def on_delete(self, obj: Any) -> Awaitable[None] | None:
        if isinstance(obj, DeletedFinalStateUnknown):
            if obj.obj is None:
                if isinstance(self.handler, EnqueueRequestForObject):
                    self.queue.add(Request.from_key(obj.key))
                return None
            obj = obj.obj
        if all(p.delete(obj) for p in self.predicates):
            return self.handler.delete(obj, self.queue)
        return None


class Controller:
    """Reconciles the requests its watches enqueue; see the module docstring."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler | Callable[[Request], Awaitable[Result | None]],
        options: ControllerOptions | None = None,
    ) -> None:
        if not name:
            raise ValueError("a controller needs a name")
        self.name = name
        self.options = options or ControllerOptions()
        if self.options.max_concurrent_reconciles < 1:
            raise ValueError("max_concurrent_reconciles must be at least 1")
        self.reconciler: Reconciler = (
            reconciler if isinstance(reconciler, Reconciler) else ReconcilerFunc(reconciler)
        )
        self.clock: AsyncClock = self.options.clock or AsyncSystemClock()
        limiter = self.options.rate_limiter or default_controller_rate_limiter(clock=_NowOnly(self.clock))
        self.queue: RateLimitingQueue[Request] = RateLimitingQueue(
            limiter,
            name=name,
            clock=self.clock,
            metrics_provider=workqueue_metrics_provider(self.options.registry),
        )
        """The work queue of requests (named after the controller: its metrics carry ``name``)."""
        self._metrics = controller_metrics(self.options.registry)
        self._watches: list[_Watch] = []
        self._started = False
        self._running = False

    # -- wiring ---------------------------------------------------------------------------------------

    def watch(
        self, informer: SharedIndexInformer, handler: EventHandler, *, predicates: Iterable[Predicate] = ()
    ) -> Self:
        """Enqueue what ``handler`` maps the informer's events to (after ``predicates`` agree)."""
        if self._started:
            raise ControllerError(f"controller {self.name!r}: watches must be added before run()")
        self._watches.append(_Watch(informer, handler, list(predicates), self.queue))
        return self

    def for_(self, informer: SharedIndexInformer, *, predicates: Iterable[Predicate] = ()) -> Self:
        """Reconcile the informer's objects themselves (the controller's primary resource)."""
        return self.watch(informer, EnqueueRequestForObject(), predicates=predicates)

    def owns(
        self,
        informer: SharedIndexInformer,
        owner_kind: str | type[Any],
        *,
        predicates: Iterable[Predicate] = (),
        owner_group: str | None = None,
        only_controller: bool = True,
        owner_namespaced: bool = True,
    ) -> Self:
        """Reconcile the owner (of kind ``owner_kind``) of the informer's objects; see
        :class:`~pyclientgo.controller.EnqueueRequestForOwner`."""
        handler = EnqueueRequestForOwner(
            owner_kind,
            owner_group=owner_group,
            only_controller=only_controller,
            owner_namespaced=owner_namespaced,
        )
        return self.watch(informer, handler, predicates=predicates)

    def watches(
        self,
        informer: SharedIndexInformer,
        map_fn: MapFunc | EventHandler,
        *,
        predicates: Iterable[Predicate] = (),
    ) -> Self:
        """Reconcile what ``map_fn(obj)`` returns for the informer's objects (or use an EventHandler)."""
        handler = map_fn if isinstance(map_fn, EventHandler) else EnqueueRequestsFromMapFunc(map_fn)
        return self.watch(informer, handler, predicates=predicates)

    @property
    def informers(self) -> list[SharedIndexInformer]:
        """The watched informers (each once)."""
        return list(dict.fromkeys(w.informer for w in self._watches))

    # -- Runnable -------------------------------------------------------------------------------------

    def need_leader_election(self) -> bool:
        return self.options.need_leader_election

    def is_running(self) -> bool:
        """True while the workers run (after the caches synced)."""
        return self._running

    async def run(self) -> None:
        """Register the watches, wait for the caches, reconcile until cancelled (see module docstring)."""
        if self._started:
            raise ControllerError(f"controller {self.name!r} was started more than once")
        self._started = True
        if not self._watches:
            raise ControllerError(f"controller {self.name!r} has no watches")
        opts = self.options
        workers: list[asyncio.Task[None]] = []
        try:
            for w in self._watches:
                w.registration = w.informer.add_event_handler(w)
            log.info("controller %s: waiting for %d watches to sync", self.name, len(self._watches))
            synced = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(opts.cache_sync_timeout):
                    synced = await wait_for_cache_sync(
                        *(w.registration.has_synced for w in self._watches if w.registration is not None)
                    )
            if not synced:
                raise ControllerError(
                    f"controller {self.name!r}: timed out waiting for caches to sync "
                    f"({opts.cache_sync_timeout} s)"
                )
            n = opts.max_concurrent_reconciles
            self._metrics.max_concurrent.labels(self.name).set(n)
            log.info("controller %s: starting %d workers", self.name, n)
            workers = [
                asyncio.create_task(self._worker(), name=f"controller-{self.name}-worker-{i}")
                for i in range(n)
            ]
            self._running = True
            await asyncio.wait(workers)  # they end only when the queue is shut down
        finally:
            self._running = False
            self.queue.shut_down()
            await self._drain(workers)
            for w in self._watches:
                if w.registration is not None:
                    with contextlib.suppress(Exception):
                        w.informer.remove_event_handler(w.registration)
            log.info("controller %s: stopped", self.name)

    async def _drain(self, workers: list[asyncio.Task[None]]) -> None:
        """Let the workers finish what is queued, then cancel the stragglers."""
        if not workers:
            return
        _, pending = await asyncio.wait(workers, timeout=self.options.graceful_shutdown_timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # -- workers --------------------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            try:
                request = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.reconcile_handler(request)
            finally:
                self.queue.done(request)

    async def reconcile_handler(self, request: Request) -> None:
        """Reconcile one request and decide what the queue does with it (see the module docstring)."""
        m = self._metrics
        name = self.name
        active = m.active_workers.labels(name)
        active.inc()
        started = self.clock.now()
        try:
            result = await self.reconciler.reconcile(request)
        except asyncio.CancelledError:
            raise
        except TerminalError as err:
            self.queue.forget(request)
            m.reconcile_errors.labels(name).inc()
            m.terminal_errors.labels(name).inc()
            m.reconcile_total.labels(name, "error").inc()
            log.error("controller %s: %s: terminal error, not retrying: %s", name, request, err)
            return
        except Exception:
            self.queue.add_rate_limited(request)
            m.reconcile_errors.labels(name).inc()
            m.reconcile_total.labels(name, "error").inc()
            log.exception("controller %s: reconcile %s failed; retrying with back-off", name, request)
            return
        finally:
            active.dec()
            m.reconcile_time.labels(name).observe(max(0.0, self.clock.now() - started))
        if result is None:
            result = Result()
        if result.requeue_after > 0:
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
            m.reconcile_total.labels(name, "requeue_after").inc()
        elif result.requeue:
            self.queue.add_rate_limited(request)
            m.reconcile_total.labels(name, "requeue").inc()
        else:
            self.queue.forget(request)
            m.reconcile_total.labels(name, "success").inc()

    def __repr__(self) -> str:
        return f"Controller({self.name!r}, watches={len(self._watches)})"
