"""The dynamic client: the typed clients' verbs on dicts, for built-in and custom resources."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import respx

from pyclientgo.config import Config
from pyclientgo.dynamic import AsyncDynamicClient, DynamicClient, GroupVersionResource
from pyclientgo.errors import NotFound
from pyclientgo.rest import AsyncRESTClient, RESTClient

CRONTABS = GroupVersionResource("stable.example.com", "v1", "crontabs")
BASE = "/apis/stable.example.com/v1"


def crontab(name: str = "ct1", namespace: str = "ns", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "3"},
        "spec": {"cronSpec": "* * * * */5", "replicas": 1},
        **extra,
    }


def sent(route: respx.Route) -> Any:
    return orjson.loads(route.calls.last.request.content)


async def test_custom_resource_verbs(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    item = f"{BASE}/namespaces/ns/crontabs/ct1"
    get = router.get(item).respond(json=crontab())
    listed = router.get(f"{BASE}/namespaces/ns/crontabs").respond(
        json={
            "apiVersion": "stable.example.com/v1",
            "kind": "CronTabList",
            "metadata": {},
            "items": [crontab()],
        }
    )
    everywhere = router.get(f"{BASE}/crontabs").respond(
        json={"apiVersion": "stable.example.com/v1", "kind": "CronTabList", "metadata": {}, "items": []}
    )
    create = router.post(f"{BASE}/namespaces/ns/crontabs").respond(201, json=crontab())
    update = router.put(item).respond(json=crontab())
    status = router.put(f"{item}/status").respond(json=crontab())
    patch = router.patch(item).respond(json=crontab())
    delete = router.delete(item).respond(json={"kind": "Status", "apiVersion": "v1", "status": "Success"})

    crontabs = AsyncDynamicClient(rest).resource(CRONTABS, "ns")
    assert crontabs.namespaced is None  # not built in: scope unknown, taken from the namespace given
    obj = await crontabs.get("ct1")
    assert obj["spec"]["cronSpec"] == "* * * * */5" and get.called
    page = await crontabs.list(label_selector="a=b", limit=10)
    assert [i["metadata"]["name"] for i in page["items"]] == ["ct1"]
    assert dict(listed.calls.last.request.url.params) == {"labelSelector": "a=b", "limit": "10"}
    await AsyncDynamicClient(rest).resource(CRONTABS).list()
    assert everywhere.called

    new = crontab()
    del new["metadata"]["resourceVersion"]
    await crontabs.create(new, field_manager="me")
    assert sent(create) == new and dict(create.calls.last.request.url.params) == {"fieldManager": "me"}
    obj["spec"]["replicas"] = 2
    await crontabs.update(obj)
    assert sent(update)["spec"]["replicas"] == 2 and sent(update)["metadata"]["resourceVersion"] == "3"
    await crontabs.update_status(crontab(status={"ok": True}))
    assert sent(status)["status"] == {"ok": True}
    await crontabs.patch("ct1", {"spec": {"replicas": 3}}, patch_type="merge")
    assert patch.calls.last.request.headers["content-type"] == "application/merge-patch+json"
    result = await crontabs.delete("ct1", propagation_policy="Background")
    assert result == {"kind": "Status", "apiVersion": "v1", "status": "Success"}
    assert sent(delete) == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}


async def test_namespace_from_object_when_scope_unknown(
    router: respx.MockRouter, rest: AsyncRESTClient
) -> None:
    route = router.post(f"{BASE}/namespaces/other/crontabs").respond(201, json=crontab(namespace="other"))
    await AsyncDynamicClient(rest).resource(CRONTABS).create(crontab(namespace="other"))
    assert route.called


async def test_explicit_scope(rest: AsyncRESTClient) -> None:
    with pytest.raises(ValueError, match="namespaced"):
        await AsyncDynamicClient(rest).resource(CRONTABS, namespaced=True).get("ct1")
    with pytest.raises(ValueError, match="cluster-scoped"):
        AsyncDynamicClient(rest).resource(CRONTABS, "ns", namespaced=False)


async def test_custom_resource_scale_and_apply(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "ct1"},
        "spec": {"replicas": 4},
    }
    router.get(f"{BASE}/namespaces/ns/crontabs/ct1/scale").respond(json=scale)
    patch = router.patch(f"{BASE}/namespaces/ns/crontabs/ct1/scale").respond(json=scale)
    apply = router.patch(f"{BASE}/namespaces/ns/crontabs/ct1").respond(json=crontab())
    crontabs = AsyncDynamicClient(rest).resource(CRONTABS, "ns", namespaced=True)
    assert (await crontabs.get_scale("ct1"))["spec"]["replicas"] == 4
    await crontabs.patch_scale("ct1", {"spec": {"replicas": 5}})
    assert sent(patch) == {"spec": {"replicas": 5}}
    await crontabs.apply(crontab(), field_manager="me", force=True)
    assert apply.calls.last.request.headers["content-type"] == "application/apply-patch+yaml"
    assert dict(apply.calls.last.request.url.params) == {"fieldManager": "me", "force": "true"}


async def test_builtin_scope_from_registry(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    router.get("/api/v1/namespaces/ns/pods/p").respond(
        404, json={"kind": "Status", "code": 404, "reason": "NotFound"}
    )
    dyn = AsyncDynamicClient(rest)
    pods = dyn.resource(GroupVersionResource("", "v1", "pods"))
    assert pods.namespaced is True and pods.subresources is not None and "status" in pods.subresources
    with pytest.raises(ValueError, match="namespaced"):
        await pods.get("p")
    with pytest.raises(NotFound):
        await pods.namespaced_to("ns").get("p")
    with pytest.raises(ValueError, match="no 'scale' subresource"):
        await dyn.resource(GroupVersionResource("", "v1", "configmaps"), "ns").get_scale("x")
    nodes = dyn.resource(GroupVersionResource("", "v1", "nodes"))
    assert nodes.namespaced is False


async def test_watch_dicts(router: respx.MockRouter, rest: AsyncRESTClient) -> None:
    lines = b"".join(
        orjson.dumps({"type": t, "object": crontab()}) + b"\n" for t in ("ADDED", "MODIFIED", "DELETED")
    )
    route = router.get(f"{BASE}/crontabs").respond(content=lines)
    events = [e async for e in AsyncDynamicClient(rest).resource(CRONTABS).watch(resource_version="1")]
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[0].object["kind"] == "CronTab"
    assert dict(route.calls.last.request.url.params) == {"watch": "true", "resourceVersion": "1"}


async def test_owns_rest_built_from_config(router: respx.MockRouter, config: Config) -> None:
    router.get(f"{BASE}/namespaces/ns/crontabs/ct1").respond(json=crontab())
    async with AsyncDynamicClient(config) as dyn:
        assert (await dyn.resource(CRONTABS, "ns").get("ct1"))["metadata"]["name"] == "ct1"


def test_sync_twin(router: respx.MockRouter, sync_rest: RESTClient) -> None:
    item = f"{BASE}/namespaces/ns/crontabs/ct1"
    router.get(item).respond(json=crontab())
    create = router.post(f"{BASE}/namespaces/ns/crontabs").respond(201, json=crontab())
    router.get(f"{BASE}/crontabs").respond(
        content=orjson.dumps({"type": "ADDED", "object": crontab()}) + b"\n"
    )
    router.delete(item).respond(json=crontab())
    dyn = DynamicClient(sync_rest)
    crontabs = dyn.resource(CRONTABS, "ns")
    assert crontabs.get("ct1")["metadata"]["name"] == "ct1"
    crontabs.create(crontab())
    assert sent(create)["kind"] == "CronTab"
    assert [e.type for e in dyn.resource(CRONTABS).watch()] == ["ADDED"]
    assert crontabs.delete("ct1", grace_period_seconds=0)["kind"] == "CronTab"
