"""Informers and caches (client-go's ``tools/cache``).

The pieces, from the wire to your code:

- :class:`ListWatch` / :class:`ListerWatcher` (``listwatch``): how to LIST and WATCH one resource.
- :class:`Reflector` (``reflector``): lists, then watches, and mirrors what it sees into a Store;
  relists on 410, backs off on errors, re-opens silent watches.
- :class:`DeltaFIFO` (``delta_fifo``): the queue of per-key :class:`Delta` s between the Reflector and
  the informer; a relist queues ``Replaced`` deltas and :class:`DeletedFinalStateUnknown` tombstones.
- :class:`Controller` (``controller``): runs the Reflector and pops the DeltaFIFO.
- Stores (``store``, ``index``, ``thread_safe_store``): :class:`Store`, :class:`Indexer` and the
  thread-safe :class:`Cache` built by :func:`new_store` / :func:`new_indexer`; keys from
  :func:`meta_namespace_key_func`; the ``"namespace"`` index from :func:`meta_namespace_index_func`.
- :class:`SharedIndexInformer` (``shared_informer``): one cache, many handlers
  (:class:`ResourceEventHandlerFuncs`, :class:`FilteringResourceEventHandler`, or any object with
  ``on_add``/``on_update``/``on_delete``), each with its own buffer and ``has_synced``;
  :func:`wait_for_cache_sync` waits for them.
- ``meta``: metadata accessors that work on typed models and plain dicts alike.

Everything is asyncio; the indexers are thread-safe, so listers read them from any thread.
"""

from pyclientgo.tools.cache.controller import Controller, ControllerConfig, process_deltas
from pyclientgo.tools.cache.delta_fifo import (
    Delta,
    DeltaFIFO,
    Deltas,
    DeltaType,
    FIFOClosedError,
    RequeueError,
    TransformFunc,
)
from pyclientgo.tools.cache.handlers import (
    FilteringResourceEventHandler,
    ResourceEventHandler,
    ResourceEventHandlerFuncs,
)
from pyclientgo.tools.cache.index import (
    NAMESPACE_INDEX,
    Indexer,
    IndexerError,
    Indexers,
    IndexFunc,
    meta_namespace_index_func,
)
from pyclientgo.tools.cache.listwatch import ListerWatcher, ListOptions, ListWatch, list_items, list_meta
from pyclientgo.tools.cache.meta import (
    object_annotations,
    object_labels,
    object_name,
    object_namespace,
    object_uid,
    resource_version,
)
from pyclientgo.tools.cache.reflector import Reflector
from pyclientgo.tools.cache.shared_informer import (
    InformerStartedError,
    InformerStoppedError,
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
    SharedInformer,
    drop_managed_fields,
    wait_for_cache_sync,
)
from pyclientgo.tools.cache.store import (
    DeletedFinalStateUnknown,
    KeyFunc,
    KeyFuncError,
    Store,
    deletion_handling_meta_namespace_key_func,
    meta_namespace_key_func,
    split_meta_namespace_key,
)
from pyclientgo.tools.cache.thread_safe_store import Cache, ThreadSafeStore, new_indexer, new_store

__all__ = [
    "Cache",
    "Controller",
    "ControllerConfig",
    "DeletedFinalStateUnknown",
    "Delta",
    "DeltaFIFO",
    "DeltaType",
    "Deltas",
    "FIFOClosedError",
    "FilteringResourceEventHandler",
    "IndexFunc",
    "Indexer",
    "IndexerError",
    "Indexers",
    "InformerStartedError",
    "InformerStoppedError",
    "KeyFunc",
    "KeyFuncError",
    "ListOptions",
    "ListWatch",
    "ListerWatcher",
    "NAMESPACE_INDEX",
    "Reflector",
    "RequeueError",
    "ResourceEventHandler",
    "ResourceEventHandlerFuncs",
    "ResourceEventHandlerRegistration",
    "SharedIndexInformer",
    "SharedInformer",
    "Store",
    "ThreadSafeStore",
    "TransformFunc",
    "deletion_handling_meta_namespace_key_func",
    "drop_managed_fields",
    "list_items",
    "list_meta",
    "meta_namespace_index_func",
    "meta_namespace_key_func",
    "new_indexer",
    "new_store",
    "object_annotations",
    "object_labels",
    "object_name",
    "object_namespace",
    "object_uid",
    "process_deltas",
    "resource_version",
    "split_meta_namespace_key",
    "wait_for_cache_sync",
]
