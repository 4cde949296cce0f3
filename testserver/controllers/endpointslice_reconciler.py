"""The EndpointSlice reconciler (kube's ``staging/src/k8s.io/endpointslice/reconciler.go``).

:meth:`Reconciler.reconcile` turns a Service, its pods and its current slices into creates, updates and
deletes with as few changes as it can (kube's placement):

1. slices of an address type the Service no longer has, or not owned by it, are deleted;
2. per address type, pods that belong in endpoints (:func:`should_pod_be_in_endpoints`, terminating
   ones included) become endpoints grouped by their resolved port set;
3. per port set, each existing slice keeps the endpoints still desired (updated in place when one
   changed); a slice left empty is deleted; new endpoints fill the changed slices first (fullest
   first), then the unchanged slice they fit in best, then new slices of at most
   ``max_endpoints_per_slice``;
4. with no endpoint at all one placeholder slice without ports is kept;
5. before creating, slices to delete are recycled as updates (same address type, same owner), and
   every written slice carries the trigger-time annotation.

Every write is recorded in the :class:`EndpointSliceTracker` so the controller can tell a stale cache.
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
from typing import Any

from pyclientgo.api.core.v1 import Node, Pod, Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.apimachinery.meta import new_controller_ref
from pyclientgo.component_helpers.pod import is_pod_ready
from pyclientgo.errors import has_status_cause, is_not_found
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.listers import NodeLister
from pyclientgo.tools.record import EventRecorder
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE
from testserver.controllers.endpointslice_util import (
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    LABEL_HEADLESS,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    EndpointSliceTracker,
    endpoint_key,
    endpoints_equal_beyond_hash,
    find_port,
    format_rfc3339_nano,
    is_ipv6,
    is_service_ip_set,
    pod_ips,
    should_pod_be_in_endpoints,
    should_set_hostname,
)

__all__ = ["ReconcileError", "Reconciler", "address_types_for_service", "normalized_ports"]

LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone"
_RESERVED_LABELS = frozenset({LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS})

Slice = dict[str, Any]
"""An EndpointSlice in wire form."""


class ReconcileError(Exception):
    """One or more slices of a Service could not be written (the messages joined)."""


def address_types_for_service(service: Service) -> list[str]:
    """``IPv4``/``IPv6`` from ``spec.ipFamilies`` (kube's ``getAddressTypesForService``)."""
    spec = service.spec
    families = (spec.ip_families if spec is not None else None) or []
    types = [t for f, t in (("IPv4", "IPv4"), ("IPv6", "IPv6")) if f in families]
    if types:
        return types
    ip = spec.cluster_ip if spec is not None else None
    if ip and ip != "None":
        return ["IPv6" if is_ipv6(ip) else "IPv4"]
    return ["IPv4", "IPv6"]


def normalized_ports(ports: list[dict[str, Any]] | None) -> tuple[tuple[str, int, str, str], ...]:
    """A slice's ports as a sorted tuple (the port-map key; the server may drop an empty name)."""
    return tuple(
        sorted(
            (
                str(p.get("name") or ""),
                int(p.get("port") or 0),
                str(p.get("protocol") or "TCP"),
                str(p.get("appProtocol") or ""),
            )
            for p in ports or []
        )
    )


def _endpoint_ports(service: Service, pod: Pod) -> list[dict[str, Any]]:
    """kube's ``getEndpointPorts``: each Service port resolved on the pod (unresolvable ones skipped)."""
    spec = service.spec
    ports = (spec.ports if spec is not None else None) or []
    out: list[dict[str, Any]] = []
    for sp in ports:
        number = find_port(pod, sp)
        if number is None:
            continue
        port: dict[str, Any] = {"name": sp.name or "", "port": number, "protocol": sp.protocol or "TCP"}
        if sp.app_protocol:
            port["appProtocol"] = sp.app_protocol
        out.append(port)
    return out


def _pod_to_endpoint(pod: Pod, node: Node | None, service: Service, address_type: str) -> dict[str, Any]:
    """kube's ``podToEndpoint``."""
    serving = is_pod_ready(pod)
    meta = pod.metadata
    terminating = meta is not None and meta.deletion_timestamp is not None
    publish = bool(service.spec is not None and service.spec.publish_not_ready_addresses)
    ready = publish or (serving and not terminating)
    want_v6 = address_type == "IPv6"
    endpoint: dict[str, Any] = {
        "addresses": [ip for ip in pod_ips(pod) if is_ipv6(ip) == want_v6],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": {
            "kind": "Pod",
            "namespace": (meta.namespace if meta else None) or "",
            "name": (meta.name if meta else None) or "",
            "uid": (meta.uid if meta else None) or "",
        },
    }
    node_name = pod.spec.node_name if pod.spec is not None else None
    if node_name:
        endpoint["nodeName"] = node_name
    zone = ((node.metadata.labels if node is not None and node.metadata else None) or {}).get(
        LABEL_TOPOLOGY_ZONE
    )
    if zone:
        endpoint["zone"] = zone
    if should_set_hostname(pod, service):
        endpoint["hostname"] = pod.spec.hostname if pod.spec is not None else None
    return endpoint


def _owned_by(endpoint_slice: Slice, service: Service) -> bool:
    uid = service.metadata.uid if service.metadata is not None else None
    return any(
        o.get("uid") == uid and o.get("kind") == "Service" and o.get("apiVersion") == "v1"
        for o in endpoint_slice.get("metadata", {}).get("ownerReferences") or []
    )


def _slice_labels(
    endpoint_slice: Slice, service: Service, controller_name: str
) -> tuple[dict[str, str], bool]:
    """kube's ``setEndpointSliceLabels``: the Service's labels plus the reserved ones; and whether the
    slice's own (non-reserved) labels differ from the Service's."""
    meta = service.metadata
    current = {
        k: v
        for k, v in (endpoint_slice.get("metadata", {}).get("labels") or {}).items()
        if k not in _RESERVED_LABELS
    }
    wanted = {k: v for k, v in ((meta.labels if meta else None) or {}).items() if k not in _RESERVED_LABELS}
    updated = current != wanted
    if not is_service_ip_set(service):
        wanted[LABEL_HEADLESS] = ""
    wanted[LABEL_SERVICE_NAME] = (meta.name if meta else None) or ""
    wanted[LABEL_MANAGED_BY] = controller_name
    return wanted, updated


class Reconciler:
    """Writes a Service's EndpointSlices; see the module docstring."""

    def __init__(
        self,
        client: AsyncClientset,
        node_lister: NodeLister,
        *,
        max_endpoints_per_slice: int,
        tracker: EndpointSliceTracker,
        recorder: EventRecorder | None,
        controller_name: str,
        log: logging.Logger,
    ) -> None:
        self.client = client
        self.node_lister = node_lister
        self.max_endpoints = max_endpoints_per_slice
        self.tracker = tracker
        self.recorder = recorder
        self.controller_name = controller_name
        self.log = log

    def _new_slice(self, service: Service, ports: list[dict[str, Any]], address_type: str) -> Slice:
        meta = service.metadata
        name = (meta.name if meta else None) or ""
        endpoint_slice: Slice = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{name}-",
                "namespace": (meta.namespace if meta else None) or "",
                "ownerReferences": [new_controller_ref(service, "v1", "Service").to_dict()],
                "labels": {},
            },
            "addressType": address_type,
            "ports": ports,
            "endpoints": [],
        }
        endpoint_slice["metadata"]["labels"], _ = _slice_labels(endpoint_slice, service, self.controller_name)
        return endpoint_slice

    async def reconcile(
        self,
        service: Service,
        pods: list[Pod],
        existing: list[EndpointSlice],
        trigger_time: _dt.datetime | None,
    ) -> None:
        """Bring the Service's slices to what its pods say (module docstring); raises
        :class:`ReconcileError` after doing all it could."""
        errors: list[str] = []
        address_types = address_types_for_service(service)
        to_delete: list[Slice] = []
        by_type: dict[str, list[Slice]] = {t: [] for t in address_types}
        for s in existing:
            d = s.to_dict()
            if d.get("addressType") not in by_type:
                to_delete.append(d)
            else:
                by_type[d["addressType"]].append(d)
        for address_type in address_types:
            try:
                await self._reconcile_by_address_type(
                    service, pods, by_type[address_type], trigger_time, address_type, errors
                )
            except Exception as err:  # a write failed: report, carry on with the other type
                errors.append(str(err))
        for d in to_delete:
            await self._delete(service, d, errors)
        if errors:
            raise ReconcileError("; ".join(errors))

    async def _reconcile_by_address_type(
        self,
        service: Service,
        pods: list[Pod],
        existing: list[Slice],
        trigger_time: _dt.datetime | None,
        address_type: str,
        errors: list[str],
    ) -> None:
        to_create: list[Slice] = []
        to_update: list[Slice] = []
        to_delete: list[Slice] = []
        existing_by_ports: dict[Any, list[Slice]] = {}
        for s in existing:
            if _owned_by(s, service):
                existing_by_ports.setdefault(normalized_ports(s.get("ports")), []).append(s)
            else:
                to_delete.append(s)

        publish = bool(service.spec is not None and service.spec.publish_not_ready_addresses)
        desired_ports: dict[Any, list[dict[str, Any]]] = {}
        desired: dict[Any, dict[tuple[Any, ...], dict[str, Any]]] = {}
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, True):
                continue
            ports = _endpoint_ports(service, pod)
            key = normalized_ports(ports)
            desired_ports.setdefault(key, ports)
            endpoints = desired.setdefault(key, {})
            node_name = pod.spec.node_name if pod.spec is not None else None
            node: Node | None = None
            if node_name:
                try:
                    node = self.node_lister.get(node_name)
                except Exception as err:
                    if not is_not_found(err):
                        raise
                    if not publish:
                        pod_name = pod.metadata.name if pod.metadata else ""
                        errors.append(f"skipping Pod {pod_name} for Service: Node {node_name} Not Found")
                        continue
            endpoint = _pod_to_endpoint(pod, node, service, address_type)
            if endpoint["addresses"]:
                endpoints[endpoint_key(endpoint)] = endpoint

        for key, endpoints in desired.items():
            c, u, d = self._reconcile_by_port_mapping(
                service, existing_by_ports.get(key, []), endpoints, desired_ports[key], address_type
            )
            to_create += c
            to_update += u
            to_delete += d
        for key, slices in existing_by_ports.items():
            if key not in desired:
                to_delete += slices

        # no endpoints at all: keep (or create) one placeholder slice without ports
        if len(existing) == len(to_delete) and not to_create:
            placeholder = self._new_slice(service, [], address_type)
            if len(to_delete) == 1 and self._is_placeholder(to_delete[0], placeholder):
                to_delete = []
            else:
                to_create.append(placeholder)

        await self._finalize(service, to_create, to_update, to_delete, trigger_time, errors)

    @staticmethod
    def _is_placeholder(existing: Slice, placeholder: Slice) -> bool:
        em, pm = existing.get("metadata", {}), placeholder["metadata"]
        refs = [
            {k: r.get(k) for k in ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")}
            for r in em.get("ownerReferences") or []
        ]
        return (
            em.get("namespace") == pm["namespace"]
            and (em.get("labels") or {}) == pm["labels"]
            and refs == pm["ownerReferences"]
            and not existing.get("ports")
            and not existing.get("endpoints")
            and existing.get("addressType") == placeholder["addressType"]
        )

    def _reconcile_by_port_mapping(
        self,
        service: Service,
        existing: list[Slice],
        desired: dict[tuple[Any, ...], dict[str, Any]],
        ports: list[dict[str, Any]],
        address_type: str,
    ) -> tuple[list[Slice], list[Slice], list[Slice]]:
        """kube's ``reconcileByPortMapping``: the minimal-change placement of one port set."""
        desired = dict(desired)
        by_name: dict[str, Slice] = {}
        unchanged: list[str] = []
        to_update: list[str] = []
        to_delete: list[str] = []
        for s in existing:
            name = s["metadata"]["name"]
            by_name[name] = s
            kept: list[dict[str, Any]] = []
            endpoint_updated = False
            for ep in s.get("endpoints") or []:
                got = desired.pop(endpoint_key(ep), None)
                if got is not None:
                    kept.append(got)
                    if not endpoints_equal_beyond_hash(got, ep):
                        endpoint_updated = True
            labels, labels_changed = _slice_labels(s, service, self.controller_name)
            if endpoint_updated or len(s.get("endpoints") or []) != len(kept):
                if not kept:
                    to_delete.append(name)
                else:
                    new = copy.deepcopy(s)
                    new["endpoints"] = kept
                    new["metadata"]["labels"] = labels
                    by_name[name] = new
                    to_update.append(name)
            elif labels_changed:
                new = copy.deepcopy(s)
                new["metadata"]["labels"] = labels
                by_name[name] = new
                to_update.append(name)
            else:
                unchanged.append(name)

        pending = list(desired.values())
        # fill the slices being updated anyway, fullest first
        if pending and to_update:
            for name in sorted(to_update, key=lambda n: -len(by_name[n].get("endpoints") or [])):
                s = by_name[name]
                room = self.max_endpoints - len(s["endpoints"])
                if room > 0:
                    s["endpoints"] = s["endpoints"] + pending[:room]
                    pending = pending[room:]
                if not pending:
                    break

        to_create: list[Slice] = []
        while pending:
            fill: Slice | None = None
            if len(pending) < self.max_endpoints and unchanged:
                best_diff = self.max_endpoints
                for name in unchanged:
                    diff = self.max_endpoints - (len(pending) + len(by_name[name].get("endpoints") or []))
                    if 0 <= diff < best_diff:
                        best_diff, fill = diff, by_name[name]
                        if diff == 0:
                            break
            if fill is None:
                fill = self._new_slice(service, ports, address_type)
            else:
                fill = copy.deepcopy(fill)
                by_name[fill["metadata"]["name"]] = fill
                fill.setdefault("endpoints", [])
            room = self.max_endpoints - len(fill["endpoints"])
            fill["endpoints"] = fill["endpoints"] + pending[:room]
            pending = pending[room:]
            name = fill["metadata"].get("name")
            if name:
                if name not in to_update:
                    to_update.append(name)
                if name in unchanged:
                    unchanged.remove(name)
            else:
                to_create.append(fill)
        return to_create, [by_name[n] for n in to_update], [by_name[n] for n in to_delete]

    async def _finalize(
        self,
        service: Service,
        to_create: list[Slice],
        to_update: list[Slice],
        to_delete: list[Slice],
        trigger_time: _dt.datetime | None,
        errors: list[str],
    ) -> None:
        """Recycle deletions as updates, then create, update and delete (kube's ``finalize``)."""
        i = 0
        while i < len(to_delete) and to_create:
            old = to_delete[i]
            new = to_create[-1]
            if old.get("addressType") == new["addressType"] and _owned_by(old, service):
                new["metadata"]["name"] = old["metadata"]["name"]
                new["metadata"]["resourceVersion"] = old["metadata"].get("resourceVersion")
                new["metadata"]["uid"] = old["metadata"].get("uid")
                to_create.pop()
                to_update.append(new)
                to_delete.pop(i)
            else:
                i += 1
        svc_meta = service.metadata
        namespace = (svc_meta.namespace if svc_meta else None) or ""
        api = self.client.discovery_v1.endpoint_slices(namespace)
        if svc_meta is None or svc_meta.deletion_timestamp is None:
            for s in to_create:
                _set_trigger_time(s, trigger_time)
                try:
                    created = await api.create(EndpointSlice.from_dict(s))
                except Exception as err:
                    if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                        return
                    raise ReconcileError(
                        f"failed to create EndpointSlice for Service {namespace}/"
                        f"{svc_meta.name if svc_meta else ''}: {err}"
                    ) from err
                self.tracker.update(created)
        for s in to_update:
            _set_trigger_time(s, trigger_time)
            try:
                updated = await api.update(EndpointSlice.from_dict(s))
            except Exception as err:
                raise ReconcileError(
                    f"failed to update {s['metadata']['name']} EndpointSlice for Service {namespace}/"
                    f"{svc_meta.name if svc_meta else ''}: {err}"
                ) from err
            self.tracker.update(updated)
        for s in to_delete:
            await self._delete(service, s, errors)

    async def _delete(self, service: Service, s: Slice, errors: list[str]) -> None:
        meta = s.get("metadata", {})
        api = self.client.discovery_v1.endpoint_slices(meta.get("namespace") or "")
        try:
            await api.delete(meta["name"])
        except Exception as err:
            if not is_not_found(err):
                errors.append(f"failed to delete {meta['name']} EndpointSlice: {err}")
                return
        self.tracker.expect_deletion(EndpointSlice.from_dict(s))


def _set_trigger_time(s: Slice, trigger_time: _dt.datetime | None) -> None:
    annotations = s["metadata"].setdefault("annotations", {}) or {}
    s["metadata"]["annotations"] = annotations
    if trigger_time is not None:
        annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = format_rfc3339_nano(trigger_time)
    else:
        annotations.pop(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, None)
