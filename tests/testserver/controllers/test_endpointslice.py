"""The EndpointSlice and EndpointSlice mirroring controllers in a real controller-manager process, against a real API server with a
fake kubelet running the pods (readiness written by the test where it tests a specific condition)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from controller_manager_fixture import wait_until
from endpoints_fixture import NODES, ZONE, EndpointsCluster, endpoints_cluster, new_pod, set_pod_ready

from pyclientgo.api.core.v1 import Endpoints, Pod, Service
from pyclientgo.kubernetes import AsyncClientset

MANAGED_BY = "endpointslice-controller.k8s.io"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointsCluster]:
    yield from endpoints_cluster(
        tmp_path_factory.mktemp("endpointslice"),
        "endpointslice,endpointslicemirroring",
        "--mirroring-max-endpoints-per-subset",
        "4",
    )


@pytest.fixture
async def cs(cluster: EndpointsCluster) -> AsyncIterator[AsyncClientset]:
    async with AsyncClientset(cluster.config()) as client:
        yield client


def _service(name: str, selector: dict[str, str] | None, **spec: Any) -> Service:
    ports = spec.pop("ports", [{"name": "http", "port": 80, "targetPort": "http"}])
    body: dict[str, Any] = {"ports": ports, **spec}
    if selector is not None:
        body["selector"] = selector
    return Service.from_dict({"metadata": {"name": name, "labels": {"team": "a"}}, "spec": body})


async def _slices(cs: AsyncClientset, ns: str, svc: str) -> list[dict[str, Any]]:
    got = await cs.discovery_v1.endpoint_slices(ns).list(label_selector=f"kubernetes.io/service-name={svc}")
    return [s.to_dict() for s in got.items or []]


def _endpoints(slices: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Endpoints of all slices by pod name."""
    return {ep["targetRef"]["name"]: ep for s in slices for ep in s.get("endpoints") or []}


HTTP_PORT = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


async def test_slice_shape_readiness_and_deletion(cs: AsyncClientset) -> None:
    ns = "default"
    svc = await cs.core_v1.services(ns).create(_service("web", {"app": "web"}))
    for i in range(3):
        await cs.core_v1.pods(ns).create(
            new_pod(f"web-{i}", {"app": "web"}, node=NODES[i % 2], ports=HTTP_PORT)
        )

    async def three_ready() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "web")
        eps = _endpoints(slices)
        if len(eps) == 3 and all(e["conditions"]["ready"] for e in eps.values()):
            return slices
        return None

    slices = await wait_until(three_ready, what="3 ready endpoints")
    assert len(slices) == 1
    s = slices[0]
    meta = s["metadata"]
    assert meta["name"].startswith("web-") and meta["generateName"] == "web-"
    assert meta["labels"] == {
        "team": "a",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": svc.metadata.uid,  # type: ignore[union-attr]
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "endpoints.kubernetes.io/last-change-trigger-time" in meta["annotations"]
    assert s["addressType"] == "IPv4"
    assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]  # named targetPort resolved
    ep = _endpoints(slices)["web-1"]
    pod = await cs.core_v1.pods(ns).get("web-1")
    assert ep == {
        "addresses": [pod.status.pod_ip],  # type: ignore[union-attr]
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": ns, "name": "web-1", "uid": pod.metadata.uid},  # type: ignore[union-attr]
        "nodeName": NODES[1],
        "zone": ZONE,
    }

    # readiness goes away and comes back (the test plays the readiness probe)
    await set_pod_ready(cs, ns, "web-0", False)

    async def not_ready() -> bool:
        e = _endpoints(await _slices(cs, ns, "web"))["web-0"]
        return bool(e["conditions"] == {"ready": False, "serving": False, "terminating": False})

    await wait_until(not_ready, what="web-0 not ready in the slice")
    await set_pod_ready(cs, ns, "web-0", True)

    async def ready_again() -> bool:
        return bool(_endpoints(await _slices(cs, ns, "web"))["web-0"]["conditions"]["ready"])

    await wait_until(ready_again, what="web-0 ready again")

    # a deleted pod leaves the slice; the slice itself stays (minimal change)
    name_before = (await _slices(cs, ns, "web"))[0]["metadata"]["name"]
    await cs.core_v1.pods(ns).delete("web-2")

    async def gone() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "web")
        return slices if set(_endpoints(slices)) == {"web-0", "web-1"} else None

    slices = await wait_until(gone, what="web-2 removed")
    assert [s["metadata"]["name"] for s in slices] == [name_before]


async def test_more_than_100_endpoints_split_into_slices(cs: AsyncClientset) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(
        _service("many", {"app": "many"}, ports=[{"port": 80, "targetPort": 9376}])
    )
    for i in range(130):
        await cs.core_v1.pods(ns).create(new_pod(f"many-{i}", {"app": "many"}, node=NODES[i % 2]))

    async def all_in() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "many")
        eps = _endpoints(slices)
        return slices if len(eps) == 130 and all(e["conditions"]["ready"] for e in eps.values()) else None

    slices = await wait_until(all_in, timeout=90, what="130 ready endpoints")
    sizes = sorted(len(s["endpoints"]) for s in slices)
    assert sum(sizes) == 130 and max(sizes) <= 100 and len(slices) == 2
    assert all(s["ports"] == [{"name": "", "port": 9376, "protocol": "TCP"}] for s in slices)


async def test_selector_change_and_publish_not_ready(cs: AsyncClientset) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("sel", {"app": "blue"}))
    await cs.core_v1.pods(ns).create(new_pod("blue-0", {"app": "blue"}, ports=HTTP_PORT))
    await cs.core_v1.pods(ns).create(new_pod("green-0", {"app": "green"}, ports=HTTP_PORT))

    async def members(names: set[str]) -> bool:
        eps = _endpoints(await _slices(cs, ns, "sel"))
        return set(eps) == names and all(e["conditions"]["ready"] for e in eps.values())

    await wait_until(lambda: members({"blue-0"}), what="blue selected")
    await cs.core_v1.services(ns).patch("sel", {"spec": {"selector": {"app": "green"}}})
    await wait_until(lambda: members({"green-0"}), what="green selected after the selector change")

    # publishNotReadyAddresses: a not-ready pod is still ready in the slice, but not serving
    await cs.core_v1.services(ns).patch("sel", {"spec": {"publishNotReadyAddresses": True}})
    await set_pod_ready(cs, ns, "green-0", False)

    async def published() -> bool:
        e = _endpoints(await _slices(cs, ns, "sel")).get("green-0")
        return e is not None and e["conditions"] == {"ready": True, "serving": False, "terminating": False}

    await wait_until(published, what="not-ready pod published")


async def test_no_endpoints_placeholder_and_kubectl(
    cs: AsyncClientset, cluster: EndpointsCluster, tmp_path: Any
) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("empty", {"app": "nothing-here"}))

    async def placeholder() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "empty")
        return slices if len(slices) == 1 else None

    slices = await wait_until(placeholder, what="placeholder slice")
    assert not slices[0].get("endpoints") and not slices[0].get("ports")
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    out = subprocess.run(
        [kubectl, "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-n", ns],
        env=cluster.cluster.kubectl_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert len(rows) == 1 and rows[0].split()[1:3] == ["IPv4", "8080"]


MIRROR = "endpointslicemirroring-controller.k8s.io"


async def test_mirroring_selectorless_service(cs: AsyncClientset) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("ext", None, ports=[{"name": "db", "port": 5432}]))
    endpoints = await cs.core_v1.endpoints(ns).create(
        Endpoints.from_dict(
            {
                "metadata": {"name": "ext", "labels": {"owner": "me"}, "annotations": {"note": "mirrored"}},
                "subsets": [
                    {
                        "addresses": [{"ip": "192.0.2.10"}, {"ip": "192.0.2.11"}],
                        "notReadyAddresses": [{"ip": "192.0.2.12"}],
                        "ports": [{"name": "db", "port": 5432, "protocol": "TCP"}],
                    }
                ],
            }
        )
    )

    async def mirrored() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "ext")
        return slices if len(slices) == 1 and len(slices[0].get("endpoints") or []) == 3 else None

    (s,) = await wait_until(mirrored, what="mirrored slice")
    meta = s["metadata"]
    assert meta["generateName"] == "ext-"
    assert meta["labels"] == {
        "owner": "me",
        "kubernetes.io/service-name": "ext",
        "endpointslice.kubernetes.io/managed-by": MIRROR,
    }
    assert meta["annotations"] == {"note": "mirrored"}
    assert meta["ownerReferences"][0]["kind"] == "Endpoints"
    assert meta["ownerReferences"][0]["uid"] == endpoints.metadata.uid  # type: ignore[union-attr]
    assert s["addressType"] == "IPv4"
    assert s["ports"] == [{"name": "db", "port": 5432, "protocol": "TCP"}]
    assert sorted((e["addresses"][0], e["conditions"]["ready"]) for e in s["endpoints"]) == [
        ("192.0.2.10", True),
        ("192.0.2.11", True),
        ("192.0.2.12", False),
    ]

    # an update of the Endpoints is mirrored in place
    await cs.core_v1.endpoints(ns).patch(
        "ext", {"subsets": [{"addresses": [{"ip": "192.0.2.20"}], "ports": [{"name": "db", "port": 5432}]}]}
    )

    async def updated() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "ext")
        ok = len(slices) == 1 and [e["addresses"] for e in slices[0].get("endpoints") or []] == [
            ["192.0.2.20"]
        ]
        return slices if ok else None

    (s2,) = await wait_until(updated, what="mirrored update")
    assert s2["metadata"]["name"] == meta["name"]

    # skip-mirror: the mirrored slice goes
    await cs.core_v1.endpoints(ns).patch(
        "ext", {"metadata": {"labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}}}
    )

    async def removed() -> bool:
        return not await _slices(cs, ns, "ext")

    await wait_until(removed, what="mirrored slice removed (skip-mirror)")

    # Endpoints of a Service with a selector are never mirrored (the EndpointSlice controller owns it)
    got = await cs.discovery_v1.endpoint_slices(ns).list(
        label_selector=f"endpointslice.kubernetes.io/managed-by={MIRROR}"
    )
    assert not got.items


async def test_terminating_pod_is_serving_not_ready(cs: AsyncClientset) -> None:
    # no node (no kubelet touches it): the test writes the Running/Ready status; a finalizer keeps the
    # deleted pod terminating
    ns = "default"
    await cs.core_v1.services(ns).create(
        _service("term", {"app": "term"}, ports=[{"port": 80, "targetPort": 8080}])
    )
    await cs.core_v1.pods(ns).create(
        Pod.from_dict(
            {
                "metadata": {"name": "term-0", "labels": {"app": "term"}, "finalizers": ["test.io/hold"]},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            }
        )
    )
    await cs.core_v1.pods(ns).patch(
        "term-0",
        {
            "status": {
                "phase": "Running",
                "podIP": "10.9.0.1",
                "podIPs": [{"ip": "10.9.0.1"}],
                "conditions": [{"type": "Ready", "status": "True"}],
            }
        },
        patch_type="merge",
        subresource="status",
    )

    async def conditions() -> dict[str, Any] | None:
        e = _endpoints(await _slices(cs, ns, "term")).get("term-0")
        return e["conditions"] if e is not None else None

    assert await wait_until(conditions, what="term-0 in the slice") == {
        "ready": True,
        "serving": True,
        "terminating": False,
    }
    await cs.core_v1.pods(ns).delete("term-0")

    async def terminating() -> bool:
        return await conditions() == {"ready": False, "serving": True, "terminating": True}

    try:
        await wait_until(terminating, what="terminating endpoint")
    finally:
        await cs.core_v1.pods(ns).patch("term-0", {"metadata": {"finalizers": None}}, patch_type="merge")

    async def gone() -> bool:
        return "term-0" not in _endpoints(await _slices(cs, ns, "term"))

    await wait_until(gone, what="term-0 gone once deleted")


async def test_tampered_and_deleted_slices_are_repaired(cs: AsyncClientset) -> None:
    ns = "default"
    await cs.core_v1.services(ns).create(_service("tamper", {"app": "tamper"}))
    await cs.core_v1.pods(ns).create(new_pod("tamper-0", {"app": "tamper"}, ports=HTTP_PORT))

    async def one_ready() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "tamper")
        eps = _endpoints(slices)
        return slices if list(eps) == ["tamper-0"] and eps["tamper-0"]["conditions"]["ready"] else None

    (s,) = await wait_until(one_ready, what="tamper-0 ready")
    # someone else empties the slice: put back
    await cs.discovery_v1.endpoint_slices(ns).patch(
        s["metadata"]["name"], {"endpoints": []}, patch_type="merge"
    )
    (again,) = await wait_until(one_ready, what="slice repaired")
    assert again["metadata"]["name"] == s["metadata"]["name"]
    # someone deletes it: recreated
    await cs.discovery_v1.endpoint_slices(ns).delete(s["metadata"]["name"])

    async def recreated() -> bool:
        slices = await one_ready()
        return bool(slices) and slices[0]["metadata"]["name"] != s["metadata"]["name"]  # type: ignore[index]

    await wait_until(recreated, what="slice recreated")


async def test_mirroring_caps_addresses_per_subset(cs: AsyncClientset) -> None:
    # the test cluster runs with --mirroring-max-endpoints-per-subset 4
    ns = "default"
    await cs.core_v1.services(ns).create(_service("wide", None, ports=[{"name": "p", "port": 81}]))
    addresses = [{"ip": f"198.51.100.{i}"} for i in range(1, 7)]
    await cs.core_v1.endpoints(ns).create(
        Endpoints.from_dict(
            {
                "metadata": {"name": "wide"},
                "subsets": [{"addresses": addresses, "ports": [{"name": "p", "port": 81}]}],
            }
        )
    )

    async def mirrored() -> list[dict[str, Any]] | None:
        slices = await _slices(cs, ns, "wide")
        return slices if len(slices) == 1 and slices[0].get("endpoints") else None

    (s,) = await wait_until(mirrored, what="capped mirrored slice")
    assert len(s["endpoints"]) == 4

    async def warned() -> list[str] | None:
        events = (await cs.core_v1.events(ns).list()).items or []
        found = [
            e.message or ""
            for e in events
            if e.reason == "TooManyAddressesToMirror"
            and e.involved_object is not None
            and e.involved_object.name == "wide"
        ]
        return found or None

    (message,) = await wait_until(warned, what="TooManyAddressesToMirror event")
    assert message == (
        "A max of 4 addresses can be mirrored to EndpointSlices per Endpoints subset. 2 addresses were skipped"
    )
