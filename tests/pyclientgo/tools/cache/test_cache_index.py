"""Indexer / thread-safe store (docs/reference/client_go_semantics.md §3)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.tools.cache import (
    NAMESPACE_INDEX,
    Indexer,
    IndexerError,
    ThreadSafeStore,
    meta_namespace_index_func,
    new_indexer,
    object_labels,
)


def cm(name: str, ns: str = "default", labels: dict[str, str] | None = None) -> ConfigMap:
    return ConfigMap.from_dict({"metadata": {"name": name, "namespace": ns, "labels": labels or {}}})


def by_label(key: str) -> Any:
    def index(obj: Any) -> list[str]:
        value = object_labels(obj).get(key)
        return [] if value is None else [value]

    return index


def names(objs: list[Any]) -> list[str]:
    return sorted(o.metadata.name for o in objs)


def ns_indexer() -> Indexer:
    return new_indexer(indexers={NAMESPACE_INDEX: meta_namespace_index_func})


# §3.1 add/update store the object and recompute every index
def test_update_moves_object_between_index_values() -> None:
    idx = new_indexer(indexers={"app": by_label("app")})
    idx.add(cm("a", labels={"app": "web"}))
    assert idx.index_keys("app", "web") == ["default/a"]
    idx.update(cm("a", labels={"app": "db"}))
    assert idx.index_keys("app", "web") == []
    assert idx.index_keys("app", "db") == ["default/a"]
    assert idx.list_index_func_values("app") == ["db"]


def test_add_of_existing_key_reindexes() -> None:
    idx = new_indexer(indexers={"app": by_label("app")})
    idx.add(cm("a", labels={"app": "web"}))
    idx.add(cm("a", labels={}))
    assert idx.list_index_func_values("app") == []


# §3.2 deleting a missing key is a no-op; replace swaps everything and rebuilds indexes
def test_delete_missing_key_is_noop() -> None:
    idx = ns_indexer()
    idx.add(cm("a"))
    idx.delete(cm("missing"))
    assert idx.list_keys() == ["default/a"]


def test_delete_removes_from_indexes() -> None:
    idx = ns_indexer()
    idx.add(cm("a", "n1"))
    idx.delete(cm("a", "n1"))
    assert idx.by_index(NAMESPACE_INDEX, "n1") == []
    assert idx.list_index_func_values(NAMESPACE_INDEX) == []


def test_replace_rebuilds_indexes() -> None:
    idx = ns_indexer()
    idx.add(cm("a", "n1"))
    idx.replace([cm("b", "n2"), cm("c", "n2")], "5")
    assert idx.by_index(NAMESPACE_INDEX, "n1") == []
    assert names(idx.by_index(NAMESPACE_INDEX, "n2")) == ["b", "c"]
    assert idx.list_index_func_values(NAMESPACE_INDEX) == ["n2"]


# §3.3 the namespace index is named "namespace"; cluster-scoped objects index under ""
def test_namespace_index_name_and_cluster_scoped() -> None:
    assert NAMESPACE_INDEX == "namespace"
    idx = ns_indexer()
    node: dict[str, Any] = {"metadata": {"name": "node-1"}}
    idx.add(node)
    idx.add(cm("a", "n1"))
    assert idx.by_index("namespace", "") == [node]
    assert idx.index_keys("namespace", "") == ["node-1"]


# §3.4 index/by_index/index_keys/list_index_func_values; unknown name errors
def test_index_returns_objects_sharing_any_value() -> None:
    def multi(obj: Any) -> list[str]:
        return sorted(object_labels(obj))

    idx = new_indexer(indexers={"labelkeys": multi})
    idx.add(cm("a", labels={"x": "1", "y": "1"}))
    idx.add(cm("b", labels={"y": "1"}))
    idx.add(cm("c", labels={"z": "1"}))
    probe = cm("p", labels={"x": "1", "y": "2"})
    assert names(idx.index("labelkeys", probe)) == ["a", "b"]


def test_by_index_unknown_value_is_empty() -> None:
    idx = ns_indexer()
    idx.add(cm("a"))
    assert idx.by_index(NAMESPACE_INDEX, "nope") == []
    assert idx.index_keys(NAMESPACE_INDEX, "nope") == []


def test_index_keys_sorted() -> None:
    idx = ns_indexer()
    for n in ("z", "b", "m", "a"):
        idx.add(cm(n))
    assert idx.index_keys(NAMESPACE_INDEX, "default") == [
        "default/a",
        "default/b",
        "default/m",
        "default/z",
    ]


def test_list_index_func_values_drops_empty_values() -> None:
    idx = ns_indexer()
    idx.add(cm("a", "n1"))
    idx.add(cm("b", "n2"))
    assert sorted(idx.list_index_func_values(NAMESPACE_INDEX)) == ["n1", "n2"]
    idx.delete(cm("a", "n1"))
    assert idx.list_index_func_values(NAMESPACE_INDEX) == ["n2"]


def test_unknown_index_name_is_error() -> None:
    idx = ns_indexer()
    with pytest.raises(IndexerError):
        idx.by_index("nope", "x")
    with pytest.raises(IndexerError):
        idx.index_keys("nope", "x")
    with pytest.raises(IndexerError):
        idx.index("nope", cm("a"))
    assert idx.list_index_func_values("nope") == []  # as client-go: empty, no error


# §3.5 add_indexers: existing name errors; allowed on a populated store
def test_add_indexers_conflict() -> None:
    idx = ns_indexer()
    with pytest.raises(IndexerError):
        idx.add_indexers({NAMESPACE_INDEX: meta_namespace_index_func})


def test_add_indexers_on_populated_store_indexes_existing_items() -> None:
    idx = ns_indexer()
    idx.add(cm("a", labels={"app": "web"}))
    idx.add(cm("b", labels={"app": "db"}))
    idx.add_indexers({"app": by_label("app")})
    assert idx.index_keys("app", "web") == ["default/a"]
    idx.add(cm("c", labels={"app": "web"}))
    assert idx.index_keys("app", "web") == ["default/a", "default/c"]
    assert set(idx.get_indexers()) == {"app", NAMESPACE_INDEX}


def test_thread_safe_store_concurrent_writers_and_readers() -> None:
    store = ThreadSafeStore({NAMESPACE_INDEX: meta_namespace_index_func})
    errors: list[BaseException] = []

    def writer(ns: str) -> None:
        try:
            for i in range(300):
                store.add(f"{ns}/{i}", cm(str(i), ns))
                if i % 3 == 0:
                    store.delete(f"{ns}/{i}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    def reader() -> None:
        try:
            for _ in range(300):
                for obj in store.by_index(NAMESPACE_INDEX, "n0"):
                    assert obj.metadata.namespace == "n0"
                store.list_index_func_values(NAMESPACE_INDEX)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(f"n{k}",)) for k in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store) == 3 * 200
    assert len(store.index_keys(NAMESPACE_INDEX, "n1")) == 200
