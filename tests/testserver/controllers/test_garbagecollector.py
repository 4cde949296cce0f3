"""The garbage collector in a real controller-manager against a real API server (no stand-ins):
background, foreground (blockOwnerDeletion) and orphan propagation, dangling owners (absent, or
another uid), virtual owners, a custom resource owner and dependent found by re-discovery, and the
real kubectl's ``delete --cascade=background|foreground|orphan``."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from controller_manager_fixture import Cluster, health, start_cluster, stop_cluster, wait_until

from pyclientgo.api.core.v1 import Namespace
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.dynamic import AsyncDynamicClient
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
WIDGETS = GroupVersionResource("example.com", "v1", "widgets")

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(
        tmp_path_factory.mktemp("gc"),
        "--controllers",
        "garbagecollector,podgc",
        "--discovery-resync-period",
        "1s",
    )
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    binary = shutil.which("kubectl")
    assert binary, "kubectl is not on PATH"
    env = cluster.kubectl_env(tmp_path_factory.mktemp("kubectl-home"))

    def run(*args: str, input: str | None = None, timeout: float = 60) -> str:
        proc = subprocess.run(
            [binary, *args], input=input, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}{proc.stdout}"
        return proc.stdout

    return run


@pytest.fixture
async def cs(cluster: Cluster) -> AsyncIterator[AsyncClientset]:
    client = AsyncClientset(cluster.config())
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def dyn(cs: AsyncClientset) -> AsyncDynamicClient:
    return AsyncDynamicClient(cs.rest)


@pytest.fixture
async def ns(cs: AsyncClientset) -> str:
    name = f"gc-{uuid.uuid4().hex[:6]}"
    await cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": name}}))
    return name


def ref(
    owner: dict[str, Any], *, block: bool | None = None, controller: bool | None = None
) -> dict[str, Any]:
    """An ownerReference to ``owner`` (a dict object)."""
    r: dict[str, Any] = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if block is not None:
        r["blockOwnerDeletion"] = block
    if controller is not None:
        r["controller"] = controller
    return r


async def make_cm(
    dyn: AsyncDynamicClient,
    ns: str,
    name: str,
    owners: list[dict[str, Any]] | None = None,
    finalizers: list[str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    obj: dict[str, Any] = await dyn.resource(CONFIGMAPS, ns).create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}}
    )
    obj.setdefault("apiVersion", "v1")
    obj.setdefault("kind", "ConfigMap")
    return obj


async def get_or_none(dyn: AsyncDynamicClient, gvr: GroupVersionResource, ns: str, name: str) -> Any:
    try:
        return await dyn.resource(gvr, ns).get(name)
    except NotFound:
        return None


async def gone(dyn: AsyncDynamicClient, gvr: GroupVersionResource, ns: str, *names: str) -> bool:
    for name in names:
        if await get_or_none(dyn, gvr, ns, name) is not None:
            return False
    return True


def test_health(cluster: Cluster) -> None:
    code, text = health(cluster.manager.url, "/healthz/garbage-collector-controller")
    assert code == 200, text
    metrics = httpx.get(cluster.manager.url + "/metrics", timeout=10).text
    assert "garbagecollector_controller_resources_sync_error_total 0.0" in metrics
    assert 'workqueue_adds_total{name="garbage_collector_attempt_to_delete"}' in metrics


async def test_background_cascade(dyn: AsyncDynamicClient, ns: str) -> None:
    owner = await make_cm(dyn, ns, "owner")
    child = await make_cm(dyn, ns, "child", [ref(owner)])
    await make_cm(dyn, ns, "grandchild", [ref(child)])
    other = await make_cm(dyn, ns, "other-owner")
    # two owners, one of which stays: the dependent stays, only the dangling reference goes
    await make_cm(dyn, ns, "shared", [ref(owner), ref(other)])
    await dyn.resource(CONFIGMAPS, ns).delete("owner", propagation_policy="Background")
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "owner", "child", "grandchild"), what="background cascade"
    )

    async def shared_refs_only_other() -> bool:
        shared = await dyn.resource(CONFIGMAPS, ns).get("shared")
        return [r["uid"] for r in shared["metadata"].get("ownerReferences") or []] == [
            other["metadata"]["uid"]
        ]

    await wait_until(shared_refs_only_other, what="dangling reference removed from the shared dependent")


async def test_foreground_waits_for_blocking_dependents(dyn: AsyncDynamicClient, ns: str) -> None:
    owner = await make_cm(dyn, ns, "fg-owner")
    # the blocking dependent is held by a finalizer of its own: the owner must wait for it
    await make_cm(dyn, ns, "fg-held", [ref(owner, block=True)], finalizers=["example.com/hold"])
    await make_cm(dyn, ns, "fg-free", [ref(owner, block=True)])
    await make_cm(dyn, ns, "fg-nonblocking", [ref(owner, block=False)])
    await dyn.resource(CONFIGMAPS, ns).delete("fg-owner", propagation_policy="Foreground")

    async def held_deleting() -> bool:
        held = await get_or_none(dyn, CONFIGMAPS, ns, "fg-held")
        return bool(held and held["metadata"].get("deletionTimestamp"))

    await wait_until(held_deleting, what="blocking dependent being deleted")
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "fg-free", "fg-nonblocking"), what="dependents deleted"
    )
    # the owner stays (deletionTimestamp + foregroundDeletion) while a blocking dependent remains
    owner_now = await dyn.resource(CONFIGMAPS, ns).get("fg-owner")
    assert owner_now["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in owner_now["metadata"]["finalizers"]
    held = await dyn.resource(CONFIGMAPS, ns).get("fg-held")
    await dyn.resource(CONFIGMAPS, ns).patch(
        "fg-held",
        {"metadata": {"finalizers": None, "resourceVersion": held["metadata"]["resourceVersion"]}},
        patch_type="merge",
    )
    await wait_until(lambda: gone(dyn, CONFIGMAPS, ns, "fg-held", "fg-owner"), what="owner deleted last")


async def test_orphan(dyn: AsyncDynamicClient, ns: str) -> None:
    owner = await make_cm(dyn, ns, "or-owner")
    keep = await make_cm(dyn, ns, "or-keep")
    await make_cm(dyn, ns, "or-a", [ref(owner)])
    await make_cm(dyn, ns, "or-b", [ref(owner, block=True), ref(keep)])
    await dyn.resource(CONFIGMAPS, ns).delete("or-owner", propagation_policy="Orphan")
    await wait_until(lambda: gone(dyn, CONFIGMAPS, ns, "or-owner"), what="owner deleted after orphaning")
    a = await dyn.resource(CONFIGMAPS, ns).get("or-a")
    b = await dyn.resource(CONFIGMAPS, ns).get("or-b")
    assert not a["metadata"].get("ownerReferences")
    assert [r["uid"] for r in b["metadata"]["ownerReferences"]] == [keep["metadata"]["uid"]]


async def test_dangling_owner_absent_and_wrong_uid(dyn: AsyncDynamicClient, ns: str) -> None:
    # the owner never existed: a virtual node, verified absent by a live GET
    missing = {"apiVersion": "v1", "kind": "ConfigMap", "name": "never", "uid": str(uuid.uuid4())}
    await make_cm(dyn, ns, "orphaned-child", [missing])
    # the owner exists by name, but with another uid
    await make_cm(dyn, ns, "real-owner")
    impostor = {"apiVersion": "v1", "kind": "ConfigMap", "name": "real-owner", "uid": str(uuid.uuid4())}
    await make_cm(dyn, ns, "wrong-uid-child", [impostor])
    # a live owner: the dependent stays
    live = await make_cm(dyn, ns, "live-owner")
    await make_cm(dyn, ns, "live-child", [ref(live)])
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "orphaned-child", "wrong-uid-child"),
        what="dangling dependents deleted",
    )
    assert await get_or_none(dyn, CONFIGMAPS, ns, "real-owner") is not None
    assert await get_or_none(dyn, CONFIGMAPS, ns, "live-child") is not None


async def test_custom_resource_owner_and_dependent(
    dyn: AsyncDynamicClient, ns: str, kubectl: Callable[..., str]
) -> None:
    kubectl("apply", "-f", "-", input=CRD)
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
    widgets = dyn.resource(WIDGETS, ns, namespaced=True)

    async def create_widget(name: str, owners: list[dict[str, Any]]) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if owners:
            meta["ownerReferences"] = owners
        obj: dict[str, Any] = await widgets.create(
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": {"size": 1}}
        )
        return obj

    parent = await create_widget("parent", [])
    await create_widget("child-widget", [ref(parent)])
    await make_cm(dyn, ns, "cm-of-widget", [ref(parent)])
    cm_owner = await make_cm(dyn, ns, "cm-owner")
    await create_widget("widget-of-cm", [ref(cm_owner)])
    # the collector learns the new resource from re-discovery, then cascades both ways
    await widgets.delete("parent", propagation_policy="Background")
    await wait_until(
        lambda: gone(dyn, WIDGETS, ns, "child-widget"), what="custom dependent of a custom owner"
    )
    await wait_until(lambda: gone(dyn, CONFIGMAPS, ns, "cm-of-widget"), what="ConfigMap owned by a Widget")
    await dyn.resource(CONFIGMAPS, ns).delete("cm-owner")
    await wait_until(lambda: gone(dyn, WIDGETS, ns, "widget-of-cm"), what="Widget owned by a ConfigMap")


async def test_kubectl_cascade(dyn: AsyncDynamicClient, ns: str, kubectl: Callable[..., str]) -> None:
    for mode in ("background", "foreground", "orphan"):
        owner = await make_cm(dyn, ns, f"k-{mode}")
        await make_cm(dyn, ns, f"k-{mode}-dep", [ref(owner, block=True)])
        out = kubectl("delete", "configmap", f"k-{mode}", "-n", ns, f"--cascade={mode}")
        assert f'configmap "k-{mode}" deleted' in out
    # --cascade=foreground returns once the owner is marked; all three end with the owner gone
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "k-background", "k-foreground", "k-orphan"), what="owners gone"
    )
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "k-background-dep", "k-foreground-dep"),
        what="cascaded dependents gone",
    )
    orphan = await dyn.resource(CONFIGMAPS, ns).get("k-orphan-dep")
    assert not orphan["metadata"].get("ownerReferences")
    # kubectl --wait on a foreground delete returns only when the owner is gone
    owner = await make_cm(dyn, ns, "k-wait")
    await make_cm(dyn, ns, "k-wait-dep", [ref(owner, block=True)])
    kubectl("delete", "configmap", "k-wait", "-n", ns, "--cascade=foreground", "--wait=true", "--timeout=60s")
    assert await gone(dyn, CONFIGMAPS, ns, "k-wait", "k-wait-dep")


async def test_invalid_namespace_owner_event(cs: AsyncClientset, dyn: AsyncDynamicClient, ns: str) -> None:
    other_ns = f"{ns}-b"
    await cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": other_ns}}))
    owner = await make_cm(dyn, other_ns, "elsewhere")
    await make_cm(dyn, ns, "cross-ns", [ref(owner)])

    async def warned() -> bool:
        events = await cs.core_v1.events(ns).list()
        return any(
            e.reason == "OwnerRefInvalidNamespace"
            and e.involved_object is not None
            and e.involved_object.name == "cross-ns"
            and e.type == "Warning"
            and "does not resolve to a parent with the same namespace" in (e.message or "")
            for e in events.items or []
        )

    await wait_until(warned, what="OwnerRefInvalidNamespace event")
    # the owner does not exist in the dependent's namespace: the dependent is garbage
    await wait_until(lambda: gone(dyn, CONFIGMAPS, ns, "cross-ns"), what="cross-namespace dependent deleted")
    assert await get_or_none(dyn, CONFIGMAPS, other_ns, "elsewhere") is not None


async def test_foreground_chain(dyn: AsyncDynamicClient, ns: str) -> None:
    """owner ← child ← grandchild, all blocking: the child is deleted in the foreground too, and
    nothing above the held grandchild goes until it does."""
    owner = await make_cm(dyn, ns, "ch-owner")
    child = await make_cm(dyn, ns, "ch-child", [ref(owner, block=True)])
    await make_cm(dyn, ns, "ch-grandchild", [ref(child, block=True)], finalizers=["example.com/hold"])
    await dyn.resource(CONFIGMAPS, ns).delete("ch-owner", propagation_policy="Foreground")

    async def chain_waiting() -> bool:
        objs = [await get_or_none(dyn, CONFIGMAPS, ns, n) for n in ("ch-owner", "ch-child", "ch-grandchild")]
        return all(o is not None and o["metadata"].get("deletionTimestamp") for o in objs)

    await wait_until(chain_waiting, what="the whole chain being deleted, held by the grandchild")
    child_now = await dyn.resource(CONFIGMAPS, ns).get("ch-child")
    assert "foregroundDeletion" in child_now["metadata"]["finalizers"]
    grandchild = await dyn.resource(CONFIGMAPS, ns).get("ch-grandchild")
    await dyn.resource(CONFIGMAPS, ns).patch(
        "ch-grandchild",
        {"metadata": {"finalizers": None, "resourceVersion": grandchild["metadata"]["resourceVersion"]}},
        patch_type="merge",
    )
    await wait_until(
        lambda: gone(dyn, CONFIGMAPS, ns, "ch-grandchild", "ch-child", "ch-owner"), what="the chain collected"
    )
