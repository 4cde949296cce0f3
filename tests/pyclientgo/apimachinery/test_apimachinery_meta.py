"""Controller references (get_controller_of, is_controlled_by, new_controller_ref), after
apimachinery's meta/v1/controller_ref_test.go."""

from __future__ import annotations

from typing import Any

from pyclientgo.api.apps.v1 import ReplicaSet
from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery.meta import (
    get_controller_of,
    get_controller_of_no_copy,
    get_owner_references,
    is_controlled_by,
    new_controller_ref,
)


def owner(name: str = "rs", uid: str = "uid-1") -> ReplicaSet:
    return ReplicaSet.from_dict({"metadata": {"name": name, "namespace": "default", "uid": uid}})


def pod_with(refs: list[dict[str, Any]]) -> Pod:
    return Pod.from_dict({"metadata": {"name": "p", "namespace": "default", "ownerReferences": refs}})


def test_new_controller_ref() -> None:
    ref = new_controller_ref(owner(), "apps/v1", "ReplicaSet")
    assert ref.to_dict() == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_get_controller_of_finds_the_controller_among_owners() -> None:
    p = pod_with(
        [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "uid-0"},
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "other",
                "uid": "uid-2",
                "controller": False,
            },
            new_controller_ref(owner(), "apps/v1", "ReplicaSet").to_dict(),
        ]
    )
    ref = get_controller_of(p)
    assert ref is not None and ref.uid == "uid-1" and ref.controller is True
    # A copy: changing it leaves the pod alone; the no-copy form is the pod's own reference.
    ref.name = "changed"
    same = get_controller_of_no_copy(p)
    assert same is not None and same.name == "rs"
    same.name = "changed"
    assert p.metadata is not None and p.metadata.owner_references is not None
    assert p.metadata.owner_references[2].name == "changed"


def test_no_controller() -> None:
    assert get_controller_of(pod_with([])) is None
    assert get_controller_of(Pod()) is None
    assert get_controller_of(pod_with([{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u"}])) is None
    assert get_owner_references(Pod()) == []


def test_is_controlled_by() -> None:
    rs = owner()
    p = pod_with([new_controller_ref(rs, "apps/v1", "ReplicaSet").to_dict()])
    assert is_controlled_by(p, rs)
    assert not is_controlled_by(p, owner(uid="uid-other"))
    assert not is_controlled_by(pod_with([]), rs)
    # Owned but not controlled.
    owned = pod_with([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "uid-1"}])
    assert not is_controlled_by(owned, rs)


def test_unstructured_objects() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "uid": "uid-1"}}
    ref = new_controller_ref(rs, "apps/v1", "ReplicaSet")
    obj = {"metadata": {"name": "p", "ownerReferences": [ref.to_dict()]}}
    found = get_controller_of(obj)
    assert found is not None and found.uid == "uid-1"
    assert is_controlled_by(obj, rs)
    assert is_controlled_by(pod_with([ref.to_dict()]), rs)
    assert get_controller_of({"metadata": None}) is None
    assert get_controller_of({}) is None
