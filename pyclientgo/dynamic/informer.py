"""Dynamic informers (client-go's ``dynamic/dynamicinformer``): shared informers of any resource by
group/version/resource, caching plain dicts (``Unstructured``), custom resources included.

::

    factory = DynamicSharedInformerFactory(AsyncDynamicClient(config), resync=0.0)
    widgets = factory.for_resource(GroupVersionResource("example.com", "v1", "widgets"))
    widgets.informer.add_event_handler(on_add=...)
    factory.start()
    await factory.wait_for_cache_sync()
    widgets.lister.by_namespace("default").get("w1")      # a dict; NotFound otherwise
    await factory.shutdown()

Same factory behaviour as the typed :class:`~pyclientgo.informers.SharedInformerFactory`
(:mod:`pyclientgo.informers.factory`); informers are keyed, and ``custom_resync`` is keyed, by
:class:`~pyclientgo.apimachinery.registry.GroupVersionResource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.dynamic._async.client import AsyncDynamicClient
from pyclientgo.dynamic.codec import Unstructured
from pyclientgo.informers.factory import (
    GenericInformer,
    SharedInformerFactoryBase,
    TweakListOptionsFunc,
    default_indexers,
)
from pyclientgo.tools.cache import Indexers, ListWatch, SharedIndexInformer, TransformFunc

__all__ = ["DynamicSharedInformerFactory", "new_filtered_dynamic_informer"]


def new_filtered_dynamic_informer(
    client: AsyncDynamicClient,
    resource: GroupVersionResource,
    *,
    namespace: str | None = None,
    resync: float = 0.0,
    indexers: Indexers | None = None,
    tweak_list_options: TweakListOptionsFunc | None = None,
    namespaced: bool | None = None,
    **informer_options: Any,
) -> SharedIndexInformer:
    """A new (unshared) informer of ``resource`` through the dynamic client; ``namespace`` None
    watches every namespace; the namespace index is always added."""
    rc = client.resource(resource, namespace, namespaced=namespaced)
    return SharedIndexInformer(
        ListWatch.from_client(rc, tweak=tweak_list_options),
        None,
        resync_period=resync,
        indexers=default_indexers(indexers),
        name=f"dynamic {resource.group_version}/{resource.resource}",
        **informer_options,
    )


class DynamicSharedInformerFactory(SharedInformerFactoryBase):
    """Shared dynamic informers, one per GroupVersionResource (see the module docstring)."""

    def __init__(
        self,
        client: AsyncDynamicClient,
        *,
        resync: float = 0.0,
        namespace: str | None = None,
        tweak_list_options: TweakListOptionsFunc | None = None,
        transform: TransformFunc | None = None,
        custom_resync: Mapping[GroupVersionResource, float] | None = None,
        informer_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            client,
            resync=resync,
            namespace=namespace,
            tweak_list_options=tweak_list_options,
            transform=transform,
            custom_resync=custom_resync,
            informer_options=informer_options,
        )

    def for_resource(
        self, resource: GroupVersionResource, *, namespaced: bool | None = None
    ) -> GenericInformer[Unstructured]:
        """The shared informer of ``resource`` and its generic lister (dicts). ``namespaced`` gives
        the scope of a resource the client's registry does not know (a custom resource)."""

        def new(client: Any, resync: float) -> SharedIndexInformer:
            return new_filtered_dynamic_informer(
                client,
                resource,
                namespace=self.namespace,
                resync=resync,
                tweak_list_options=self.tweak_list_options,
                namespaced=namespaced,
                **self.informer_options,
            )

        return self.wrapper_for(resource, lambda: GenericInformer(self.informer_for(resource, new), resource))
