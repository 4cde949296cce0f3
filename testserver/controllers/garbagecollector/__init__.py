"""kube-controller-manager's garbage collector (``pkg/controller/garbagecollector``) on pyclientgo.

- :mod:`.graph`: nodes of the ownerReferences graph, object identities, the absent-owner cache;
- :mod:`.graph_builder`: metadata-only informers over every deletable resource (found by discovery,
  custom resources included) turned into graph changes, and the queues they feed;
- :mod:`.collector`: the ``attempt_to_delete`` and ``attempt_to_orphan`` workers — background,
  foreground and orphan propagation, dangling owners, virtual nodes — and the discovery resync.

:func:`new_garbage_collector` is the registry's init function (``garbagecollector``); it returns
None when ``--enable-garbage-collector=false``, as kube does.
"""

from testserver.controllers.context import ControllerContext
from testserver.controllers.garbagecollector.collector import (
    CONTROLLER_NAME,
    GarbageCollector,
    NamespacedOwnerOfClusterScopedObjectError,
    RESTMappingError,
    get_deletable_resources,
)
from testserver.controllers.garbagecollector.graph import (
    FINALIZER_DELETE_DEPENDENTS,
    FINALIZER_ORPHAN_DEPENDENTS,
    Node,
    ObjectReference,
    ReferenceCache,
)
from testserver.controllers.garbagecollector.graph_builder import IGNORED_RESOURCES, GraphBuilder, GraphEvent

__all__ = [
    "CONTROLLER_NAME",
    "FINALIZER_DELETE_DEPENDENTS",
    "FINALIZER_ORPHAN_DEPENDENTS",
    "IGNORED_RESOURCES",
    "GarbageCollector",
    "GraphBuilder",
    "GraphEvent",
    "NamespacedOwnerOfClusterScopedObjectError",
    "Node",
    "ObjectReference",
    "RESTMappingError",
    "ReferenceCache",
    "get_deletable_resources",
    "new_garbage_collector",
]


def new_garbage_collector(ctx: ControllerContext) -> GarbageCollector | None:
    """The registry's init function: the collector, or None when it is disabled."""
    if not ctx.options.enable_garbage_collector:
        return None
    return GarbageCollector(ctx)
