"""The ``kubernetes`` Service's Endpoints and EndpointSlice in ``default``, pointing at this API
server (kube-apiserver's endpoint reconciler, ``pkg/controlplane/reconcilers``): one address (the
advertise address), the secure port named ``https``; the Endpoints carry
``endpointslice.kubernetes.io/skip-mirror: "true"`` so the mirroring controller leaves them alone,
the EndpointSlice (also named ``kubernetes``) ``kubernetes.io/service-name: kubernetes``."""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson

from testserver.apiserver import objects as ob
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.storage.errors import NotFoundError
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.model import KeyValue

__all__ = ["reconcile_kubernetes_endpoints"]

NAME, NAMESPACE = "kubernetes", "default"


def _endpoints(ip: str, port: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}
        ],
    }


def _endpoint_slice(ip: str, port: int) -> dict[str, Any]:
    family = "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    return {
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {"kubernetes.io/service-name": NAME}},
        "addressType": family,
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }


async def _ensure(objects: ObjectAccess, group: str, plural: str, want: dict[str, Any]) -> None:
    """Create ``want``, or bring a stored object's labels and content fields to it."""
    if await objects.create_system(group, plural, dict(want)):
        return
    route = objects.route(group, plural)
    if route is None:
        return
    fields = [k for k in want if k != "metadata"]

    def fn(cur: KeyValue | None) -> bytes | None:
        if cur is None:
            return None
        obj = orjson.loads(cur.value)
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        same = all(obj.get(k) == want[k] for k in fields) and all(
            labels.get(k) == v for k, v in want["metadata"]["labels"].items()
        )
        if same:
            return None
        labels.update(want["metadata"]["labels"])
        for k in fields:
            obj[k] = want[k]
        return ob.encode_for_storage(obj)

    try:
        await guaranteed_update(objects.storage, route.key(NAMESPACE, NAME), fn)
    except NotFoundError:
        pass


async def reconcile_kubernetes_endpoints(objects: ObjectAccess, ip: str, port: int) -> None:
    """Make the ``kubernetes`` Endpoints and EndpointSlice in ``default`` point at ``ip:port``
    (nothing while ``default`` does not exist)."""
    if await objects.get("", "namespaces", None, NAMESPACE) is None:
        return
    await _ensure(objects, "", "endpoints", _endpoints(ip, port))
    await _ensure(objects, "discovery.k8s.io", "endpointslices", _endpoint_slice(ip, port))
