"""The serviceaccount and root-ca-cert-publisher controllers in a real controller-manager process,
against a real API server without stand-ins (kube-apiserver alone creates neither)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from controller_manager_fixture import Cluster, health, start_cluster, stop_cluster, wait_until

from pyclientgo.api.core.v1 import ConfigMap, Namespace
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

DESCRIPTION_START = "Contains a CA bundle that can be used to verify the kube-apiserver"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(
        tmp_path_factory.mktemp("sa-rootca"), "--controllers", "serviceaccount,root-ca-cert-publisher"
    )
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture
async def cs(cluster: Cluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


async def _new_namespace(cs: AsyncClientset, name: str) -> None:
    await cs.core_v1.namespaces().create(Namespace(metadata={"name": name}))


async def test_default_service_account_created_and_recreated(cs: AsyncClientset) -> None:
    await _new_namespace(cs, "sa-one")
    sa = await wait_until(lambda: cs.core_v1.service_accounts("sa-one").get("default"), what="default SA")
    assert sa.metadata is not None and sa.metadata.name == "default"
    await cs.core_v1.service_accounts("sa-one").delete("default")

    async def recreated() -> bool:
        again = await cs.core_v1.service_accounts("sa-one").get("default")
        return bool(again.metadata and again.metadata.uid != sa.metadata.uid)  # type: ignore[union-attr]

    await wait_until(recreated, what="default SA recreated")


async def test_existing_namespaces_get_accounts_at_start(cs: AsyncClientset) -> None:
    # kube-system and default existed before the controller-manager started
    for ns in ("default", "kube-system", "kube-public"):
        await wait_until(lambda ns=ns: cs.core_v1.service_accounts(ns).get("default"), what=f"SA in {ns}")


async def test_root_ca_published_and_repaired(cs: AsyncClientset, cluster: Cluster) -> None:
    ca = (Path(cluster.server.data_dir) / "pki" / "ca.crt").read_text()
    await _new_namespace(cs, "ca-one")
    cm = await wait_until(
        lambda: cs.core_v1.config_maps("ca-one").get("kube-root-ca.crt"), what="kube-root-ca.crt"
    )
    assert cm.data == {"ca.crt": ca}
    assert cm.metadata is not None and cm.metadata.annotations is not None
    assert cm.metadata.annotations["kubernetes.io/description"].startswith(DESCRIPTION_START)

    # tampered with: put back
    tampered = ConfigMap.from_dict({**cm.to_dict(), "data": {"ca.crt": "junk", "extra": "x"}})
    await cs.core_v1.config_maps("ca-one").update(tampered)

    async def repaired() -> bool:
        now = await cs.core_v1.config_maps("ca-one").get("kube-root-ca.crt")
        return now.data == {"ca.crt": ca}

    await wait_until(repaired, what="kube-root-ca.crt repaired")

    # deleted: recreated
    await cs.core_v1.config_maps("ca-one").delete("kube-root-ca.crt")

    async def recreated() -> bool:
        try:
            now = await cs.core_v1.config_maps("ca-one").get("kube-root-ca.crt")
        except NotFound:
            return False
        return now.data == {"ca.crt": ca}

    await wait_until(recreated, what="kube-root-ca.crt recreated")


def test_health_checks_per_controller(cluster: Cluster) -> None:
    code, body = health(cluster.manager.url, "/healthz?verbose")
    assert code == 200, body
    assert "serviceaccount-controller" in body
    assert "root-ca-certificate-publisher-controller" in body
    code, _ = health(cluster.manager.url, "/healthz/serviceaccount-controller")
    assert code == 200
