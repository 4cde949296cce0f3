"""The generic typed client against a mocked API server: URLs, parameters, bodies, decoding."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.autoscaling.v1 import Scale
from pyclientgo.api.core.v1 import ConfigMap, ConfigMapList, Node, Pod
from pyclientgo.api.meta.v1 import Status
from pyclientgo.apimachinery.model import is_lazy
from pyclientgo.errors import Conflict, NotFound
from pyclientgo.kubernetes import AsyncClientset, AsyncResourceClient, Preconditions

NS = "/api/v1/namespaces/ns"


def pod(name: str = "p", namespace: str = "ns", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "7"},
        **extra,
    }


def status(code: int = 200, reason: str = "", status: str = "Success") -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": status,
        "reason": reason,
        "code": code,
    }


def params(route: respx.Route) -> dict[str, str]:
    return dict(route.calls.last.request.url.params)


def request(route: respx.Route) -> httpx.Request:
    return route.calls.last.request


def body(route: respx.Route) -> Any:
    return orjson.loads(route.calls.last.request.content)


async def test_get_decodes_lazily(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.get(f"{NS}/pods/p").respond(json=pod(spec={"nodeName": "n1"}))
    got = await cs.core_v1.pods("ns").get("p")
    assert isinstance(got, Pod) and is_lazy(got)
    assert got.metadata is not None and got.metadata.name == "p"
    assert got.spec is not None and got.spec.node_name == "n1"
    assert params(route) == {}
    await cs.core_v1.pods("ns").get("p", resource_version="0")
    assert params(route) == {"resourceVersion": "0"}


async def test_get_not_found_raises(router: respx.MockRouter, cs: AsyncClientset) -> None:
    router.get(f"{NS}/pods/missing").respond(404, json=status(404, "NotFound", "Failure"))
    with pytest.raises(NotFound):
        await cs.core_v1.pods("ns").get("missing")


async def test_list_params_and_all_namespaces(router: respx.MockRouter, cs: AsyncClientset) -> None:
    page = {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "9"}, "items": [pod()]}
    one = router.get(f"{NS}/pods").respond(json=page)
    every = router.get("/api/v1/pods").respond(json=page)
    got = await cs.core_v1.pods("ns").list(
        label_selector="app=web",
        field_selector="spec.nodeName=n1",
        limit=500,
        continue_="c1",
        resource_version="0",
        resource_version_match="NotOlderThan",
        timeout_seconds=30,
    )
    assert params(one) == {
        "labelSelector": "app=web",
        "fieldSelector": "spec.nodeName=n1",
        "limit": "500",
        "continue": "c1",
        "resourceVersion": "0",
        "resourceVersionMatch": "NotOlderThan",
        "timeoutSeconds": "30",
    }
    assert got.metadata is not None and got.metadata.resource_version == "9"
    assert [p.metadata.name for p in got.items if p.metadata] == ["p"]
    await cs.core_v1.pods().list()  # namespace=None on a namespaced resource: kubectl -A
    assert every.called and params(every) == {}


async def test_cluster_scoped(router: respx.MockRouter, cs: AsyncClientset) -> None:
    get = router.get("/api/v1/nodes/n1").respond(
        json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    )
    created = router.post("/api/v1/nodes").respond(
        201, json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}
    )
    node = await cs.core_v1.nodes().get("n1")
    assert isinstance(node, Node) and get.called
    # A namespace on the object of a cluster-scoped resource does not leak into the URL.
    await cs.core_v1.nodes().create(Node(metadata={"name": "n2", "namespace": "ignored"}))
    assert created.called
    node_client_cls = type(cs.core_v1.nodes())
    with pytest.raises(ValueError, match="cluster-scoped"):
        node_client_cls(cs.rest, "ns")


async def test_namespace_required_for_object_verbs(cs: AsyncClientset) -> None:
    pods = cs.core_v1.pods()
    with pytest.raises(ValueError, match="namespaced"):
        await pods.get("p")
    with pytest.raises(ValueError, match="namespaced"):
        await pods.create(Pod(metadata={"name": "p"}))
    with pytest.raises(ValueError, match="delete_collection needs a namespace"):
        await pods.delete_collection()


async def test_create_uses_object_namespace_when_client_has_none(
    router: respx.MockRouter, cs: AsyncClientset
) -> None:
    route = router.post("/api/v1/namespaces/other/configmaps").respond(
        201, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}}
    )
    cm = ConfigMap(metadata={"name": "c", "namespace": "other"}, data={"a": "b"})
    got = await cs.core_v1.config_maps().create(
        cm, field_manager="me", dry_run=True, field_validation="Strict"
    )
    assert isinstance(got, ConfigMap)
    assert request(route).headers["content-type"] == "application/json"
    assert body(route) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "other"},
        "data": {"a": "b"},
    }
    assert params(route) == {"fieldManager": "me", "dryRun": "All", "fieldValidation": "Strict"}


async def test_update_and_update_status(router: respx.MockRouter, cs: AsyncClientset) -> None:
    put = router.put(f"{NS}/pods/p").respond(json=pod())
    put_status = router.put(f"{NS}/pods/p/status").respond(json=pod())
    get_status = router.get(f"{NS}/pods/p/status").respond(json=pod(status={"phase": "Running"}))
    obj = Pod(metadata={"name": "p", "resourceVersion": "7"})
    await cs.core_v1.pods("ns").update(obj, field_manager="kubectl-replace")
    assert body(put)["metadata"] == {"name": "p", "resourceVersion": "7"}
    assert params(put) == {"fieldManager": "kubectl-replace"}
    await cs.core_v1.pods("ns").update_status(obj)
    assert put_status.called
    got = await cs.core_v1.pods("ns").get_status("p")
    assert got.status is not None and got.status.phase == "Running"
    assert get_status.called
    with pytest.raises(ValueError, match=r"metadata\.name"):
        await cs.core_v1.pods("ns").update(Pod())


async def test_update_conflict(router: respx.MockRouter, cs: AsyncClientset) -> None:
    router.put(f"{NS}/pods/p").respond(409, json=status(409, "Conflict", "Failure"))
    with pytest.raises(Conflict):
        await cs.core_v1.pods("ns").update(Pod(metadata={"name": "p", "resourceVersion": "1"}))


@pytest.mark.parametrize(
    ("patch_type", "content_type"),
    [
        ("strategic", "application/strategic-merge-patch+json"),
        ("merge", "application/merge-patch+json"),
        ("json", "application/json-patch+json"),
    ],
)
async def test_patch_content_types(
    router: respx.MockRouter, cs: AsyncClientset, patch_type: Any, content_type: str
) -> None:
    route = router.patch(f"{NS}/pods/p").respond(json=pod())
    patch: Any = (
        [{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}]
        if patch_type == "json"
        else {"metadata": {"labels": {"a": "b"}}}
    )
    got = await cs.core_v1.pods("ns").patch(
        "p", patch, patch_type=patch_type, field_manager="m", dry_run=True
    )
    assert isinstance(got, Pod)
    assert request(route).headers["content-type"] == content_type
    assert body(route) == patch
    assert params(route) == {"fieldManager": "m", "dryRun": "All"}


async def test_patch_default_is_strategic_and_status_subresource(
    router: respx.MockRouter, cs: AsyncClientset
) -> None:
    route = router.patch(f"{NS}/pods/p/status").respond(json=pod())
    await cs.core_v1.pods("ns").patch("p", b'{"status":{"phase":"Failed"}}', subresource="status")
    assert request(route).headers["content-type"] == "application/strategic-merge-patch+json"
    assert request(route).content == b'{"status":{"phase":"Failed"}}'
    with pytest.raises(ValueError, match="no 'scale' subresource"):
        await cs.core_v1.pods("ns").patch("p", {}, subresource="scale")


async def test_apply(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.patch("/apis/apps/v1/namespaces/ns/deployments/d").respond(
        json={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"}}
    )
    status_route = router.patch("/apis/apps/v1/namespaces/ns/deployments/d/status").respond(
        json={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"}}
    )
    dep = Deployment(
        metadata={"name": "d", "namespace": "ns"}, spec={"replicas": 2, "selector": {}, "template": {}}
    )
    got = await cs.apps_v1.deployments().apply(dep, field_manager="kubectl", force=True)
    assert isinstance(got, Deployment)
    assert request(route).headers["content-type"] == "application/apply-patch+yaml"
    assert params(route) == {"fieldManager": "kubectl", "force": "true"}
    sent = body(route)
    assert sent["apiVersion"] == "apps/v1" and sent["kind"] == "Deployment"
    assert sent["spec"]["replicas"] == 2
    await cs.apps_v1.deployments("ns").apply_status(dep, field_manager="ctl")
    assert params(status_route) == {"fieldManager": "ctl", "force": "false"}


async def test_delete_options_and_result(router: respx.MockRouter, cs: AsyncClientset) -> None:
    gone = router.delete(f"{NS}/pods/a").respond(json=status())
    lingering = router.delete(f"{NS}/pods/b").respond(json=pod("b"))
    result = await cs.core_v1.pods("ns").delete("a")
    assert isinstance(result, Status) and result.status == "Success"
    assert request(gone).content == b""
    result = await cs.core_v1.pods("ns").delete(
        "b",
        propagation_policy="Foreground",
        grace_period_seconds=0,
        preconditions=Preconditions(uid="u", resource_version="7"),
        dry_run=True,
    )
    assert isinstance(result, Pod)
    assert request(lingering).headers["content-type"] == "application/json"
    assert body(lingering) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "u", "resourceVersion": "7"},
        "dryRun": ["All"],
    }


async def test_delete_collection(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.delete(f"{NS}/configmaps").respond(
        json={"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": []}
    )
    got = await cs.core_v1.config_maps("ns").delete_collection(
        label_selector="a=b", field_selector="metadata.name=x", propagation_policy="Background"
    )
    assert isinstance(got, ConfigMapList)
    assert params(route) == {"labelSelector": "a=b", "fieldSelector": "metadata.name=x"}
    assert body(route) == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    router.delete("/api/v1/nodes").respond(json=status())
    assert isinstance(await cs.core_v1.nodes().delete_collection(), Status)


async def test_scale(router: respx.MockRouter, cs: AsyncClientset) -> None:
    path = "/apis/apps/v1/namespaces/ns/deployments/d/scale"
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "d", "namespace": "ns"},
        "spec": {"replicas": 3},
        "status": {"replicas": 2, "selector": "app=d"},
    }
    get = router.get(path).respond(json=scale)
    put = router.put(path).respond(json=scale)
    patch = router.patch(path).respond(json=scale)
    deployments = cs.apps_v1.deployments("ns")
    got = await deployments.get_scale("d")
    assert isinstance(got, Scale) and got.spec is not None and got.spec.replicas == 3
    assert get.called
    await deployments.update_scale("d", Scale(metadata={"name": "d"}, spec={"replicas": 5}))
    assert body(put)["spec"] == {"replicas": 5} and body(put)["kind"] == "Scale"
    await deployments.update_scale("d", {"metadata": {"name": "d"}, "spec": {"replicas": 6}})  # type: ignore[arg-type]
    assert body(put) == {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "d"},
        "spec": {"replicas": 6},
    }
    await deployments.patch_scale("d", {"spec": {"replicas": 4}})
    assert request(patch).headers["content-type"] == "application/merge-patch+json"
    assert body(patch) == {"spec": {"replicas": 4}}
    with pytest.raises(ValueError, match="no 'scale' subresource"):
        await cs.core_v1.config_maps("ns").get_scale("x")


async def test_watch(router: respx.MockRouter, cs: AsyncClientset) -> None:
    lines = [
        {"type": "ADDED", "object": pod("a")},
        {"type": "MODIFIED", "object": pod("a")},
        {
            "type": "BOOKMARK",
            "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "12"}},
        },
        {"type": "DELETED", "object": pod("a")},
    ]
    stream = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    route = router.get(f"{NS}/pods").respond(content=stream, headers={"content-type": "application/json"})
    events = []
    async for event in cs.core_v1.pods("ns").watch(
        resource_version="10", allow_watch_bookmarks=True, timeout_seconds=60, label_selector="a=b"
    ):
        events.append(event)
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]
    assert all(isinstance(e.object, Pod) for e in events)
    assert params(route) == {
        "watch": "true",
        "resourceVersion": "10",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "60",
        "labelSelector": "a=b",
    }


async def test_typed_client_needs_bindings(cs: AsyncClientset) -> None:
    class Unbound(AsyncResourceClient[Pod, Pod]):
        pass

    with pytest.raises(TypeError, match="INFO, MODEL and LIST_MODEL"):
        Unbound(cs.rest, "ns")


async def test_accepts_a_dict_body(router: respx.MockRouter, cs: AsyncClientset) -> None:
    route = router.post(f"{NS}/configmaps").respond(
        201, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    )
    await cs.core_v1.config_maps("ns").create({"metadata": {"name": "c"}, "data": {"k": "v"}})  # type: ignore[arg-type]
    assert body(route) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "v"},
    }
