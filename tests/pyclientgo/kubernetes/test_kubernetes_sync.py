"""The generated sync twins (``Clientset``, ``ResourceClient``) against the same routes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import respx

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.autoscaling.v1 import Scale
from pyclientgo.api.core.v1 import Binding, ConfigMap, Namespace, Pod, PodList
from pyclientgo.api.meta.v1 import Status
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncResourceClient, Clientset, ResourceClient

NS = "/api/v1/namespaces/ns"


def pod(name: str = "p") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": "1"},
    }


def test_clientset_is_the_generated_sync_twin(sync_cs: Clientset) -> None:
    pods = sync_cs.core_v1.pods("ns")
    assert isinstance(pods, ResourceClient) and not isinstance(pods, AsyncResourceClient)
    assert repr(pods) == "PodClient(pods.v1, namespace='ns')"


def test_crud(router: respx.MockRouter, sync_cs: Clientset) -> None:
    router.get(f"{NS}/pods/p").respond(json=pod())
    router.get(f"{NS}/pods/missing").respond(404, json={"kind": "Status", "code": 404, "reason": "NotFound"})
    listed = router.get("/api/v1/pods").respond(
        json={"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [pod("a"), pod("b")]}
    )
    create = router.post(f"{NS}/configmaps").respond(
        201, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    )
    update = router.put(f"{NS}/pods/p").respond(json=pod())
    patch = router.patch(f"{NS}/pods/p").respond(json=pod())
    delete = router.delete(f"{NS}/pods/p").respond(
        json={"kind": "Status", "apiVersion": "v1", "status": "Success"}
    )

    pods = sync_cs.core_v1.pods("ns")
    assert isinstance(pods.get("p"), Pod)
    with pytest.raises(NotFound):
        pods.get("missing")
    page = sync_cs.core_v1.pods().list(label_selector="app=web")
    assert isinstance(page, PodList) and len(page.items) == 2
    assert dict(listed.calls.last.request.url.params) == {"labelSelector": "app=web"}
    sync_cs.core_v1.config_maps("ns").create(ConfigMap(metadata={"name": "c"}), dry_run=True)
    assert dict(create.calls.last.request.url.params) == {"dryRun": "All"}
    pods.update(Pod(metadata={"name": "p", "resourceVersion": "1"}))
    assert orjson.loads(update.calls.last.request.content)["metadata"]["resourceVersion"] == "1"
    pods.patch("p", [{"op": "remove", "path": "/metadata/labels/a"}], patch_type="json")
    assert patch.calls.last.request.headers["content-type"] == "application/json-patch+json"
    assert isinstance(pods.delete("p", propagation_policy="Orphan"), Status)
    assert orjson.loads(delete.calls.last.request.content)["propagationPolicy"] == "Orphan"


def test_scale_and_apply(router: respx.MockRouter, sync_cs: Clientset) -> None:
    path = "/apis/apps/v1/namespaces/ns/deployments/d"
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "d"},
        "spec": {"replicas": 2},
    }
    router.get(f"{path}/scale").respond(json=scale)
    apply = router.patch(path).respond(
        json={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    )
    deployments = sync_cs.apps_v1.deployments("ns")
    assert isinstance(deployments.get_scale("d"), Scale)
    deployments.apply(Deployment(metadata={"name": "d"}), field_manager="me")
    assert apply.calls.last.request.headers["content-type"] == "application/apply-patch+yaml"


def test_watch(router: respx.MockRouter, sync_cs: Clientset) -> None:
    stream = b"".join(orjson.dumps({"type": t, "object": pod()}) + b"\n" for t in ("ADDED", "DELETED"))
    router.get(f"{NS}/pods").respond(content=stream)
    events = list(sync_cs.core_v1.pods("ns").watch(resource_version="1"))
    assert [e.type for e in events] == ["ADDED", "DELETED"]
    assert isinstance(events[0].object, Pod)


def test_expansions(router: respx.MockRouter, sync_cs: Clientset) -> None:
    router.get(f"{NS}/pods/p/log").respond(text="x\ny\n")
    bind = router.post(f"{NS}/pods/p/binding").respond(201, json={"kind": "Status", "code": 201})
    evict = router.post(f"{NS}/pods/p/eviction").respond(201, json={"kind": "Status", "code": 201})
    finalize = router.put("/api/v1/namespaces/ns/finalize").respond(
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}
    )
    pods = sync_cs.core_v1.pods("ns")
    assert pods.log("p") == "x\ny\n"
    assert list(pods.log("p", follow=True)) == ["x", "y"]
    pods.bind(Binding(metadata={"name": "p"}, target={"name": "n1"}))
    assert orjson.loads(bind.calls.last.request.content)["target"] == {"name": "n1"}
    pods.evict("p")
    assert orjson.loads(evict.calls.last.request.content)["kind"] == "Eviction"
    assert isinstance(sync_cs.core_v1.namespaces().finalize(Namespace(metadata={"name": "ns"})), Namespace)
    assert finalize.called
