"""Listers over an indexer (docs/reference/client_go_semantics.md §4.12): selectors, the namespace index, NotFound."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import Node, Pod
from pyclientgo.apimachinery import labels
from pyclientgo.errors import NotFound
from pyclientgo.listers import DeploymentLister, GenericLister, NodeLister, PodLister
from pyclientgo.tools.cache import (
    NAMESPACE_INDEX,
    Indexer,
    meta_namespace_index_func,
    meta_namespace_key_func,
    new_indexer,
)


class SpyIndexer:
    """An indexer that records which read path a lister used."""

    def __init__(self, inner: Indexer) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def list(self) -> list[Any]:
        self.calls.append("list")
        return self.inner.list()

    def by_index(self, name: str, value: str) -> list[Any]:
        self.calls.append(f"by_index:{name}={value}")
        return self.inner.by_index(name, value)

    def get_by_key(self, key: str) -> Any:
        self.calls.append(f"get:{key}")
        return self.inner.get_by_key(key)


def _pod(ns: str, name: str, **lbls: str) -> Pod:
    return Pod(metadata={"namespace": ns, "name": name, "labels": lbls or None})


@pytest.fixture
def indexer() -> Indexer:
    idx = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    for pod in (
        _pod("a", "web-1", app="web"),
        _pod("a", "db-1", app="db"),
        _pod("b", "web-2", app="web", tier="front"),
        _pod("b", "bare"),
    ):
        idx.add(pod)
    return idx


def _names(objs: list[Any]) -> list[str]:
    return sorted(o.metadata.name for o in objs)


def test_list_with_everything_returns_all(indexer: Indexer) -> None:
    lister = PodLister(indexer)
    everything = ["bare", "db-1", "web-1", "web-2"]
    assert _names(lister.list()) == everything
    assert _names(lister.list("")) == everything
    assert _names(lister.list(labels.everything())) == everything
    assert lister.list(labels.nothing()) == []


def test_list_filters_by_labels(indexer: Indexer) -> None:
    lister = PodLister(indexer)
    assert _names(lister.list("app=web")) == ["web-1", "web-2"]
    assert _names(lister.list("app!=web")) == ["bare", "db-1"]
    assert _names(lister.list(labels.parse("app in (web,db),!tier"))) == ["db-1", "web-1"]
    assert _names(lister.pods("b").list("app=web")) == ["web-2"]


def test_namespaced_list_uses_the_namespace_index(indexer: Indexer) -> None:
    spy = SpyIndexer(indexer)
    lister = PodLister(spy)  # type: ignore[arg-type]
    assert _names(lister.pods("a").list()) == ["db-1", "web-1"]
    assert _names(lister.by_namespace("b").list()) == ["bare", "web-2"]
    assert spy.calls == ["by_index:namespace=a", "by_index:namespace=b"]
    assert lister.pods("missing").list() == []


def test_get_and_not_found_named_like_the_api(indexer: Indexer) -> None:
    lister = PodLister(indexer)
    assert lister.pods("a").get("web-1").metadata.name == "web-1"
    with pytest.raises(NotFound) as info:
        lister.pods("a").get("web-2")  # exists, but in another namespace
    assert str(info.value) == 'pods "web-2" not found'
    assert info.value.code == 404 and info.value.reason == "NotFound"
    assert info.value.details == {"name": "web-2", "kind": "pods"}

    deployments = DeploymentLister(
        new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    )
    deployments.indexer.add(Deployment(metadata={"namespace": "a", "name": "d"}))
    assert deployments.deployments("a").get("d").metadata.name == "d"
    with pytest.raises(NotFound, match=r'^deployments\.apps "x" not found$') as dinfo:
        deployments.deployments("a").get("x")
    assert dinfo.value.details["group"] == "apps"


def test_cluster_scoped_lister() -> None:
    idx = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    idx.add(Node(metadata={"name": "n1", "labels": {"role": "worker"}}))
    idx.add(Node(metadata={"name": "n2"}))
    nodes = NodeLister(idx)
    assert nodes.get("n1").metadata.name == "n1"
    assert _names(nodes.list("role=worker")) == ["n1"]
    with pytest.raises(NotFound, match=r'^nodes "n3" not found$'):
        nodes.get("n3")


def test_generic_lister_on_dicts() -> None:
    idx = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    idx.add({"metadata": {"namespace": "x", "name": "w", "labels": {"a": "1"}}})
    lister: GenericLister[dict[str, Any]] = GenericLister(idx, group="example.com", resource="widgets")
    assert lister.by_namespace("x").get("w")["metadata"]["name"] == "w"
    assert lister.get("x/w")["metadata"]["name"] == "w"
    assert [o["metadata"]["name"] for o in lister.list("a=1")] == ["w"]
    with pytest.raises(NotFound, match=r'^widgets\.example\.com "nope" not found$'):
        lister.by_namespace("x").get("nope")
