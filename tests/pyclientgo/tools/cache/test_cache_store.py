"""Keys, tombstones, metadata accessors and the keyed store (tools/cache store.go, meta)."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    KeyFuncError,
    Store,
    deletion_handling_meta_namespace_key_func,
    meta_namespace_key_func,
    new_store,
    object_annotations,
    object_labels,
    object_name,
    object_namespace,
    object_uid,
    resource_version,
    split_meta_namespace_key,
)


def cm(name: str, ns: str = "default", rv: str = "1") -> ConfigMap:
    return ConfigMap.from_dict(
        {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv, "uid": f"u-{name}"}}
    )


def test_meta_accessors_on_models_and_dicts() -> None:
    model = ConfigMap.from_dict(
        {
            "metadata": {
                "name": "a",
                "namespace": "ns",
                "resourceVersion": "7",
                "uid": "u1",
                "labels": {"x": "y"},
                "annotations": {"k": "v"},
            }
        }
    )
    as_dict: dict[str, Any] = {
        "metadata": {
            "name": "a",
            "namespace": "ns",
            "resourceVersion": "7",
            "uid": "u1",
            "labels": {"x": "y"},
            "annotations": {"k": "v"},
        }
    }
    for obj in (model, as_dict):
        assert object_name(obj) == "a"
        assert object_namespace(obj) == "ns"
        assert resource_version(obj) == "7"
        assert object_uid(obj) == "u1"
        assert dict(object_labels(obj)) == {"x": "y"}
        assert dict(object_annotations(obj)) == {"k": "v"}


def test_meta_accessors_default_to_empty() -> None:
    objs: list[Any] = [ConfigMap(), {"metadata": {}}, {}]
    for obj in objs:
        assert object_name(obj) == ""
        assert object_namespace(obj) == ""
        assert resource_version(obj) == ""
        assert object_uid(obj) == ""
        assert dict(object_labels(obj)) == {}


def test_meta_accessors_keep_model_lazy_beyond_metadata() -> None:
    obj = ConfigMap.from_json(b'{"metadata":{"name":"a","namespace":"n"},"data":{"k":"v"}}')
    assert object_name(obj) == "a" and object_namespace(obj) == "n"
    assert is_lazy(obj)  # the object itself was not materialised
    assert "data" not in obj.__dict__


def test_key_func_namespaced_and_cluster_scoped() -> None:
    assert meta_namespace_key_func(cm("a", "ns")) == "ns/a"
    assert (
        meta_namespace_key_func(Namespace.from_dict({"metadata": {"name": "kube-system"}})) == "kube-system"
    )
    assert meta_namespace_key_func({"metadata": {"name": "n", "namespace": "x"}}) == "x/n"


def test_key_func_tombstone_and_explicit_key() -> None:
    tomb = DeletedFinalStateUnknown("ns/a", cm("a", "ns"))
    assert meta_namespace_key_func(tomb) == "ns/a"
    assert deletion_handling_meta_namespace_key_func(tomb) == "ns/a"
    assert deletion_handling_meta_namespace_key_func(cm("b", "x")) == "x/b"
    assert meta_namespace_key_func("explicit/key") == "explicit/key"


def test_key_func_without_metadata_is_an_error() -> None:
    with pytest.raises(KeyFuncError):
        meta_namespace_key_func(42)


def test_split_meta_namespace_key() -> None:
    assert split_meta_namespace_key("ns/a") == ("ns", "a")
    assert split_meta_namespace_key("a") == ("", "a")
    with pytest.raises(KeyFuncError):
        split_meta_namespace_key("a/b/c")


def test_tombstone_is_frozen_value() -> None:
    tomb = DeletedFinalStateUnknown("k", None)
    assert tomb == DeletedFinalStateUnknown("k", None)
    with pytest.raises(AttributeError):
        tomb.key = "x"  # type: ignore[misc]


def test_store_add_get_update_delete_list() -> None:
    store = new_store()
    assert isinstance(store, Store)
    a1, a2, b = cm("a", rv="1"), cm("a", rv="2"), cm("b")
    store.add(a1)
    store.add(b)
    assert store.get(a1) is a1
    assert store.get_by_key("default/a") is a1
    store.update(a2)
    assert store.get_by_key("default/a") is a2
    assert sorted(store.list_keys()) == ["default/a", "default/b"]
    assert len(store.list()) == 2
    store.delete(a2)
    assert store.get_by_key("default/a") is None
    store.delete(a2)  # deleting a missing key is a no-op
    assert store.list_keys() == ["default/b"]


def test_store_replace_swaps_everything() -> None:
    store = new_store()
    store.add(cm("old"))
    store.replace([cm("x"), cm("y")], "10")
    assert sorted(store.list_keys()) == ["default/x", "default/y"]
    store.resync()  # no-op for a plain store
    assert len(store.list()) == 2
