"""The garbage collector (``pkg/controller/garbagecollector/garbagecollector.go``, ``operations.go``,
``patch.go``): deletes objects whose owners are gone, and finishes foreground and orphan deletions.

Two rate-limited work queues of graph nodes, fed by the :class:`~.graph_builder.GraphBuilder`:

``attempt_to_delete`` (``--concurrent-gc-syncs`` workers) — :meth:`GarbageCollector.attempt_to_delete_item`:

1. a node being deleted that is not deleting its dependents: nothing to do but wait;
2. a live GET of the object: absent, or another uid → a virtual delete event removes the node;
3. a node deleting its dependents (``foregroundDeletion``): no blocking dependent left → the
   finalizer is removed; else its blocking dependents are queued;
4. otherwise its ownerReferences are classified by live GETs of the owners: *dangling* (owner not
   found, or found with another uid), *waiting* (owner being deleted in the foreground), *solid*;
   - some solid owner: dangling and waiting references are removed from the object (a patch);
   - waiting owners and dependents of its own: deleted in the foreground too (references that could
     form a cycle of foreground deletions are first made non-blocking);
   - no solid owner: the object is deleted, with the propagation its finalizers ask for (Orphan,
     Foreground, else Background) and a uid precondition.

``attempt_to_orphan`` (as many workers) — the owner's reference is removed from every dependent,
then the ``orphan`` finalizer from the owner.

Discovery is read every ``--discovery-resync-period``; new deletable resources (custom ones too)
get monitors, gone ones lose theirs, and the REST mapper (apiVersion/kind → resource) is reset.
Patches are JSON merge patches carrying the resourceVersion they were computed from (kube's
fallback path, which works for every resource); deletes carry a uid precondition. Failed resyncs
count in ``garbagecollector_controller_resources_sync_error_total``; the queues have the work
queue metrics (``garbage_collector_attempt_to_delete``, ``garbage_collector_attempt_to_orphan``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Mapping
from enum import Enum
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.controller.metrics import workqueue_metrics_provider
from pyclientgo.discovery import AsyncRESTMapper, NoMatchError, ServerResources
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import ApiError, TransportError, is_not_found
from pyclientgo.kubernetes.options import PropagationPolicy
from pyclientgo.rest import AsyncRESTClient
from pyclientgo.util.retry import DEFAULT_BACKOFF, retry_on_conflict
from pyclientgo.workqueue import RateLimitingQueue, ShutDown, default_controller_rate_limiter
from testserver.controllers.context import ControllerContext
from testserver.controllers.garbagecollector.graph import (
    FINALIZER_DELETE_DEPENDENTS,
    FINALIZER_ORPHAN_DEPENDENTS,
    Node,
    ObjectReference,
    ReferenceCache,
    reference_from_owner,
)
from testserver.controllers.garbagecollector.graph_builder import IGNORED_RESOURCES, GraphBuilder

__all__ = [
    "CONTROLLER_NAME",
    "GarbageCollector",
    "NamespacedOwnerOfClusterScopedObjectError",
    "RESTMappingError",
    "get_deletable_resources",
]

CONTROLLER_NAME = "garbage-collector-controller"
ABSENT_OWNER_CACHE_SIZE = 500
"""kube's ``absentOwnerCache`` size."""


_sync_errors: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()
_sync_errors_lock = threading.Lock()


def resources_sync_error_counter(registry: CollectorRegistry | None = None) -> Counter:
    """kube's ``garbagecollector_controller_resources_sync_error_total`` of ``registry`` (made once)."""
    registry = registry if registry is not None else REGISTRY
    with _sync_errors_lock:
        counter = _sync_errors.get(registry)
        if counter is None:
            counter = _sync_errors[registry] = Counter(
                "garbagecollector_controller_resources_sync_error",
                "Number of garbage collector resources sync errors",
                registry=registry,
            )
        return counter


class _Action(Enum):
    FORGET = 0
    REQUEUE = 1


class EnqueuedVirtualDeleteEventError(Exception):
    """The node was found absent; a virtual delete event removed it (no retry)."""


class NamespacedOwnerOfClusterScopedObjectError(Exception):
    """A cluster-scoped object names a namespaced owner: invalid, not retried."""

    def __init__(self) -> None:
        super().__init__("cluster-scoped objects cannot refer to namespaced owners")


class RESTMappingError(Exception):
    """No served resource for an apiVersion/kind (perhaps a custom resource not discovered yet)."""

    def __init__(self, kind: str, api_version: str) -> None:
        super().__init__(f"unable to get REST mapping for {kind}/{api_version}.")
        self.kind = kind
        self.api_version = api_version


def get_deletable_resources(
    resources: ServerResources,
) -> dict[GroupVersionResource, GroupVersionKind]:
    """Preferred resources supporting ``delete``, ``list`` and ``watch`` (kube's
    ``GetDeletableResources``), with their kinds."""
    return {
        r.gvr: r.gvk
        for r in resources.preferred()
        if {"delete", "list", "watch"} <= set(r.verbs) and "/" not in r.resource
    }


def _gvr_text(gvr: GroupVersionResource) -> str:
    # Go's %+v of a GroupVersionResource, as kube's printDiff logs it
    return f"{{Group:{gvr.group} Version:{gvr.version} Resource:{gvr.resource}}}"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _owner_refs(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    refs = _meta(obj).get("ownerReferences")
    return [r for r in refs if isinstance(r, Mapping)] if isinstance(refs, list) else []


def _has_finalizer(obj: Mapping[str, Any], finalizer: str) -> bool:
    return finalizer in (_meta(obj).get("finalizers") or [])


class GarbageCollector:
    """kube-controller-manager's ``garbage-collector-controller`` (module docstring)."""

    def __init__(
        self,
        ctx: ControllerContext,
        *,
        workers: int | None = None,
        resync_period: float | None = None,
        ignored_resources: frozenset[tuple[str, str]] = IGNORED_RESOURCES,
    ) -> None:
        self.ctx = ctx
        self.log = ctx.logger(CONTROLLER_NAME)
        # the collector's own client, as kube's ClientBuilder gives each controller one: its own rate
        # limiter (the controller-manager's QPS and burst) and its own connection pool, apart from the
        # shared informers' long-lived watches
        self._rest = AsyncRESTClient(ctx.config)
        self.dynamic = AsyncDynamicClient(self._rest)
        self.workers = max(1, workers if workers is not None else ctx.options.concurrent_gc_syncs)
        self.resync_period = (
            resync_period if resync_period is not None else ctx.options.discovery_resync_period
        )
        registry = ctx.manager.options.registry if ctx.manager is not None else None
        provider = workqueue_metrics_provider(registry)
        self.attempt_to_delete: RateLimitingQueue[Node] = RateLimitingQueue(
            default_controller_rate_limiter(),
            name="garbage_collector_attempt_to_delete",
            clock=ctx.clock,
            metrics_provider=provider,
        )
        self.attempt_to_orphan: RateLimitingQueue[Node] = RateLimitingQueue(
            default_controller_rate_limiter(),
            name="garbage_collector_attempt_to_orphan",
            clock=ctx.clock,
            metrics_provider=provider,
        )
        self.absent_owner_cache = ReferenceCache(ABSENT_OWNER_CACHE_SIZE)
        recorder = ctx.event_recorder(CONTROLLER_NAME) if ctx.manager is not None else None
        self.builder = GraphBuilder(
            ctx.metadata_informer_factory,
            attempt_to_delete=self.attempt_to_delete,
            attempt_to_orphan=self.attempt_to_orphan,
            absent_owner_cache=self.absent_owner_cache,
            recorder=recorder,
            log=self.log,
            ignored_resources=ignored_resources,
        )
        self.mapper = AsyncRESTMapper(ctx.discovery)
        self._mappings: dict[tuple[str, str], tuple[GroupVersionResource, bool]] = {}
        self._resources: dict[GroupVersionResource, GroupVersionKind] = {}
        self._running = False
        self._failure: BaseException | None = None
        self.sync_errors = resources_sync_error_counter(registry)
        ctx.extras["garbagecollector"] = self

    # -- running ------------------------------------------------------------------------------------

    def need_leader_election(self) -> bool:
        return True

    def health_check(self) -> None:
        """``/healthz/garbage-collector-controller``: fails when the collector's loops have died."""
        if self._failure is not None:
            raise RuntimeError(f"garbage collector stopped: {self._failure}")

    def is_synced(self) -> bool:
        return self.builder.is_synced()

    async def run(self) -> None:
        """Discover, start the monitors, wait (up to one resync period) for them, then collect."""
        self.log.info("Starting controller garbagecollector")
        self._running = True
        tasks: list[asyncio.Task[None]] = []
        try:
            try:
                await self.resync_monitors()
            except (ApiError, TransportError) as err:  # the sync loop tries again every period
                self.sync_errors.inc()
                self.log.warning("failed to sync resource monitors: %s", err)
            if await self._wait_synced(self.resync_period):
                self.log.info("Garbage collector: all resource monitors have synced")
            else:
                self.log.info(
                    "Garbage collector: not all resource monitors could be synced, proceeding anyways"
                )
            self.log.info("Proceeding to collect garbage")
            for i in range(self.workers):
                tasks.append(asyncio.create_task(self._delete_worker(), name=f"gc-attempt-to-delete-{i}"))
                tasks.append(asyncio.create_task(self._orphan_worker(), name=f"gc-attempt-to-orphan-{i}"))
            tasks.append(asyncio.create_task(self._sync_loop(), name="gc-sync"))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                failure = None if task.cancelled() else task.exception()
                if failure is not None:
                    self._failure = failure
                    raise failure
        finally:
            self.log.info("Shutting down controller garbagecollector")
            self.attempt_to_delete.shut_down()
            self.attempt_to_orphan.shut_down()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await self._rest.aclose()
            self._running = False

    async def _wait_synced(self, timeout: float) -> bool:
        deadline = self.ctx.clock.now() + timeout
        while not self.builder.is_synced():
            if self.ctx.clock.now() >= deadline:
                return False
            await self.ctx.clock.sleep(0.05)
        return True

    async def _sync_loop(self) -> None:
        """Kube's ``GarbageCollector.Sync``: re-read discovery every resync period."""
        while True:
            await self.ctx.clock.sleep(self.resync_period)
            try:
                changed = await self.resync_monitors()
            except Exception as err:  # discovery failing is temporary: try again next period
                self.sync_errors.inc()
                self.log.warning("failed to sync resource monitors: %s", err)
                continue
            if changed:
                if await self._wait_synced(self.resync_period):
                    self.log.info("synced garbage collector")
                else:
                    self.sync_errors.inc()
                    self.log.warning(
                        "timed out waiting for dependency graph builder sync during GC sync: %s",
                        ", ".join(_gvr_text(g) for g in self.builder.unsynced()),
                    )

    async def resync_monitors(self) -> bool:
        """Monitors for the deletable resources discovery reports now; whether anything changed."""
        server = await self.ctx.discovery.delegate.server_groups_and_resources()
        resources = get_deletable_resources(server)
        if not resources:
            self.sync_errors.inc()
            self.log.info("no resources reported by discovery, skipping garbage collector sync")
            return False
        if server.failed:
            self.log.info("failed to discover some groups: %s", dict(server.failed))
            # keep the monitors of resources in groups that failed this time
            for gvr, gvk in self._resources.items():
                if gvr.group_version in server.failed and gvr in self.builder.monitors:
                    resources.setdefault(gvr, gvk)
        if resources == self._resources:
            return False
        added = sorted(_gvr_text(g) for g in resources if g not in self._resources)
        removed = sorted(_gvr_text(g) for g in self._resources if g not in resources)
        self.log.info(
            "syncing garbage collector with updated resources from discovery: added: %s, removed: %s",
            added,
            removed,
        )
        self.reset_mapper()
        self.builder.sync_monitors(resources)
        self.builder.start_monitors()
        self._resources = resources
        return True

    def reset_mapper(self) -> None:
        self.mapper.reset()
        self._mappings.clear()

    # -- workers ------------------------------------------------------------------------------------

    async def _delete_worker(self) -> None:
        queue = self.attempt_to_delete
        while True:
            try:
                node = await queue.get()
            except ShutDown:
                return
            try:
                action = await self.attempt_to_delete_worker(node)
            except asyncio.CancelledError:
                queue.done(node)
                raise
            except Exception as err:
                self.log.error("error syncing item %s: %s", node, err)
                action = _Action.REQUEUE
            if action is _Action.FORGET:
                queue.forget(node)
            else:
                queue.add_rate_limited(node)
            queue.done(node)

    async def attempt_to_delete_worker(self, node: Node) -> _Action:
        if not node.is_observed():
            in_graph = self.builder.uid_to_node.get(node.identity.uid)
            if in_graph is None:
                # a requeued virtual node whose real object was seen deleted meanwhile
                return _Action.FORGET
            if in_graph.is_observed():
                # a requeued virtual node whose real object was observed meanwhile
                return _Action.FORGET
        try:
            await self.attempt_to_delete_item(node)
        except EnqueuedVirtualDeleteEventError:
            return _Action.FORGET
        except NamespacedOwnerOfClusterScopedObjectError:
            return _Action.FORGET
        except RESTMappingError as err:
            self.log.debug("error syncing item %s: %s", node.identity, err)
            return _Action.REQUEUE
        except ApiError as err:
            self.log.error("error syncing item %s: %s", node, err)
            return _Action.REQUEUE
        if not node.is_observed():
            # not seen by an informer yet: look again, or a virtual node added and removed while a
            # watch re-established could stay in the graph forever (kube issue 56121)
            return _Action.REQUEUE
        return _Action.FORGET

    async def attempt_to_delete_item(self, item: Node) -> None:
        """One look at ``item`` (module docstring, steps 1-4)."""
        if item.is_being_deleted() and not item.is_deleting_dependents():
            self.log.debug(
                "processing item %s returned at once, because its DeletionTimestamp is set", item.identity
            )
            return
        try:
            latest = await self.get_object(item.identity)
        except ApiError as err:
            if not is_not_found(err):
                raise
            # a virtual node for an owner that does not exist (or a node of a deleted object)
            self.builder.enqueue_virtual_delete_event(item.identity)
            raise EnqueuedVirtualDeleteEventError() from None
        if str(_meta(latest).get("uid") or "") != item.identity.uid:
            self.log.debug(
                "UID doesn't match, item %s not found, generating a virtual delete event", item.identity
            )
            self.builder.enqueue_virtual_delete_event(item.identity)
            raise EnqueuedVirtualDeleteEventError()
        if item.is_deleting_dependents():
            await self.process_deleting_dependents_item(item)
            return
        refs = _owner_refs(latest)
        if not refs:
            self.log.debug("item %s doesn't have an owner, continue on next item", item.identity)
            return
        solid, dangling, waiting = await self.classify_references(item, refs)
        self.log.debug(
            "classify item's references: item %s solid %d dangling %d waitingForDependentsDeletion %d",
            item.identity,
            len(solid),
            len(dangling),
            len(waiting),
        )
        if solid:
            if not dangling and not waiting:
                return
            # waiting references must go too, or those owners would wait on this object forever
            owner_uids = {str(r.get("uid")) for r in dangling + waiting}
            self.log.debug(
                "remove dangling references %s and waiting references %s for object %s",
                [dict(r) for r in dangling],
                [dict(r) for r in waiting],
                item.identity,
            )
            await self._patch_owner_references(item, lambda r: None if r.get("uid") in owner_uids else r)
            return
        if waiting and item.dependents:
            for dep in item.get_dependents():
                if dep.is_deleting_dependents():
                    # a dependent deleting its own dependents in the foreground: unblock ours first,
                    # so two foreground deletions cannot wait for each other
                    self.log.debug(
                        "processing item %s, some of its owners and its dependent %s have "
                        "FinalizerDeletingDependents, to prevent potential cycle, its ownerReferences "
                        "are going to be modified to be non-blocking, then the item is going to be "
                        "deleted with Foreground",
                        item.identity,
                        dep.identity,
                    )
                    await self._patch_owner_references(item, lambda r: {**r, "blockOwnerDeletion": False})
                    break
            self.log.debug(
                "at least one owner of item %s has FinalizerDeletingDependents, and the item itself has "
                "dependents, so it is going to be deleted in Foreground",
                item.identity,
            )
            await self.delete_object(item.identity, "Foreground")
            return
        policy: PropagationPolicy
        if _has_finalizer(latest, FINALIZER_ORPHAN_DEPENDENTS):
            policy = "Orphan"
        elif _has_finalizer(latest, FINALIZER_DELETE_DEPENDENTS):
            policy = "Foreground"
        else:
            policy = "Background"
        self.log.debug("Deleting item %s with propagationPolicy %s", item.identity, policy)
        await self.delete_object(item.identity, policy)

    async def classify_references(
        self, item: Node, refs: list[Mapping[str, Any]]
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """(solid, dangling, waiting-for-dependents-deletion) references of ``item``."""
        solid: list[Mapping[str, Any]] = []
        dangling: list[Mapping[str, Any]] = []
        waiting: list[Mapping[str, Any]] = []
        for ref in refs:
            is_dangling, owner = await self.is_dangling(ref, item)
            if is_dangling:
                dangling.append(ref)
                continue
            assert owner is not None
            if _meta(owner).get("deletionTimestamp") and _has_finalizer(owner, FINALIZER_DELETE_DEPENDENTS):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def is_dangling(self, ref: Mapping[str, Any], item: Node) -> tuple[bool, Mapping[str, Any] | None]:
        """Whether the owner ``ref`` names is absent (not found, or another uid), by the absent-owner
        cache or a live GET; the owner when it exists."""
        key = reference_from_owner(ref)
        if self.absent_owner_cache.has(key):
            return True, None
        key = key.with_namespace(item.identity.namespace)
        if self.absent_owner_cache.has(key):
            return True, None
        gvr, namespaced = await self.api_resource(
            str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        )
        if not namespaced:
            key = key.coordinates()
        if not item.identity.namespace and namespaced:
            self.log.debug(
                "item %s is cluster-scoped, but refers to a namespaced owner of type %s/%s",
                item.identity,
                ref.get("apiVersion"),
                ref.get("kind"),
            )
            raise NamespacedOwnerOfClusterScopedObjectError()
        namespace = item.identity.namespace if namespaced else None
        try:
            owner = await self.dynamic.resource(gvr, namespace, namespaced=namespaced).get(
                str(ref.get("name"))
            )
        except ApiError as err:
            if not is_not_found(err):
                raise
            self.absent_owner_cache.add(key)
            self.log.debug("item %s's owner %s is not found", item.identity, key)
            return True, None
        if str(_meta(owner).get("uid") or "") != str(ref.get("uid")):
            self.log.debug("item %s's owner %s is not found, UID mismatch", item.identity, key)
            self.absent_owner_cache.add(key)
            return True, None
        return False, owner

    async def process_deleting_dependents_item(self, item: Node) -> None:
        blocking = item.blocking_dependents()
        if not blocking:
            self.log.debug("remove DeleteDependents finalizer for item %s", item.identity)
            await self.remove_finalizer(item, FINALIZER_DELETE_DEPENDENTS)
            return
        for dep in blocking:
            if not dep.is_deleting_dependents():
                self.log.debug(
                    "adding dependent %s to attemptToDelete, because its owner %s is deletingDependents",
                    dep.identity,
                    item.identity,
                )
                self.attempt_to_delete.add(dep)

    async def _orphan_worker(self) -> None:
        queue = self.attempt_to_orphan
        while True:
            try:
                owner = await queue.get()
            except ShutDown:
                return
            try:
                await self.orphan_dependents(owner.identity, owner.get_dependents())
                await self.remove_finalizer(owner, FINALIZER_ORPHAN_DEPENDENTS)
            except asyncio.CancelledError:
                queue.done(owner)
                raise
            except Exception as err:
                self.log.error("attemptToOrphan for %s failed: %s", owner.identity, err)
                queue.add_rate_limited(owner)
            else:
                queue.forget(owner)
            queue.done(owner)

    async def orphan_dependents(self, owner: ObjectReference, dependents: list[Node]) -> None:
        """Remove ``owner``'s reference from every dependent (concurrently, as kube)."""

        async def orphan(dep: Node) -> None:
            try:
                await self._patch_owner_references(dep, lambda r: None if r.get("uid") == owner.uid else r)
            except ApiError as err:
                if not is_not_found(err):
                    raise

        results = await asyncio.gather(*(orphan(dep) for dep in dependents), return_exceptions=True)
        errors = [
            f"orphaning {dep.identity} failed, {r}" for dep, r in zip(dependents, results, strict=True) if r
        ]
        if errors:
            raise RuntimeError(
                f"failed to orphan dependents of owner {owner}, got errors: {'; '.join(errors)}"
            )
        self.log.debug("successfully updated all dependents of owner %s", owner)

    # -- operations (operations.go, patch.go) -------------------------------------------------------

    async def api_resource(self, api_version: str, kind: str) -> tuple[GroupVersionResource, bool]:
        """(resource, namespaced) of an apiVersion/kind, by discovery."""
        cached = self._mappings.get((api_version, kind))
        if cached is not None:
            return cached
        gvk = GroupVersionKind.from_api_version(api_version, kind)
        if not gvk.version or not kind:
            raise RESTMappingError(kind, api_version)
        try:
            mapping = await self.mapper.rest_mapping(gvk)
        except NoMatchError:
            raise RESTMappingError(kind, api_version) from None
        result = (mapping.gvr, mapping.namespaced)
        self._mappings[(api_version, kind)] = result
        return result

    async def _client(self, identity: ObjectReference) -> Any:
        gvr, namespaced = await self.api_resource(identity.api_version, identity.kind)
        if namespaced and not identity.namespace:
            raise NamespacedOwnerOfClusterScopedObjectError()
        return self.dynamic.resource(gvr, identity.namespace if namespaced else None, namespaced=namespaced)

    async def get_object(self, identity: ObjectReference) -> Mapping[str, Any]:
        """A live GET of ``identity`` (NotFound raises)."""
        client = await self._client(identity)
        result: Mapping[str, Any] = await client.get(identity.name)
        return result

    async def delete_object(self, identity: ObjectReference, policy: PropagationPolicy) -> None:
        """DELETE with ``policy`` and a uid precondition."""
        client = await self._client(identity)
        await client.delete(identity.name, propagation_policy=policy, preconditions={"uid": identity.uid})

    async def _get_metadata(self, identity: ObjectReference) -> Mapping[str, Any]:
        """The object's metadata from its monitor's cache, else a live GET (kube's ``getMetadata``)."""
        gvr, namespaced = await self.api_resource(identity.api_version, identity.kind)
        monitor = self.builder.monitors.get(gvr)
        if monitor is not None:
            key = (
                f"{identity.namespace}/{identity.name}"
                if namespaced and identity.namespace
                else identity.name
            )
            cached = monitor.informer.get_indexer().get_by_key(key)
            if cached is not None:
                result: Mapping[str, Any] = cached
                return result
        return await self.get_object(identity)

    async def _patch_owner_references(self, item: Node, change: Any) -> None:
        """Rewrite ``item``'s ownerReferences: ``change(ref)`` returns the new reference or None to drop
        it. A JSON merge patch with the resourceVersion it was computed from (a conflict retries)."""
        obj = await self._get_metadata(item.identity)
        meta = _meta(obj)
        if str(meta.get("uid") or "") != item.identity.uid:
            raise RuntimeError(f"object {item.identity} was replaced (uid {meta.get('uid')}); will retry")
        refs = []
        for ref in _owner_refs(obj):
            new = change(dict(ref))
            if new is not None:
                refs.append(new)
        if refs == [dict(r) for r in _owner_refs(obj)]:
            return
        patch = {"metadata": {"resourceVersion": meta.get("resourceVersion"), "ownerReferences": refs}}
        client = await self._client(item.identity)
        await client.patch(item.identity.name, patch, patch_type="merge")

    async def remove_finalizer(self, owner: Node, finalizer: str) -> None:
        """Remove ``finalizer`` from ``owner`` (read-modify-patch, retried on conflict)."""

        async def attempt() -> None:
            try:
                obj = await self.get_object(owner.identity)
            except ApiError as err:
                if is_not_found(err):
                    return
                raise
            finalizers = list(_meta(obj).get("finalizers") or [])
            if finalizer not in finalizers:
                self.log.debug("finalizer %s already removed from object %s", finalizer, owner.identity)
                return
            patch = {
                "metadata": {
                    "resourceVersion": _meta(obj).get("resourceVersion"),
                    "finalizers": [f for f in finalizers if f != finalizer],
                }
            }
            client = await self._client(owner.identity)
            await client.patch(owner.identity.name, patch, patch_type="merge")

        await retry_on_conflict(DEFAULT_BACKOFF, attempt, clock=self.ctx.clock)

    # -- introspection ------------------------------------------------------------------------------

    def graph_has_uid(self, uid: str) -> bool:
        """Whether the graph holds ``uid`` (kube's ``GraphHasUID``, for tests)."""
        return uid in self.builder.uid_to_node
