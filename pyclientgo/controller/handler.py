"""From informer events to reconcile requests (controller-runtime's ``handler`` package).

An :class:`EventHandler` turns one notification into zero or more :class:`~pyclientgo.controller.Request`
s added to the controller's queue:

- :class:`EnqueueRequestForObject` — the object itself (``Controller.for_``);
- :class:`EnqueueRequestForOwner` — the owner named by the object's ``ownerReferences`` (by default only
  the *controller* reference), for objects a controller creates and owns (``Controller.owns``);
- :class:`EnqueueRequestsFromMapFunc` — whatever a function maps the object to (``Controller.watches``).

Updates enqueue for the old and the new object (a changed owner or mapping reaches both). Handler
methods may return an awaitable (an ``async`` map function). Objects are typed models or plain dicts;
deletes get the last known object (tombstones are unwrapped before handlers see them).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from pyclientgo.controller.reconcile import Request
from pyclientgo.tools.cache import object_name, object_namespace
from pyclientgo.tools.cache.meta import object_meta

__all__ = [
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventHandler",
    "MapFunc",
    "OwnerReference",
    "RequestQueue",
    "owner_references",
    "request_for_object",
]

_Maybe = Awaitable[None] | None


class RequestQueue(Protocol):
    """What a handler needs of the work queue."""

    def add(self, item: Request) -> None: ...


@runtime_checkable
class EventHandler(Protocol):
    """Enqueues requests for the events of one watch; methods may return an awaitable."""

    def create(self, obj: Any, queue: RequestQueue) -> _Maybe: ...

    def update(self, old: Any, new: Any, queue: RequestQueue) -> _Maybe: ...

    def delete(self, obj: Any, queue: RequestQueue) -> _Maybe: ...


def request_for_object(obj: Any) -> Request | None:
    """The request naming ``obj`` (None when it has no name)."""
    name = object_name(obj)
    return Request(object_namespace(obj), name) if name else None


class EnqueueRequestForObject:
    """Enqueues the object of the event itself."""

    def create(self, obj: Any, queue: RequestQueue) -> None:
        if (req := request_for_object(obj)) is not None:
            queue.add(req)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        if (req := request_for_object(new)) is not None or (req := request_for_object(old)) is not None:
            queue.add(req)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        self.create(obj, queue)


class OwnerReference:
    """The parts of an ``ownerReferences`` entry a handler reads (typed or dict alike)."""

    __slots__ = ("api_version", "controller", "kind", "name", "uid")

    def __init__(self, *, api_version: str, kind: str, name: str, uid: str, controller: bool) -> None:
        self.api_version = api_version
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller

    @property
    def group(self) -> str:
        """The API group of ``api_version`` ("" for the core group)."""
        group, _, _ = self.api_version.rpartition("/")
        return group

    def __repr__(self) -> str:
        return f"OwnerReference({self.api_version} {self.kind} {self.name}, controller={self.controller})"


def owner_references(obj: Any) -> list[OwnerReference]:
    """``metadata.ownerReferences`` of a typed model or a dict."""
    meta = object_meta(obj)
    if meta is None:
        return []
    if isinstance(meta, Mapping):
        refs = meta.get("ownerReferences") or []
        return [
            OwnerReference(
                api_version=str(r.get("apiVersion") or ""),
                kind=str(r.get("kind") or ""),
                name=str(r.get("name") or ""),
                uid=str(r.get("uid") or ""),
                controller=bool(r.get("controller")),
            )
            for r in refs
        ]
    return [
        OwnerReference(
            api_version=str(r.api_version or ""),
            kind=str(r.kind or ""),
            name=str(r.name or ""),
            uid=str(r.uid or ""),
            controller=bool(r.controller),
        )
        for r in getattr(meta, "owner_references", None) or []
    ]


class EnqueueRequestForOwner:
    """Enqueues the owner of the object: the ``ownerReferences`` entry of ``owner_kind``.

    ``owner_kind`` is a kind name (``"ConfigMap"``) or a model class with ``KIND``/``API_VERSION``
    (its group is then checked too). ``owner_group`` (None: any group) restricts the API group.
    ``only_controller`` (default) follows only the reference with ``controller: true``.
    ``owner_namespaced`` says where the owner lives: in the object's namespace (True) or cluster-scoped.
    """

    def __init__(
        self,
        owner_kind: str | type[Any],
        *,
        owner_group: str | None = None,
        only_controller: bool = True,
        owner_namespaced: bool = True,
    ) -> None:
        if isinstance(owner_kind, str):
            self.kind = owner_kind
            self.group = owner_group
        else:
            self.kind = str(owner_kind.KIND)
            api_version = str(getattr(owner_kind, "API_VERSION", ""))
            self.group = owner_group if owner_group is not None else api_version.rpartition("/")[0]
        self.only_controller = only_controller
        self.owner_namespaced = owner_namespaced

    def requests(self, obj: Any) -> list[Request]:
        """The owner requests of ``obj``."""
        out: list[Request] = []
        namespace = object_namespace(obj) if self.owner_namespaced else ""
        for ref in owner_references(obj):
            if ref.kind != self.kind or not ref.name:
                continue
            if self.group is not None and ref.group != self.group:
                continue
            if self.only_controller and not ref.controller:
                continue
            out.append(Request(namespace, ref.name))
        return out

    def create(self, obj: Any, queue: RequestQueue) -> None:
        for req in self.requests(obj):
            queue.add(req)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        for req in dict.fromkeys([*self.requests(old), *self.requests(new)]):
            queue.add(req)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        self.create(obj, queue)


MapFunc = Callable[[Any], Iterable[Request] | Awaitable[Iterable[Request]]]
"""``map_fn(obj) -> requests`` (may be a coroutine function)."""


class EnqueueRequestsFromMapFunc:
    """Enqueues what ``map_fn`` returns for the object (both objects of an update)."""

    def __init__(self, map_fn: MapFunc) -> None:
        self.map_fn = map_fn

    async def _map(self, obj: Any) -> list[Request]:
        result = self.map_fn(obj)
        if inspect.isawaitable(result):
            result = await result
        return list(result)

    async def create(self, obj: Any, queue: RequestQueue) -> None:
        for req in await self._map(obj):
            queue.add(req)

    async def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        for req in dict.fromkeys([*await self._map(old), *await self._map(new)]):
            queue.add(req)

    async def delete(self, obj: Any, queue: RequestQueue) -> None:
        await self.create(obj, queue)
