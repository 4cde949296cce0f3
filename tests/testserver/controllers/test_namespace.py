"""The namespace controller in a real controller-manager against a real API server without stand-ins:
namespace deletion with built-in and custom resources inside (kubectl), conditions as kube's, content
held by a finalizer."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
from controller_manager_fixture import Cluster, start_cluster, stop_cluster, wait_until

from pyclientgo.api.core.v1 import ConfigMap, Namespace, Pod
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

KUBECTL = shutil.which("kubectl") or "kubectl"

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

CONTENT = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: doomed}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: doomed}
stringData: {k: v}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: doomed}
spec: {size: 1}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(tmp_path_factory.mktemp("namespace"), "--controllers", "namespace,serviceaccount")
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    env = cluster.kubectl_env(tmp_path_factory.mktemp("kubectl-home"))

    def run(*args: str, input: str | None = None, timeout: float = 60) -> str:
        proc = subprocess.run(
            [KUBECTL, *args], input=input, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}{proc.stdout}"
        return proc.stdout

    return run


@pytest.fixture
async def cs(cluster: Cluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


def _conditions(ns: Namespace) -> dict[str, tuple[str, str, str]]:
    return {
        c.type: (c.status, c.reason, c.message)  # type: ignore[misc]
        for c in (ns.status.conditions if ns.status and ns.status.conditions else [])
    }


async def test_kubectl_delete_namespace_with_custom_resource(
    kubectl, cs: AsyncClientset, cluster: Cluster
) -> None:  # type: ignore[no-untyped-def]
    kubectl("apply", "-f", "-", input=CRD)
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s")
    kubectl("create", "namespace", "doomed")
    kubectl("apply", "-f", "-", input=CONTENT)
    await cs.core_v1.pods("doomed").create(
        Pod(metadata={"name": "p"}, spec={"containers": [{"name": "c", "image": "busybox"}]})
    )
    assert "w1" in kubectl("get", "widgets", "-n", "doomed", "-o", "name")
    # kubectl delete waits until the namespace is gone: the controller must empty and finalise it
    out = kubectl("delete", "namespace", "doomed", "--timeout=60s", timeout=90)
    assert 'namespace "doomed" deleted' in out
    with pytest.raises(NotFound):
        await cs.core_v1.namespaces().get("doomed")
    # a namespace of the same name starts empty
    kubectl("create", "namespace", "doomed")
    assert kubectl("get", "widgets,configmaps,secrets", "-n", "doomed", "-o", "name").strip() == ""
    kubectl("delete", "namespace", "doomed", "--timeout=60s", timeout=90)
    # the server runs without stand-ins: the controller-manager did it
    assert "namespace doomed finalized" in cluster.manager.log()


async def test_content_held_by_finalizer_keeps_namespace_until_released(cs: AsyncClientset) -> None:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": "held"}))
    await cs.core_v1.config_maps("held").create(
        ConfigMap(metadata={"name": "pinned", "finalizers": ["example.com/hold"]}, data={"x": "y"})
    )
    await cs.core_v1.config_maps("held").create(ConfigMap(metadata={"name": "free"}))
    await cs.core_v1.namespaces().delete("held")

    async def finalizers_reported() -> dict[str, tuple[str, str, str]] | None:
        conds = _conditions(await cs.core_v1.namespaces().get("held"))
        return conds if conds.get("NamespaceFinalizersRemaining", ("",))[0] == "True" else None

    conds = await wait_until(finalizers_reported, what="NamespaceFinalizersRemaining=True")
    assert conds["NamespaceFinalizersRemaining"][1:] == (
        "SomeFinalizersRemain",
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
    )
    assert conds["NamespaceContentRemaining"][1:] == (
        "SomeResourcesRemain",
        "Some resources are remaining: configmaps. has 1 resource instances",
    )
    assert conds["NamespaceDeletionDiscoveryFailure"] == (
        "False",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    )
    assert conds["NamespaceDeletionContentFailure"] == (
        "False",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    )
    ns = await cs.core_v1.namespaces().get("held")
    assert ns.status is not None and ns.status.phase == "Terminating"
    assert ns.spec is not None and ns.spec.finalizers == ["kubernetes"]
    with pytest.raises(NotFound):
        await cs.core_v1.config_maps("held").get("free")

    pinned = await cs.core_v1.config_maps("held").get("pinned")
    assert pinned.metadata is not None and pinned.metadata.deletion_timestamp is not None
    await cs.core_v1.config_maps("held").patch(
        "pinned", {"metadata": {"finalizers": None}}, patch_type="merge"
    )

    async def gone() -> bool:
        try:
            await cs.core_v1.namespaces().get("held")
        except NotFound:
            return True
        return False

    # the retry comes finalizerEstimateSeconds/2 + 1 = 8.5 s after the last look at most
    await wait_until(gone, timeout=40, what="namespace held deleted")
