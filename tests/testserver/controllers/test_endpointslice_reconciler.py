"""The EndpointSlice reconciler's placement (kube's ``reconcileByPortMapping``/``finalize``), on an
in-memory slice store that records every write: which slices are created, updated, deleted."""

from __future__ import annotations

import logging
from typing import Any

from pyclientgo.api.core.v1 import Node, Pod, Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.errors import NotFound
from testserver.controllers.endpointslice_reconciler import Reconciler
from testserver.controllers.endpointslice_util import EndpointSliceTracker


class _Store:
    """The EndpointSlice client of one namespace, in memory."""

    def __init__(self) -> None:
        self.slices: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []
        self._n = 0

    async def create(self, obj: EndpointSlice) -> EndpointSlice:
        d = obj.to_dict()
        self._n += 1
        d["metadata"].update(
            name=f"{d['metadata']['generateName']}{self._n}",
            uid=f"uid-{self._n}",
            resourceVersion=str(self._n),
        )
        self.slices[d["metadata"]["name"]] = d
        self.writes.append(("create", d["metadata"]["name"]))
        return EndpointSlice.from_dict(d)

    async def update(self, obj: EndpointSlice) -> EndpointSlice:
        d = obj.to_dict()
        self._n += 1
        d["metadata"]["resourceVersion"] = str(self._n)
        self.slices[d["metadata"]["name"]] = d
        self.writes.append(("update", d["metadata"]["name"]))
        return EndpointSlice.from_dict(d)

    async def delete(self, name: str) -> None:
        self.slices.pop(name)
        self.writes.append(("delete", name))

    def listed(self) -> list[EndpointSlice]:
        return [EndpointSlice.from_dict(d) for d in self.slices.values()]


class _Client:
    def __init__(self, store: _Store) -> None:
        self.store = store
        self.discovery_v1 = self

    def endpoint_slices(self, namespace: str) -> _Store:
        return self.store


class _Nodes:
    def get(self, name: str) -> Node:
        if name != "n1":
            raise NotFound.new(f'nodes "{name}" not found', name=name, kind="nodes")
        return Node.from_dict({"metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "z1"}}})


SERVICE = Service.from_dict(
    {
        "metadata": {"name": "s", "namespace": "ns", "uid": "svc-uid"},
        "spec": {
            "selector": {"app": "s"},
            "clusterIP": "10.96.0.9",
            "ipFamilies": ["IPv4"],
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    }
)


def _pod(i: int, ready: bool = True) -> Pod:
    return Pod.from_dict(
        {
            "metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}", "labels": {"app": "s"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]},
            "status": {
                "phase": "Running",
                "podIP": f"10.0.{i // 200}.{i % 200 + 1}",
                "podIPs": [{"ip": f"10.0.{i // 200}.{i % 200 + 1}"}],
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
    )


def _reconciler(store: _Store, max_endpoints: int = 100) -> Reconciler:
    return Reconciler(
        _Client(store),  # type: ignore[arg-type]
        _Nodes(),  # type: ignore[arg-type]
        max_endpoints_per_slice=max_endpoints,
        tracker=EndpointSliceTracker(),
        recorder=None,
        controller_name="endpointslice-controller.k8s.io",
        log=logging.getLogger("test"),
    )


def _sizes(store: _Store) -> list[int]:
    return sorted(len(d.get("endpoints") or []) for d in store.slices.values())


async def test_initial_split_and_minimal_changes() -> None:
    store = _Store()
    rec = _reconciler(store)
    pods = [_pod(i) for i in range(250)]
    await rec.reconcile(SERVICE, pods, store.listed(), None)
    assert _sizes(store) == [50, 100, 100]
    assert [w[0] for w in store.writes] == ["create"] * 3

    # nothing changed: no write at all
    store.writes.clear()
    await rec.reconcile(SERVICE, pods, store.listed(), None)
    assert store.writes == []

    # one pod not ready: only its slice is rewritten, in place
    store.writes.clear()
    pods[7] = _pod(7, ready=False)
    await rec.reconcile(SERVICE, pods, store.listed(), None)
    assert len(store.writes) == 1 and store.writes[0][0] == "update"
    eps = {e["targetRef"]["name"]: e for d in store.slices.values() for e in d["endpoints"]}
    assert eps["p7"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert eps["p7"]["zone"] == "z1" and eps["p7"]["nodeName"] == "n1"

    # 10 pods gone and 5 new ones: the new ones fill the slice that lost pods, nothing is created
    store.writes.clear()
    first_slice = next(
        d for d in store.slices.values() if any(e["targetRef"]["name"] == "p0" for e in d["endpoints"])
    )
    gone = {e["targetRef"]["name"] for e in first_slice["endpoints"][:10]}
    pods = [p for p in pods if p.metadata.name not in gone] + [_pod(i) for i in range(300, 305)]  # type: ignore[union-attr]
    await rec.reconcile(SERVICE, pods, store.listed(), None)
    assert [w[0] for w in store.writes] == ["update"]
    assert _sizes(store) == [50, 95, 100]


async def test_small_additions_go_to_the_best_fitting_unchanged_slice() -> None:
    store = _Store()
    rec = _reconciler(store, max_endpoints=10)
    await rec.reconcile(SERVICE, [_pod(i) for i in range(17)], store.listed(), None)
    assert _sizes(store) == [7, 10]
    store.writes.clear()
    await rec.reconcile(SERVICE, [_pod(i) for i in range(20)], store.listed(), None)
    assert [w[0] for w in store.writes] == ["update"] and _sizes(store) == [10, 10]


async def test_placeholder_kept_and_recycled() -> None:
    store = _Store()
    rec = _reconciler(store)
    await rec.reconcile(SERVICE, [], store.listed(), None)
    assert len(store.slices) == 1 and _sizes(store) == [0]
    (placeholder,) = store.slices
    store.writes.clear()
    await rec.reconcile(SERVICE, [], store.listed(), None)
    assert store.writes == []  # the placeholder is left as it is
    # endpoints arrive: the placeholder slice is reused (an update, not a create + delete)
    await rec.reconcile(SERVICE, [_pod(1)], store.listed(), None)
    assert store.writes == [("update", placeholder)]
    d = store.slices[placeholder]
    assert d["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}] and len(d["endpoints"]) == 1


async def test_pod_on_unknown_node_is_skipped_unless_published() -> None:
    store = _Store()
    rec = _reconciler(store)
    lost = Pod.from_dict(
        {**_pod(2).to_dict(), "spec": {"nodeName": "gone", "containers": [{"name": "c", "image": "x"}]}}
    )
    try:
        await rec.reconcile(SERVICE, [_pod(1), lost], store.listed(), None)
    except Exception as err:
        assert "Node gone Not Found" in str(err)
    else:
        raise AssertionError("a pod on a missing node is an error (retried), as kube")
    assert {e["targetRef"]["name"] for d in store.slices.values() for e in d["endpoints"]} == {"p1"}


async def test_labels_headless_and_service_label_changes() -> None:
    store = _Store()
    rec = _reconciler(store)
    headless = Service.from_dict(
        {
            "metadata": {
                "name": "h",
                "namespace": "ns",
                "uid": "h-uid",
                # a reserved key on the Service is not copied
                "labels": {"team": "a", "kubernetes.io/service-name": "spoof"},
            },
            "spec": {
                "selector": {"app": "s"},
                "clusterIP": "None",
                "ipFamilies": ["IPv4"],
                "ports": [{"port": 80}],
            },
        }
    )
    await rec.reconcile(headless, [_pod(1)], store.listed(), None)
    (d,) = store.slices.values()
    assert d["metadata"]["labels"] == {
        "team": "a",
        "service.kubernetes.io/headless": "",
        "kubernetes.io/service-name": "h",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert d["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "h",
            "uid": "h-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    # the Service's labels change: the slice is relabelled in place
    store.writes.clear()
    relabelled = Service.from_dict(
        {**headless.to_dict(), "metadata": {**headless.to_dict()["metadata"], "labels": {"team": "b"}}}
    )
    await rec.reconcile(relabelled, [_pod(1)], store.listed(), None)
    assert [w[0] for w in store.writes] == ["update"]
    (d,) = store.slices.values()
    assert d["metadata"]["labels"]["team"] == "b"
