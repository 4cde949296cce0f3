"""The informer loop (client-go's ``tools/cache/controller.go``): a Reflector fills a DeltaFIFO, the
controller pops it and hands each key's deltas to a process function.

:func:`process_deltas` is how informers apply deltas (docs/reference/client_go_semantics.md §2.11): ``Sync``/``Replaced``/
``Added``/``Updated`` update the store and call ``on_update(old, new)`` when the key was present, else add
and call ``on_add(obj, is_in_initial_list)``; ``Deleted`` removes and calls ``on_delete(obj_or_tombstone)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyclientgo.clock import AsyncClock
from pyclientgo.tools.cache.delta_fifo import (
    DeltaFIFO,
    Deltas,
    DeltaType,
    FIFOClosedError,
    PopProcessFunc,
    RequeueError,
)
from pyclientgo.tools.cache.listwatch import ListerWatcher
from pyclientgo.tools.cache.reflector import Reflector, WatchErrorHandler
from pyclientgo.tools.cache.store import Store

__all__ = [
    "Controller",
    "ControllerConfig",
    "DeltaHandler",
    "process_deltas",
]

logger = logging.getLogger("pyclientgo.tools.cache")


class DeltaHandler(Protocol):
    """The synchronous callbacks :func:`process_deltas` calls after changing the store."""

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None: ...

    def on_update(self, old_obj: Any, new_obj: Any) -> None: ...

    def on_delete(self, obj: Any) -> None: ...


def process_deltas(
    handler: DeltaHandler, client_state: Store, deltas: Deltas, is_in_initial_list: bool
) -> None:
    """Apply one key's deltas to ``client_state`` (the indexer) and notify ``handler`` after each."""
    for delta in deltas:
        obj = delta.object
        if delta.type is DeltaType.DELETED:
            client_state.delete(obj)
            handler.on_delete(obj)
            continue
        old = client_state.get(obj)
        if old is not None:
            client_state.update(obj)
            handler.on_update(old, obj)
        else:
            client_state.add(obj)
            handler.on_add(obj, is_in_initial_list)


@dataclass(kw_only=True)
class ControllerConfig:
    """What a :class:`Controller` runs."""

    queue: DeltaFIFO
    """The DeltaFIFO the Reflector fills and the controller pops."""
    lister_watcher: ListerWatcher
    """The :class:`~pyclientgo.tools.cache.listwatch.ListerWatcher` the Reflector lists and watches."""
    process: PopProcessFunc
    """Called with each popped key's deltas and ``is_in_initial_list`` (sync or async)."""
    object_type: type | None = None
    """Expected type of the objects (the Reflector skips others); ``None`` accepts anything."""
    full_resync_period: float = 0.0
    """Seconds between the Reflector's resync checks; 0 disables resync."""
    should_resync: Callable[[], bool] | None = None
    """Asked at every resync check; resync happens only when it returns True (always when None)."""
    retry_on_error: bool = False
    """Put the deltas back when ``process`` raises."""
    watch_error_handler: WatchErrorHandler | None = None
    """Called by the Reflector when list-and-watch fails."""
    clock: AsyncClock | None = None
    """Clock for the Reflector (the system clock when None)."""
    name: str = ""
    """Name used in logs."""
    use_watch_list: bool = False
    """Start with a streaming watch-list instead of LIST."""
    reflector_options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments for the Reflector (e.g. ``idle_timeout``, ``page_size``)."""


class Controller:
    """Runs a Reflector and the pop loop (client-go's ``controller``)."""

    def __init__(self, config: ControllerConfig) -> None:
        self.config = config
        self.reflector: Reflector | None = None

    def has_synced(self) -> bool:
        """The queue's has_synced: the initial list has been processed."""
        return self.config.queue.has_synced()

    def last_sync_resource_version(self) -> str:
        """The Reflector's last synced resourceVersion ("" before it runs)."""
        if self.reflector is None:
            return ""
        return self.reflector.last_sync_resource_version()

    def _new_reflector(self) -> Reflector:
        cfg = self.config
        return Reflector(
            cfg.lister_watcher,
            cfg.queue,
            expected_type=cfg.object_type,
            name=cfg.name,
            resync_period=cfg.full_resync_period,
            should_resync=cfg.should_resync,
            use_watch_list=cfg.use_watch_list,
            watch_error_handler=cfg.watch_error_handler,
            clock=cfg.clock,
            **cfg.reflector_options,
        )

    async def run(self) -> None:
        """Run until cancelled (or until the Reflector fails, whose error is raised)."""
        cfg = self.config
        reflector = self.reflector = self._new_reflector()
        reflector_task = asyncio.get_running_loop().create_task(reflector.run())

        def reflector_done(task: asyncio.Task[None]) -> None:
            cfg.queue.close()  # the Reflector never returns on its own: let the pop loop end

        reflector_task.add_done_callback(reflector_done)
        try:
            await self._process_loop()
            if reflector_task.done() and not reflector_task.cancelled():
                reflector_task.result()  # re-raise its failure
        finally:
            cfg.queue.close()
            reflector_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reflector_task

    async def _process_loop(self) -> None:
        cfg = self.config
        process = cfg.process
        if cfg.retry_on_error:
            process = _requeue_on_error(process)
        while True:
            try:
                await cfg.queue.pop(process)
            except FIFOClosedError:
                return
            except Exception:
                logger.exception("%s: processing deltas failed", cfg.name or "controller")


def _requeue_on_error(process: PopProcessFunc) -> PopProcessFunc:
    async def wrapped(deltas: Deltas, is_in_initial_list: bool) -> None:
        try:
            result = process(deltas, is_in_initial_list)
            if inspect.isawaitable(result):
                await result
        except RequeueError:
            raise
        except Exception as err:
            raise RequeueError(err) from err

    return wrapped
