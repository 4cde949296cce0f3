"""Metadata-only informers (client-go's ``metadata/metadatainformer``): caches of
``PartialObjectMetadata`` — kind, apiVersion and ``metadata`` only — for any resource.

They list with ``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` and watch
with ``as=PartialObjectMetadata``, so the server sends metadata only: the cheap way to track the names,
labels, owners or finalizers of many big objects (Secrets, Pods) without caching their bodies. Cached
objects are dicts ``{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {...}}``;
an answer that carries whole objects (a server without the conversion) is reduced to that shape.

::

    factory = MetadataSharedInformerFactory(rest_client)
    secrets = factory.for_resource(GroupVersionResource("", "v1", "secrets"))
    factory.start()
    await factory.wait_for_cache_sync()
    secrets.lister.by_namespace("default").list("app=web")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson

from pyclientgo.apimachinery.registry import GroupVersionResource, Registry
from pyclientgo.errors import DecodeError
from pyclientgo.informers.factory import (
    GenericInformer,
    SharedInformerFactoryBase,
    TweakListOptionsFunc,
    default_indexers,
)
from pyclientgo.kubernetes import options as opts
from pyclientgo.rest import AsyncRESTClient, WatchDecoder, WatchEvent
from pyclientgo.tools.cache import Indexers, ListOptions, SharedIndexInformer, TransformFunc

__all__ = [
    "LIST_ACCEPT",
    "MetadataListWatch",
    "MetadataSharedInformerFactory",
    "WATCH_ACCEPT",
    "new_filtered_metadata_informer",
    "partial_object_metadata",
]

LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
_WATCH_READ_GRACE = 30.0

PartialObjectMetadata = dict[str, Any]


def partial_object_metadata(obj: Mapping[str, Any]) -> PartialObjectMetadata:
    """``obj`` as a PartialObjectMetadata dict (metadata kept, everything else dropped)."""
    if obj.get("kind") == "PartialObjectMetadata" and set(obj) <= {"kind", "apiVersion", "metadata"}:
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def _decode(raw: bytes) -> PartialObjectMetadata:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"invalid object in a metadata watch: {exc}") from exc
    if not isinstance(data, dict):
        raise DecodeError("a metadata watch event's object is not a JSON object")
    return partial_object_metadata(data)


class MetadataListWatch:
    """A :class:`~pyclientgo.tools.cache.ListerWatcher` of PartialObjectMetadata for one resource."""

    def __init__(
        self,
        rest: AsyncRESTClient,
        resource: GroupVersionResource,
        namespace: str | None = None,
        *,
        tweak: TweakListOptionsFunc | None = None,
    ) -> None:
        self.rest = rest
        self.resource = resource
        self.path = opts.collection_path(resource.group, resource.version, resource.resource, namespace)
        self._tweak = tweak

    def _prepared(self, options: ListOptions) -> ListOptions:
        options = options.copy()
        if self._tweak is not None:
            self._tweak(options)
        return options

    async def list(self, options: ListOptions) -> dict[str, Any]:
        """A PartialObjectMetadataList (dict) of the collection."""
        params = opts.list_params(**self._prepared(options).list_kwargs())
        response = await self.rest.request("GET", self.path, params=params, accept=LIST_ACCEPT)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"invalid metadata list from {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise DecodeError(f"metadata list from {self.path} is not a JSON object")
        items = [partial_object_metadata(i) for i in data.get("items") or [] if isinstance(i, dict)]
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": data.get("metadata") or {},
            "items": items,
        }

    async def watch(self, options: ListOptions) -> AsyncIterator[WatchEvent[PartialObjectMetadata]]:
        """Watch events whose objects are PartialObjectMetadata dicts (an ERROR event raises)."""
        prepared = self._prepared(options)
        params = opts.watch_params(**prepared.watch_kwargs())
        read = float(prepared.timeout_seconds) + _WATCH_READ_GRACE if prepared.timeout_seconds else None
        timeout = httpx.Timeout(read, connect=30.0)
        decoder: WatchDecoder[PartialObjectMetadata] = WatchDecoder(_decode)
        async with self.rest.stream(
            "GET", self.path, params=params, accept=WATCH_ACCEPT, timeout=timeout
        ) as response:
            try:
                async for chunk in response.aiter_bytes():
                    for event in decoder.feed(chunk):
                        yield event
            except httpx.TransportError as exc:
                from pyclientgo.rest._retry import transport_error

                raise transport_error(exc, "GET", self.rest.url(self.path)) from exc
            for event in decoder.close():
                yield event


def new_filtered_metadata_informer(
    rest: AsyncRESTClient,
    resource: GroupVersionResource,
    *,
    namespace: str | None = None,
    resync: float = 0.0,
    indexers: Indexers | None = None,
    tweak_list_options: TweakListOptionsFunc | None = None,
    **informer_options: Any,
) -> SharedIndexInformer:
    """A new (unshared) metadata-only informer of ``resource``; the namespace index is always added."""
    return SharedIndexInformer(
        MetadataListWatch(rest, resource, namespace, tweak=tweak_list_options),
        None,
        resync_period=resync,
        indexers=default_indexers(indexers),
        name=f"metadata {resource.group_version}/{resource.resource}",
        **informer_options,
    )


class MetadataSharedInformerFactory(SharedInformerFactoryBase):
    """Shared metadata-only informers, one per GroupVersionResource; factory behaviour as
    :mod:`pyclientgo.informers.factory`. ``client``: an AsyncRESTClient, or anything with ``.rest``
    (a clientset, a dynamic client)."""

    def __init__(
        self,
        client: Any,
        *,
        resync: float = 0.0,
        namespace: str | None = None,
        tweak_list_options: TweakListOptionsFunc | None = None,
        transform: TransformFunc | None = None,
        custom_resync: Mapping[GroupVersionResource, float] | None = None,
        informer_options: Mapping[str, Any] | None = None,
        registry: Registry | None = None,
    ) -> None:
        rest = client if isinstance(client, AsyncRESTClient) else client.rest
        super().__init__(
            rest,
            resync=resync,
            namespace=namespace,
            tweak_list_options=tweak_list_options,
            transform=transform,
            custom_resync=custom_resync,
            informer_options=informer_options,
        )
        self._registry = registry

    def _namespace_for(self, resource: GroupVersionResource) -> str | None:
        if self.namespace is None:
            return None
        registry = self._registry
        if registry is None:
            from pyclientgo.api import builtin_registry

            registry = builtin_registry()
        info = registry.get(resource)
        return None if info is not None and not info.namespaced else self.namespace

    def for_resource(self, resource: GroupVersionResource) -> GenericInformer[PartialObjectMetadata]:
        """The shared metadata informer of ``resource`` and its generic lister."""

        def new(client: Any, resync: float) -> SharedIndexInformer:
            return new_filtered_metadata_informer(
                client,
                resource,
                namespace=self._namespace_for(resource),
                resync=resync,
                tweak_list_options=self.tweak_list_options,
                **self.informer_options,
            )

        return self.wrapper_for(resource, lambda: GenericInformer(self.informer_for(resource, new), resource))
