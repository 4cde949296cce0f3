"""The disruption controller (``pkg/controller/disruption/disruption.go``): PodDisruptionBudget status.

A PDB event, or an event of a pod its selector matches, queues the PDB; ``sync`` (kube's ``trySync``):

1. the pods the selector matches (a missing selector matches none, an empty one all);
2. ``expectedPods`` and ``desiredHealthy`` (kube's ``getExpectedPodCount``): with ``maxUnavailable``,
   or a percentage ``minAvailable``, the expected count is the sum of the scale of the pods'
   controllers — ReplicationController, ReplicaSet (the Deployment's when a Deployment controls it),
   Deployment, StatefulSet, read from their listers; any other kind through its ``scale``
   subresource (custom resources included, found by discovery) — and the value is scaled on it, rounding up;
   an integer ``minAvailable`` is the desired count itself with the pods' number as expected;
3. ``disruptedPods``: pods an eviction recorded that are not yet deleted stay there for
   :data:`DELETION_TIMEOUT` (the PDB is looked at again when the first one expires); one that outlived
   it is dropped with a Warning ``NotDeleted`` event on the pod;
4. ``currentHealthy``: Ready pods, neither being deleted nor in ``disruptedPods``;
5. ``disruptionsAllowed = max(0, currentHealthy - desiredHealthy)`` (0 when nothing is expected),
   ``observedGeneration``, and condition ``DisruptionAllowed``: True ``SufficientPods`` or False
   ``InsufficientPods``; written only when something changed.

A sync that fails (e.g. a pod whose controller cannot be found) is recorded as an event and the status
is set fail-safe: ``disruptionsAllowed`` 0 and ``DisruptionAllowed`` False ``SyncFailed`` with the
error as message (kube's ``failSafe``). The eviction subresource of the API server reads and spends
this status (``unhealthyPodEvictionPolicy`` is applied there).

A second loop resets a pod's stale ``DisruptionTarget=True`` condition (set by an eviction or a
preemption that did not delete the pod) to False after :data:`STALE_POD_DISRUPTION_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
from typing import Any

from pyclientgo.api.core.v1 import Pod
from pyclientgo.api.policy.v1 import PodDisruptionBudget
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.apimachinery.meta import get_controller_of_no_copy
from pyclientgo.apimachinery.model import format_time
from pyclientgo.apimachinery.registry import GroupVersionKind
from pyclientgo.component_helpers.pod import get_pod_condition, is_pod_ready, is_pod_terminal
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.discovery import AsyncRESTMapper, NoMatchError
from pyclientgo.errors import NotFound, is_conflict, is_not_found
from testserver.controllers._util import namespace_of, unwrap
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "DELETION_TIMEOUT",
    "EVENT_SOURCE",
    "STALE_POD_DISRUPTION_TIMEOUT",
    "DisruptionController",
    "build_disrupted_pod_map",
    "count_healthy_pods",
    "new_disruption_controller",
    "scaled_value",
]

CONTROLLER_NAME = "disruption-controller"
EVENT_SOURCE = "controllermanager"
"""kube's disruption controller records events as ``controllermanager``."""
DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod may take to be deleted before the PDB stops counting it as disrupted."""
STALE_POD_DISRUPTION_TIMEOUT = 120.0
"""Seconds after which a non-terminating pod's DisruptionTarget condition is reset."""
CONDITION_TYPE = "DisruptionAllowed"


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int, or ``"N%"`` of ``total``."""
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    try:
        pct = int(value[:-1])
    except ValueError:
        raise ValueError(f"invalid value {value!r}: it is not a percentage") from None
    exact = pct * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _parse_time(value: Any) -> _dt.datetime | None:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _set_condition(conditions: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    """``meta.SetStatusCondition``: replace the condition of that type, keeping its transition time
    when the status did not change."""
    out = []
    found = False
    for c in conditions:
        if c.get("type") == new["type"]:
            found = True
            merged = {**c, **new}
            if c.get("status") == new["status"] and c.get("lastTransitionTime"):
                merged["lastTransitionTime"] = c["lastTransitionTime"]
            else:
                merged["lastTransitionTime"] = format_time(_now().replace(microsecond=0))
            out.append(merged)
        else:
            out.append(c)
    if not found:
        out.append({**new, "lastTransitionTime": format_time(_now().replace(microsecond=0))})
    return out


def build_disrupted_pod_map(
    pdb: PodDisruptionBudget, pods: list[Pod], now: _dt.datetime
) -> tuple[dict[str, str], _dt.datetime | None, list[Pod]]:
    """kube's ``buildDisruptedPodMap``: the ``disruptedPods`` entries to keep (pods not yet being deleted
    whose eviction is younger than :data:`DELETION_TIMEOUT`), when the first of them expires, and the
    pods whose entry expired without the pod being deleted."""
    recorded = (pdb.status.disrupted_pods if pdb.status is not None else None) or {}
    result: dict[str, str] = {}
    recheck: _dt.datetime | None = None
    expired: list[Pod] = []
    if not recorded:
        return result, recheck, expired
    for pod in pods:
        meta = pod.metadata
        if meta is None or meta.deletion_timestamp is not None:
            continue
        raw = recorded.get(meta.name or "")
        when = _parse_time(raw)
        if when is None:
            continue
        expected_deletion = when + _dt.timedelta(seconds=DELETION_TIMEOUT)
        if expected_deletion < now:
            expired.append(pod)
            continue
        if recheck is None or expected_deletion < recheck:
            recheck = expected_deletion
        result[meta.name or ""] = raw if isinstance(raw, str) else format_time(when)
    return result, recheck, expired


def count_healthy_pods(pods: list[Pod], disrupted: dict[str, str], now: _dt.datetime) -> int:
    """kube's ``countHealthyPods``: Ready pods, neither being deleted nor recently disrupted."""
    healthy = 0
    for pod in pods:
        meta = pod.metadata
        if meta is None or meta.deletion_timestamp is not None:
            continue
        when = _parse_time(disrupted.get(meta.name or ""))
        if when is not None and when + _dt.timedelta(seconds=DELETION_TIMEOUT) > now:
            continue
        if is_pod_ready(pod):
            healthy += 1
    return healthy


class SyncError(Exception):
    """The PDB's status cannot be computed (the message goes into the SyncFailed condition)."""


class DisruptionController:
    """Keeps every PodDisruptionBudget's status; see the module docstring."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        factory = ctx.informer_factory
        pods = factory.core_v1.pods()
        pdbs = factory.policy_v1.pod_disruption_budgets()
        self.pod_lister = pods.lister
        self.pdb_lister = pdbs.lister
        rcs = factory.core_v1.replication_controllers()
        rss = factory.apps_v1.replica_sets()
        deployments = factory.apps_v1.deployments()
        statefulsets = factory.apps_v1.stateful_sets()
        self.rc_lister = rcs.lister
        self.rs_lister = rss.lister
        self.deployment_lister = deployments.lister
        self.statefulset_lister = statefulsets.lister
        self._scale_informers = [rcs.informer, rss.informer, deployments.informer, statefulsets.informer]
        self.dynamic = ctx.dynamic_client
        self.rest_mapper = AsyncRESTMapper(ctx.discovery)
        self.recorder = ctx.event_recorder(EVENT_SOURCE) if ctx.manager is not None else None
        self.controller = Controller(
            "disruption", self.sync, ControllerOptions(max_concurrent_reconciles=1, clock=ctx.clock)
        )
        self.controller.for_(pdbs.informer)
        self.controller.watches(pods.informer, self._pdbs_for_pod)
        self.stale_controller = Controller(
            "stale_pod_disruption",
            self.sync_stale_pod_disruption,
            ControllerOptions(max_concurrent_reconciles=1, clock=ctx.clock),
        )
        self.stale_controller.watches(pods.informer, self._stale_disruption_request)

    async def run(self) -> None:
        from pyclientgo.tools.cache import wait_for_cache_sync

        await wait_for_cache_sync(*(i.has_synced for i in self._scale_informers))
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.controller.run())
            tg.create_task(self.stale_controller.run())

    def need_leader_election(self) -> bool:
        return True

    # -- event mapping ---------------------------------------------------------------------------------

    def _pdbs_for_pod(self, obj: Any) -> list[Request]:
        """The PDBs whose selector matches the pod (kube's ``getPdbForPod``)."""
        pod = unwrap(obj)
        if not isinstance(pod, Pod):
            return []
        ns = namespace_of(pod)
        pod_labels = (pod.metadata.labels if pod.metadata else None) or {}
        if not pod_labels:
            return []
        out = []
        for pdb in self.pdb_lister.pod_disruption_budgets(ns).list():
            try:
                sel = self._selector(pdb)
            except ValueError:
                continue
            if not sel.empty() and sel.matches(pod_labels):
                out.append(Request(ns, (pdb.metadata.name if pdb.metadata else None) or ""))
        return out

    @staticmethod
    def _selector(pdb: PodDisruptionBudget) -> label_selectors.Selector:
        spec = pdb.spec
        raw = spec.selector if spec is not None else None
        return label_selectors.selector_from_label_selector(raw.to_dict() if raw is not None else None)

    # -- PDB status --------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """Recompute the status of PDB ``request`` (module docstring)."""
        try:
            pdb = self.pdb_lister.pod_disruption_budgets(request.namespace).get(request.name)
        except NotFound:
            return Result()
        try:
            recheck = await self._try_sync(pdb)
        except Exception as err:
            if is_conflict(err):
                raise
            self.log.error("failed to sync PDB %s: %s", request.key, err)
            await self._fail_safe(pdb, str(err))
            return Result()
        return Result(requeue_after=recheck) if recheck else Result()

    def _event(self, obj: Any, type_: str, reason: str, fmt: str, *args: object) -> None:
        if self.recorder is not None:
            self.recorder.eventf(obj, type_, reason, fmt, *args)

    async def _try_sync(self, pdb: PodDisruptionBudget) -> float | None:
        ns = namespace_of(pdb)
        try:
            selector = self._selector(pdb)
        except ValueError as err:
            self._event(pdb, "Warning", "NoPods", "Failed to get pods: %s", err)
            raise
        pods = self.pod_lister.pods(ns).list(selector)
        if not pods:
            self._event(pdb, "Normal", "NoPods", "No matching pods found")
        try:
            expected, desired, unmanaged = await self._expected_pod_count(pdb, pods)
        except Exception as err:
            self._event(
                pdb, "Warning", "CalculateExpectedPodCountFailed",
                "Failed to calculate the number of expected pods: %s", err,
            )  # fmt: skip
            raise
        if unmanaged:
            self._event(
                pdb, "Warning", "UnmanagedPods",
                "Pods selected by this PodDisruptionBudget (selector: %s) were found to be unmanaged. As a result, "
                "the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "
                'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
                selector,
            )  # fmt: skip
        now = _now()
        disrupted, recheck, expired = build_disrupted_pod_map(pdb, pods, now)
        for pod in expired:
            self._event(
                pod,
                "Warning",
                "NotDeleted",
                "Pod was expected by PDB %s/%s to be deleted but it wasn't",
                namespace_of(pdb),
                namespace_of(pdb),
            )  # fmt: skip  (kube prints the namespace twice)
        healthy = count_healthy_pods(pods, disrupted, now)
        await self._update_status(pdb, healthy, desired, expected, disrupted)
        return (recheck - now).total_seconds() if recheck is not None else None

    async def _expected_pod_count(
        self, pdb: PodDisruptionBudget, pods: list[Pod]
    ) -> tuple[int, int, list[str]]:
        spec = pdb.spec
        max_unavailable = spec.max_unavailable if spec is not None else None
        min_available = spec.min_available if spec is not None else None
        expected = desired = 0
        unmanaged: list[str] = []
        if max_unavailable is not None:
            expected, unmanaged = await self._expected_scale(pods)
            desired = max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
        elif min_available is not None:
            if isinstance(min_available, int):
                desired = min_available
                expected = len(pods)
            else:
                expected, unmanaged = await self._expected_scale(pods)
                desired = scaled_value(min_available, expected, round_up=True)
        return expected, desired, unmanaged

    async def _expected_scale(self, pods: list[Pod]) -> tuple[int, list[str]]:
        """The sum of the scales of the pods' controllers (kube's ``getExpectedScale``)."""
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            ref = get_controller_of_no_copy(pod)
            name = pod.metadata.name if pod.metadata else ""
            if ref is None:
                unmanaged.append(name or "")
                continue
            if ref.uid in scales:
                continue
            found = self._find_scale(ref, namespace_of(pod)) or await self._find_scale_subresource(
                ref, namespace_of(pod)
            )
            if found is None:
                raise SyncError(f'found no controllers for pod "{name}"')
            uid, scale = found
            scales[uid] = scale
        return sum(scales.values()), unmanaged

    def _find_scale(self, ref: Any, ns: str) -> tuple[str, int] | None:
        """(uid, replicas) of the controller ``ref`` names, by kube's finders (RC, RS, Deployment via
        its RS, StatefulSet); None when none matches."""
        group = (ref.api_version or "").rpartition("/")[0]

        def get(lister: Any) -> Any:
            try:
                obj = lister.get(ref.name)
            except NotFound:
                return None
            return obj if obj.metadata is not None and obj.metadata.uid == ref.uid else None

        def replicas(obj: Any) -> int:
            value = obj.spec.replicas if obj.spec is not None else None
            return 1 if value is None else int(value)

        if ref.kind == "ReplicationController" and group == "":
            rc = get(self.rc_lister.replication_controllers(ns))
            return (str(rc.metadata.uid), replicas(rc)) if rc is not None else None
        if ref.kind == "ReplicaSet" and group == "apps":
            rs = get(self.rs_lister.replica_sets(ns))
            if rs is None:
                return None
            owner = get_controller_of_no_copy(rs)
            if (
                owner is not None
                and owner.kind == "Deployment"
                and (owner.api_version or "").startswith("apps/")
            ):
                try:
                    deployment = self.deployment_lister.deployments(ns).get(owner.name or "")
                except NotFound:
                    return None
                if deployment.metadata is None or deployment.metadata.uid != owner.uid:
                    return None
                return str(deployment.metadata.uid), replicas(deployment)
            return str(rs.metadata.uid), replicas(rs)
        if ref.kind == "StatefulSet" and group == "apps":
            ss = get(self.statefulset_lister.stateful_sets(ns))
            return (str(ss.metadata.uid), replicas(ss)) if ss is not None else None
        return None

    async def _find_scale_subresource(self, ref: Any, ns: str) -> tuple[str, int] | None:
        """Any other controller: its ``scale`` subresource (kube's ``getScaleController``), found through
        discovery; None when the kind is unknown, the object is gone or is another one (uid)."""
        group, _, version = (ref.api_version or "").rpartition("/")
        try:
            mapping = await self.rest_mapper.rest_mapping(GroupVersionKind(group, version, ref.kind or ""))
        except NoMatchError:
            return None
        if mapping.resource.subresource("scale") is None:
            return None
        client = self.dynamic.resource(
            mapping.gvr, ns if mapping.namespaced else None, namespaced=mapping.namespaced
        )
        try:
            scale: Any = await client.get_scale(ref.name or "")
        except NotFound:
            return None
        meta = scale.get("metadata") or {}
        if meta.get("uid") != ref.uid:
            return None
        return str(meta["uid"]), int((scale.get("spec") or {}).get("replicas") or 0)

    async def _update_status(
        self, pdb: PodDisruptionBudget, healthy: int, desired: int, expected: int, disrupted: dict[str, str]
    ) -> None:
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        d = pdb.to_dict()
        status = d.get("status") or {}
        generation = d["metadata"].get("generation")
        if (
            status.get("currentHealthy", 0) == healthy
            and status.get("desiredHealthy", 0) == desired
            and status.get("expectedPods", 0) == expected
            and status.get("disruptionsAllowed", 0) == allowed
            and (status.get("disruptedPods") or {}) == disrupted
            and status.get("observedGeneration") == generation
            and self._conditions_up_to_date(status, generation)
        ):
            return
        new_status: dict[str, Any] = {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "disruptionsAllowed": allowed,
            "observedGeneration": generation,
            "conditions": list(status.get("conditions") or []),
        }
        if disrupted:
            new_status["disruptedPods"] = disrupted
        new_status["conditions"] = _set_condition(
            new_status["conditions"],
            {
                "type": CONDITION_TYPE,
                "status": "True" if allowed > 0 else "False",
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                "message": "",
                "observedGeneration": generation,
            },
        )
        d["status"] = new_status
        await self.client.policy_v1.pod_disruption_budgets(namespace_of(pdb)).update_status(
            PodDisruptionBudget.from_dict(d)
        )

    @staticmethod
    def _conditions_up_to_date(status: dict[str, Any], generation: Any) -> bool:
        cond = next((c for c in status.get("conditions") or [] if c.get("type") == CONDITION_TYPE), None)
        if cond is None or status.get("observedGeneration") != generation:
            return False
        if (status.get("disruptionsAllowed") or 0) > 0:
            return bool(cond.get("status") == "True" and cond.get("reason") == "SufficientPods")
        return bool(cond.get("status") == "False" and cond.get("reason") == "InsufficientPods")

    async def _fail_safe(self, pdb: PodDisruptionBudget, message: str) -> None:
        """kube's ``failSafe``: nothing allowed, ``DisruptionAllowed`` False ``SyncFailed``."""
        d = pdb.to_dict()
        status = dict(d.get("status") or {})
        status["disruptionsAllowed"] = 0
        status["conditions"] = _set_condition(
            list(status.get("conditions") or []),
            {
                "type": CONDITION_TYPE,
                "status": "False",
                "reason": "SyncFailed",
                "message": message,
                "observedGeneration": status.get("observedGeneration") or 0,
            },
        )
        d["status"] = status
        await self.client.policy_v1.pod_disruption_budgets(namespace_of(pdb)).update_status(
            PodDisruptionBudget.from_dict(d)
        )

    # -- stale DisruptionTarget conditions ---------------------------------------------------------------

    @staticmethod
    def _stale_condition(pod: Pod) -> Any:
        """The pod's DisruptionTarget=True condition when it may go stale (kube's
        ``nonTerminatingPodHasStaleDisruptionCondition``)."""
        if pod.metadata is None or pod.metadata.deletion_timestamp is not None or pod.status is None:
            return None
        if is_pod_terminal(pod):
            return None
        cond = get_pod_condition(pod.status, "DisruptionTarget")
        if cond is None or cond.status != "True" or cond.reason == "TerminationByKubelet":
            return None
        return cond

    def _stale_disruption_request(self, obj: Any) -> list[Request]:
        pod = unwrap(obj)
        if not isinstance(pod, Pod) or self._stale_condition(pod) is None:
            return []
        return [Request(namespace_of(pod), (pod.metadata.name if pod.metadata else None) or "")]

    async def sync_stale_pod_disruption(self, request: Request) -> Result:
        """Reset pod ``request``'s DisruptionTarget condition to False once it is stale."""
        try:
            pod = self.pod_lister.pods(request.namespace).get(request.name)
        except NotFound:
            return Result()
        cond = self._stale_condition(pod)
        if cond is None:
            return Result()
        since = cond.last_transition_time or _now()
        wait = STALE_POD_DISRUPTION_TIMEOUT - (_now() - since).total_seconds()
        if wait > 0:
            return Result(requeue_after=wait)
        conditions = [
            {
                "type": "DisruptionTarget",
                "status": "False",
                "lastTransitionTime": format_time(_now().replace(microsecond=0)),
            }
            if c.get("type") == "DisruptionTarget"
            else c
            for c in (pod.to_dict().get("status") or {}).get("conditions") or []
        ]
        try:
            await self.client.core_v1.pods(request.namespace).patch(
                request.name, {"status": {"conditions": conditions}}, patch_type="merge", subresource="status"
            )
        except Exception as err:
            if is_not_found(err):
                return Result()
            raise
        self.log.info("reset stale DisruptionTarget condition to False for pod %s", request.key)
        return Result()


def new_disruption_controller(ctx: ControllerContext) -> DisruptionController:
    """The registry's init function."""
    return DisruptionController(ctx)
