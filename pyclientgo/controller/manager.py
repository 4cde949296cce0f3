"""A manager runs controllers and other runnables with shared caches, probes, metrics and leader
election (controller-runtime's ``manager``).

::

    async with AsyncClientset(config) as cs:
        mgr = Manager(cs, ManagerOptions(probe_port=8081, leader_election=True,
                                         leader_election_id="my-controller"))
        cms = mgr.informer_factory.core_v1.configmaps()
        mgr.new_controller("my-controller", reconciler).for_(cms.informer)
        await mgr.run()            # until cancelled or mgr.stop(); raises LeaderElectionLost

What :meth:`Manager.run` does, in order:

1. starts the event broadcaster and, when ``probe_port`` is set, the probe server (``/healthz``,
   ``/readyz``, ``/metrics`` on ``probe_host``, 127.0.0.1 by default);
2. starts the informer factories (the manager's typed ``informer_factory`` and any added with
   :meth:`Manager.add_informer_factory`): caches run whether or not this process leads;
3. starts every runnable that does not need leader election;
4. with ``leader_election``: campaigns for the Lease ``leader_election_namespace/leader_election_id``
   and starts the leader-elected runnables (controllers by default) only once it leads; without, starts
   them at once. :attr:`Manager.elected` is set when they start.

A runnable that raises stops the manager, and ``run`` re-raises the error. Losing the lease stops the
manager too and ``run`` raises :class:`LeaderElectionLost` (as controller-runtime exits): a process
that lost leadership may still hold stale state, so it should exit and start over. A runnable that
returns normally just ends.

Shutdown (``run`` cancelled, or :meth:`Manager.stop`): leader-elected runnables are cancelled first
(controllers drain their queues), the lease is released (``leader_election_release_on_cancel``), then
the other runnables, the informers, the event broadcaster (queued events are written) and the probe
server stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from prometheus_client import CollectorRegistry

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.controller.controller import Controller, ControllerOptions
from pyclientgo.controller.metrics import controller_metrics
from pyclientgo.controller.probes import Checker, ProbeServer, ping
from pyclientgo.controller.reconcile import Reconciler, Request, Result
from pyclientgo.errors import PyClientGoError
from pyclientgo.informers import SharedInformerFactory, SharedInformerFactoryBase
from pyclientgo.leaderelection import (
    HealthzAdaptor,
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    LeaseLock,
)
from pyclientgo.tools.record import ClientsetEventSink, EventBroadcaster, EventRecorder
from pyclientgo.workqueue import RateLimiter

__all__ = [
    "LeaderElectionLost",
    "Manager",
    "ManagerOptions",
    "Runnable",
    "RunnableFunc",
    "needs_leader_election",
]

log = logging.getLogger("pyclientgo.controller")


class LeaderElectionLost(PyClientGoError):
    """The manager led and lost its lease; the process should exit (and may start again)."""


@runtime_checkable
class Runnable(Protocol):
    """Something the manager runs: ``run()`` works until cancelled (controller-runtime's ``Runnable``).

    A runnable may also define ``need_leader_election() -> bool``; without it, it is leader-elected
    (as in controller-runtime).
    """

    async def run(self) -> None: ...


def needs_leader_election(runnable: Runnable) -> bool:
    """Whether ``runnable`` runs only while leading (True unless it says otherwise)."""
    fn = getattr(runnable, "need_leader_election", None)
    return True if fn is None else bool(fn())


class RunnableFunc:
    """A :class:`Runnable` from a coroutine function."""

    def __init__(self, func: Callable[[], Awaitable[None]], *, need_leader_election: bool = True) -> None:
        self.func = func
        self._leader = need_leader_election

    async def run(self) -> None:
        await self.func()

    def need_leader_election(self) -> bool:
        return self._leader

    def __repr__(self) -> str:
        return f"RunnableFunc({getattr(self.func, '__qualname__', self.func)!r})"


@dataclass(kw_only=True)
class ManagerOptions:
    """How a :class:`Manager` runs. Durations are float seconds."""

    probe_port: int | None = None
    """Port of ``/healthz``, ``/readyz`` and ``/metrics`` (0: any free port, see
    :attr:`Manager.probe_server`); None serves nothing."""
    probe_host: str = "127.0.0.1"
    """Address the probe server binds."""
    registry: CollectorRegistry | None = None
    """Prometheus registry for the controller, work queue and leader metrics served on ``/metrics``
    (``prometheus_client.REGISTRY`` by default)."""
    clock: AsyncClock | None = None
    """Clock of the controllers' queues and of leader election (system clock by default)."""
    namespace: str | None = None
    """Restrict the manager's informer factory to one namespace (None: all namespaces)."""
    resync: float = 0.0
    """Default handler resync period of the informer factory (0: none)."""
    leader_election: bool = False
    """Run leader-elected runnables only while holding the Lease ``leader_election_id``."""
    leader_election_id: str = ""
    """Name of the Lease (required with ``leader_election``)."""
    leader_election_namespace: str = "default"
    """Namespace of the Lease."""
    identity: str = ""
    """This candidate's identity in the Lease (default ``<hostname>_<random uuid>``)."""
    lease_duration: float = 15.0
    """How long other candidates wait, from when they last saw the lease change, before taking over."""
    renew_deadline: float = 10.0
    """How long the leader retries renewing before it gives up leadership."""
    retry_period: float = 2.0
    """Time between acquire and renew attempts."""
    leader_election_release_on_cancel: bool = True
    """Release the lease when stopping, so another candidate takes over at once."""
    cache_sync_timeout: float = 120.0
    """Default ``cache_sync_timeout`` of controllers made by :meth:`Manager.new_controller`."""
    graceful_shutdown_timeout: float = 30.0
    """Default ``graceful_shutdown_timeout`` of controllers made by :meth:`Manager.new_controller`."""


class Manager:
    """Runs runnables with shared informers, events, probes, metrics and leader election (module docstring)."""

    def __init__(self, clientset: Any, options: ManagerOptions | None = None) -> None:
        self.clientset = clientset
        self.options = opts = options or ManagerOptions()
        if opts.leader_election and not opts.leader_election_id:
            raise ValueError("leader_election needs a leader_election_id (the Lease name)")
        self.clock: AsyncClock = opts.clock or AsyncSystemClock()
        self.identity = opts.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.informer_factory = SharedInformerFactory(clientset, resync=opts.resync, namespace=opts.namespace)
        """The shared typed informers (``mgr.informer_factory.core_v1.configmaps()``)."""
        self.event_broadcaster = EventBroadcaster(ClientsetEventSink(clientset))
        self.probe_server: ProbeServer | None = (
            ProbeServer(host=opts.probe_host, port=opts.probe_port, registry=opts.registry)
            if opts.probe_port is not None
            else None
        )
        self.healthz: dict[str, Checker] = {"ping": ping}
        self.readyz: dict[str, Checker] = {"informers": self._informers_synced}
        self.elector: LeaderElector | None = None
        self.elected = asyncio.Event()
        """Set when the leader-elected runnables start (at once without leader election)."""
        self._healthz_adaptor = HealthzAdaptor(timeout=20.0)
        self._factories: list[SharedInformerFactoryBase] = [self.informer_factory]
        self._runnables: list[Runnable] = []
        self._metrics = controller_metrics(opts.registry)
        self._stop = asyncio.Event()
        self._failed: BaseException | None = None
        self._failure = asyncio.Event()
        self._started = False
        if opts.leader_election:
            self.healthz["leaderElection"] = self._healthz_adaptor.check

    # -- wiring ---------------------------------------------------------------------------------------

    def add(self, runnable: Runnable) -> None:
        """Run ``runnable`` with the manager (before :meth:`run`)."""
        if self._started:
            raise RuntimeError("add runnables before Manager.run()")
        self._runnables.append(runnable)

    def add_informer_factory(self, factory: SharedInformerFactoryBase) -> None:
        """Start and stop another informer factory (dynamic, metadata...) with the manager; its
        informers count in ``/readyz``."""
        self._factories.append(factory)

    def new_controller(
        self,
        name: str,
        reconciler: Reconciler | Callable[[Request], Awaitable[Result | None]],
        *,
        max_concurrent_reconciles: int = 1,
        rate_limiter: RateLimiter | None = None,
        need_leader_election: bool = True,
    ) -> Controller:
        """A :class:`Controller` using the manager's clock, registry and timeouts, added to the manager."""
        opts = self.options
        ctrl = Controller(
            name,
            reconciler,
            ControllerOptions(
                max_concurrent_reconciles=max_concurrent_reconciles,
                rate_limiter=rate_limiter,
                clock=opts.clock,
                registry=opts.registry,
                cache_sync_timeout=opts.cache_sync_timeout,
                graceful_shutdown_timeout=opts.graceful_shutdown_timeout,
                need_leader_election=need_leader_election,
            ),
        )
        self.add(ctrl)
        return ctrl

    def get_event_recorder(self, component: str) -> EventRecorder:
        """An event recorder writing through the manager's broadcaster, as ``component``."""
        return self.event_broadcaster.new_recorder(component=component)

    def add_healthz_check(self, name: str, check: Checker) -> None:
        """A liveness check (raises when unhealthy) for ``/healthz``."""
        self.healthz[name] = check

    def add_readyz_check(self, name: str, check: Checker) -> None:
        """A readiness check (raises when not ready) for ``/readyz``."""
        self.readyz[name] = check

    def is_leader(self) -> bool:
        """True while the leader-elected runnables run."""
        return self.elected.is_set() and (self.elector is None or self.elector.is_leader())

    def informers_synced(self) -> bool:
        """True when every informer started so far (of every factory) has synced."""
        try:
            self._informers_synced()
        except PyClientGoError:
            return False
        return True

    def _informers_synced(self) -> None:
        for factory in self._factories:
            for key in factory.started():
                informer = factory.informers().get(key)
                if informer is not None and not informer.has_synced():
                    raise PyClientGoError(f"informer {key!r} has not synced")

    # -- running --------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to shut down and return (e.g. from a signal handler)."""
        self._stop.set()

    async def run(self) -> None:
        """Run until cancelled or :meth:`stop`; see the module docstring."""
        if self._started:
            raise RuntimeError("a manager runs once")
        self._started = True
        opts = self.options
        others = [r for r in self._runnables if not needs_leader_election(r)] if opts.leader_election else []
        elected = [r for r in self._runnables if r not in others]
        tasks: list[asyncio.Task[None]] = []
        elector_task: asyncio.Task[None] | None = None
        try:
            self.event_broadcaster.start()
            if self.probe_server is not None:
                self.probe_server.healthz = self.healthz
                self.probe_server.readyz = self.readyz
                await self.probe_server.start()
            for factory in self._factories:
                factory.start()
            tasks = [self._spawn(r) for r in others]
            if opts.leader_election:
                self.elector = self._new_elector(elected)
                self._healthz_adaptor.set_leader_elector(self.elector)
                elector_task = asyncio.create_task(self.elector.run(), name="manager-leader-election")
            else:
                tasks += [self._spawn(r) for r in elected]
                self.elected.set()
            waits: set[asyncio.Future[Any]] = {
                asyncio.ensure_future(self._stop.wait()),
                asyncio.ensure_future(self._failure.wait()),
            }
            if elector_task is not None:
                waits.add(elector_task)
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    if w is not elector_task:
                        w.cancel()
            if self._failed is not None:
                raise self._failed
            if elector_task is not None and elector_task.done() and not self._stop.is_set():
                elector_task.result()
                raise LeaderElectionLost(
                    f"{self.identity}: leader election lost (lease "
                    f"{opts.leader_election_namespace}/{opts.leader_election_id})"
                )
        finally:
            await self._shutdown(elector_task, tasks)

    def _spawn(self, runnable: Runnable) -> asyncio.Task[None]:
        task = asyncio.create_task(runnable.run(), name=f"runnable-{runnable!r}")
        task.add_done_callback(self._on_runnable_done)
        return task

    def _on_runnable_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        err = task.exception()
        if err is not None and self._failed is None:
            log.error("runnable %s failed: %r", task.get_name(), err)
            self._failed = err
            self._failure.set()

    def _new_elector(self, runnables: list[Runnable]) -> LeaderElector:
        opts = self.options
        gauge = self._metrics.leader.labels(opts.leader_election_id)

        async def lead() -> None:
            gauge.set(1)
            log.info("%s: leading; starting %d runnables", self.identity, len(runnables))
            tasks = [self._spawn(r) for r in runnables]
            self.elected.set()
            try:
                await asyncio.Event().wait()  # lead until cancelled (failures stop the manager)
            finally:
                await _cancel_all(tasks)

        def stopped() -> None:
            gauge.set(0)
            self.elected.clear()

        return LeaderElector(
            LeaderElectionConfig(
                lock=LeaseLock(
                    self.clientset.coordination_v1.leases(opts.leader_election_namespace),
                    opts.leader_election_id,
                    self.identity,
                ),
                callbacks=LeaderCallbacks(on_started_leading=lead, on_stopped_leading=stopped),
                lease_duration=opts.lease_duration,
                renew_deadline=opts.renew_deadline,
                retry_period=opts.retry_period,
                release_on_cancel=opts.leader_election_release_on_cancel,
                name=opts.leader_election_id,
                clock=opts.clock,
            )
        )

    async def _shutdown(
        self, elector_task: asyncio.Task[None] | None, tasks: list[asyncio.Task[None]]
    ) -> None:
        if elector_task is not None:
            await _cancel_all([elector_task])  # stops the leader-elected runnables, releases the lease
        await _cancel_all(tasks)
        for factory in self._factories:
            with contextlib.suppress(Exception):
                await factory.shutdown()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10.0):  # not wait_for: on 3.11 it can swallow a cancel
                await self.event_broadcaster.shutdown()
        if self.probe_server is not None:
            await self.probe_server.stop()
        log.info("manager stopped")


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait for them to finish (even if the caller is cancelled meanwhile)."""
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        gathered = asyncio.gather(*pending, return_exceptions=True)
        while not gathered.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(gathered)
