"""The garbage collector's dependency graph (``pkg/controller/garbagecollector/graph.go``, ``uid_cache.go``).

A :class:`Node` is one object the graph knows, keyed by uid: its identity (apiVersion, kind,
namespace, name, uid — :class:`ObjectReference`), its ``ownerReferences`` (``owners``, as the API
returned them) and the nodes naming it as owner (``dependents``). A node made only because some
dependent names it as owner is *virtual* until an informer reports the object itself (``observed``);
the collector verifies virtual nodes with a live GET. :class:`ReferenceCache` is the LRU of owners
known to be absent (kube's ``absentOwnerCache``, 500 entries).

Everything here runs on one event loop: nodes are changed only by the graph builder's event
processing and read by the workers between awaits, so no locks are needed (kube's
``dependentsLock`` and ``uidToNode`` locks exist for goroutines).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FINALIZER_DELETE_DEPENDENTS",
    "FINALIZER_ORPHAN_DEPENDENTS",
    "Node",
    "ObjectReference",
    "ReferenceCache",
    "is_blocking",
    "matches_coordinates",
    "owner_reference_coordinates",
    "reference_from_owner",
]

FINALIZER_ORPHAN_DEPENDENTS = "orphan"
"""``metav1.FinalizerOrphanDependents``: the owner waits until its dependents no longer name it."""
FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion"
"""``metav1.FinalizerDeleteDependents``: the owner waits until its blocking dependents are gone."""


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """An object's coordinates as an owner reference gives them, plus the namespace (kube's
    ``objectReference``); hashable, so it keys the absent-owner cache."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""

    def __str__(self) -> str:
        return (
            f"[{self.api_version}/{self.kind}, namespace: {self.namespace}, "
            f"name: {self.name}, uid: {self.uid}]"
        )

    def coordinates(self) -> ObjectReference:
        """The same reference without the namespace (a cluster-scoped owner's cache key)."""
        return ObjectReference(self.api_version, self.kind, self.name, self.uid)

    def with_namespace(self, namespace: str) -> ObjectReference:
        return ObjectReference(self.api_version, self.kind, self.name, self.uid, namespace)

    def as_object(self) -> dict[str, Any]:
        """A metadata-only object of this identity (for events and virtual delete events)."""
        meta: dict[str, Any] = {"name": self.name, "uid": self.uid}
        if self.namespace:
            meta["namespace"] = self.namespace
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta}


def owner_reference_coordinates(ref: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(apiVersion, kind, name, uid) of an ownerReference (kube's ``ownerReferenceCoordinates``)."""
    return (
        str(ref.get("apiVersion") or ""),
        str(ref.get("kind") or ""),
        str(ref.get("name") or ""),
        str(ref.get("uid") or ""),
    )


def reference_from_owner(ref: Mapping[str, Any], namespace: str = "") -> ObjectReference:
    """The :class:`ObjectReference` an ownerReference names, in ``namespace``."""
    api_version, kind, name, uid = owner_reference_coordinates(ref)
    return ObjectReference(api_version, kind, name, uid, namespace)


def matches_coordinates(ref: Mapping[str, Any], identity: ObjectReference) -> bool:
    """Whether an ownerReference names ``identity`` exactly (kube's ``ownerReferenceMatchesCoordinates``)."""
    return owner_reference_coordinates(ref) == (
        identity.api_version,
        identity.kind,
        identity.name,
        identity.uid,
    )


def is_blocking(ref: Mapping[str, Any]) -> bool:
    """``blockOwnerDeletion: true``."""
    return ref.get("blockOwnerDeletion") is True


class Node:
    """One object of the graph (kube's ``node``); compared and hashed by identity of the Python object,
    as kube's work queues hold ``*node`` pointers."""

    __slots__ = (
        "being_deleted",
        "deleting_dependents",
        "dependents",
        "identity",
        "observed",
        "owners",
        "virtual",
    )

    def __init__(
        self,
        identity: ObjectReference,
        *,
        owners: Iterable[Mapping[str, Any]] = (),
        virtual: bool = False,
        being_deleted: bool = False,
        deleting_dependents: bool = False,
    ) -> None:
        self.identity = identity
        self.owners: list[Mapping[str, Any]] = list(owners)
        """The object's ownerReferences as last observed (virtual nodes: none)."""
        self.dependents: set[Node] = set()
        """Nodes whose ownerReferences name this node's uid."""
        self.virtual = virtual
        """Made from a reference; becomes observed when an informer reports the object."""
        self.observed = not virtual
        self.being_deleted = being_deleted
        """The object has a deletionTimestamp (a one-way trip)."""
        self.deleting_dependents = deleting_dependents
        """The object is being deleted with the ``foregroundDeletion`` finalizer."""

    def clone(self) -> Node:
        """A copy sharing nothing mutable with this node (kube's ``node.clone``)."""
        copy = Node(
            self.identity,
            owners=self.owners,
            virtual=self.virtual,
            being_deleted=self.being_deleted,
            deleting_dependents=self.deleting_dependents,
        )
        copy.observed = self.observed
        copy.dependents = set(self.dependents)
        return copy

    def mark_observed(self) -> None:
        self.observed = True

    def is_observed(self) -> bool:
        return self.observed

    def mark_being_deleted(self) -> None:
        self.being_deleted = True

    def is_being_deleted(self) -> bool:
        return self.being_deleted

    def mark_deleting_dependents(self) -> None:
        self.deleting_dependents = True

    def is_deleting_dependents(self) -> bool:
        return self.deleting_dependents

    def add_dependent(self, dependent: Node) -> None:
        self.dependents.add(dependent)

    def delete_dependent(self, dependent: Node) -> None:
        self.dependents.discard(dependent)

    def get_dependents(self) -> list[Node]:
        return list(self.dependents)

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node has ``blockOwnerDeletion: true``."""
        uid = self.identity.uid
        return [
            dep
            for dep in self.dependents
            if any(ref.get("uid") == uid and is_blocking(ref) for ref in dep.owners)
        ]

    def owner_uids(self) -> set[str]:
        return {str(ref.get("uid") or "") for ref in self.owners}

    def __repr__(self) -> str:
        flags = [
            name
            for name, on in (
                ("virtual", self.virtual and not self.observed),
                ("beingDeleted", self.being_deleted),
                ("deletingDependents", self.deleting_dependents),
            )
            if on
        ]
        return f"Node({self.identity}{', ' + ', '.join(flags) if flags else ''})"


class ReferenceCache:
    """A bounded LRU set of :class:`ObjectReference` (kube's ``ReferenceCache`` of absent owners)."""

    def __init__(self, max_size: int = 500) -> None:
        self.max_size = max_size
        self._items: OrderedDict[ObjectReference, None] = OrderedDict()

    def add(self, ref: ObjectReference) -> None:
        self._items[ref] = None
        self._items.move_to_end(ref)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def has(self, ref: ObjectReference) -> bool:
        if ref in self._items:
            self._items.move_to_end(ref)
            return True
        return False

    def __len__(self) -> int:
        return len(self._items)
