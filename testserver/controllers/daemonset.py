"""The DaemonSet controller (kube's ``pkg/controller/daemon``: daemon_controller.go, update.go, util).

DaemonSet, pod, node and ControllerRevision events queue the set; ``sync`` claims the set's pods,
finds the current revision (creating it, :mod:`testserver.controllers.history`), and — when the
:class:`~testserver.controllers.controller_utils.ControllerExpectations` of the set are satisfied,
so a stale cache never doubles a pod — decides per node (kube's ``NodeShouldRunDaemonPod``: node
name, nodeSelector and required node affinity, untolerated NoSchedule/NoExecute taints after the
tolerations the controller adds) whether a daemon pod should run there, should keep running, or must
go; failed daemon pods are deleted to be recreated and surplus pods on one node deleted.

Pods are created from the template with the ``controller-revision-hash`` label, kube's added
tolerations (not-ready/unreachable NoExecute, disk/memory/pid-pressure and unschedulable NoSchedule,
network-unavailable for hostNetwork) and a required node affinity on ``metadata.name`` of the target
node (kube's ``ReplaceDaemonSetPodNodeNameNodeAffinity``): the scheduler binds them.

``RollingUpdate`` replaces old pods: without ``maxSurge`` it deletes unavailable old pods at once and
available ones while fewer than ``maxUnavailable`` nodes are unavailable; with ``maxSurge`` it
creates the new pod next to the old one (up to ``maxSurge`` at once) and deletes the old pod when the
new one is available. ``OnDelete`` only replaces deleted pods. The status carries
desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady, numberAvailable,
numberUnavailable, updatedNumberScheduled, observedGeneration and collisionCount.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as _dt
from typing import Any

from pyclientgo.api.apps.v1 import DaemonSet
from pyclientgo.api.core.v1 import Node, Pod, Taint
from pyclientgo.apimachinery.labels import Selector, nothing, selector_from_label_selector
from pyclientgo.component_helpers.pod import is_pod_available, is_pod_ready
from pyclientgo.component_helpers.scheduling import (
    find_matching_untolerated_taint,
    get_required_node_affinity,
)
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, is_conflict, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers._util import ignorable_create_error, unwrap
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import (
    ControllerExpectations,
    ControllerRefManager,
    PodControl,
    add_pod_controller_uid_index,
    controller_ref_of,
    new_controller_ref,
    pod_key,
    pods_owned_or_orphaned,
)
from testserver.controllers.deployment_util import scaled_value
from testserver.controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    create_controller_revision,
    find_equal_revisions,
    max_revision,
    new_controller_revision,
    owned_revisions,
    template_patch,
    unused_revisions,
)

__all__ = [
    "CONTROLLER_NAME",
    "DaemonPodSpec",
    "DaemonSetsController",
    "add_daemon_pod_tolerations",
    "new_daemonset_controller",
    "replace_node_name_affinity",
    "target_node_name",
]

CONTROLLER_NAME = "daemonset-controller"
_KIND = "DaemonSet"
_API_VERSION = "apps/v1"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
"""``extensions.DaemonSetTemplateGenerationKey``."""
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
MAX_IN_FLIGHT_WRITES = 24
"""Pod creations and deletions in flight at once (the client's keep-alive pool is 25)."""

_ADDED_TOLERATIONS: tuple[tuple[str, str], ...] = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def add_daemon_pod_tolerations(spec: dict[str, Any]) -> None:
    """kube's ``AddOrUpdateDaemonPodTolerations`` on a pod spec (wire dict): an ``Exists`` toleration
    (no tolerationSeconds) for each taint a daemon pod must survive; one with the same key, operator
    and effect is replaced."""
    wanted = list(_ADDED_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_NETWORK_UNAVAILABLE)
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    for key, effect in wanted:
        new = {"key": key, "operator": "Exists", "effect": effect}
        for i, t in enumerate(tolerations):
            if (t.get("key"), t.get("operator") or "Equal", t.get("value") or "", t.get("effect")) == (
                key,
                "Exists",
                "",
                effect,
            ):
                tolerations[i] = new
                break
        else:
            tolerations.append(new)
    spec["tolerations"] = tolerations


def replace_node_name_affinity(spec: dict[str, Any], node_name: str) -> None:
    """kube's ``ReplaceDaemonSetPodNodeNameNodeAffinity``: the required node affinity becomes one term
    matching the field ``metadata.name`` In [node] (the preferred terms stay)."""
    affinity = spec.setdefault("affinity", {}) or {}
    spec["affinity"] = affinity
    node_affinity = affinity.setdefault("nodeAffinity", {}) or {}
    affinity["nodeAffinity"] = node_affinity
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
        ]
    }


def target_node_name(pod: Pod) -> str:
    """kube's ``GetTargetNodeName``: ``spec.nodeName``, else the node of the metadata.name affinity."""
    spec = pod.spec
    if spec is None:
        return ""
    if spec.node_name:
        return str(spec.node_name)
    try:
        terms = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms  # type: ignore[union-attr]
    except AttributeError:
        return ""
    for term in terms or []:
        for req in term.match_fields or []:
            if req.key == "metadata.name" and req.operator == "In" and req.values and len(req.values) == 1:
                return str(req.values[0])
    return ""


def _terminating(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def _hash_of(pod: Pod) -> str:
    return str(
        ((pod.metadata.labels if pod.metadata else None) or {}).get(CONTROLLER_REVISION_HASH_LABEL, "")
    )


def _created(pod: Pod) -> str:
    return str(pod.metadata.creation_timestamp or "") if pod.metadata else ""


class DaemonPodSpec:
    """The pod a DaemonSet would put on a node, parsed once per sync for ``should_run``."""

    def __init__(self, ds: dict[str, Any]) -> None:
        spec = copy.deepcopy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
        add_daemon_pod_tolerations(spec)
        pod = Pod.from_dict({"spec": spec})
        self.tolerations = pod.spec.tolerations if pod.spec is not None else None
        self.affinity = get_required_node_affinity(pod)

    def should_run(self, node: Node) -> tuple[bool, bool]:
        """(shouldRun, shouldContinueRunning) — kube's ``NodeShouldRunDaemonPod``/``predicates``."""
        if not self.affinity.match(node):
            return False, False
        taints = node.spec.taints if node.spec is not None else None

        def scheduling_effects(t: Taint) -> bool:
            return t.effect in ("NoExecute", "NoSchedule")

        if find_matching_untolerated_taint(taints, self.tolerations, scheduling_effects) is None:
            return True, True
        untolerated_no_execute = find_matching_untolerated_taint(
            taints, self.tolerations, lambda t: t.effect == "NoExecute"
        )
        return False, untolerated_no_execute is None


class _PodHandler:
    """Pod events: lower the owner's expectations and queue it (kube's ``addPod``/``deletePod``)."""

    def __init__(self, owner: DaemonSetsController) -> None:
        self.owner = owner

    def _owner(self, pod: Pod) -> Any:
        ref = controller_ref_of(pod)
        if ref is None or ref.kind != _KIND or pod.metadata is None:
            return None
        try:
            ds = self.owner.ds_lister.daemon_sets(pod.metadata.namespace or "").get(ref.name)
        except NotFound:
            return None
        return ds if ds.metadata is not None and ds.metadata.uid == ref.uid else None

    def _orphan(self, pod: Pod, queue: RequestQueue) -> None:
        labels = (pod.metadata.labels if pod.metadata else None) or {}
        if not labels or pod.metadata is None:
            return
        ns = pod.metadata.namespace or ""
        for ds in self.owner.ds_lister.daemon_sets(ns).list():
            if self.owner.selector(ds).matches(labels):
                queue.add(Request(ns, str(ds.metadata.name) if ds.metadata else ""))

    def create(self, pod: Pod, queue: RequestQueue) -> None:
        if _terminating(pod):
            self.delete(pod, queue)
            return
        ds = self._owner(pod)
        if ds is not None:
            ns = pod.metadata.namespace if pod.metadata else ""
            self.owner.expectations.creation_observed(f"{ns}/{ds.metadata.name}")
            queue.add(Request(ns or "", ds.metadata.name))
        elif controller_ref_of(pod) is None:
            self._orphan(pod, queue)

    def update(self, old: Pod, cur: Pod, queue: RequestQueue) -> None:
        if (
            old.metadata is not None
            and cur.metadata is not None
            and old.metadata.resource_version == cur.metadata.resource_version
        ):
            return
        for pod in (old, cur):
            ds = self._owner(pod)
            if ds is not None:
                queue.add(Request(pod.metadata.namespace or "", ds.metadata.name))  # type: ignore[union-attr]
                min_ready = int((ds.spec.min_ready_seconds if ds.spec else None) or 0)
                if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                    self.owner.controller.queue.add_after(
                        Request(pod.metadata.namespace or "", ds.metadata.name),  # type: ignore[union-attr]
                        min_ready + 1,
                    )
        if controller_ref_of(cur) is None:
            self._orphan(cur, queue)

    def delete(self, obj: Any, queue: RequestQueue) -> None:
        pod = unwrap(obj)
        ds = self._owner(pod)
        if ds is None:
            return
        ns = pod.metadata.namespace or ""
        self.owner.expectations.deletion_observed(f"{ns}/{ds.metadata.name}", pod_key(pod))
        queue.add(Request(ns, ds.metadata.name))


class DaemonSetsController:
    """Runs one daemon pod on every eligible node (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self._ctx = ctx
        self._recorder: EventRecorder | None = None
        self._pod_control: PodControl | None = None
        self.expectations = ControllerExpectations()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT_WRITES)
        sets = ctx.informer_factory.apps_v1.daemon_sets()
        pods = ctx.informer_factory.core_v1.pods()
        nodes = ctx.informer_factory.core_v1.nodes()
        revisions = ctx.informer_factory.apps_v1.controller_revisions()
        self.ds_lister = sets.lister
        self.pod_informer = pods.informer
        self.node_lister = nodes.lister
        self.revision_lister = revisions.lister
        add_pod_controller_uid_index(pods.informer)
        self.controller = Controller(
            "daemonset",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_daemonset_syncs),
                clock=ctx.clock,
            ),
        )
        self.controller.for_(sets.informer)
        self.controller.watch(pods.informer, _PodHandler(self))
        self.controller.watches(nodes.informer, self._all_sets)
        self.controller.owns(revisions.informer, _KIND, owner_group="apps")

    @property
    def recorder(self) -> EventRecorder:
        if self._recorder is None:
            self._recorder = self._ctx.event_recorder(CONTROLLER_NAME)
        return self._recorder

    @property
    def pod_control(self) -> PodControl:
        if self._pod_control is None:
            self._pod_control = PodControl(self.client, self.recorder)
        return self._pod_control

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def selector(self, ds: Any) -> Selector:
        sel = ds.spec.selector if ds.spec is not None else None
        if sel is None:
            return nothing()
        selector = selector_from_label_selector(sel.to_dict())
        return nothing() if selector.empty() else selector

    def _all_sets(self, _node: Any) -> list[Request]:
        return [
            Request(ds.metadata.namespace or "", ds.metadata.name or "")
            for ds in self.ds_lister.list()
            if ds.metadata
        ]

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """Reconcile one DaemonSet (kube's ``syncDaemonSet``)."""
        key = f"{request.namespace}/{request.name}"
        try:
            ds: Any = self.ds_lister.daemon_sets(request.namespace).get(request.name)
        except NotFound:
            self.expectations.delete_expectations(key)
            return Result()
        d = ds.to_dict()
        nodes = list(self.node_lister.list())
        candidates = pods_owned_or_orphaned(self.pod_informer, request.namespace, str(ds.metadata.uid))
        pods = await self._claim_pods(ds, candidates)
        node_to_pods: dict[str, list[Pod]] = {}
        for pod in pods:
            node_to_pods.setdefault(target_node_name(pod), []).append(pod)
        for group in node_to_pods.values():
            group.sort(key=_created)
        if ds.metadata.deletion_timestamp is not None:
            return Result()
        cur, collision = await self._construct_history(ds, d)
        hash_ = str((cur.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL, ""))
        daemon = DaemonPodSpec(d)
        decisions = {str(n.metadata.name): daemon.should_run(n) for n in nodes if n.metadata is not None}
        min_ready = int((d.get("spec") or {}).get("minReadySeconds") or 0)
        now = _dt.datetime.now(_dt.UTC)
        if self.expectations.satisfied_expectations(key):
            await self._manage(ds, d, key, node_to_pods, decisions, hash_, now, min_ready)
        await self._cleanup_history(ds, d, pods, cur)
        status = self._status(d, node_to_pods, decisions, hash_, now, min_ready, collision)
        await self._update_status(d, status)
        if min_ready > 0 and status["numberReady"] != status["numberAvailable"]:
            return Result(requeue_after=float(min_ready))
        return Result()

    async def _claim_pods(self, ds: Any, pods: list[Pod]) -> list[Pod]:
        ns, name = ds.metadata.namespace, ds.metadata.name
        ref = new_controller_ref(ds, _API_VERSION, _KIND)

        async def can_adopt() -> None:
            fresh: Any = await self.client.apps_v1.daemon_sets(ns).get(name)
            if fresh.metadata.uid != ds.metadata.uid or fresh.metadata.deletion_timestamp is not None:
                raise RuntimeError(f"DaemonSet {ns}/{name} is gone or being deleted")

        async def patch(pod_ns: str, pod_name: str, body: dict[str, Any]) -> Any:
            return await self.client.core_v1.pods(pod_ns).patch(pod_name, body)

        claimed: list[Pod] = await ControllerRefManager(ds, self.selector(ds), ref, patch, can_adopt).claim(
            pods
        )
        return claimed

    async def _construct_history(self, ds: Any, d: dict[str, Any]) -> tuple[Any, int]:
        """The current revision (created or renumbered as needed) and the collision count (kube's
        ``constructHistory``)."""
        revisions = owned_revisions(self.revision_lister, ds)
        collision = int((d.get("status") or {}).get("collisionCount") or 0)
        tpl = (d.get("spec") or {}).get("template") or {}
        proposed = new_controller_revision(
            ds,
            _API_VERSION,
            _KIND,
            dict((tpl.get("metadata") or {}).get("labels") or {}),
            template_patch(tpl),
            max_revision(revisions) + 1,
            collision,
        )
        equal = find_equal_revisions(revisions, proposed)
        if not equal:
            created, collision = await create_controller_revision(self.client, ds, proposed, collision)
            return created, collision
        cur = equal[-1]
        for dup in equal[:-1]:
            await self._delete_revision(ds, dup.metadata.name)
        if int(cur.revision or 0) < max_revision(revisions):
            cur = await self.client.apps_v1.controller_revisions(ds.metadata.namespace).patch(
                cur.metadata.name, {"revision": max_revision(revisions) + 1}, patch_type="merge"
            )
        return cur, collision

    async def _delete_revision(self, ds: Any, name: str) -> None:
        try:
            await self.client.apps_v1.controller_revisions(ds.metadata.namespace).delete(name)
        except Exception as err:
            if not is_not_found(err):
                raise

    async def _cleanup_history(self, ds: Any, d: dict[str, Any], pods: list[Pod], cur: Any) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        live_hashes = {_hash_of(p) for p in pods}
        revisions = owned_revisions(self.revision_lister, ds)
        live = {cur.metadata.name} | {
            r.metadata.name
            for r in revisions
            if (r.metadata.labels or {}).get(CONTROLLER_REVISION_HASH_LABEL) in live_hashes
        }
        for rev in unused_revisions(revisions, live, limit):
            await self._delete_revision(ds, rev.metadata.name)

    async def _manage(
        self,
        ds: Any,
        d: dict[str, Any],
        key: str,
        node_to_pods: dict[str, list[Pod]],
        decisions: dict[str, tuple[bool, bool]],
        hash_: str,
        now: _dt.datetime,
        min_ready: int,
    ) -> None:
        """kube's ``manage`` + ``rollingUpdate``: the nodes to create on and the pods to delete."""
        surge = self._allows_surge(d)
        create: list[str] = []
        delete: list[Pod] = []
        for node, (should_run, should_continue) in decisions.items():
            on_node = node_to_pods.get(node, [])
            if should_run and not on_node:
                create.append(node)
            elif should_continue:
                running: list[Pod] = []
                for pod in on_node:
                    if _terminating(pod):
                        continue
                    if pod.status is not None and pod.status.phase == "Failed":
                        self.recorder.eventf(
                            ds,
                            EVENT_TYPE_WARNING,
                            "FailedDaemonPod",
                            "Found failed daemon pod %s/%s on node %s, will try to kill it",
                            pod.metadata.namespace if pod.metadata else "",
                            pod.metadata.name if pod.metadata else "",
                            node,
                        )
                        delete.append(pod)
                    else:
                        running.append(pod)
                if surge:
                    new = [p for p in running if _hash_of(p) == hash_]
                    old = [p for p in running if _hash_of(p) != hash_]
                    delete.extend(new[1:] + old[1:])
                elif len(running) > 1:
                    delete.extend(running[1:])
            else:
                delete.extend(p for p in on_node if not _terminating(p))
        # pods of nodes that are gone are the pod garbage collector's (kube's podgc), not ours
        strategy = (d.get("spec") or {}).get("updateStrategy") or {}
        if (strategy.get("type") or "RollingUpdate") == "RollingUpdate":
            more_delete, more_create = self._rolling_update(d, node_to_pods, decisions, hash_, now, min_ready)
            seen = {id(p) for p in delete}
            delete.extend(p for p in more_delete if id(p) not in seen)
            create.extend(n for n in more_create if n not in create)
        await self._sync_nodes(ds, d, key, delete, create, hash_)

    def _allows_surge(self, d: dict[str, Any]) -> bool:
        strategy = (d.get("spec") or {}).get("updateStrategy") or {}
        if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
            return False
        surge = (strategy.get("rollingUpdate") or {}).get("maxSurge")
        return surge not in (None, 0, "0", "0%")

    def _rolling_update(
        self,
        d: dict[str, Any],
        node_to_pods: dict[str, list[Pod]],
        decisions: dict[str, tuple[bool, bool]],
        hash_: str,
        now: _dt.datetime,
        min_ready: int,
    ) -> tuple[list[Pod], list[str]]:
        rolling = ((d.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
        desired = sum(1 for run, _ in decisions.values() if run)
        max_surge = scaled_value(rolling.get("maxSurge") or 0, desired, True)
        max_unavailable = scaled_value(
            rolling.get("maxUnavailable") if rolling.get("maxUnavailable") is not None else 1, desired, True
        )
        if desired > 0 and max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1

        def available(pod: Pod) -> bool:
            return is_pod_available(pod, min_ready, now)

        def split(pods: list[Pod]) -> tuple[Pod | None, Pod | None, bool]:
            new = [p for p in pods if not _terminating(p) and _hash_of(p) == hash_]
            old = [p for p in pods if not _terminating(p) and _hash_of(p) != hash_]
            if len(new) > 1 or len(old) > 1:
                return None, None, False
            return (new[0] if new else None), (old[0] if old else None), True

        to_delete: list[Pod] = []
        to_create: list[str] = []
        if max_surge == 0:
            unavailable = 0
            allowed: list[Pod] = []
            candidates: list[Pod] = []
            for node in sorted(node_to_pods):
                if node not in decisions or not decisions[node][0]:
                    continue
                new, old, ok = split(node_to_pods[node])
                if not ok or (new is None) == (old is None):
                    unavailable += 1 if not ok or new is None or not available(new) else 0
                    continue
                if new is not None:
                    if not available(new):
                        unavailable += 1
                    continue
                assert old is not None
                if not available(old):
                    allowed.append(old)
                elif unavailable < max_unavailable:
                    candidates.append(old)
            remaining = max(0, min(max_unavailable - unavailable, len(candidates)))
            to_delete = allowed + candidates[:remaining]
        else:
            surging = 0
            allowed_nodes: list[str] = []
            candidate_nodes: list[str] = []
            for node in sorted(node_to_pods):
                if node not in decisions or not decisions[node][0]:
                    continue
                new, old, ok = split(node_to_pods[node])
                if not ok or old is None:
                    continue
                if new is None:
                    (candidate_nodes if available(old) else allowed_nodes).append(node)
                elif available(new):
                    to_delete.append(old)
                else:
                    surging += 1
            remaining = max(0, min(max_surge - surging, len(candidate_nodes)))
            to_create = allowed_nodes + candidate_nodes[:remaining]
        return to_delete, to_create

    def _pod_template(self, d: dict[str, Any], hash_: str) -> dict[str, Any]:
        """kube's ``CreatePodTemplate``: the hash and template-generation labels, added tolerations."""
        tpl = copy.deepcopy((d.get("spec") or {}).get("template") or {})
        meta = tpl.setdefault("metadata", {})
        labels = dict(meta.get("labels") or {})
        generation = ((d.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
        if generation:
            labels[TEMPLATE_GENERATION_LABEL] = str(generation)
        labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
        meta["labels"] = labels
        spec = tpl.setdefault("spec", {})
        add_daemon_pod_tolerations(spec)
        return dict(tpl)

    async def _sync_nodes(
        self, ds: Any, d: dict[str, Any], key: str, delete: list[Pod], create: list[str], hash_: str
    ) -> None:
        """Create daemon pods on ``create`` and delete ``delete`` under expectations (kube's
        ``syncNodes``; kube batches the creations in slow-start batches, here they share a limit of
        concurrent writes)."""
        ns = d["metadata"]["namespace"]
        self.expectations.expect_creations(key, len(create))
        self.expectations.expect_deletions(key, [pod_key(p) for p in delete])
        ref = new_controller_ref(ds, _API_VERSION, _KIND)
        base = self._pod_template(d, hash_)
        errors: list[BaseException] = []

        async def create_on(node: str) -> None:
            tpl = copy.deepcopy(base)
            replace_node_name_affinity(tpl["spec"], node)
            async with self._in_flight:
                try:
                    await self.pod_control.create_pod_with_controller_ref(ns, tpl, ds, ref)
                except Exception as err:
                    self.expectations.creation_observed(key)
                    if not ignorable_create_error(err):
                        errors.append(err)

        async def delete_one(pod: Pod) -> None:
            async with self._in_flight:
                try:
                    await self.pod_control.delete_pod(ns, pod.metadata.name or "", ds)  # type: ignore[union-attr]
                except Exception as err:
                    self.expectations.deletion_observed(key, pod_key(pod))
                    if not is_not_found(err):
                        errors.append(err)

        await asyncio.gather(*(create_on(n) for n in create), *(delete_one(p) for p in delete))
        if errors:
            raise errors[0]

    def _status(
        self,
        d: dict[str, Any],
        node_to_pods: dict[str, list[Pod]],
        decisions: dict[str, tuple[bool, bool]],
        hash_: str,
        now: _dt.datetime,
        min_ready: int,
        collision: int,
    ) -> dict[str, Any]:
        st = {
            "desiredNumberScheduled": 0,
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "numberReady": 0,
            "numberAvailable": 0,
            "updatedNumberScheduled": 0,
            "numberUnavailable": 0,
            "observedGeneration": int(d["metadata"].get("generation") or 0),
            "collisionCount": collision,
        }
        for node, (should_run, _) in decisions.items():
            on_node = node_to_pods.get(node, [])
            if should_run:
                st["desiredNumberScheduled"] += 1
                if not on_node:
                    continue
                st["currentNumberScheduled"] += 1
                pod = on_node[0]
                if is_pod_ready(pod):
                    st["numberReady"] += 1
                    if is_pod_available(pod, min_ready, now):
                        st["numberAvailable"] += 1
                if _hash_of(pod) == hash_:
                    st["updatedNumberScheduled"] += 1
            elif on_node:
                st["numberMisscheduled"] += 1
        st["numberUnavailable"] = st["desiredNumberScheduled"] - st["numberAvailable"]
        if not st["collisionCount"]:
            st.pop("collisionCount")
        if not st["numberUnavailable"]:
            st.pop("numberUnavailable")
        return st

    async def _update_status(self, d: dict[str, Any], status: dict[str, Any]) -> None:
        old = dict(d.get("status") or {})
        merged = {
            k: v for k, v in {**old, **status}.items() if k in status or k not in ("numberUnavailable",)
        }
        if merged == old:
            return
        body = copy.deepcopy(d)
        body["status"] = merged
        api = self.client.apps_v1.daemon_sets(d["metadata"]["namespace"])
        try:
            await api.update_status(DaemonSet.from_dict(body))
        except Exception as err:
            if is_not_found(err):
                return
            if not is_conflict(err):
                raise
            # kube's storeDaemonSetStatus retries on conflict with a fresh copy
            fresh = (await api.get(d["metadata"]["name"])).to_dict()
            fresh["status"] = {**(fresh.get("status") or {}), **status}
            await api.update_status(DaemonSet.from_dict(fresh))


def new_daemonset_controller(ctx: ControllerContext) -> DaemonSetsController:
    """The registry's init function."""
    return DaemonSetsController(ctx)
