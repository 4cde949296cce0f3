"""The garbage collector's graph builder fed events directly (no server): owners and dependents
linked by uid, virtual owners queued for verification, owner deletion queueing dependents and
remembering the owner as absent, foreground and orphan transitions, unblocking, virtual deletes
checked against the coordinates dependents use, and kube's alternate-identity choice."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pyclientgo.apimachinery.registry import GroupVersionKind
from pyclientgo.config import Config
from pyclientgo.dynamic import MetadataSharedInformerFactory
from pyclientgo.rest import AsyncRESTClient
from pyclientgo.workqueue import RateLimitingQueue
from testserver.controllers.garbagecollector import (
    GraphBuilder,
    GraphEvent,
    Node,
    ObjectReference,
    ReferenceCache,
)
from testserver.controllers.garbagecollector.graph_builder import (
    get_alternate_owner_identity,
    partition_dependents,
    references_diffs,
)

CM = GroupVersionKind("", "v1", "ConfigMap")


def obj(name: str, uid: str, ns: str = "default", **meta: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "uid": uid, **meta}
    if ns:
        m["namespace"] = ns
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m}


def owner_ref(name: str, uid: str, kind: str = "ConfigMap", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "name": name, "uid": uid, **extra}


async def drain(queue: RateLimitingQueue[Node]) -> list[Node]:
    """Take (and finish) every item ready in ``queue``, in order."""
    items = []
    while len(queue) > 0:
        item = await queue.get()
        queue.done(item)
        items.append(item)
    return items


@pytest.fixture
async def builder() -> GraphBuilder:
    factory = MetadataSharedInformerFactory(AsyncRESTClient(Config(host="https://127.0.0.1:1")))
    return GraphBuilder(
        factory,
        attempt_to_delete=RateLimitingQueue(),
        attempt_to_orphan=RateLimitingQueue(),
        absent_owner_cache=ReferenceCache(10),
        recorder=None,
        log=logging.getLogger("test-gc"),
    )


async def test_owner_and_dependent_linked_virtual_owner_verified(builder: GraphBuilder) -> None:
    builder.process_graph_change(
        GraphEvent("add", obj("child", "c1", ownerReferences=[owner_ref("p", "p1")]), CM)
    )
    virtual = builder.uid_to_node["p1"]
    assert virtual.virtual and not virtual.is_observed()
    assert virtual.identity == ObjectReference("v1", "ConfigMap", "p", "p1", "default")
    assert [n.identity.uid for n in virtual.get_dependents()] == ["c1"]
    assert [n.identity.uid for n in await drain(builder.attempt_to_delete)] == [
        "p1"
    ]  # verify the virtual owner
    # the real owner arrives: observed, same node
    builder.process_graph_change(GraphEvent("add", obj("p", "p1"), CM))
    assert builder.uid_to_node["p1"] is virtual and virtual.is_observed()


async def test_owner_deleted_queues_dependents_and_caches_absence(builder: GraphBuilder) -> None:
    builder.process_graph_change(GraphEvent("add", obj("p", "p1"), CM))
    builder.process_graph_change(
        GraphEvent("add", obj("c", "c1", ownerReferences=[owner_ref("p", "p1")]), CM)
    )
    await drain(builder.attempt_to_delete)
    builder.process_graph_change(GraphEvent("delete", obj("p", "p1"), CM))
    assert "p1" not in builder.uid_to_node
    assert [n.identity.uid for n in await drain(builder.attempt_to_delete)] == ["c1"]
    assert builder.absent_owner_cache.has(ObjectReference("v1", "ConfigMap", "p", "p1", "default"))


async def test_foreground_and_orphan_transitions(builder: GraphBuilder) -> None:
    builder.process_graph_change(GraphEvent("add", obj("p", "p1"), CM))
    builder.process_graph_change(
        GraphEvent("add", obj("c", "c1", ownerReferences=[owner_ref("p", "p1", blockOwnerDeletion=True)]), CM)
    )
    await drain(builder.attempt_to_delete)
    old = obj("p", "p1")
    new = obj("p", "p1", deletionTimestamp="2026-12-08T00:00:00Z", finalizers=["foregroundDeletion"])
    builder.process_graph_change(GraphEvent("update", new, CM, old_obj=old))
    owner = builder.uid_to_node["p1"]
    assert owner.is_deleting_dependents() and owner.is_being_deleted()
    assert {n.identity.uid for n in await drain(builder.attempt_to_delete)} == {"c1", "p1"}
    assert [n.identity.uid for n in owner.blocking_dependents()] == ["c1"]
    # the dependent drops blockOwnerDeletion: the owner is queued again
    builder.process_graph_change(
        GraphEvent(
            "update", obj("c", "c1", ownerReferences=[owner_ref("p", "p1", blockOwnerDeletion=False)]), CM
        )
    )
    assert [n.identity.uid for n in await drain(builder.attempt_to_delete)] == ["p1"]
    assert owner.blocking_dependents() == []
    # orphan: the owner goes to attempt_to_orphan, once
    builder.process_graph_change(GraphEvent("add", obj("q", "q1"), CM))
    orphan_new = obj("q", "q1", deletionTimestamp="2026-12-08T00:00:00Z", finalizers=["orphan"])
    builder.process_graph_change(GraphEvent("update", orphan_new, CM, old_obj=obj("q", "q1")))
    builder.process_graph_change(GraphEvent("update", orphan_new, CM, old_obj=orphan_new))
    assert [n.identity.uid for n in await drain(builder.attempt_to_orphan)] == ["q1"]


async def test_virtual_delete_respects_other_coordinates(builder: GraphBuilder) -> None:
    # two dependents name uid p1 differently: kind ConfigMap vs kind Secret
    builder.process_graph_change(
        GraphEvent("add", obj("a", "a1", ownerReferences=[owner_ref("p", "p1")]), CM)
    )
    builder.process_graph_change(
        GraphEvent("add", obj("b", "b1", ownerReferences=[owner_ref("p", "p1", kind="Secret")]), CM)
    )
    await drain(builder.attempt_to_delete)
    builder.enqueue_virtual_delete_event(ObjectReference("v1", "ConfigMap", "p", "p1", "default"))
    # the node stays for the dependent that disagrees, now with its coordinates; the matching one is queued
    node = builder.uid_to_node["p1"]
    assert node.identity.kind == "Secret"
    assert [n.identity.uid for n in await drain(builder.attempt_to_delete)] == ["a1"]
    assert builder.absent_owner_cache.has(ObjectReference("v1", "ConfigMap", "p", "p1", "default"))


async def test_cross_namespace_reference_is_queued(builder: GraphBuilder) -> None:
    builder.process_graph_change(GraphEvent("add", obj("p", "p1", ns="other"), CM))
    builder.process_graph_change(
        GraphEvent("add", obj("c", "c1", ownerReferences=[owner_ref("p", "p1")]), CM)
    )
    assert [n.identity.uid for n in await drain(builder.attempt_to_delete)] == ["c1"]


def test_references_diffs_and_partition() -> None:
    old = [owner_ref("a", "1"), owner_ref("b", "2", blockOwnerDeletion=True)]
    new = [owner_ref("b", "2", blockOwnerDeletion=False), owner_ref("c", "3")]
    added, removed, changed = references_diffs(old, new)
    assert [r["uid"] for r in added] == ["3"]
    assert [r["uid"] for r in removed] == ["1"]
    assert [(o["uid"], n["blockOwnerDeletion"]) for o, n in changed] == [("2", False)]

    owner = ObjectReference("v1", "ConfigMap", "p", "p1", "ns")
    same = Node(ObjectReference("v1", "ConfigMap", "a", "a1", "ns"), owners=[owner_ref("p", "p1")])
    other_ns = Node(ObjectReference("v1", "ConfigMap", "b", "b1", "elsewhere"), owners=[owner_ref("p", "p1")])
    other_kind = Node(
        ObjectReference("v1", "ConfigMap", "c", "c1", "ns"), owners=[owner_ref("p", "p1", kind="Secret")]
    )
    matching, nonmatching = partition_dependents([same, other_ns, other_kind], owner)
    assert matching == [same] and nonmatching == [other_ns, other_kind]
    # kube's order: kind first, so Secret follows ConfigMap and is chosen
    alt = get_alternate_owner_identity([same, other_kind], owner)
    assert alt == ObjectReference("v1", "Secret", "p", "p1", "ns")
    assert get_alternate_owner_identity([same], owner) is None


def test_reference_cache_is_lru() -> None:
    cache = ReferenceCache(2)
    a, b, c = (ObjectReference("v1", "ConfigMap", n, n) for n in "abc")
    cache.add(a)
    cache.add(b)
    assert cache.has(a)  # a is now the most recent
    cache.add(c)
    assert cache.has(a) and cache.has(c) and not cache.has(b)
    assert str(a) == "[v1/ConfigMap, namespace: , name: a, uid: a]"
    assert len(cache) == 2
