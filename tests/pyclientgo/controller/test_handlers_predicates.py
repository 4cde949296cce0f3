"""Event handlers and predicates on typed models and plain dicts alike (dynamic informers cache dicts)."""

from __future__ import annotations

from typing import Any

from pyclientgo.api.apps.v1 import Deployment, ReplicaSet
from pyclientgo.controller import (
    AnnotationChangedPredicate,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    GenerationChangedPredicate,
    LabelChangedPredicate,
    Request,
    ResourceVersionChangedPredicate,
    and_,
    label_selector_predicate,
    not_,
    or_,
    owner_references,
)


class ListQueue:
    def __init__(self) -> None:
        self.items: list[Request] = []

    def add(self, item: Request) -> None:
        self.items.append(item)


def obj(
    name: str, *, gen: int = 1, rv: str = "1", labels: dict[str, str] | None = None, **meta: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "generation": gen,
            "resourceVersion": rv,
            "labels": labels or {},
            **meta,
        }
    }


def test_owner_handler_on_dicts_and_models() -> None:
    refs = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1", "controller": True},
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "side", "uid": "2"},
    ]
    rs_dict = obj("web-abc", ownerReferences=refs)
    rs_model = ReplicaSet.from_dict({**rs_dict, "apiVersion": "apps/v1", "kind": "ReplicaSet"})
    assert [r.name for r in owner_references(rs_model)] == ["web", "side"]
    for rs in (rs_dict, rs_model):
        q = ListQueue()
        EnqueueRequestForOwner(Deployment).create(rs, q)
        assert q.items == [Request("ns", "web")]
        q = ListQueue()
        EnqueueRequestForOwner("Deployment", only_controller=False).update(rs, rs, q)
        assert q.items == [Request("ns", "web"), Request("ns", "side")]  # each once
        q = ListQueue()
        EnqueueRequestForOwner("Deployment", owner_group="").delete(rs, q)  # core group: no match
        assert q.items == []
        q = ListQueue()
        EnqueueRequestForOwner("Node", owner_namespaced=False).create(
            obj(
                "p",
                ownerReferences=[
                    {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "3", "controller": True}
                ],
            ),
            q,
        )
        assert q.items == [Request("", "n1")]
    q = ListQueue()
    EnqueueRequestForObject().update(obj("a"), obj("a", rv="2"), q)
    assert q.items == [Request("ns", "a")]


def test_predicates() -> None:
    a, a2 = obj("a", gen=1, rv="1", labels={"x": "1"}), obj("a", gen=1, rv="2", labels={"x": "1"})
    b = obj("a", gen=2, rv="3", labels={"x": "2"}, annotations={"k": "v"})
    assert not GenerationChangedPredicate().update(a, a2) and GenerationChangedPredicate().update(a, b)
    assert GenerationChangedPredicate().create(a) and GenerationChangedPredicate().delete(a)
    assert not ResourceVersionChangedPredicate().update(a, a) and ResourceVersionChangedPredicate().update(
        a, a2
    )
    assert not LabelChangedPredicate().update(a, a2) and LabelChangedPredicate().update(a, b)
    assert not AnnotationChangedPredicate().update(a, a2) and AnnotationChangedPredicate().update(a, b)
    sel = label_selector_predicate("x=1")
    assert (
        sel.create(a) and not sel.create(b) and sel.update(a, b) and sel.update(b, a) and not sel.update(b, b)
    )
    assert and_(sel, GenerationChangedPredicate()).update(a, b)
    assert not and_(sel, GenerationChangedPredicate()).update(a, a2)
    assert or_(not_(sel), GenerationChangedPredicate()).create(b)
    assert not not_(sel).create(a)
