"""Admission control of the API server: the plugin chain and what the REST layer calls on every
write.

Write path (kube-apiserver's order): decode → **defaults** → **mutating admission** →
strategy (prepare, **validation**) → **validating admission** → Service IP/port allocation →
storage. Plugins, in order: NamespaceLifecycle, LimitRanger, ServiceAccount, Priority,
DefaultTolerationSeconds, RuntimeClass, ResourceQuota (:mod:`.chain` has the interface, one module per plugin).
dryRun=All runs everything but reserves nothing and creates no side objects.

At start (:meth:`Admission.start`) the server makes what kube-apiserver's bootstrap makes: the
``kubernetes`` Service in ``default`` (first IP of the service range) and the
``system-node-critical``/``system-cluster-critical`` PriorityClasses. With
``standin_controllers`` (``--standin-controllers``, off by default: kube-apiserver alone does none
of it) the server also plays controller-manager parts: a ``default`` ServiceAccount in every
namespace, ResourceQuota status kept current (see :mod:`.loops`) and PodDisruptionBudget
allowance computed at eviction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from testserver.apiserver import objects as ob
from testserver.apiserver import registry
from testserver.apiserver.admission.allocators import IPRange, PortRange, ServiceAllocations
from testserver.apiserver.admission.chain import CREATE, DELETE, UPDATE, AdmissionChain, Attributes
from testserver.apiserver.admission.eviction import check_eviction
from testserver.apiserver.admission.limit_ranger import LimitRanger
from testserver.apiserver.admission.loops import BackgroundLoops
from testserver.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.apiserver.admission.priority import SYSTEM_PRIORITY_CLASSES, Priority
from testserver.apiserver.admission.resource_quota import QuotaStatusUpdater, ResourceQuota
from testserver.apiserver.admission.runtime_class import RuntimeClass
from testserver.apiserver.admission.service_account import ServiceAccount
from testserver.apiserver.admission.tolerations import DefaultTolerationSeconds
from testserver.apiserver.request import Request
from testserver.apiserver.resources import ResourceRoute, Routes
from testserver.storage.interface import Storage

__all__ = ["Admission", "AdmissionOptions", "Attributes"]

DEFAULT_SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/12"
DEFAULT_SERVICE_NODE_PORT_RANGE = "30000-32767"


@dataclass(kw_only=True)
class AdmissionOptions:
    """Admission settings (``testserver apiserver`` flags)."""

    service_cluster_ip_range: str = DEFAULT_SERVICE_CLUSTER_IP_RANGE
    """CIDR that Service cluster IPs come from (``--service-cluster-ip-range``)."""
    service_node_port_range: str = DEFAULT_SERVICE_NODE_PORT_RANGE
    """Inclusive port range for NodePorts (``--service-node-port-range``)."""
    standin_controllers: bool = False
    """Play the controllers' parts the server would otherwise wait for (``--standin-controllers``):
    default ServiceAccounts, ResourceQuota status, namespace content deletion and finalization,
    PodDisruptionBudget allowance at eviction. Off: kube-apiserver alone."""


def _dry_run(req: Request | None) -> bool:
    return bool(req is not None and req.query_multi.get("dryRun"))


class Admission:
    """Defaults, validation and the admission chain, bound to one storage and route table."""

    def __init__(self, storage: Storage, routes: Routes, options: AdmissionOptions | None = None) -> None:
        self.options = options or AdmissionOptions()
        self.objects = ObjectAccess(storage, routes)
        self.allocations = ServiceAllocations(
            IPRange(self.options.service_cluster_ip_range), PortRange(self.options.service_node_port_range)
        )
        standin = self.options.standin_controllers
        self.quota = QuotaStatusUpdater(self.objects)
        self.chain = AdmissionChain(
            [
                NamespaceLifecycle(self.objects),
                LimitRanger(self.objects),
                ServiceAccount(self.objects, create_default=standin),
                Priority(self.objects),
                DefaultTolerationSeconds(),
                RuntimeClass(self.objects),
                ResourceQuota(self.objects, self.quota if standin else None),
            ]
        )
        self.loops = BackgroundLoops(
            self.objects, self.allocations, self.quota if standin else None, service_accounts=standin
        )
        self.started = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the bootstrap objects and start the background loops."""
        for pc in SYSTEM_PRIORITY_CLASSES:
            if (
                await self.objects.get("scheduling.k8s.io", "priorityclasses", None, pc["metadata"]["name"])
                is None
            ):
                obj = {k: (dict(v) if isinstance(v, dict) else v) for k, v in pc.items()}
                await self.objects.create_system("scheduling.k8s.io", "priorityclasses", obj)
        await self._kubernetes_service()
        if self.options.standin_controllers:
            self.quota.start()
        await self.loops.start()
        self.started = True

    async def stop(self) -> None:
        await self.loops.stop()
        await self.quota.stop()

    async def _kubernetes_service(self) -> None:
        if await self.objects.get("", "namespaces", None, "default") is None:
            return
        if await self.objects.get("", "services", "default", "kubernetes") is not None:
            return
        ip = self.allocations.ip_range.first_ip()
        for svc in await self.objects.list("", "services", None):
            if ip in (svc.get("spec") or {}).get("clusterIPs", []):
                return
        await self.objects.create_system(
            "",
            "services",
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                    "clusterIP": ip,
                    "clusterIPs": [ip],
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                    "ipFamilies": [self.allocations.ip_range.family],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                },
                "status": {"loadBalancer": {}},
            },
        )

    # -- writes ----------------------------------------------------------------------------

    async def create(
        self, req: Request | None, route: ResourceRoute, namespace: str, obj: dict[str, Any]
    ) -> None:
        """Everything between decoding and storing a new object; raises the Status to send."""
        dry_run = _dry_run(req)
        meta = obj["metadata"]
        registry.apply_defaults(route.kind, route.group, obj)
        a = Attributes(
            operation=CREATE,
            route=route,
            namespace=namespace if route.namespaced else "",
            name=meta.get("name") or "",
            obj=obj,
            dry_run=dry_run,
            user=req.user if req is not None else None,
        )
        await self.chain.admit(a)
        meta.setdefault("uid", ob.new_uid())
        registry.prepare_create(route.kind, route.group, obj)
        status = registry.initial_status(route.kind, route.group, obj)
        if registry.keeps_status_on_create(route.kind, route.group):
            pass  # the Node strategy keeps the status sent (the kubelet registers that way)
        elif "status" in route.subresources or status is not None:
            if status is None:
                obj.pop("status", None)
            else:
                obj["status"] = status
        registry.validate_create(route.kind, route.group, obj, namespaced=route.namespaced)
        await self.chain.validate(a)
        if route.kind == "Service" and route.group == "":
            await self.loops.caught_up()
            key = route.key(namespace, meta.get("name") or meta.get("generateName") or "")
            self.allocations.allocate(key, obj, None, dry_run=dry_run)

    def prepare_update(
        self, req: Request | None, route: ResourceRoute, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        """Defaults and strategy preparation of an update (main resource only)."""
        registry.apply_defaults(route.kind, route.group, new)
        registry.prepare_update(route.kind, route.group, new, old)

    def validate_update(
        self, req: Request | None, route: ResourceRoute, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        """Validation of an update (immutable fields included), then Service allocation."""
        registry.validate_update(route.kind, route.group, new, old, namespaced=route.namespaced)
        if route.kind == "Service" and route.group == "":
            meta = old["metadata"]
            key = route.key(meta.get("namespace"), meta["name"])
            self.allocations.allocate(key, new, old, dry_run=_dry_run(req))

    async def admit_delete(
        self, req: Request | None, route: ResourceRoute, namespace: str, name: str
    ) -> None:
        a = Attributes(
            operation=DELETE,
            route=route,
            namespace=namespace,
            name=name,
            dry_run=_dry_run(req),
            user=req.user if req is not None else None,
        )
        await self.chain.admit(a)
        await self.chain.validate(a)

    async def admit_eviction(
        self, req: Request | None, route: ResourceRoute, namespace: str, name: str
    ) -> None:
        """pods/eviction: PodDisruptionBudgets (429 when the budget is spent). The allowance is the
        disruption controller's ``status.disruptionsAllowed`` (decremented here, as kube's eviction
        REST does), or with the stand-ins computed from the matching pods."""
        await check_eviction(
            self.objects,
            namespace,
            name,
            compute=self.options.standin_controllers,
            dry_run=_dry_run(req),
        )


_ = UPDATE
