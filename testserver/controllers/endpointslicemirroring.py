"""The EndpointSlice mirroring controller (``pkg/controller/endpointslicemirroring/``).

Services without a selector get their endpoints from an Endpoints object a user (or another
controller) writes; this controller mirrors such Endpoints into EndpointSlices labelled
``endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io`` and
``kubernetes.io/service-name=<name>``, with the Endpoints' labels and annotations (minus the trigger-time
and last-applied annotations) and a controller ownerReference to the Endpoints.

``sync`` (kube's ``syncEndpoints``), keyed by the Service/Endpoints name:

- no Service, a Service with a selector, no Endpoints, an Endpoints labelled
  ``endpointslice.kubernetes.io/skip-mirror=true`` or carrying the leader-election annotation: the
  mirrored slices are deleted;
- otherwise the subsets (repacked) become one slice per (address type, port set), each with at most
  ``--mirroring-max-endpoints-per-subset`` endpoints (ready from ``addresses``, not ready from
  ``notReadyAddresses``); invalid IPs are skipped with a Warning ``InvalidIPAddress`` event, addresses over
  the limit with ``TooManyAddressesToMirror``;
- an existing slice is rewritten only when its endpoints, labels or annotations differ; slices to
  delete are recycled for slices to create.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pyclientgo.api.core.v1 import Endpoints, Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, has_status_cause, is_not_found
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE, name_of, namespace_of, unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.endpoints import repack_subsets
from testserver.controllers.endpointslice_reconciler import normalized_ports
from testserver.controllers.endpointslice_util import (
    ANNOTATION_LAST_APPLIED_CONFIG,
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    ANNOTATION_LEADER_ELECTION,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    LABEL_SKIP_MIRROR,
    EndpointSliceTracker,
    endpoint_key,
    endpoints_equal_beyond_hash,
    service_key_of_slice,
)

__all__ = [
    "CONTROLLER_NAME",
    "EVENT_SOURCE",
    "MANAGED_BY",
    "EndpointSliceMirroringController",
    "new_endpointslice_mirroring_controller",
]

CONTROLLER_NAME = "endpointslice-mirroring-controller"
MANAGED_BY = "endpointslicemirroring-controller.k8s.io"
EVENT_SOURCE = "endpoint-slice-mirroring-controller"
_SKIPPED_ANNOTATIONS = (ANNOTATION_LAST_CHANGE_TRIGGER_TIME, ANNOTATION_LAST_APPLIED_CONFIG)

Slice = dict[str, Any]


def _address_type(ip: str) -> str | None:
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return None


def _endpoint(address: dict[str, Any], ready: bool) -> dict[str, Any]:
    """kube's ``addressToEndpoint``."""
    ep: dict[str, Any] = {"addresses": [address["ip"]], "conditions": {"ready": ready}}
    if address.get("targetRef"):
        ep["targetRef"] = address["targetRef"]
    if address.get("nodeName"):
        ep["nodeName"] = address["nodeName"]
    if address.get("hostname"):
        ep["hostname"] = address["hostname"]
    return ep


def _slice_ports(ports: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for p in ports or []:
        port: dict[str, Any] = {
            "name": p.get("name") or "",
            "port": p.get("port"),
            "protocol": p.get("protocol") or "TCP",
        }
        if p.get("appProtocol"):
            port["appProtocol"] = p["appProtocol"]
        out.append(port)
    return out


class _Handler:
    """Services, Endpoints and mirrored slices → the name they share."""

    def __init__(self, tracker: EndpointSliceTracker | None = None, *, batch_period: float = 0.0) -> None:
        self.tracker = tracker
        self.batch_period = batch_period
        """Slice events are queued this much later (``--mirroring-endpointslice-updates-batch-period``)."""
        self.delaying: Any = None
        """The controller's work queue (``add_after``)."""

    def _add(self, request: Request, queue: RequestQueue) -> None:
        if self.tracker is not None and self.batch_period > 0 and self.delaying is not None:
            self.delaying.add_after(request, self.batch_period)
        else:
            queue.add(request)

    def _key(self, obj: Any) -> Request | None:
        if self.tracker is None:
            return Request(namespace_of(obj), name_of(obj))
        if not isinstance(obj, EndpointSlice):
            return None
        labels = (obj.metadata.labels if obj.metadata else None) or {}
        if labels.get(LABEL_MANAGED_BY) != MANAGED_BY:
            return None
        key = service_key_of_slice(obj)
        return Request.from_key(key) if key else None

    def create(self, obj: Any, queue: RequestQueue) -> None:
        if self.tracker is not None and isinstance(obj, EndpointSlice) and not self.tracker.should_sync(obj):
            return
        if (req := self._key(obj)) is not None:
            self._add(req, queue)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        if (req := self._key(old)) is not None and self._key(new) != req:
            self._add(req, queue)
        self.create(new, queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        obj = unwrap(obj)
        if (
            self.tracker is not None
            and isinstance(obj, EndpointSlice)
            and not self.tracker.handle_deletion(obj)
        ):
            return
        if (req := self._key(obj)) is not None:
            self._add(req, queue)


class EndpointSliceMirroringController:
    """Mirrors selector-less Services' Endpoints into EndpointSlices; see the module docstring."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self.max_endpoints = ctx.options.mirroring_max_endpoints_per_subset
        factory = ctx.informer_factory
        services = factory.core_v1.services()
        endpoints = factory.core_v1.endpoints()
        slices = factory.discovery_v1.endpoint_slices()
        self.service_lister = services.lister
        self.endpoints_lister = endpoints.lister
        self.slice_lister = slices.lister
        self.tracker = EndpointSliceTracker()
        self.recorder = ctx.event_recorder(EVENT_SOURCE) if ctx.manager is not None else None
        self.controller = Controller(
            "endpoint_slice_mirroring",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=ctx.options.mirroring_concurrent_service_endpoint_syncs,
                clock=ctx.clock,
            ),
        )
        self.controller.watch(services.informer, _Handler())
        self.controller.watch(endpoints.informer, _Handler())
        slice_handler = _Handler(
            self.tracker, batch_period=ctx.options.mirroring_endpointslice_updates_batch_period
        )
        slice_handler.delaying = self.controller.queue
        self.controller.watch(slices.informer, slice_handler)

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def _mirrored(self, ns: str, name: str) -> list[EndpointSlice]:
        selector = label_selectors.selector_from_set({LABEL_SERVICE_NAME: name, LABEL_MANAGED_BY: MANAGED_BY})
        return [
            s
            for s in self.slice_lister.endpoint_slices(ns).list(selector)
            if s.metadata is None or s.metadata.deletion_timestamp is None
        ]

    async def _delete_all(self, ns: str, slices: list[EndpointSlice]) -> None:
        for s in slices:
            try:
                await self.client.discovery_v1.endpoint_slices(ns).delete(name_of(s))
            except Exception as err:
                if not is_not_found(err):
                    raise
            self.tracker.expect_deletion(s)

    async def sync(self, request: Request) -> Result:
        """Mirror Endpoints ``request`` (module docstring)."""
        ns, name, key = request.namespace, request.name, request.key
        existing = self._mirrored(ns, name)
        if self.tracker.stale_slices(key, existing):
            raise RuntimeError("EndpointSlice informer cache is out of date")
        try:
            service: Service | None = self.service_lister.services(ns).get(name)
        except NotFound:
            service = None
        if service is None or (service.spec is not None and service.spec.selector is not None):
            await self._delete_all(ns, existing)
            if service is None:
                self.tracker.delete_service(key)
            return Result()
        try:
            endpoints: Endpoints = self.endpoints_lister.endpoints(ns).get(name)
        except NotFound:
            await self._delete_all(ns, existing)
            return Result()
        meta = endpoints.metadata
        labels = dict((meta.labels if meta else None) or {})
        annotations = dict((meta.annotations if meta else None) or {})
        if labels.get(LABEL_SKIP_MIRROR) == "true" or ANNOTATION_LEADER_ELECTION in annotations:
            await self._delete_all(ns, existing)
            return Result()
        await self._reconcile(endpoints, existing)
        return Result()

    async def _reconcile(self, endpoints: Endpoints, existing: list[EndpointSlice]) -> None:
        ep = endpoints.to_dict()
        meta = ep.get("metadata") or {}
        ns, name = meta.get("namespace") or "", meta.get("name") or ""
        desired: dict[tuple[str, Any], dict[tuple[Any, ...], dict[str, Any]]] = {}
        ports_by_key: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        invalid = skipped = 0
        for subset in repack_subsets(ep.get("subsets") or []):
            ports = _slice_ports(subset.get("ports"))
            pkey = normalized_ports(ports)
            total = len(subset.get("addresses") or []) + len(subset.get("notReadyAddresses") or [])
            added = 0
            for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
                for address in subset.get(field) or []:
                    if added >= self.max_endpoints:
                        break
                    address_type = _address_type(str(address.get("ip") or ""))
                    if address_type is None:
                        invalid += 1
                        continue
                    key = (address_type, pkey)
                    ports_by_key.setdefault(key, ports)
                    e = _endpoint(address, ready)
                    desired.setdefault(key, {})[endpoint_key(e)] = e
                    added += 1
            skipped += total - added
        if invalid and self.recorder is not None:
            self.recorder.eventf(
                endpoints, "Warning", "InvalidIPAddress",
                "Skipped %d invalid IP addresses when mirroring to EndpointSlices", invalid,
            )  # fmt: skip
        if skipped > invalid and self.recorder is not None:
            self.recorder.eventf(
                endpoints, "Warning", "TooManyAddressesToMirror",
                "A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset. %d addresses were skipped",
                self.max_endpoints, skipped,
            )  # fmt: skip

        labels = dict(meta.get("labels") or {})
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SKIPPED_ANNOTATIONS
        }
        existing_by_key: dict[tuple[str, Any], list[Slice]] = {}
        for existing_slice in existing:
            d = existing_slice.to_dict()
            existing_by_key.setdefault(
                (d.get("addressType") or "", normalized_ports(d.get("ports"))), []
            ).append(d)

        to_create: list[Slice] = []
        to_update: list[Slice] = []
        to_delete: list[Slice] = []
        for key, endpoints_set in desired.items():
            current = existing_by_key.get(key, [])
            if current:
                to_delete += current[1:]
                first = current[0]
                first_labels = {
                    k: v
                    for k, v in (first["metadata"].get("labels") or {}).items()
                    if k not in (LABEL_MANAGED_BY, LABEL_SERVICE_NAME)
                }
                if (
                    self._same_endpoints(first, endpoints_set)
                    and first_labels == labels
                    and (first["metadata"].get("annotations") or {}) == annotations
                    and not self._owner_replaced(first, meta)
                ):
                    continue
            new = self._new_slice(meta, labels, annotations, ports_by_key[key], key[0])
            new["endpoints"] = list(endpoints_set.values())[: self.max_endpoints]
            if current:
                new["metadata"]["name"] = current[0]["metadata"]["name"]
                new["metadata"].pop("generateName")
                to_update.append(new)
            else:
                to_create.append(new)
        for key, slices in existing_by_key.items():
            if key not in desired:
                to_delete += slices

        # recycle slices to delete for slices to create of the same address type
        for new in list(to_create):
            old = next((d for d in to_delete if d.get("addressType") == new["addressType"]), None)
            if old is None:
                continue
            to_delete.remove(old)
            to_create.remove(new)
            new["metadata"]["name"] = old["metadata"]["name"]
            new["metadata"].pop("generateName")
            to_update.append(new)

        api = self.client.discovery_v1.endpoint_slices(ns)
        if meta.get("deletionTimestamp") is None:
            for s in to_create:
                try:
                    created = await api.create(EndpointSlice.from_dict(s))
                except Exception as err:
                    if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                        return
                    raise RuntimeError(
                        f"failed to create EndpointSlice for Endpoints {ns}/{name}: {err}"
                    ) from err
                self.tracker.update(created)
        for s in to_update:
            try:
                updated = await api.update(EndpointSlice.from_dict(s))
            except Exception as err:
                raise RuntimeError(
                    f"failed to update {s['metadata']['name']} EndpointSlice for Endpoints {ns}/{name}: {err}"
                ) from err
            self.tracker.update(updated)
        for s in to_delete:
            try:
                await api.delete(s["metadata"]["name"])
            except Exception as err:
                if not is_not_found(err):
                    raise
            self.tracker.expect_deletion(EndpointSlice.from_dict(s))

    @staticmethod
    def _same_endpoints(existing: Slice, desired: dict[tuple[Any, ...], dict[str, Any]]) -> bool:
        eps = existing.get("endpoints") or []
        if len(eps) != len(desired):
            return False
        for e in eps:
            got = desired.get(endpoint_key(e))
            if got is None or not endpoints_equal_beyond_hash(got, e):
                return False
        return True

    @staticmethod
    def _owner_replaced(existing: Slice, endpoints_meta: dict[str, Any]) -> bool:
        """kube's ``needRebuildExistingSlices``: the slice's Endpoints owner is an older object."""
        return any(
            o.get("kind") == "Endpoints"
            and o.get("name") == endpoints_meta.get("name")
            and o.get("uid") != endpoints_meta.get("uid")
            for o in existing["metadata"].get("ownerReferences") or []
        )

    @staticmethod
    def _new_slice(
        meta: dict[str, Any],
        labels: dict[str, str],
        annotations: dict[str, str],
        ports: list[dict[str, Any]],
        address_type: str,
    ) -> Slice:
        name = meta.get("name") or ""
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{name}-",
                "namespace": meta.get("namespace") or "",
                "labels": {**labels, LABEL_SERVICE_NAME: name, LABEL_MANAGED_BY: MANAGED_BY},
                "annotations": dict(annotations),
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Endpoints",
                        "name": name,
                        "uid": meta.get("uid") or "",
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "addressType": address_type,
            "ports": ports,
            "endpoints": [],
        }


def new_endpointslice_mirroring_controller(ctx: ControllerContext) -> EndpointSliceMirroringController:
    """The registry's init function."""
    return EndpointSliceMirroringController(ctx)
