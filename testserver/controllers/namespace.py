"""The namespace controller (``pkg/controller/namespace/``): empties and finalises deleted namespaces.

A namespace being deleted (``deletionTimestamp`` set, phase ``Terminating``) is queued 5 s after the
event (kube's ``namespaceDeletionGracePeriod``, so every API server's lifecycle admission has seen the
deletion). ``sync`` then, as ``namespacedResourcesDeleter.Delete``:

1. reads the namespace from the server; not being deleted, or already finalised: nothing to do;
2. sets phase ``Terminating`` if it is not;
3. for every namespaced resource discovery reports (preferred versions, custom resources included)
   that supports ``delete``: ``deletecollection`` with propagation Background, or list + delete each;
   then lists what remains, counting the finalizers of what is left;
4. writes the five deletion conditions (``NamespaceDeletionDiscoveryFailure``,
   ``NamespaceDeletionGroupVersionParsingFailure``, ``NamespaceDeletionContentFailure``,
   ``NamespaceContentRemaining``, ``NamespaceFinalizersRemaining``) with kube's reasons and messages;
5. while content remains, retries after ``estimate/2 + 1`` seconds (the estimate is the longest pod
   grace period still running, or 15 s for content held by finalizers); remaining content with no
   finalizer and no grace is an error (rate-limited retry);
6. once empty, removes the ``kubernetes`` finalizer through ``namespaces/<name>/finalize``; the API
   server then deletes the namespace.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any

from pyclientgo.api.core.v1 import Namespace
from pyclientgo.apimachinery.registry import GroupVersionResource
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.discovery import DiscoveredResource
from pyclientgo.errors import (
    ApiError,
    is_conflict,
    is_method_not_allowed,
    is_not_found,
)
from pyclientgo.workqueue import BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter
from testserver.controllers._util import name_of
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "FINALIZER_KUBERNETES",
    "NAMESPACE_DELETION_GRACE_PERIOD",
    "NamespaceController",
    "ResourcesRemainingError",
    "new_namespace_controller",
]

CONTROLLER_NAME = "namespace-controller"
FINALIZER_KUBERNETES = "kubernetes"
NAMESPACE_DELETION_GRACE_PERIOD = 5.0
"""Seconds between a namespace event and its processing (kube's ``namespaceDeletionGracePeriod``)."""
FINALIZER_ESTIMATE_SECONDS = 15
"""The estimate while content waits on finalizers (kube's ``finalizerEstimateSeconds``)."""

CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
    "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
    "NamespaceDeletionContentFailure": "ContentDeleted",
    "NamespaceContentRemaining": "ContentRemoved",
    "NamespaceFinalizersRemaining": "ContentHasNoFinalizers",
}
OK_MESSAGES = {
    "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
    "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    "NamespaceDeletionContentFailure": "All content successfully deleted, may be waiting on finalization",
    "NamespaceContentRemaining": "All content successfully removed",
    "NamespaceFinalizersRemaining": "All content-preserving finalizers finished",
}


class ResourcesRemainingError(Exception):
    """Content remains; look again in about ``estimate`` seconds."""

    def __init__(self, estimate: int) -> None:
        super().__init__(
            f"some content remains in the namespace, estimate {estimate} seconds before it is removed"
        )
        self.estimate = estimate


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return time.time()


@dataclass
class _Totals:
    """What remains, by resource and by finalizer (kube's ``allGVRDeletionMetadata``)."""

    by_resource: dict[GroupVersionResource, int] = field(default_factory=dict)
    by_finalizer: dict[str, int] = field(default_factory=dict)


@dataclass
class _Conditions:
    """kube's ``namespaceConditionUpdater``."""

    new: dict[str, dict[str, str]] = field(default_factory=dict)
    delete_errors: list[str] = field(default_factory=list)

    def set(self, type_: str, reason: str, message: str) -> None:
        self.new[type_] = {"type": type_, "status": "True", "reason": reason, "message": message}

    def content_totals(self, totals: _Totals) -> None:
        if totals.by_resource:
            parts = sorted(
                f"{gvr.resource}.{gvr.group} has {n} resource instances"
                for gvr, n in totals.by_resource.items()
                if n
            )
            self.set(
                "NamespaceContentRemaining",
                "SomeResourcesRemain",
                "Some resources are remaining: " + ", ".join(parts),
            )
        if totals.by_finalizer:
            parts = sorted(f"{f} in {n} resource instances" for f, n in totals.by_finalizer.items() if n)
            self.set(
                "NamespaceFinalizersRemaining",
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: " + ", ".join(parts),
            )

    def apply(self, status: dict[str, Any]) -> bool:
        """Merge into ``status["conditions"]``; True when something changed."""
        if "NamespaceDeletionContentFailure" not in self.new and self.delete_errors:
            msgs = sorted(self.delete_errors)
            self.set(
                "NamespaceDeletionContentFailure",
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(msgs)} remaining: {', '.join(msgs)}",
            )
        conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
        changed = False
        for type_ in CONDITION_TYPES:
            new = self.new.get(type_) or {
                "type": type_,
                "status": "False",
                "reason": OK_REASONS[type_],
                "message": OK_MESSAGES[type_],
            }
            old = next((c for c in conditions if c.get("type") == type_), None)
            if old is None:
                conditions.append({**new, "lastTransitionTime": _now()})
                changed = True
            elif (old.get("status"), old.get("reason"), old.get("message")) != (
                new["status"],
                new["reason"],
                new["message"],
            ):
                if old.get("status") != new["status"]:
                    old["lastTransitionTime"] = _now()
                old.update(new)
                changed = True
        return changed


class NamespaceController:
    """Deletes the content of terminating namespaces, then finalises them."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.clientset
        self.dynamic = ctx.dynamic_client
        self.log = ctx.logger(CONTROLLER_NAME)
        self.grace = NAMESPACE_DELETION_GRACE_PERIOD
        namespaces = ctx.informer_factory.core_v1.namespaces()
        self.controller = Controller(
            "namespace",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_namespace_syncs),
                # kube's nsControllerRateLimiter: 5 ms .. 60 s per item, 10 qps / 100 burst overall
                rate_limiter=MaxOfRateLimiter(
                    ItemExponentialFailureRateLimiter(0.005, 60.0), BucketRateLimiter(10.0, 100)
                ),
                clock=ctx.clock,
            ),
        )
        self.controller.watch(namespaces.informer, _EnqueueDeleted(self))
        # list/deletecollection unsupported per resource, learnt from discovery (kube's opCache)
        self._unsupported: set[tuple[str, GroupVersionResource]] = set()

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def enqueue(self, obj: Any) -> None:
        namespace = obj.obj if hasattr(obj, "obj") and hasattr(obj, "key") else obj
        if getattr(getattr(namespace, "metadata", None), "deletion_timestamp", None) is None:
            return  # only namespaces being deleted
        self.controller.queue.add_after(Request("", name_of(namespace)), self.grace)

    # -- sync ---------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        started = time.monotonic()
        try:
            await self.delete(request.name)
        except ResourcesRemainingError as err:
            delay = err.estimate / 2 + 1
            self.log.debug("content remaining in namespace %s, waiting %ss", request.name, delay)
            return Result(requeue_after=delay)
        finally:
            self.log.debug("finished syncing namespace %s in %.3fs", request.name, time.monotonic() - started)
        return Result()

    async def delete(self, name: str) -> None:
        nss = self.client.core_v1.namespaces()
        try:
            ns = await nss.get(name)
        except ApiError as err:
            if is_not_found(err):
                return
            raise
        if ns.metadata is None or ns.metadata.deletion_timestamp is None:
            return
        try:
            ns = await self._retry_on_conflict(ns, self._set_terminating)
        except ApiError as err:
            if is_not_found(err):
                return
            raise
        if ns.metadata is None or ns.metadata.deletion_timestamp is None:
            return
        if not (ns.spec and ns.spec.finalizers):
            return  # finalized
        estimate = await self.delete_all_content(ns)
        if estimate > 0:
            raise ResourcesRemainingError(estimate)
        try:
            await self._retry_on_conflict(ns, self._finalize)
        except ApiError as err:
            if not is_not_found(err):
                raise
        self.log.info("namespace %s finalized", name)

    async def _retry_on_conflict(self, ns: Namespace, fn: Any) -> Namespace:
        latest = ns
        while True:
            try:
                result: Namespace = await fn(latest)
                return result
            except ApiError as err:
                if not is_conflict(err):
                    raise
            previous = latest
            latest = await self.client.core_v1.namespaces().get(name_of(latest))
            if (previous.metadata and previous.metadata.uid) != (latest.metadata and latest.metadata.uid):
                raise RuntimeError("namespace uid has changed across retries")

    async def _set_terminating(self, ns: Namespace) -> Namespace:
        if ns.metadata is None or ns.metadata.deletion_timestamp is None:
            return ns
        if ns.status is not None and ns.status.phase == "Terminating":
            return ns
        data = ns.to_dict()
        data.setdefault("status", {})["phase"] = "Terminating"
        return await self.client.core_v1.namespaces().update_status(Namespace.from_dict(data))

    async def _finalize(self, ns: Namespace) -> Namespace:
        data = ns.to_dict()
        spec = data.setdefault("spec", {})
        spec["finalizers"] = sorted({f for f in spec.get("finalizers") or [] if f != FINALIZER_KUBERNETES})
        try:
            return await self.client.core_v1.namespaces().finalize(Namespace.from_dict(data))
        except ApiError as err:
            if is_not_found(err):
                return ns
            raise

    # -- content ------------------------------------------------------------------------------------

    async def _discover(self, conditions: _Conditions) -> list[DiscoveredResource]:
        resources = await self.ctx.discovery.delegate.server_groups_and_resources()
        if resources.failed:
            failing = ", ".join(f"{gv}: {err}" for gv, err in sorted(resources.failed.items()))
            conditions.set(
                "NamespaceDeletionDiscoveryFailure",
                "DiscoveryFailed",
                f"Discovery failed for some groups, {len(resources.failed)} failing: "
                f"unable to retrieve the complete list of server APIs: {failing}",
            )
        found = [r for r in resources.preferred() if r.namespaced and "delete" in r.verbs]
        for r in found:
            for op in ("list", "deletecollection"):
                if op not in r.verbs:
                    self._unsupported.add((op, r.gvr))
        return found

    async def delete_all_content(self, ns: Namespace) -> int:
        """Delete everything in ``ns``; the estimate in seconds until what remains is gone."""
        name = name_of(ns)
        assert ns.metadata is not None
        deleted_at = _parse_time(ns.metadata.deletion_timestamp)
        conditions = _Conditions()
        errors: list[str] = []
        try:
            resources = await self._discover(conditions)
        except ApiError as err:
            conditions.set("NamespaceDeletionDiscoveryFailure", "DiscoveryFailed", str(err))
            errors.append(str(err))
            resources = []
        totals = _Totals()
        estimate = 0
        for resource in resources:
            try:
                gvr_estimate, remaining, finalizers, error = await self._delete_resource(
                    resource, name, deleted_at
                )
            except ApiError as err:
                gvr_estimate, remaining, finalizers, error = 0, 0, {}, str(err)
            if error:
                conditions.delete_errors.append(error)
                errors.append(error)
            estimate = max(estimate, gvr_estimate)
            if remaining:
                totals.by_resource[resource.gvr] = remaining
                for f, n in finalizers.items():
                    totals.by_finalizer[f] = totals.by_finalizer.get(f, 0) + n
        conditions.content_totals(totals)
        data = ns.to_dict()
        if conditions.apply(data.setdefault("status", {})):
            try:
                await self.client.core_v1.namespaces().update_status(Namespace.from_dict(data))
            except ApiError as err:
                self.log.warning("couldn't update status condition for namespace %q: %s", name, err)
        if errors:
            raise RuntimeError("; ".join(errors))
        return estimate

    async def _delete_resource(
        self, resource: DiscoveredResource, namespace: str, deleted_at: float
    ) -> tuple[int, int, dict[str, int], str]:
        """(estimate, remaining, finalizers of what remains, error) for one resource."""
        gvr = resource.gvr
        client = self.dynamic.resource(gvr, namespace, namespaced=True)
        estimate = await self._estimate_graceful_termination(gvr, namespace, deleted_at)
        collection_done = False
        if ("deletecollection", gvr) not in self._unsupported:
            try:
                await client.delete_collection(propagation_policy="Background")
                collection_done = True
            except ApiError as err:
                if not (is_method_not_allowed(err) or is_not_found(err)):
                    raise
        items = await self._list(client, gvr)
        if items is None:
            return estimate, 0, {}, ""
        if not collection_done:
            for item in items:
                try:
                    await client.delete(item["metadata"]["name"], propagation_policy="Background")
                except ApiError as err:
                    if not (is_not_found(err) or is_method_not_allowed(err)):
                        raise
            items = await self._list(client, gvr) or []
        if not items:
            return 0, 0, {}, ""
        finalizers: dict[str, int] = {}
        for item in items:
            for f in (item.get("metadata") or {}).get("finalizers") or []:
                finalizers[f] = finalizers.get(f, 0) + 1
        if estimate:
            return estimate, len(items), finalizers, ""
        if finalizers:
            return FINALIZER_ESTIMATE_SECONDS, len(items), finalizers, ""
        return (
            0,
            len(items),
            {},
            f"unexpected items still remain in namespace: {namespace} for gvr: {_gvr_text(gvr)}",
        )

    async def _list(self, client: Any, gvr: GroupVersionResource) -> list[dict[str, Any]] | None:
        if ("list", gvr) in self._unsupported:
            return None
        try:
            result = await client.list()
        except ApiError as err:
            if is_method_not_allowed(err) or is_not_found(err):
                return None
            raise
        items: list[dict[str, Any]] = list(result.get("items") or [])
        return items

    async def _estimate_graceful_termination(
        self, gvr: GroupVersionResource, namespace: str, deleted_at: float
    ) -> int:
        if gvr.group != "" or gvr.resource != "pods":
            return 0
        estimate = 0
        pods = await self.client.core_v1.pods(namespace).list()
        for pod in pods.items or []:
            phase = pod.status.phase if pod.status else None
            if phase in ("Succeeded", "Failed"):
                continue
            grace = pod.spec.termination_grace_period_seconds if pod.spec else None
            if grace is not None and grace > estimate:
                estimate = int(grace)
        if time.time() - deleted_at >= estimate:
            return 0
        return estimate


def _gvr_text(gvr: GroupVersionResource) -> str:
    # Go's %v of a GroupVersionResource struct
    return f"{{{gvr.group} {gvr.version} {gvr.resource}}}"


class _EnqueueDeleted:
    """Namespace add/update events → the namespace queued after the deletion grace period."""

    def __init__(self, controller: NamespaceController) -> None:
        self.controller = controller

    def create(self, obj: Any, queue: Any) -> None:
        self.controller.enqueue(obj)

    def update(self, old: Any, new: Any, queue: Any) -> None:
        self.controller.enqueue(new)

    def delete(self, obj: Any, queue: Any) -> None:
        return None


def new_namespace_controller(ctx: ControllerContext) -> NamespaceController:
    """The registry's init function."""
    return NamespaceController(ctx)
