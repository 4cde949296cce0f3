"""The EndpointSlice controller (``pkg/controller/endpointslice/endpointslice_controller.go``).

Keeps the EndpointSlices of every Service with a selector: a Service event, a pod event that changes
its endpoints (readiness, IPs, deletion, labels; :func:`services_to_update_on_pod_change`) or an event
of one of its slices that this controller did not cause queues the Service; ``sync`` lists the
selected pods and the slices labelled ``kubernetes.io/service-name=<svc>`` and
``endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`` from the informers and hands
them to the :class:`~testserver.controllers.endpointslice_reconciler.Reconciler`.

Pod events are queued ``--endpointslice-updates-batch-period`` later (0: at once), changes of a slice
by someone else after at least 1 s (kube's ``endpointSliceChangeMinSyncDelay``), so bursts make one sync.
A sync is refused (and retried with back-off) while the slice informer has not caught up with this
controller's own writes (:class:`EndpointSliceTracker`), so it never creates a slice twice. Services
of type ExternalName and Services without a selector are left alone (the mirroring controller handles
the latter). Failures are recorded as kube's Warning events on the Service (``FailedToUpdateEndpointSlices``).
"""

from __future__ import annotations

from typing import Any

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound
from pyclientgo.tools.cache import wait_for_cache_sync
from testserver.controllers._util import unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.endpointslice_reconciler import ReconcileError, Reconciler
from testserver.controllers.endpointslice_util import (
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    EndpointSliceTracker,
    PodServicesHandler,
    TriggerTimeTracker,
    service_key_of_slice,
)

__all__ = [
    "CONTROLLER_NAME",
    "ENDPOINT_SLICE_CHANGE_MIN_SYNC_DELAY",
    "EVENT_SOURCE",
    "MANAGED_BY",
    "EndpointSliceController",
    "StaleInformerCache",
    "new_endpointslice_controller",
]

CONTROLLER_NAME = "endpointslice-controller"
MANAGED_BY = "endpointslice-controller.k8s.io"
"""The ``endpointslice.kubernetes.io/managed-by`` value of the slices this controller owns."""
EVENT_SOURCE = "endpoint-slice-controller"
ENDPOINT_SLICE_CHANGE_MIN_SYNC_DELAY = 1.0
"""Seconds a change of a slice by someone else waits before its Service is synced (kube's
``endpointSliceChangeMinSyncDelay``)."""
"""The component of this controller's events (kube's event source)."""


class StaleInformerCache(Exception):
    """The EndpointSlice informer has not seen this controller's last write yet (retried)."""


class _SliceHandler:
    """Slice events this controller did not cause → their Service (kube's onEndpointSlice*)."""

    def __init__(self, tracker: EndpointSliceTracker, managed_by: str, *, delay: float) -> None:
        self.tracker = tracker
        self.managed_by = managed_by
        self.delay = delay
        """kube's ``max(endpointSliceChangeMinSyncDelay, batch period)``: slice changes are batched."""
        self.delaying: Any = None
        """The controller's work queue (``add_after``)."""

    def _managed(self, s: EndpointSlice) -> bool:
        labels = (s.metadata.labels if s.metadata is not None else None) or {}
        return labels.get(LABEL_MANAGED_BY) == self.managed_by

    def _queue(self, s: EndpointSlice, queue: RequestQueue) -> None:
        key = service_key_of_slice(s)
        if key is None:
            return
        if self.delaying is not None:
            self.delaying.add_after(Request.from_key(key), self.delay)
        else:
            queue.add(Request.from_key(key))

    def create(self, obj: Any, queue: RequestQueue) -> None:
        if isinstance(obj, EndpointSlice) and self._managed(obj) and self.tracker.should_sync(obj):
            self._queue(obj, queue)

    def update(self, old: Any, new: Any, queue: RequestQueue) -> None:
        if not isinstance(new, EndpointSlice) or not isinstance(old, EndpointSlice):
            return
        # a slice whose managed-by label or service-name label changed concerns the old Service too
        old_labels = (old.metadata.labels if old.metadata else None) or {}
        new_labels = (new.metadata.labels if new.metadata else None) or {}
        if old_labels.get(LABEL_MANAGED_BY) != new_labels.get(LABEL_MANAGED_BY) or old_labels.get(
            LABEL_SERVICE_NAME
        ) != new_labels.get(LABEL_SERVICE_NAME):
            if self._managed(old):
                self._queue(old, queue)
            if self._managed(new):
                self._queue(new, queue)
            return
        if self._managed(new) and self.tracker.should_sync(new):
            self._queue(new, queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        s = unwrap(obj)
        if isinstance(s, EndpointSlice) and self._managed(s) and self.tracker.handle_deletion(s):
            self._queue(s, queue)


class EndpointSliceController:
    """Keeps every selector Service's EndpointSlices; see the module docstring."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.log = ctx.logger(CONTROLLER_NAME)
        factory = ctx.informer_factory
        services = factory.core_v1.services()
        pods = factory.core_v1.pods()
        slices = factory.discovery_v1.endpoint_slices()
        nodes = factory.core_v1.nodes()
        self.service_lister = services.lister
        self.pod_lister = pods.lister
        self.slice_lister = slices.lister
        self.tracker = EndpointSliceTracker()
        self.trigger_times = TriggerTimeTracker()
        self.recorder = ctx.event_recorder(EVENT_SOURCE) if ctx.manager is not None else None
        self.reconciler = Reconciler(
            ctx.clientset,
            nodes.lister,
            max_endpoints_per_slice=ctx.options.max_endpoints_per_slice,
            tracker=self.tracker,
            recorder=self.recorder,
            controller_name=MANAGED_BY,
            log=self.log,
        )
        self.controller = Controller(
            "endpoint_slice",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=ctx.options.concurrent_service_endpoint_syncs, clock=ctx.clock
            ),
        )
        self.controller.for_(services.informer)
        pod_handler = PodServicesHandler(
            self.service_lister, batch_period=ctx.options.endpointslice_updates_batch_period
        )
        pod_handler.delaying = self.controller.queue
        self.controller.watch(pods.informer, pod_handler)
        slice_handler = _SliceHandler(
            self.tracker,
            MANAGED_BY,
            delay=max(ENDPOINT_SLICE_CHANGE_MIN_SYNC_DELAY, ctx.options.endpointslice_updates_batch_period),
        )
        slice_handler.delaying = self.controller.queue
        self.controller.watch(slices.informer, slice_handler)
        self.node_informer = nodes.informer
        """Nodes are read at sync time (zones): their cache must be synced before the first sync."""

    async def run(self) -> None:
        await wait_for_cache_sync(self.node_informer.has_synced)
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    async def sync(self, request: Request) -> Result:
        """Reconcile the slices of Service ``request``."""
        key = request.key
        try:
            service: Service = self.service_lister.services(request.namespace).get(request.name)
        except NotFound:
            self.trigger_times.delete_service(key)
            self.tracker.delete_service(key)
            return Result()  # the garbage collector deletes the slices it owned
        spec = service.spec
        if spec is None or spec.type == "ExternalName" or spec.selector is None:
            return Result()
        pods = self.pod_lister.pods(request.namespace).list(label_selectors.selector_from_set(spec.selector))
        slice_selector = label_selectors.selector_from_set(
            {LABEL_SERVICE_NAME: request.name, LABEL_MANAGED_BY: MANAGED_BY}
        )
        slices = [
            s
            for s in self.slice_lister.endpoint_slices(request.namespace).list(slice_selector)
            if s.metadata is None or s.metadata.deletion_timestamp is None
        ]
        if self.tracker.stale_slices(key, slices):
            raise StaleInformerCache("EndpointSlice informer cache is out of date")
        trigger_time = self.trigger_times.compute(key, service, pods)
        try:
            await self.reconciler.reconcile(service, pods, slices, trigger_time)
        except ReconcileError as err:
            if self.recorder is not None:
                self.recorder.eventf(
                    service,
                    "Warning",
                    "FailedToUpdateEndpointSlices",
                    "Error updating Endpoint Slices for Service %s/%s: %s",
                    request.namespace,
                    request.name,
                    err,
                )
            raise
        return Result()


def new_endpointslice_controller(ctx: ControllerContext) -> EndpointSliceController:
    """The registry's init function."""
    return EndpointSliceController(ctx)
