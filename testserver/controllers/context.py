"""What every controller of the controller-manager is built from: :class:`ControllerContext`.

kube-controller-manager hands each controller's init function a ``ControllerContext``
(``cmd/kube-controller-manager/app/controllermanager.go``): the client builder, the shared typed and
metadata informer factories, a REST mapper over cached discovery and the parsed component config.
This is the same thing on pyclientgo: :class:`ControllerContext` carries the clientset, the typed
:class:`~pyclientgo.informers.SharedInformerFactory` (managedFields trimmed, as kube's informer
transform does), the metadata-only factory the garbage collector, the quota controller and the
namespace controller use, a dynamic client, cached discovery, the controller-manager's flags
(:class:`ControllerManagerOptions`), a clock, event recorders and a logger.

Informers requested from the factories while the controllers are initialised are started together
once every controller is built (kube's ``InformersStarted``); an informer a controller asks for later
(the garbage collector after re-discovery) is started by calling the factory's ``start()`` again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.config import Config
from pyclientgo.discovery import AsyncCachedDiscoveryClient
from pyclientgo.dynamic import AsyncDynamicClient, MetadataSharedInformerFactory
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.record import EventRecorder

if TYPE_CHECKING:
    from pyclientgo.controller import Checker, Manager

__all__ = ["ControllerContext", "ControllerManagerOptions"]


@dataclass(kw_only=True)
class ControllerManagerOptions:
    """kube-controller-manager's own flags (beyond the shared component flags). Durations are float
    seconds; defaults are kube's (``pkg/controller/*/config/v1alpha1/defaults.go``)."""

    controllers: list[str] = field(default_factory=lambda: ["*"])
    """``--controllers``: ``*`` enables every controller not disabled by default, ``foo`` enables foo,
    ``-foo`` disables foo (names or aliases)."""

    # -- concurrency (``--concurrent-*-syncs``) --------------------------------------------------------
    concurrent_deployment_syncs: int = 5
    concurrent_replicaset_syncs: int = 5
    concurrent_rc_syncs: int = 5
    """ReplicationControllers (``--concurrent-rc-syncs``, kube spells it ``concurrent_rc_syncs``)."""
    concurrent_statefulset_syncs: int = 5
    concurrent_daemonset_syncs: int = 2
    concurrent_job_syncs: int = 5
    concurrent_cron_job_syncs: int = 5
    concurrent_ttl_after_finished_syncs: int = 5
    concurrent_endpoint_syncs: int = 5
    concurrent_service_endpoint_syncs: int = 5
    """EndpointSlice controller workers."""
    mirroring_concurrent_service_endpoint_syncs: int = 5
    """EndpointSlice mirroring controller workers."""
    concurrent_gc_syncs: int = 20
    concurrent_namespace_syncs: int = 10
    concurrent_serviceaccount_token_syncs: int = 5
    concurrent_resource_quota_syncs: int = 5
    concurrent_horizontal_pod_autoscaler_syncs: int = 5
    concurrent_ephemeralvolume_syncs: int = 5

    # -- node lifecycle / IPAM ---------------------------------------------------------------------
    node_monitor_period: float = 5.0
    """How often the node lifecycle controller checks node health."""
    node_monitor_grace_period: float = 50.0
    """How long a Ready node may go without a status or Lease update before it is marked Unknown."""
    node_startup_grace_period: float = 60.0
    """The same for a node that has never been Ready."""
    node_eviction_rate: float = 0.1
    """Nodes per second whose pods are evicted (tainted NoExecute) in a healthy zone."""
    secondary_node_eviction_rate: float = 0.01
    """The rate in an unhealthy zone of a large cluster (0 in small clusters)."""
    unhealthy_zone_threshold: float = 0.55
    """Fraction of not-ready nodes (at least 3) from which a zone counts as partially disrupted."""
    large_cluster_size_threshold: int = 50
    """Zones with more nodes than this use the secondary eviction rate when unhealthy."""
    cluster_cidr: str = ""
    """``--cluster-cidr``: the pod network, comma-separated for dual stack."""
    allocate_node_cidrs: bool = False
    """``--allocate-node-cidrs``: the node IPAM controller runs only with it (and ``--cluster-cidr``)."""
    node_cidr_mask_size: int = 0
    """Mask of each node's pod range; 0 means /24 for IPv4 and /64 for IPv6."""
    node_cidr_mask_size_ipv4: int = 0
    node_cidr_mask_size_ipv6: int = 0
    service_cluster_ip_range: str = ""
    """Service range, excluded from node pod ranges when it overlaps ``--cluster-cidr``."""
    cidr_allocator_type: str = "RangeAllocator"

    # -- garbage collection, quota, namespaces, pods ----------------------------------------------
    enable_garbage_collector: bool = True
    terminated_pod_gc_threshold: int = 12500
    """Terminated pods kept before the pod GC deletes the oldest (0 disables that part)."""
    resource_quota_sync_period: float = 300.0
    """Full recalculation of every quota's usage."""
    namespace_sync_period: float = 300.0
    """Resync of namespaces by the namespace controller."""
    min_resync_period: float = 43200.0
    """Reflector resyncs are random between this and twice this."""
    discovery_resync_period: float = 30.0
    """How often the garbage collector and the quota controller re-read discovery for new resources
    (kube hard-codes 30 s; the flag ``--discovery-resync-period`` is this implementation's)."""

    # -- endpoints ---------------------------------------------------------------------------------
    max_endpoints_per_slice: int = 100
    mirroring_max_endpoints_per_subset: int = 1000
    endpoint_updates_batch_period: float = 0.0
    endpointslice_updates_batch_period: float = 0.0
    mirroring_endpointslice_updates_batch_period: float = 0.0

    # -- volumes -----------------------------------------------------------------------------------
    enable_hostpath_provisioner: bool = False
    """``--enable-hostpath-provisioner``: provision hostPath PVs (testing only, as in kube)."""
    enable_dynamic_provisioning: bool = True
    pvclaimbinder_sync_period: float = 15.0

    # -- credentials and certificates ----------------------------------------------------------------
    use_service_account_credentials: bool = False
    """Accepted for compatibility; every controller here uses the controller-manager's credentials."""
    root_ca_file: str | None = None
    """The CA published as ``kube-root-ca.crt``; default: the kubeconfig's certificate authority."""
    service_account_private_key_file: str | None = None
    cluster_signing_cert_file: str | None = None
    cluster_signing_key_file: str | None = None
    cluster_signing_duration: float = 8760 * 3600.0
    cluster_name: str = "kubernetes"

    horizontal_pod_autoscaler_sync_period: float = 15.0


@dataclass(kw_only=True)
class ControllerContext:
    """Everything a controller's init function builds the controller from (module docstring)."""

    clientset: AsyncClientset
    """The typed clientset (the controller-manager's QPS and burst)."""
    informer_factory: SharedInformerFactory
    """The shared typed informers (managedFields dropped from cached objects)."""
    metadata_informer_factory: MetadataSharedInformerFactory
    """Shared PartialObjectMetadata informers by GroupVersionResource (GC, quota, namespaces)."""
    dynamic_client: AsyncDynamicClient
    """Untyped access to any resource, custom ones included."""
    discovery: AsyncCachedDiscoveryClient
    """Cached discovery; ``discovery.delegate`` asks the server every time, ``invalidate()`` drops
    the cache."""
    options: ControllerManagerOptions
    """The controller-manager's flags."""
    config: Config
    """The client configuration (server, credentials, CA)."""
    clock: AsyncClock = field(default_factory=AsyncSystemClock)
    """Monotonic time and sleeps (inject a fake clock in tests)."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("kube-controller-manager"))
    """The controller-manager's logger; controllers log on ``log.getChild(name)``."""
    manager: Manager | None = None
    """The manager the controllers run on (None when a controller is built alone in a test)."""
    recorders: dict[str, EventRecorder] = field(default_factory=dict)
    """Event recorders made so far, by component."""
    healthz_checks: dict[str, Checker] = field(default_factory=dict)
    """Extra ``/healthz/<name>`` checks a controller registered (added to the manager)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Objects controllers share (e.g. the garbage collector's graph, as kube's ``GraphBuilder``)."""

    def event_recorder(self, component: str) -> EventRecorder:
        """An event recorder reporting as ``component`` (e.g. ``deployment-controller``)."""
        recorder = self.recorders.get(component)
        if recorder is None:
            if self.manager is None:
                raise RuntimeError("no manager: event recorders need ControllerContext.manager")
            recorder = self.recorders[component] = self.manager.get_event_recorder(component)
        return recorder

    def logger(self, name: str) -> logging.Logger:
        """The logger of controller ``name``."""
        return self.log.getChild(name)

    def add_healthz_check(self, name: str, check: Checker) -> None:
        """A ``/healthz/<name>`` check for a controller (raises when unhealthy)."""
        self.healthz_checks[name] = check
        if self.manager is not None:
            self.manager.add_healthz_check(name, check)
