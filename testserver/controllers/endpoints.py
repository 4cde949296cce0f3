"""The endpoints controller (``pkg/controller/endpoint/endpoints_controller.go``): the v1 Endpoints object
of every Service with a selector.

A Service event, a pod event that changes its endpoints (queued ``--endpoint-updates-batch-period``
later), or the deletion of an Endpoints object queues
the Service; at start every existing Endpoints is queued too (kube's ``checkLeftoverEndpoints``: an
Endpoints whose Service is gone is deleted). ``sync`` (kube's ``syncService``):

- Service gone: delete its Endpoints; ExternalName or no selector: leave it alone;
- each selected pod that belongs in endpoints (:func:`should_pod_be_in_endpoints`; terminating pods
  only with ``publishNotReadyAddresses``) gives an address of the Service's first IP family (targetRef,
  nodeName, hostname when ``spec.subdomain`` names the Service), ready ones in ``addresses`` and the
  others in ``notReadyAddresses``, per resolved port; addresses are repacked into subsets by port set
  (kube's ``RepackSubsets``: one subset per distinct address set, addresses sorted by IP then uid);
- the Endpoints gets the Service's labels (+ ``service.kubernetes.io/headless`` when headless), the
  ``endpoints.kubernetes.io/last-change-trigger-time`` annotation, and over 1000 addresses is
  truncated and annotated ``endpoints.kubernetes.io/over-capacity: truncated``;
- nothing changed: no write. A write refused is a Warning event ``FailedToCreateEndpoint`` /
  ``FailedToUpdateEndpoint`` and a retry; an update not yet seen by the informer makes the next sync
  wait (kube's ``staleEndpointsTracker``).
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

from pyclientgo.api.core.v1 import Endpoints, Pod, Service
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.component_helpers.pod import is_pod_ready
from pyclientgo.controller import Controller, ControllerOptions, Funcs, Request, Result
from pyclientgo.errors import NotFound, has_status_cause, is_forbidden, is_not_found
from testserver.controllers._util import NAMESPACE_TERMINATING_CAUSE, name_of, namespace_of
from testserver.controllers.context import ControllerContext
from testserver.controllers.endpointslice_util import (
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
    ANNOTATION_LEADER_ELECTION,
    LABEL_HEADLESS,
    PodServicesHandler,
    TriggerTimeTracker,
    find_port,
    format_rfc3339_nano,
    is_ipv6,
    is_service_ip_set,
    pod_ips,
    should_pod_be_in_endpoints,
    should_set_hostname,
)

__all__ = [
    "ANNOTATION_OVER_CAPACITY",
    "CONTROLLER_NAME",
    "EVENT_SOURCE",
    "MAX_CAPACITY",
    "EndpointsController",
    "new_endpoints_controller",
    "repack_subsets",
    "truncate_subsets",
]

CONTROLLER_NAME = "endpoints-controller"
EVENT_SOURCE = "endpoint-controller"
MAX_CAPACITY = 1000
"""Addresses an Endpoints object holds at most (kube's ``maxCapacity``)."""
ANNOTATION_OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"

Address = dict[str, Any]
Subset = dict[str, Any]


def _address_sort_key(addr: Address) -> tuple[str, str]:
    return addr.get("ip") or "", (addr.get("targetRef") or {}).get("uid") or ""


def _port_sort_key(port: dict[str, Any]) -> str:
    return json.dumps(port, sort_keys=True)


def repack_subsets(subsets: list[Subset]) -> list[Subset]:
    """kube's ``RepackSubsets``: addresses grouped by the exact set of ports they serve, one subset per
    distinct (address, ready) set; an address ready on one subset and not on another counts as not ready
    for that port. Sorted: addresses by IP then uid, ports and subsets by content."""
    all_addrs: dict[tuple[str, str], Address] = {}
    port_to_addrs: dict[str, dict[tuple[str, str], bool]] = {}
    ports_by_key: dict[str, dict[str, Any] | None] = {}
    for subset in subsets:
        ports = subset.get("ports") or [None]
        for port in ports:
            pkey = _port_sort_key(port) if port is not None else ""
            ports_by_key[pkey] = port
            entries = port_to_addrs.setdefault(pkey, {})
            for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
                for addr in subset.get(field) or []:
                    akey = _address_sort_key(addr)
                    all_addrs.setdefault(akey, addr)
                    was = entries.get(akey)
                    if was is None or was:
                        entries[akey] = ready
    by_addr_set: dict[tuple[tuple[tuple[str, str], bool], ...], list[dict[str, Any]]] = {}
    for pkey, entries in port_to_addrs.items():
        aset = tuple(sorted(entries.items()))
        ports_list = by_addr_set.setdefault(aset, [])
        port = ports_by_key[pkey]
        if port is not None:
            ports_list.append(port)
    final: list[Subset] = []
    for aset, ports_list in by_addr_set.items():
        packed: Subset = {}
        ready_addrs = [all_addrs[k] for k, r in aset if r]
        not_ready = [all_addrs[k] for k, r in aset if not r]
        if ready_addrs:
            packed["addresses"] = sorted(ready_addrs, key=_address_sort_key)
        if not_ready:
            packed["notReadyAddresses"] = sorted(not_ready, key=_address_sort_key)
        if ports_list:
            packed["ports"] = sorted(ports_list, key=_port_sort_key)
        final.append(packed)
    return sorted(final, key=lambda s: json.dumps(s, sort_keys=True))


def truncate_subsets(subsets: list[Subset]) -> bool:
    """kube's ``truncateEndpoints``: keep at most :data:`MAX_CAPACITY` addresses, not-ready ones dropped
    first, each subset cut in proportion; True when something was cut."""
    total_ready = sum(len(s.get("addresses") or []) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    if total_ready + total_not_ready <= MAX_CAPACITY:
        return False
    truncate_ready = total_ready > MAX_CAPACITY
    limit = MAX_CAPACITY if truncate_ready else MAX_CAPACITY - total_ready
    num_total = total_ready if truncate_ready else total_not_ready
    can_be_added = limit
    for subset in subsets:
        field = "addresses" if truncate_ready else "notReadyAddresses"
        in_subset = len(subset.get(field) or [])
        to_add = min(math.ceil(in_subset / num_total * limit) if num_total else 0, can_be_added)
        subset[field] = (subset.get(field) or [])[:to_add]
        if truncate_ready:
            subset.pop("notReadyAddresses", None)
        can_be_added -= len(subset[field])
        if not subset[field]:
            subset.pop(field)
    return True


def _address_for_service(service: Service, pod: Pod) -> Address | None:
    """kube's ``podToEndpointAddressForService``: the pod's IP of the Service's (first) family."""
    spec = service.spec
    families = (spec.ip_families if spec is not None else None) or []
    if families:
        want_v6 = families[0] == "IPv6"
    elif is_service_ip_set(service):
        want_v6 = is_ipv6(spec.cluster_ip or "") if spec is not None else False
    else:
        ips = pod_ips(pod)
        want_v6 = bool(ips) and is_ipv6(ips[0])
    ip = next((i for i in pod_ips(pod) if is_ipv6(i) == want_v6), None)
    if ip is None:
        return None
    meta = pod.metadata
    addr: Address = {
        "ip": ip,
        "nodeName": (pod.spec.node_name if pod.spec is not None else None) or "",
        "targetRef": {
            "kind": "Pod",
            "namespace": (meta.namespace if meta else None) or "",
            "name": (meta.name if meta else None) or "",
            "uid": (meta.uid if meta else None) or "",
        },
    }
    if not addr["nodeName"]:
        addr.pop("nodeName")
    if should_set_hostname(pod, service):
        addr["hostname"] = pod.spec.hostname if pod.spec is not None else None
    return addr


def _strip_rv(subsets: list[Subset]) -> list[Subset]:
    """Subsets with target references' resourceVersion dropped (for comparison)."""
    out = []
    for s in subsets:
        s2 = dict(s)
        for field in ("addresses", "notReadyAddresses"):
            if field in s2:
                s2[field] = [
                    {
                        **a,
                        "targetRef": {
                            k: v for k, v in (a.get("targetRef") or {}).items() if k != "resourceVersion"
                        },
                    }
                    if a.get("targetRef")
                    else a
                    for a in s2[field]
                ]
        out.append(s2)
    return out


class _StaleEndpoints:
    """Resource versions of Endpoints this controller has replaced (kube's ``staleEndpointsTracker``)."""

    def __init__(self) -> None:
        self._stale: dict[str, str] = {}
        self._lock = threading.Lock()

    def is_stale(self, key: str, resource_version: str | None) -> bool:
        with self._lock:
            return resource_version is not None and self._stale.get(key) == resource_version

    def stale(self, key: str, resource_version: str | None) -> None:
        if resource_version:
            with self._lock:
                self._stale[key] = resource_version

    def delete(self, key: str) -> None:
        with self._lock:
            self._stale.pop(key, None)


class EndpointsController:
    """Keeps every selector Service's Endpoints; see the module docstring."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        factory = ctx.informer_factory
        services = factory.core_v1.services()
        pods = factory.core_v1.pods()
        endpoints = factory.core_v1.endpoints()
        self.service_lister = services.lister
        self.pod_lister = pods.lister
        self.endpoints_lister = endpoints.lister
        self.endpoints_informer = endpoints.informer
        self.trigger_times = TriggerTimeTracker()
        self.stale_tracker = _StaleEndpoints()
        self.recorder = ctx.event_recorder(EVENT_SOURCE) if ctx.manager is not None else None
        self.controller = Controller(
            "endpoint",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=ctx.options.concurrent_endpoint_syncs, clock=ctx.clock
            ),
        )
        self.controller.for_(services.informer)
        pod_handler = PodServicesHandler(
            self.service_lister, batch_period=ctx.options.endpoint_updates_batch_period
        )
        pod_handler.delaying = self.controller.queue
        self.controller.watch(pods.informer, pod_handler)
        # deleted Endpoints are put back (or were the leftovers of a deleted Service); existing ones are
        # checked once at start (kube's checkLeftoverEndpoints)
        self.controller.watches(
            endpoints.informer,
            lambda ep: (
                []
                if ANNOTATION_LEADER_ELECTION in ((ep.metadata.annotations if ep.metadata else None) or {})
                else [Request(namespace_of(ep), name_of(ep))]
            ),
            predicates=[Funcs(update=lambda _o, _n: False)],
        )

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    async def sync(self, request: Request) -> Result:
        """Write the Endpoints of Service ``request`` (module docstring)."""
        ns, name, key = request.namespace, request.name, request.key
        try:
            service: Service = self.service_lister.services(ns).get(name)
        except NotFound:
            try:
                await self.client.core_v1.endpoints(ns).delete(name)
            except Exception as err:
                if not is_not_found(err):
                    raise
            self.trigger_times.delete_service(key)
            self.stale_tracker.delete(key)
            return Result()
        spec = service.spec
        if spec is None or spec.type == "ExternalName" or spec.selector is None:
            return Result()
        pods = self.pod_lister.pods(ns).list(label_selectors.selector_from_set(spec.selector))
        trigger_time = self.trigger_times.compute(key, service, pods)
        publish = bool(spec.publish_not_ready_addresses)
        headless = not is_service_ip_set(service)
        subsets: list[Subset] = []
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, publish):
                continue
            addr = _address_for_service(service, pod)
            if addr is None:
                continue
            field = "addresses" if publish or is_pod_ready(pod) else "notReadyAddresses"
            if not spec.ports:
                if headless:
                    subsets.append({field: [addr]})
                continue
            for sp in spec.ports:
                number = find_port(pod, sp)
                if number is None:
                    continue
                port: dict[str, Any] = {"port": number, "protocol": sp.protocol or "TCP"}
                if sp.name:
                    port["name"] = sp.name
                if sp.app_protocol:
                    port["appProtocol"] = sp.app_protocol
                subsets.append({field: [addr], "ports": [port]})
        subsets = repack_subsets(subsets)

        svc_labels = dict((service.metadata.labels if service.metadata else None) or {})
        try:
            current: Endpoints | None = self.endpoints_lister.endpoints(ns).get(name)
        except NotFound:
            current = None
        cur: dict[str, Any] = (
            current.to_dict() if current is not None else {"metadata": {"name": name, "namespace": ns}}
        )
        cur_meta = cur.setdefault("metadata", {})
        if current is not None and self.stale_tracker.is_stale(key, cur_meta.get("resourceVersion")):
            raise RuntimeError(
                f"endpoints informer cache is out of date, resource version "
                f"{cur_meta.get('resourceVersion')} already processed for endpoints {key}"
            )
        cur_labels = dict(cur_meta.get("labels") or {})
        cur_labels.pop(LABEL_HEADLESS, None)
        cur_annotations = dict(cur_meta.get("annotations") or {})
        cur_subsets = cur.get("subsets") or []
        total = sum(
            len(s.get("addresses") or []) + len(s.get("notReadyAddresses") or []) for s in cur_subsets
        )
        capacity_ok = total <= MAX_CAPACITY and ANNOTATION_OVER_CAPACITY not in cur_annotations
        if (
            current is not None
            and _strip_rv(cur_subsets) == _strip_rv(subsets)
            and cur_labels == svc_labels
            and capacity_ok
        ):
            return Result()

        new = dict(cur)
        new_meta = dict(cur_meta)
        new["metadata"] = new_meta
        new["subsets"] = subsets
        annotations = cur_annotations
        if trigger_time is not None:
            annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = format_rfc3339_nano(trigger_time)
        else:
            annotations.pop(ANNOTATION_LAST_CHANGE_TRIGGER_TIME, None)
        if truncate_subsets(subsets):
            annotations[ANNOTATION_OVER_CAPACITY] = "truncated"
        else:
            annotations.pop(ANNOTATION_OVER_CAPACITY, None)
        new_meta["annotations"] = annotations
        labels = dict(svc_labels)
        if headless:
            labels[LABEL_HEADLESS] = ""
        new_meta["labels"] = labels
        api = self.client.core_v1.endpoints(ns)
        obj = Endpoints.from_dict(new)
        try:
            if current is None:
                await api.create(obj)
            else:
                updated = await api.update(obj)
                rv = updated.metadata.resource_version if updated.metadata else None
                if rv != cur_meta.get("resourceVersion"):
                    self.stale_tracker.stale(key, cur_meta.get("resourceVersion"))
        except Exception as err:
            if current is None and is_forbidden(err) and has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                return Result()
            if self.recorder is not None:
                if current is None:
                    self.recorder.eventf(
                        obj, "Warning", "FailedToCreateEndpoint",
                        "Failed to create endpoint for service %s/%s: %s", ns, name, err,
                    )  # fmt: skip
                else:
                    self.recorder.eventf(
                        obj,
                        "Warning",
                        "FailedToUpdateEndpoint",
                        "Failed to update endpoint %s/%s: %s",
                        ns,
                        name,
                        err,
                    )
            raise
        return Result()


def new_endpoints_controller(ctx: ControllerContext) -> EndpointsController:
    """The registry's init function."""
    return EndpointsController(ctx)
