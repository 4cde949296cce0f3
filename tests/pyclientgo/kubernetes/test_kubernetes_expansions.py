"""Pod and namespace expansions: log, bind, evict, finalize."""

from __future__ import annotations

import orjson
import pytest
import respx

from pyclientgo.api.core.v1 import Binding, Namespace
from pyclientgo.errors import TooManyRequests
from pyclientgo.kubernetes import AsyncClientset

POD = "/api/v1/namespaces/ns/pods/p"


async def test_log_text(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.get(f"{POD}/log").respond(text="line 1\nline 2\n", headers={"content-type": "text/plain"})
    text = await cs.core_v1.pods("ns").log("p", container="c", tail_lines=2, timestamps=True, previous=True)
    assert text == "line 1\nline 2\n"
    assert dict(route.calls.last.request.url.params) == {
        "container": "c",
        "tailLines": "2",
        "timestamps": "true",
        "previous": "true",
    }


async def test_log_follow_yields_lines(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.get(f"{POD}/log").respond(content=b"a\nb\nc", headers={"content-type": "text/plain"})
    lines = [line async for line in await cs.core_v1.pods("ns").log("p", follow=True, since_seconds=5)]
    assert lines == ["a", "b", "c"]
    assert dict(route.calls.last.request.url.params) == {"follow": "true", "sinceSeconds": "5"}


async def test_bind(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.post(f"{POD}/binding").respond(
        201, json={"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}
    )
    binding = Binding(metadata={"name": "p"}, target={"kind": "Node", "name": "n1", "apiVersion": "v1"})
    await cs.core_v1.pods("ns").bind(binding)
    sent = orjson.loads(route.calls.last.request.content)
    assert sent == {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "n1", "apiVersion": "v1"},
    }
    # Without a client namespace, the binding's own namespace is used.
    await cs.core_v1.pods().bind(Binding(metadata={"name": "p", "namespace": "ns"}, target={"name": "n1"}))
    assert route.call_count == 2


async def test_evict(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.post(f"{POD}/eviction").respond(
        201, json={"kind": "Status", "apiVersion": "v1", "code": 201}
    )
    await cs.core_v1.pods("ns").evict("p", delete_options={"gracePeriodSeconds": 0})
    assert orjson.loads(route.calls.last.request.content) == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "p", "namespace": "ns"},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }
    assert route.calls.last.request.headers["content-type"] == "application/json"


async def test_evict_blocked_by_budget(router: respx.MockRouter, cs: AsyncClientset) -> None:
    router.post(f"{POD}/eviction").respond(
        429,
        json={
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "TooManyRequests",
            "code": 429,
            "details": {"causes": [{"reason": "DisruptionBudget", "message": "budget"}]},
        },
    )
    with pytest.raises(TooManyRequests):
        await cs.core_v1.pods("ns").evict("p")


async def test_namespace_finalize(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.put("/api/v1/namespaces/gone/finalize").respond(
        json={
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "gone"},
            "spec": {"finalizers": []},
        }
    )
    ns = Namespace(metadata={"name": "gone"}, spec={"finalizers": []})
    got = await cs.core_v1.namespaces().finalize(ns)
    assert isinstance(got, Namespace) and got.metadata is not None and got.metadata.name == "gone"
    assert orjson.loads(route.calls.last.request.content)["spec"] == {"finalizers": []}
