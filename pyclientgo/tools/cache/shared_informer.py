"""SharedIndexInformer (client-go's ``tools/cache/shared_informer.go``).

One LIST+WATCH per resource feeds an indexed cache and any number of event handlers:

- the indexer is updated *before* handlers are notified, so a handler always finds the object in the
  cache (``get_indexer()``);
- each handler has its own unbounded buffer and runs its notifications one at a time, in order; a slow
  or failing handler never blocks or breaks the others;
- a handler added after the informer started first receives a synthetic
  ``on_add(obj, is_in_initial_list=True)`` for every cached object;
- each registration has its own ``has_synced()``: the informer has synced and that handler has received
  all its initial-list adds (k8s#113763);
- handler resync periods: 0 means none, anything below 1 s is raised to 1 s; a resync (an update whose
  old and new objects have the same resourceVersion) goes only to the handlers due one.

Run it with ``await informer.run()`` (until cancelled or :meth:`SharedIndexInformer.stop`) or
``informer.start()``; wait with :func:`wait_for_cache_sync`. Methods are called from the informer's event
loop; the indexer (and listers over it) may be read from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.errors import PyClientGoError
from pyclientgo.tools.cache._processor import (
    MINIMUM_RESYNC_PERIOD,
    AddNotification,
    DeleteNotification,
    ProcessListener,
    SharedProcessor,
    UpdateNotification,
    determine_resync_period,
)
from pyclientgo.tools.cache.controller import Controller, ControllerConfig, process_deltas
from pyclientgo.tools.cache.delta_fifo import DeltaFIFO, Deltas, TransformFunc
from pyclientgo.tools.cache.handlers import ResourceEventHandler, ResourceEventHandlerFuncs
from pyclientgo.tools.cache.index import Indexer, Indexers
from pyclientgo.tools.cache.listwatch import ListerWatcher
from pyclientgo.tools.cache.meta import resource_version
from pyclientgo.tools.cache.reflector import WatchErrorHandler
from pyclientgo.tools.cache.store import Store, deletion_handling_meta_namespace_key_func
from pyclientgo.tools.cache.thread_safe_store import new_indexer

__all__ = [
    "InformerStartedError",
    "InformerStoppedError",
    "ResourceEventHandlerRegistration",
    "SharedIndexInformer",
    "SharedInformer",
    "drop_managed_fields",
    "wait_for_cache_sync",
]

logger = logging.getLogger("pyclientgo.tools.cache")

_UNSET: Any = object()

SYNCED_POLL_PERIOD = 0.1
"""Seconds between checks in :func:`wait_for_cache_sync`."""


class InformerStartedError(PyClientGoError):
    """The informer has already started (``set_transform``, ``set_watch_error_handler``)."""


class InformerStoppedError(PyClientGoError):
    """The informer has stopped (``add_event_handler``, ``add_indexers``)."""


class ResourceEventHandlerRegistration:
    """What :meth:`SharedIndexInformer.add_event_handler` returns; pass it to ``remove_event_handler``."""

    def __init__(self, listener: ProcessListener) -> None:
        self._listener = listener

    @property
    def handler(self) -> ResourceEventHandler:
        """The registered handler."""
        return self._listener.handler

    @property
    def resync_period(self) -> float:
        """The effective resync period in seconds (0: none)."""
        return self._listener.resync_period

    def has_synced(self) -> bool:
        """The informer has synced and this handler has received every initial-list add."""
        return self._listener.has_synced()

    def __repr__(self) -> str:
        return f"ResourceEventHandlerRegistration({self._listener.handler!r})"


class _Distributor:
    """The informer's own delta handler: turns cache changes into notifications."""

    def __init__(self, processor: SharedProcessor) -> None:
        self._processor = processor

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self._processor.distribute(AddNotification(obj, is_in_initial_list), False)

    def on_update(self, old_obj: Any, new_obj: Any) -> None:
        # Same resourceVersion: a resync (Sync, or Replaced by an unchanged object).
        is_sync = resource_version(old_obj) == resource_version(new_obj)
        self._processor.distribute(UpdateNotification(old_obj, new_obj), is_sync)

    def on_delete(self, obj: Any) -> None:
        self._processor.distribute(DeleteNotification(obj), False)


class SharedIndexInformer:
    """A shared, indexed informer over one ListerWatcher; see the module docstring."""

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        expected_type: type | None = None,
        *,
        resync_period: float = 0.0,
        indexers: Indexers | None = None,
        transform: TransformFunc | None = None,
        clock: AsyncClock | None = None,
        use_watch_list: bool = False,
        idle_timeout: float | None = _UNSET,
        name: str = "",
        reflector_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Create a stopped informer.

        ``lister_watcher``: a :class:`~pyclientgo.tools.cache.listwatch.ListerWatcher`.
        ``expected_type``: the object type (others are skipped by the Reflector); ``None`` for any.
        ``resync_period``: default handler resync and the resync check period (0: no resync).
        ``indexers``: extra index functions for the cache. ``transform``: applied once to each object
        before it is cached (e.g. :func:`drop_managed_fields`). ``clock``: for resync and the Reflector.
        ``use_watch_list``: start with a streaming watch-list. ``idle_timeout``: seconds a silent watch
        may stay open (the Reflector's default when not given). ``reflector_options``: further Reflector
        keyword arguments.
        """
        self._lister_watcher = lister_watcher
        self._expected_type = expected_type
        self._clock: AsyncClock = clock if clock is not None else AsyncSystemClock()
        self._indexer = new_indexer(deletion_handling_meta_namespace_key_func, indexers)
        self._processor = SharedProcessor(self._clock)
        self._distributor = _Distributor(self._processor)
        self._default_event_handler_resync_period = resync_period
        self._resync_check_period = resync_period
        self._transform = transform
        self._watch_error_handler: WatchErrorHandler | None = None
        self._use_watch_list = use_watch_list
        self._name = name
        self._reflector_options = dict(reflector_options or {})
        if idle_timeout is not _UNSET:
            self._reflector_options["idle_timeout"] = idle_timeout
        self._controller: Controller | None = None
        self._started = False
        self._stopped = False
        self._stop_event = asyncio.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- configuration (before start) ------------------------------------------------------------

    def set_transform(self, transform: TransformFunc | None) -> None:
        """Set the transform function; raises :class:`InformerStartedError` once started."""
        if self._started:
            raise InformerStartedError("informer has already started")
        self._transform = transform

    def set_watch_error_handler(self, handler: WatchErrorHandler) -> None:
        """Set the Reflector's watch-error handler; raises :class:`InformerStartedError` once started."""
        if self._started:
            raise InformerStartedError("informer has already started")
        self._watch_error_handler = handler

    def add_indexers(self, indexers: Indexers) -> None:
        """Add index functions to the cache (allowed while running); fails once stopped."""
        if self._stopped:
            raise InformerStoppedError("indexer was not added because the informer has stopped")
        self._indexer.add_indexers(indexers)

    # -- handlers -------------------------------------------------------------------------------

    def add_event_handler(
        self,
        handler: ResourceEventHandler | None = None,
        *,
        on_add: Callable[..., Any] | None = None,
        on_update: Callable[[Any, Any], Any] | None = None,
        on_delete: Callable[[Any], Any] | None = None,
        resync_period: float | None = None,
    ) -> ResourceEventHandlerRegistration:
        """Register a handler object, or ``on_add``/``on_update``/``on_delete`` functions (sync or async).

        ``resync_period``: seconds between resyncs for this handler (the informer's default when None;
        0: none; below 1 s: 1 s; never below the informer's resync check period once started).
        Raises :class:`InformerStoppedError` once the informer has stopped.
        """
        if self._stopped:
            raise InformerStoppedError(f"handler {handler!r} was not added: the informer has stopped")
        if handler is None:
            handler = ResourceEventHandlerFuncs(on_add=on_add, on_update=on_update, on_delete=on_delete)
        elif on_add is not None or on_update is not None or on_delete is not None:
            raise TypeError("pass either a handler object or on_add/on_update/on_delete, not both")
        period = self._default_event_handler_resync_period if resync_period is None else resync_period
        if period > 0:
            period = max(period, MINIMUM_RESYNC_PERIOD)
            if period < self._resync_check_period:
                if self._started:
                    logger.warning(
                        "resync period %s is smaller than the running informer's check period %s",
                        period,
                        self._resync_check_period,
                    )
                    period = self._resync_check_period
                else:
                    self._resync_check_period = period
                    self._processor.resync_check_period_changed(period)
        elif period < 0:
            period = 0.0
        listener = ProcessListener(
            handler,
            period,
            determine_resync_period(period, self._resync_check_period),
            self._clock.now(),
            self.has_synced,
        )
        self._processor.add_listener(listener)
        if self._started:
            # Join a running informer: the cache's objects first, as initial-list adds.
            for obj in self._indexer.list():
                listener.add(AddNotification(obj, True))
        return ResourceEventHandlerRegistration(listener)

    def remove_event_handler(self, registration: ResourceEventHandlerRegistration) -> None:
        """Unregister a handler and drop its buffered notifications; idempotent."""
        self._processor.remove_listener(registration._listener)

    # -- cache ----------------------------------------------------------------------------------

    def get_store(self) -> Store:
        """The informer's cache as a Store."""
        return self._indexer

    def get_indexer(self) -> Indexer:
        """The informer's cache (thread-safe)."""
        return self._indexer

    def get_controller(self) -> Controller | None:
        """The controller, once started."""
        return self._controller

    # -- state ----------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """The initial list has been processed into the cache (never turns False again)."""
        return self._controller is not None and self._controller.has_synced()

    def last_sync_resource_version(self) -> str:
        """The resourceVersion of the last list or watch event ("" before the first)."""
        return "" if self._controller is None else self._controller.last_sync_resource_version()

    def has_started(self) -> bool:
        """:meth:`run` has begun."""
        return self._started

    def is_stopped(self) -> bool:
        """:meth:`run` has ended (or :meth:`stop` was called before it began)."""
        return self._stopped

    # -- running --------------------------------------------------------------------------------

    def _handle_deltas(self, deltas: Deltas, is_in_initial_list: bool) -> None:
        process_deltas(self._distributor, self._indexer, deltas, is_in_initial_list)

    async def run(self) -> None:
        """List, watch and notify until cancelled or :meth:`stop`; a second call returns at once."""
        if self._started or self._stopped:
            if self._started:  # stop() before run() began (start(); stop()) is not worth a warning
                logger.warning("%s: the informer has already run; run() ignored", self._name or "informer")
            return
        fifo = DeltaFIFO(
            key_function=deletion_handling_meta_namespace_key_func,
            known_objects=self._indexer,
            emit_delta_type_replaced=True,
            transformer=self._transform,
        )
        self._controller = Controller(
            ControllerConfig(
                queue=fifo,
                lister_watcher=self._lister_watcher,
                process=self._handle_deltas,
                object_type=self._expected_type,
                full_resync_period=self._resync_check_period,
                should_resync=self._processor.should_resync,
                watch_error_handler=self._watch_error_handler,
                clock=self._clock,
                name=self._name,
                use_watch_list=self._use_watch_list,
                reflector_options=self._reflector_options,
            )
        )
        self._started = True
        loop = asyncio.get_running_loop()
        processor_task = loop.create_task(self._processor.run())
        controller_task = loop.create_task(self._controller.run())
        stop_task = loop.create_task(self._stop_event.wait())
        try:
            await asyncio.wait({controller_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            if controller_task.done():
                controller_task.result()
        finally:
            self._stopped = True
            for task in (stop_task, controller_task, processor_task):
                task.cancel()
            for task in (stop_task, controller_task, processor_task):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._done.set()

    def start(self) -> asyncio.Task[None]:
        """Run in a new task (returned); :meth:`stop` ends it."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())
        return self._task

    async def stop(self) -> None:
        """End :meth:`run` and wait for it (handler tasks are cancelled); idempotent."""
        self._stop_event.set()
        if not self._started:
            self._stopped = True
            return
        await self._done.wait()

    def __repr__(self) -> str:
        return f"SharedIndexInformer(name={self._name!r}, started={self._started}, stopped={self._stopped})"


SharedInformer = SharedIndexInformer
"""Alias: every shared informer here is indexed."""


async def wait_for_cache_sync(
    *has_synced: Callable[[], bool],
    stop: asyncio.Event | None = None,
    clock: AsyncClock | None = None,
) -> bool:
    """Wait until every ``has_synced()`` is True: checks at once, then every 100 ms.

    Returns False when ``stop`` is set first.
    """
    clock = clock if clock is not None else AsyncSystemClock()
    while True:
        if all(fn() for fn in has_synced):
            return True
        if stop is not None and stop.is_set():
            return False
        if stop is None:
            await clock.sleep(SYNCED_POLL_PERIOD)
            continue
        sleeper = asyncio.ensure_future(clock.sleep(SYNCED_POLL_PERIOD))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if stop.is_set():
            return False


def drop_managed_fields(obj: Any) -> Any:
    """A transform that clears ``metadata.managedFields`` (models or dicts) and returns the object.

    A lazily decoded model is returned as a new lazy model of its wire form without
    ``managedFields``: clearing the field in place would keep the whole wire form (managed fields
    included) and decode the metadata besides, costing memory instead of saving it.
    """
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
        return obj
    if is_lazy(obj):
        if getattr(getattr(obj, "metadata", None), "managed_fields", None) is None:
            return obj  # nothing to drop: no need to parse the wire form
        data = obj.to_dict()
        wire_meta = data.get("metadata")
        if not isinstance(wire_meta, dict) or wire_meta.pop("managedFields", None) is None:
            return obj
        # from_json copies the memoryview: orjson's own buffer over-allocates (~4 KB per object).
        return type(obj).from_json(memoryview(orjson.dumps(data)))
    meta = getattr(obj, "metadata", None)
    if meta is not None and getattr(meta, "managed_fields", None) is not None:
        meta.managed_fields = None
        meta.model_fields_set.discard("managed_fields")  # unset, not null, on the wire
    return obj
