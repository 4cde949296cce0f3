"""Shared informers (client-go's ``informers``): ``SharedInformerFactory`` and a typed informer per
built-in resource.

::

    factory = SharedInformerFactory(clientset, resync=0.0)
    pods = factory.core_v1.pods()              # PodInformer: .informer (SharedIndexInformer), .lister
    pods.informer.add_event_handler(on_add=..., on_update=..., on_delete=...)
    factory.start()
    await factory.wait_for_cache_sync()
    pods.lister.pods("default").get("web")     # a synchronous read of the cache
    await factory.shutdown()

The factory's behaviour is in :mod:`pyclientgo.informers.factory`; the typed informers, group accessors
and ``SharedInformerFactory`` itself are generated (:mod:`pyclientgo.informers._generated`).
Dynamic and metadata-only informers: :mod:`pyclientgo.dynamic.informer`,
:mod:`pyclientgo.dynamic.metadata_informer`.
"""

from pyclientgo.informers._generated import *  # noqa: F403
from pyclientgo.informers._generated import __all__ as _generated_all
from pyclientgo.informers.factory import (
    GenericInformer,
    NewInformerFunc,
    SharedInformerFactoryBase,
    TweakListOptionsFunc,
    TypedInformer,
    TypedSharedInformerFactoryBase,
    default_indexers,
    informers_by_resource,
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
    *_generated_all,
]
