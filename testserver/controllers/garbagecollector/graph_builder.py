"""The graph builder (``pkg/controller/garbagecollector/graph_builder.go``): informers → the graph.

One *monitor* per deletable resource (preferred version, verbs ``delete``, ``list`` and ``watch``,
events excluded): a handler on the shared metadata-only informer of that resource
(``ctx.metadata_informer_factory``), so the graph sees every object's ``metadata`` — uid, owners,
finalizers, deletionTimestamp — without caching bodies. :meth:`GraphBuilder.sync_monitors` adds
monitors for new resources (custom ones included) and drops the handlers of resources discovery no
longer reports (the shared informer itself keeps running, as in kube).

Every informer event and every *virtual* delete event (a node the collector found absent by a live
GET) goes through :meth:`GraphBuilder.process_graph_change`, kube's ``processGraphChanges``:

- add/update of an unknown uid: a new node, linked to its owners (an owner not in the graph gets a
  virtual node, queued to ``attempt_to_delete`` to be verified);
- add/update of a known uid: owner references diffed (dependents added/removed; an owner unblocked
  by a removed or changed ``blockOwnerDeletion`` is queued), deletion marked;
- transitions: deletion with the ``orphan`` finalizer queues the node to ``attempt_to_orphan``;
  with ``foregroundDeletion`` marks it deleting-dependents and queues it and its dependents;
- delete: the node leaves the graph, its owner is remembered as absent when it had dependents, its
  dependents are queued (background cascade) and so are owners waiting for their dependents;
  virtual deletes are checked against the identities dependents use (kube's coordinate matching).

Events run in the order the informers deliver them, one at a time on the event loop (the processing
never awaits), which is what kube's single ``graphChanges`` worker gives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.dynamic import MetadataSharedInformerFactory
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    ResourceEventHandlerFuncs,
    ResourceEventHandlerRegistration,
    SharedIndexInformer,
)
from pyclientgo.tools.record import EventRecorder
from pyclientgo.workqueue import RateLimitingQueue
from testserver.controllers.garbagecollector.graph import (
    FINALIZER_DELETE_DEPENDENTS,
    FINALIZER_ORPHAN_DEPENDENTS,
    Node,
    ObjectReference,
    ReferenceCache,
    is_blocking,
    matches_coordinates,
    owner_reference_coordinates,
    reference_from_owner,
)

__all__ = [
    "IGNORED_RESOURCES",
    "GraphBuilder",
    "GraphEvent",
    "Monitor",
    "get_alternate_owner_identity",
    "partition_dependents",
    "references_diffs",
]

IGNORED_RESOURCES: frozenset[tuple[str, str]] = frozenset({("", "events"), ("events.k8s.io", "events")})
"""(group, resource) the collector never watches (kube's ``DefaultIgnoredResources``)."""

EventType = Literal["add", "update", "delete"]


@dataclass(slots=True)
class GraphEvent:
    """One change for the graph: an informer event or a virtual delete (kube's ``event``)."""

    event_type: EventType
    obj: Mapping[str, Any]
    """The object (PartialObjectMetadata dict: ``metadata`` is what counts)."""
    gvk: GroupVersionKind
    old_obj: Mapping[str, Any] | None = None
    virtual: bool = False


@dataclass(slots=True)
class Monitor:
    """The collector's handler on one resource's shared metadata informer."""

    gvr: GroupVersionResource
    gvk: GroupVersionKind
    informer: SharedIndexInformer
    registration: ResourceEventHandlerRegistration

    def has_synced(self) -> bool:
        return self.registration.has_synced()


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _owners(meta: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    refs = meta.get("ownerReferences")
    if not isinstance(refs, list):
        return []
    return [r for r in refs if isinstance(r, Mapping) and r.get("uid")]


def being_deleted(meta: Mapping[str, Any]) -> bool:
    return bool(meta.get("deletionTimestamp"))


def has_finalizer(meta: Mapping[str, Any], finalizer: str) -> bool:
    return finalizer in (meta.get("finalizers") or [])


def deletion_starts_with_finalizer(
    old: Mapping[str, Any] | None, new_meta: Mapping[str, Any], finalizer: str
) -> bool:
    """The object is now being deleted with ``finalizer`` and was not before (kube's
    ``deletionStartsWithFinalizer``)."""
    if not being_deleted(new_meta) or not has_finalizer(new_meta, finalizer):
        return False
    if old is None:
        return True
    old_meta = _meta(old)
    return not being_deleted(old_meta) or not has_finalizer(old_meta, finalizer)


def references_diffs(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> tuple[
    list[Mapping[str, Any]], list[Mapping[str, Any]], list[tuple[Mapping[str, Any], Mapping[str, Any]]]
]:
    """(added, removed, changed (old, new) pairs) between two ownerReferences lists, by uid."""
    old_by_uid = {str(r.get("uid")): r for r in old}
    remaining = dict(old_by_uid)
    added: list[Mapping[str, Any]] = []
    changed: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for ref in new:
        uid = str(ref.get("uid"))
        if uid in remaining:
            if dict(remaining[uid]) != dict(ref):
                changed.append((remaining[uid], ref))
            del remaining[uid]
        else:
            added.append(ref)
    return added, list(remaining.values()), changed


def partition_dependents(dependents: list[Node], owner: ObjectReference) -> tuple[list[Node], list[Node]]:
    """(dependents whose reference matches ``owner``'s coordinates, those that disagree) — kube's
    ``partitionDependents``; a dependent in another namespace than a namespaced owner disagrees."""
    owner_namespaced = bool(owner.namespace)
    matching: list[Node] = []
    nonmatching: list[Node] = []
    for dep in dependents:
        found_match = found_mismatch = False
        if owner_namespaced and owner.namespace != dep.identity.namespace:
            found_mismatch = True
        else:
            for ref in dep.owners:
                if ref.get("uid") == owner.uid:
                    if matches_coordinates(ref, owner):
                        found_match = True
                    else:
                        found_mismatch = True
        if found_match:
            matching.append(dep)
        if found_mismatch:
            nonmatching.append(dep)
    return matching, nonmatching


def _sort_key(ref: ObjectReference) -> tuple[str, str, str, str, str]:
    # kube's referenceLessThan: kind, apiVersion, namespace, name, uid
    return (ref.kind, ref.api_version, ref.namespace, ref.name, ref.uid)


def get_alternate_owner_identity(deps: list[Node], absent: ObjectReference) -> ObjectReference | None:
    """Another identity the dependents use for ``absent.uid``: the first after ``absent`` in kube's
    order, else the first (kube's ``getAlternateOwnerIdentity``)."""
    cluster_scoped = not absent.namespace
    seen = {absent}
    first: ObjectReference | None = None
    following: ObjectReference | None = None
    for dep in deps:
        for ref in dep.owners:
            if ref.get("uid") != absent.uid:
                continue
            if matches_coordinates(ref, absent) and (
                cluster_scoped or absent.namespace == dep.identity.namespace
            ):
                continue
            alt = reference_from_owner(ref, dep.identity.namespace)
            if cluster_scoped and alt.api_version == absent.api_version and alt.kind == absent.kind:
                alt = alt.coordinates()
            if alt in seen:
                continue
            seen.add(alt)
            if first is None or _sort_key(alt) < _sort_key(first):
                first = alt
            if _sort_key(absent) < _sort_key(alt) and (
                following is None or _sort_key(alt) < _sort_key(following)
            ):
                following = alt
    return following or first


class GraphBuilder:
    """Keeps the dependency graph from metadata informers; see the module docstring."""

    def __init__(
        self,
        factory: MetadataSharedInformerFactory,
        *,
        attempt_to_delete: RateLimitingQueue[Node],
        attempt_to_orphan: RateLimitingQueue[Node],
        absent_owner_cache: ReferenceCache,
        recorder: EventRecorder | None,
        log: logging.Logger,
        ignored_resources: frozenset[tuple[str, str]] = IGNORED_RESOURCES,
    ) -> None:
        self.factory = factory
        self.attempt_to_delete = attempt_to_delete
        self.attempt_to_orphan = attempt_to_orphan
        self.absent_owner_cache = absent_owner_cache
        self.recorder = recorder
        self.log = log
        self.ignored_resources = ignored_resources
        self.uid_to_node: dict[str, Node] = {}
        """The graph: every node by uid."""
        self.monitors: dict[GroupVersionResource, Monitor] = {}
        self.events_processed = 0

    # -- monitors -----------------------------------------------------------------------------------

    def sync_monitors(self, resources: Mapping[GroupVersionResource, GroupVersionKind]) -> tuple[int, int]:
        """Monitor exactly ``resources`` (minus the ignored ones): (added, removed). New monitors are
        not started; call :meth:`start_monitors`."""
        added = removed = 0
        wanted = {
            gvr: gvk
            for gvr, gvk in resources.items()
            if (gvr.group, gvr.resource) not in self.ignored_resources
        }
        for gvr, gvk in wanted.items():
            current = self.monitors.get(gvr)
            if current is not None and current.gvk == gvk:
                continue
            if current is not None:
                current.informer.remove_event_handler(current.registration)
            informer = self.factory.for_resource(gvr).informer
            registration = informer.add_event_handler(self._handler(gvk))
            self.monitors[gvr] = Monitor(gvr, gvk, informer, registration)
            added += 1
        for gvr in [g for g in self.monitors if g not in wanted]:
            monitor = self.monitors.pop(gvr)
            monitor.informer.remove_event_handler(monitor.registration)
            removed += 1
        return added, removed

    def start_monitors(self) -> None:
        """Start the informers of monitors not running yet (the factory starts each once)."""
        self.factory.start()

    def is_synced(self) -> bool:
        """Every monitor has seen its informer's initial list (kube's ``IsSynced``)."""
        if not self.monitors:
            return False
        return all(m.has_synced() for m in self.monitors.values())

    def unsynced(self) -> list[GroupVersionResource]:
        return [gvr for gvr, m in self.monitors.items() if not m.has_synced()]

    def _handler(self, gvk: GroupVersionKind) -> ResourceEventHandlerFuncs:
        def on_add(obj: Any) -> None:
            self.process_graph_change(GraphEvent("add", obj, gvk))

        def on_update(old: Any, new: Any) -> None:
            self.process_graph_change(GraphEvent("update", new, gvk, old_obj=old))

        def on_delete(obj: Any) -> None:
            if isinstance(obj, DeletedFinalStateUnknown):
                obj = obj.obj
                if obj is None:
                    return
            self.process_graph_change(GraphEvent("delete", obj, gvk))

        return ResourceEventHandlerFuncs(on_add=on_add, on_update=on_update, on_delete=on_delete)

    # -- events -------------------------------------------------------------------------------------

    def enqueue_virtual_delete_event(self, ref: ObjectReference) -> None:
        """The object ``ref`` was found absent: remove its (virtual) node (kube's
        ``enqueueVirtualDeleteEvent``, processed at once here)."""
        gvk = GroupVersionKind.from_api_version(ref.api_version, ref.kind)
        self.process_graph_change(GraphEvent("delete", ref.as_object(), gvk, virtual=True))

    def process_graph_change(self, event: GraphEvent) -> None:
        """Apply one event to the graph (never raises: a bad object is logged and skipped)."""
        try:
            self._process(event)
        except Exception:
            self.log.exception(
                "garbage collector: cannot process %s event of %s", event.event_type, event.gvk
            )
        self.events_processed += 1

    @staticmethod
    def identity_from_event(event: GraphEvent) -> ObjectReference:
        meta = _meta(event.obj)
        return ObjectReference(
            event.gvk.api_version,
            event.gvk.kind,
            str(meta.get("name") or ""),
            str(meta.get("uid") or ""),
            str(meta.get("namespace") or ""),
        )

    def _process(self, event: GraphEvent) -> None:
        meta = _meta(event.obj)
        uid = str(meta.get("uid") or "")
        if not uid:
            self.log.warning(
                "garbage collector: %s event of a %s without uid skipped", event.event_type, event.gvk.kind
            )
            return
        existing = self.uid_to_node.get(uid)
        if existing is not None and not event.virtual and not existing.is_observed():
            observed = self.identity_from_event(event)
            if observed != existing.identity:
                # dependents that referred to this uid by other coordinates must be checked again
                _, invalid = partition_dependents(existing.get_dependents(), observed)
                for dep in invalid:
                    if observed.namespace and dep.identity.namespace != observed.namespace:
                        self.log.debug(
                            "item references an owner but does not match namespaces: item %s owner %s",
                            dep.identity,
                            observed,
                        )
                        self.report_invalid_namespace_owner_ref(dep, observed.uid)
                    self.attempt_to_delete.add(dep)
                existing = existing.clone()
                existing.identity = observed
                self.uid_to_node[uid] = existing
            existing.mark_observed()

        if event.event_type in ("add", "update") and existing is None:
            node = Node(
                self.identity_from_event(event),
                owners=_owners(meta),
                being_deleted=being_deleted(meta),
                deleting_dependents=being_deleted(meta) and has_finalizer(meta, FINALIZER_DELETE_DEPENDENTS),
            )
            self.insert_node(node)
            self.process_transitions(event.old_obj, meta, node)
        elif event.event_type in ("add", "update") and existing is not None:
            owners = _owners(meta)
            added, removed, changed = references_diffs(existing.owners, owners)
            if added or removed or changed:
                self.add_unblocked_owners_to_delete_queue(removed, changed)
                existing.owners = owners
                self.add_dependent_to_owners(existing, added)
                self.remove_dependent_from_owners(existing, removed)
            if being_deleted(meta):
                existing.mark_being_deleted()
            self.process_transitions(event.old_obj, meta, existing)
        elif event.event_type == "delete" and existing is not None:
            self._process_delete(event, existing)

    def _process_delete(self, event: GraphEvent, existing: Node) -> None:
        remove = True
        if event.virtual:
            deleted = self.identity_from_event(event)
            if existing.virtual:
                matching, nonmatching = partition_dependents(existing.get_dependents(), deleted)
                if nonmatching:
                    # some dependents name this uid differently: keep the virtual node for them
                    remove = False
                    if matching:
                        self.absent_owner_cache.add(deleted)
                        for dep in matching:
                            self.attempt_to_delete.add(dep)
                    if existing.identity == deleted:
                        replacement_identity = get_alternate_owner_identity(nonmatching, deleted)
                        if replacement_identity is not None:
                            replacement = existing.clone()
                            replacement.identity = replacement_identity
                            self.uid_to_node[replacement_identity.uid] = replacement
                            self.attempt_to_delete.add_rate_limited(replacement)
            elif existing.identity != deleted:
                # a real, observed node is never removed by a virtual delete of other coordinates
                remove = False
                matching, _ = partition_dependents(existing.get_dependents(), deleted)
                if matching:
                    self.absent_owner_cache.add(deleted)
                    for dep in matching:
                        self.attempt_to_delete.add(dep)
        if not remove:
            return
        self.remove_node(existing)
        if existing.dependents:
            self.absent_owner_cache.add(self.identity_from_event(event))
        for dep in existing.get_dependents():
            self.attempt_to_delete.add(dep)
        for ref in existing.owners:
            owner = self.uid_to_node.get(str(ref.get("uid")))
            if owner is not None and owner.is_deleting_dependents():
                # an owner waiting for its dependents: maybe this was the last blocking one
                self.attempt_to_delete.add(owner)

    # -- graph edits --------------------------------------------------------------------------------

    def insert_node(self, node: Node) -> None:
        self.uid_to_node[node.identity.uid] = node
        self.add_dependent_to_owners(node, node.owners)

    def remove_node(self, node: Node) -> None:
        self.uid_to_node.pop(node.identity.uid, None)
        self.remove_dependent_from_owners(node, node.owners)

    def add_dependent_to_owners(self, node: Node, owners: list[Mapping[str, Any]]) -> None:
        """Link ``node`` under each owner; unknown owners get a virtual node queued for verification;
        a reference that may not resolve (namespace or coordinates mismatch) queues ``node``."""
        potentially_invalid = False
        for ref in owners:
            uid = str(ref.get("uid"))
            owner = self.uid_to_node.get(uid)
            if owner is None:
                owner = Node(reference_from_owner(ref, node.identity.namespace), virtual=True)
                self.uid_to_node[uid] = owner
                owner.add_dependent(node)
                self.attempt_to_delete.add(owner)
                continue
            owner.add_dependent(node)
            if potentially_invalid:
                continue
            owner_namespaced = bool(owner.identity.namespace)
            if owner_namespaced and owner.identity.namespace != node.identity.namespace:
                if owner.is_observed():
                    self.log.debug(
                        "item references an owner but does not match namespaces: item %s owner %s",
                        node.identity,
                        owner.identity,
                    )
                    self.report_invalid_namespace_owner_ref(node, uid)
                potentially_invalid = True
            elif not matches_coordinates(ref, owner.identity):
                if owner.is_observed():
                    self.log.debug(
                        "item references an owner with coordinates that do not match the observed "
                        "identity: item %s owner %s",
                        node.identity,
                        owner.identity,
                    )
                potentially_invalid = True
            elif (
                not owner_namespaced
                and owner.identity.namespace != node.identity.namespace
                and not owner.is_observed()
            ):
                # a virtual cluster-scoped owner named from a namespaced dependent: verify it
                potentially_invalid = True
        if potentially_invalid:
            self.attempt_to_delete.add(node)

    def remove_dependent_from_owners(self, node: Node, owners: list[Mapping[str, Any]]) -> None:
        for ref in owners:
            owner = self.uid_to_node.get(str(ref.get("uid")))
            if owner is not None:
                owner.delete_dependent(node)

    def add_unblocked_owners_to_delete_queue(
        self,
        removed: list[Mapping[str, Any]],
        changed: list[tuple[Mapping[str, Any], Mapping[str, Any]]],
    ) -> None:
        """Owners a dependent stopped blocking (reference removed or ``blockOwnerDeletion`` cleared)."""
        for ref in removed:
            if is_blocking(ref):
                owner = self.uid_to_node.get(str(ref.get("uid")))
                if owner is not None:
                    self.attempt_to_delete.add(owner)
        for old, new in changed:
            if is_blocking(old) and not is_blocking(new):
                owner = self.uid_to_node.get(str(new.get("uid")))
                if owner is not None:
                    self.attempt_to_delete.add(owner)

    def process_transitions(
        self, old: Mapping[str, Any] | None, new_meta: Mapping[str, Any], node: Node
    ) -> None:
        if deletion_starts_with_finalizer(old, new_meta, FINALIZER_ORPHAN_DEPENDENTS):
            self.log.debug("add item to attemptToOrphan: %s", node.identity)
            self.attempt_to_orphan.add(node)
            return
        if deletion_starts_with_finalizer(old, new_meta, FINALIZER_DELETE_DEPENDENTS):
            self.log.debug(
                "add item to attemptToDelete, because it's waiting for its dependents to be deleted: %s",
                node.identity,
            )
            node.mark_deleting_dependents()
            for dep in node.get_dependents():
                self.attempt_to_delete.add(dep)
            self.attempt_to_delete.add(node)

    def report_invalid_namespace_owner_ref(self, node: Node, invalid_owner_uid: str) -> None:
        """The Warning event ``OwnerRefInvalidNamespace`` on ``node`` (kube's
        ``reportInvalidNamespaceOwnerRef``)."""
        ref = next((r for r in node.owners if r.get("uid") == invalid_owner_uid), None)
        if ref is None or self.recorder is None:
            return
        api_version, kind, name, uid = owner_reference_coordinates(ref)
        invalid = ObjectReference(api_version, kind, name, uid, node.identity.namespace)
        self.recorder.eventf(
            node.identity.as_object(),
            "Warning",
            "OwnerRefInvalidNamespace",
            "ownerRef %s does not resolve to a parent with the same namespace",
            invalid,
        )
