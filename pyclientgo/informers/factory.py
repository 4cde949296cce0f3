"""The shared informer factory (client-go's ``informers/factory.go``), written once for typed, dynamic
and metadata informers; the typed :class:`~pyclientgo.informers.SharedInformerFactory` is a generated
binding of :class:`SharedInformerFactoryBase` with one accessor per group/version.

Semantics (docs/reference/client_go_semantics.md §4.11):

- one informer per type: asking again returns the same informer (and the same typed wrapper);
- options: ``namespace`` (``None``: all namespaces), ``tweak_list_options`` (edits the options of
  every LIST and WATCH, e.g. a label selector), ``resync`` (the default handler resync period),
  ``custom_resync`` (per-type periods, keyed by model class, or by GroupVersionResource for dynamic and
  metadata factories), ``transform`` (applied to every object before it is cached);
- every informer has the ``"namespace"`` index;
- :meth:`~SharedInformerFactoryBase.start` starts the informers not started yet and may be called
  again: an informer requested after ``start()`` does not run until ``start()`` is called again
  (as in client-go);
- :meth:`~SharedInformerFactoryBase.wait_for_cache_sync` waits for the *started* informers only and
  reports each one's result;
- :meth:`~SharedInformerFactoryBase.shutdown` stops every informer and waits for their tasks to end;
  idempotent; ``start()`` does nothing afterwards. The factory is also an async context manager
  (``async with factory:`` shuts it down on exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from pyclientgo.apimachinery.registry import GroupVersionResource, ResourceInfo
from pyclientgo.listers.generic import GenericLister
from pyclientgo.tools.cache import (
    NAMESPACE_INDEX,
    Indexers,
    ListOptions,
    ListWatch,
    SharedIndexInformer,
    TransformFunc,
    meta_namespace_index_func,
    wait_for_cache_sync,
)

__all__ = [
    "GenericInformer",
    "NewInformerFunc",
    "SharedInformerFactoryBase",
    "TweakListOptionsFunc",
    "TypedInformer",
    "TypedSharedInformerFactoryBase",
    "default_indexers",
    "informers_by_resource",
]

logger = logging.getLogger("pyclientgo.informers")

T = TypeVar("T")
L = TypeVar("L")

TweakListOptionsFunc = Callable[[ListOptions], None]
"""Edits (in place) a copy of the options of every LIST and WATCH an informer sends."""
NewInformerFunc = Callable[[Any, float], SharedIndexInformer]
"""``new_informer(client, resync_period) -> SharedIndexInformer`` (client-go's ``NewInformerFunc``)."""


def default_indexers(extra: Indexers | None = None) -> Indexers:
    """The namespace index, plus ``extra``."""
    indexers: Indexers = {NAMESPACE_INDEX: meta_namespace_index_func}
    if extra:
        indexers.update(extra)
    return indexers


class SharedInformerFactoryBase:
    """Creates, shares, starts and stops informers; see the module docstring.

    ``client`` is what the informers list and watch with (a clientset, a dynamic client, a REST
    client); ``informer_options`` are passed to every :class:`SharedIndexInformer` (e.g. ``clock``,
    ``use_watch_list``, ``idle_timeout``).
    """

    def __init__(
        self,
        client: Any,
        *,
        resync: float = 0.0,
        namespace: str | None = None,
        tweak_list_options: TweakListOptionsFunc | None = None,
        transform: TransformFunc | None = None,
        custom_resync: Mapping[Any, float] | None = None,
        informer_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.default_resync = resync
        self.namespace = namespace or None
        self.tweak_list_options = tweak_list_options
        self.transform = transform
        self.custom_resync: dict[Any, float] = dict(custom_resync or {})
        self.informer_options: dict[str, Any] = dict(informer_options or {})
        self._informers: dict[Any, SharedIndexInformer] = {}
        self._wrappers: dict[Any, Any] = {}
        self._tasks: dict[Any, asyncio.Task[None]] = {}
        self._shutting_down = False

    # -- informers ----------------------------------------------------------------------------------

    def informer_for(self, key: Any, new_informer: NewInformerFunc) -> SharedIndexInformer:
        """The factory's informer for ``key`` (a model class, a GVR...), created with
        ``new_informer(client, resync)`` the first time (client-go's ``InformerFor``)."""
        informer = self._informers.get(key)
        if informer is not None:
            return informer
        resync = self.custom_resync.get(key, self.default_resync)
        informer = new_informer(self.client, resync)
        if self.transform is not None:
            informer.set_transform(self.transform)
        self._informers[key] = informer
        return informer

    def wrapper_for(self, key: Any, make: Callable[[], T]) -> T:
        """A per-key wrapper object (typed informer) made once and shared."""
        wrapper = self._wrappers.get(key)
        if wrapper is None:
            wrapper = self._wrappers[key] = make()
        result: T = wrapper
        return result

    def informers(self) -> dict[Any, SharedIndexInformer]:
        """Every informer requested so far, by key."""
        return dict(self._informers)

    def __iter__(self) -> Iterator[SharedIndexInformer]:
        return iter(list(self._informers.values()))

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every informer not started yet (needs a running event loop); may be called again.
        Does nothing once :meth:`shutdown` was called."""
        if self._shutting_down:
            return
        for key, informer in self._informers.items():
            if key not in self._tasks:
                self._tasks[key] = informer.start()

    def started(self) -> list[Any]:
        """Keys of the informers started so far."""
        return list(self._tasks)

    async def wait_for_cache_sync(
        self, stop: asyncio.Event | None = None, *, timeout: float | None = None
    ) -> dict[Any, bool]:
        """Wait until every *started* informer has synced; ``{key: synced}``. ``stop`` being set or
        ``timeout`` seconds passing ends the wait (the unsynced ones report False)."""
        informers = {key: self._informers[key] for key in self._tasks}
        if not informers:
            return {}
        end = stop
        timer: asyncio.TimerHandle | None = None
        relay: asyncio.Task[Any] | None = None
        if timeout is not None:
            end = asyncio.Event()
            timer = asyncio.get_running_loop().call_later(timeout, end.set)
            if stop is not None:
                relay = asyncio.ensure_future(_relay(stop, end))
        try:
            results = await asyncio.gather(
                *(wait_for_cache_sync(inf.has_synced, stop=end) for inf in informers.values())
            )
        finally:
            if timer is not None:
                timer.cancel()
            if relay is not None:
                relay.cancel()
        return dict(zip(informers, results, strict=True))

    async def shutdown(self) -> None:
        """Stop every started informer and wait for its task to end; idempotent."""
        self._shutting_down = True
        informers = list(self._informers.values())
        await asyncio.gather(*(inf.stop() for inf in informers), return_exceptions=True)
        for key, task in list(self._tasks.items()):
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception:
                    logger.exception("informer %r ended with an error", key)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


class TypedInformer(Generic[T, L]):
    """An informer of one built-in resource with its typed lister: ``.informer`` and ``.lister``.

    Generated subclasses (``PodInformer``...) bind ``INFO``, ``MODEL``, ``CLIENT`` (the typed resource
    client class) and ``LISTER`` (the typed lister class).
    """

    INFO: ClassVar[ResourceInfo]
    MODEL: ClassVar[type[Any]]
    CLIENT: ClassVar[type[Any]]
    LISTER: ClassVar[type[Any]]

    def __init__(self, informer: SharedIndexInformer) -> None:
        self.informer = informer
        """The shared informer (add handlers to it)."""
        self.lister: L = self.LISTER(informer.get_indexer())
        """Typed reads of the informer's cache."""

    @classmethod
    def new_informer(
        cls,
        clientset: Any,
        *,
        namespace: str | None = None,
        resync: float = 0.0,
        indexers: Indexers | None = None,
        tweak_list_options: TweakListOptionsFunc | None = None,
        **informer_options: Any,
    ) -> SharedIndexInformer:
        """A new (unshared) informer of this resource (client-go's ``NewFilteredXInformer``):
        ``namespace`` None watches all namespaces; the namespace index is always added."""
        info = cls.INFO
        client = cls.CLIENT(clientset.rest, namespace) if info.namespaced else cls.CLIENT(clientset.rest)
        return SharedIndexInformer(
            ListWatch.from_client(client, tweak=tweak_list_options),
            cls.MODEL,
            resync_period=resync,
            indexers=default_indexers(indexers),
            name=f"{info.group_version}/{info.plural}",
            **informer_options,
        )

    @classmethod
    def for_factory(cls, factory: SharedInformerFactoryBase) -> Self:
        """The factory's shared informer of this resource (created on first use)."""

        def new(client: Any, resync: float) -> SharedIndexInformer:
            return cls.new_informer(
                client,
                namespace=factory.namespace,
                resync=resync,
                tweak_list_options=factory.tweak_list_options,
                **factory.informer_options,
            )

        return factory.wrapper_for(cls.MODEL, lambda: cls(factory.informer_for(cls.MODEL, new)))

    @property
    def gvr(self) -> GroupVersionResource:
        return self.INFO.gvr

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.informer!r})"


class GenericInformer(Generic[T]):
    """An informer with a generic lister (client-go's ``GenericInformer``): dynamic, metadata, or a
    typed informer reached through ``for_resource(gvr)``."""

    def __init__(self, informer: SharedIndexInformer, resource: GroupVersionResource) -> None:
        self.informer = informer
        self.resource = resource
        self.lister: GenericLister[T] = GenericLister(
            informer.get_indexer(), group=resource.group, resource=resource.resource
        )

    def __repr__(self) -> str:
        return f"GenericInformer({self.resource}, {self.informer!r})"


def informers_by_resource(
    *informers: type[TypedInformer[Any, Any]],
) -> dict[GroupVersionResource, type[TypedInformer[Any, Any]]]:
    """``{gvr: informer class}`` for :meth:`TypedSharedInformerFactoryBase.for_resource`."""
    return {cls.INFO.gvr: cls for cls in informers}


class TypedSharedInformerFactoryBase(SharedInformerFactoryBase):
    """The base of the generated ``SharedInformerFactory``: informers keyed by model class.

    ``custom_resync`` is keyed by model class (``{Pod: 30.0}``).
    """

    INFORMERS: ClassVar[Mapping[GroupVersionResource, type[TypedInformer[Any, Any]]]] = {}

    def for_resource(self, resource: GroupVersionResource) -> GenericInformer[Any]:
        """The shared informer of a built-in resource by group/version/resource, with a generic
        lister (client-go's ``ForResource``); ValueError for a resource without an informer."""
        cls = self.INFORMERS.get(resource)
        if cls is None:
            raise ValueError(f"no informer for resource {resource}")
        return GenericInformer(cls.for_factory(self).informer, resource)
