"""The Deployment controller (kube's ``pkg/controller/deployment``).

Informer handlers → work queue → :meth:`DeploymentController.sync` from the listers: a Deployment's
events queue it; a ReplicaSet's events queue its controlling Deployment (an orphan ReplicaSet queues
every Deployment whose selector matches it); the deletion of the last pod of a Recreate Deployment
queues it so the new ReplicaSet can start.

``sync`` claims the ReplicaSets (adoption and release as for pods), then, as kube's
``syncDeployment``:

- paused, or a scaling event (a ReplicaSet whose ``desired-replicas`` annotation differs from
  ``spec.replicas``): :meth:`DeploymentController.sync_scaling` — scale (proportionally across the
  active ReplicaSets during a rollout), clean up old ReplicaSets when paused, write the status;
- ``Recreate``: scale every old ReplicaSet to 0, wait until no old pod runs, then create/scale up the
  new ReplicaSet;
- ``RollingUpdate``: scale the new ReplicaSet up within ``maxSurge`` and the old ones down within
  ``maxUnavailable`` (unhealthy old replicas first);
- then the rollout status: replicas/updated/ready/available/unavailable, ``observedGeneration``, the
  ``Available`` condition and the ``Progressing`` condition (``NewReplicaSetCreated``,
  ``FoundNewReplicaSet``, ``ReplicaSetUpdated``, ``NewReplicaSetAvailable``,
  ``ProgressDeadlineExceeded``, ``DeploymentPaused``/``DeploymentResumed``), ``ReplicaFailure``
  copied from the ReplicaSets, and a requeue at the progress deadline; old ReplicaSets beyond
  ``revisionHistoryLimit`` are deleted once the rollout completed.

The new ReplicaSet is ``<deployment>-<pod-template-hash>`` with the hash label on its selector and
template, owned by the Deployment, annotated with ``deployment.kubernetes.io/revision`` (the highest
old revision + 1; a rollback to an old template moves that ReplicaSet to a new revision and records
``revision-history``), ``desired-replicas`` and ``max-replicas``, and the Deployment's own annotations
(``kubernetes.io/change-cause`` for ``kubectl rollout history``). A name collision with a different
template bumps ``status.collisionCount``. Events: ``ScalingReplicaSet`` "Scaled up replica set %s
from 0 to %d" / "Scaled %s replica set %s from %d to %d", ``ReplicaSetCreateError``, ``SelectingAll``.

Status writes go through the status subresource; the revision annotation of the Deployment is written
with a metadata patch (this API server's status subresource keeps metadata, kube's keeps annotations).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyclientgo.api.apps.v1 import Deployment, ReplicaSet
from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery.labels import Selector, nothing, selector_from_label_selector
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.controller.handler import RequestQueue
from pyclientgo.errors import NotFound, is_already_exists, is_not_found
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from testserver.controllers import deployment_util as du
from testserver.controllers.context import ControllerContext
from testserver.controllers.controller_utils import (
    POD_CONTROLLER_UID_INDEX,
    ControllerRefManager,
    add_pod_controller_uid_index,
    compute_hash,
    controller_ref_of,
    new_controller_ref,
)

__all__ = ["CONTROLLER_NAME", "DeploymentController", "new_deployment_controller"]

CONTROLLER_NAME = "deployment-controller"
HASH_KEY = du.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY


@dataclass
class _Work:
    """A Deployment during one sync: the cached object plus the status, annotations and
    resourceVersion this sync has written (kube mutates its deep copy the same way)."""

    d: Deployment
    status: dict[str, Any]
    annotations: dict[str, str]
    resource_version: str

    @property
    def name(self) -> str:
        return str(self.d.metadata.name) if self.d.metadata else ""

    @property
    def namespace(self) -> str:
        return str(self.d.metadata.namespace) if self.d.metadata else ""

    @property
    def generation(self) -> int:
        return int((self.d.metadata.generation if self.d.metadata else None) or 0)


def _normal_status(status: dict[str, Any]) -> dict[str, Any]:
    """A status as kube writes it: zero counts omitted (``omitempty``), collisionCount kept when set."""
    return {
        k: v
        for k, v in status.items()
        if (k == "collisionCount" and v is not None) or v not in (0, None, [], {})
    }


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def _uid(obj: Any) -> str:
    return str(obj.metadata.uid)


class _ReplicaSetHandler:
    """ReplicaSet events → the owning Deployment (kube's ``addReplicaSet``/``updateReplicaSet``/
    ``deleteReplicaSet``)."""

    def __init__(self, owner: DeploymentController) -> None:
        self.owner = owner

    def create(self, rs: ReplicaSet, queue: RequestQueue) -> None:
        if rs.metadata is None:
            return
        if rs.metadata.deletion_timestamp is not None:
            self.delete(rs, queue)
            return
        ns = rs.metadata.namespace or ""
        ref = controller_ref_of(rs)
        if ref is not None:
            d = self.owner.resolve_controller_ref(ns, ref)
            if d is not None:
                queue.add(Request(ns, _name(d)))
            return
        for d in self.owner.deployments_for_replica_set(rs):
            queue.add(Request(ns, _name(d)))

    def update(self, old: ReplicaSet, cur: ReplicaSet, queue: RequestQueue) -> None:
        om, cm = old.metadata, cur.metadata
        if om is None or cm is None or om.resource_version == cm.resource_version:
            return
        ns = cm.namespace or ""
        cur_ref, old_ref = controller_ref_of(cur), controller_ref_of(old)
        ref_changed = (cur_ref.uid if cur_ref else None) != (old_ref.uid if old_ref else None)
        if ref_changed and old_ref is not None:
            d = self.owner.resolve_controller_ref(ns, old_ref)
            if d is not None:
                queue.add(Request(ns, _name(d)))
        if cur_ref is not None:
            d = self.owner.resolve_controller_ref(ns, cur_ref)
            if d is not None:
                queue.add(Request(ns, _name(d)))
            return
        if (om.labels or {}) != (cm.labels or {}) or ref_changed:
            for d in self.owner.deployments_for_replica_set(cur):
                queue.add(Request(ns, _name(d)))

    def delete(self, rs: ReplicaSet, queue: RequestQueue) -> None:
        if rs.metadata is None:
            return
        ref = controller_ref_of(rs)
        if ref is None:
            return
        ns = rs.metadata.namespace or ""
        d = self.owner.resolve_controller_ref(ns, ref)
        if d is not None:
            queue.add(Request(ns, _name(d)))


class _PodHandler:
    """The deletion of the last pod of a Recreate Deployment queues it (kube's ``deletePod``)."""

    def __init__(self, owner: DeploymentController) -> None:
        self.owner = owner

    def create(self, pod: Pod, queue: RequestQueue) -> None:
        return None

    def update(self, old: Pod, cur: Pod, queue: RequestQueue) -> None:
        return None

    def delete(self, pod: Pod, queue: RequestQueue) -> None:
        d = self.owner.deployment_for_pod(pod)
        if d is None or d.spec is None or d.spec.strategy is None or d.spec.strategy.type != "Recreate":
            return
        rss = self.owner.replica_sets_of(d)
        if sum(len(pods) for pods in self.owner.pod_map(d, rss).values()) == 0:
            queue.add(Request(str(d.metadata.namespace), _name(d)))  # type: ignore[union-attr]


class DeploymentController:
    """Rolls Deployments out through ReplicaSets (module docstring); a Runnable."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self._ctx = ctx
        self._recorder: EventRecorder | None = None
        deployments = ctx.informer_factory.apps_v1.deployments()
        replica_sets = ctx.informer_factory.apps_v1.replica_sets()
        pods = ctx.informer_factory.core_v1.pods()
        self.d_lister = deployments.lister
        self.rs_lister = replica_sets.lister
        self.pod_lister = pods.lister
        self.pod_informer = pods.informer
        add_pod_controller_uid_index(pods.informer)
        self._selectors: dict[tuple[str, int], Selector] = {}
        self.controller = Controller(
            "deployment",
            self.sync,
            ControllerOptions(
                max_concurrent_reconciles=max(1, ctx.options.concurrent_deployment_syncs), clock=ctx.clock
            ),
        )
        self.controller.for_(deployments.informer)
        self.controller.watch(replica_sets.informer, _ReplicaSetHandler(self))
        self.controller.watch(pods.informer, _PodHandler(self))

    @property
    def recorder(self) -> EventRecorder:
        if self._recorder is None:
            self._recorder = self._ctx.event_recorder(CONTROLLER_NAME)
        return self._recorder

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    # -- lookups ----------------------------------------------------------------------------------

    def selector_of(self, obj: Any) -> Selector:
        """The label selector of a Deployment or ReplicaSet (cached per uid and generation); an empty
        or missing selector selects nothing."""
        meta = obj.metadata
        key = (meta.uid or "", int(meta.generation or 0))
        sel = self._selectors.get(key)
        if sel is None:
            if len(self._selectors) > 10000:
                self._selectors.clear()
            raw = obj.spec.selector if obj.spec is not None else None
            parsed = selector_from_label_selector(raw.to_dict()) if raw is not None else nothing()
            sel = self._selectors[key] = nothing() if parsed.empty() else parsed
        return sel

    def resolve_controller_ref(self, namespace: str, ref: Any) -> Deployment | None:
        if ref.kind != "Deployment":
            return None
        try:
            d = self.d_lister.deployments(namespace).get(ref.name)
        except NotFound:
            return None
        return d if d.metadata is not None and d.metadata.uid == ref.uid else None

    def deployments_for_replica_set(self, rs: ReplicaSet) -> list[Deployment]:
        """Deployments whose selector matches an orphan ReplicaSet's labels."""
        labels = dict((rs.metadata.labels if rs.metadata else None) or {})
        if not labels or rs.metadata is None:
            return []
        found = [
            d
            for d in self.d_lister.deployments(rs.metadata.namespace or "").list()
            if self.selector_of(d).matches(labels)
        ]
        if len(found) > 1:
            self.log.info(
                "more than one deployment selects replica set %s/%s: %s",
                rs.metadata.namespace,
                rs.metadata.name,
                ", ".join(_name(d) for d in found),
            )
        return found

    def deployment_for_pod(self, pod: Pod) -> Deployment | None:
        """The Deployment controlling the ReplicaSet controlling ``pod``."""
        ref = controller_ref_of(pod)
        if ref is None or ref.kind != "ReplicaSet" or pod.metadata is None:
            return None
        ns = pod.metadata.namespace or ""
        try:
            rs = self.rs_lister.replica_sets(ns).get(ref.name)
        except NotFound:
            return None
        if rs.metadata is None or rs.metadata.uid != ref.uid:
            return None
        rs_ref = controller_ref_of(rs)
        return self.resolve_controller_ref(ns, rs_ref) if rs_ref is not None else None

    def replica_sets_of(self, d: Deployment) -> list[ReplicaSet]:
        """The cached ReplicaSets the Deployment controls (no adoption)."""
        uid = _uid(d)
        return [
            rs
            for rs in self.rs_lister.replica_sets(str(d.metadata.namespace)).list()  # type: ignore[union-attr]
            if (ref := controller_ref_of(rs)) is not None and ref.uid == uid
        ]

    def pod_map(self, d: Deployment, rss: list[ReplicaSet]) -> dict[str, list[Pod]]:
        """The Deployment's pods by the uid of their ReplicaSet (kube's ``getPodMapForDeployment``)."""
        ns = str(d.metadata.namespace) if d.metadata is not None else ""
        indexer = self.pod_informer.get_indexer()
        # kube lists the pods by the Deployment's selector and groups them by controller; the
        # controller-uid index gives each ReplicaSet's pods directly
        return {
            _uid(rs): [
                p
                for p in indexer.by_index(POD_CONTROLLER_UID_INDEX, f"{ns}/{_uid(rs)}")
                if self.selector_of(d).matches(dict((p.metadata.labels if p.metadata else None) or {}))
            ]
            for rs in rss
        }

    # -- writes -----------------------------------------------------------------------------------

    async def _update_status(self, w: _Work) -> None:
        body = w.d.to_dict()
        body["metadata"] = {
            **body.get("metadata", {}),
            "resourceVersion": w.resource_version,
            "annotations": w.annotations,
        }
        body["status"] = _normal_status(w.status)
        updated = await self.client.apps_v1.deployments(w.namespace).update_status(Deployment.from_dict(body))
        w.resource_version = (
            str(updated.metadata.resource_version) if updated.metadata else w.resource_version
        )

    async def _set_revision(self, w: _Work, rev: str) -> bool:
        """kube's ``SetDeploymentRevision``: the Deployment's revision annotation follows its new
        ReplicaSet (written here with a metadata patch)."""
        if w.annotations.get(du.REVISION_ANNOTATION) == rev:
            return False
        w.annotations[du.REVISION_ANNOTATION] = rev
        patch = {
            "metadata": {"annotations": {du.REVISION_ANNOTATION: rev}, "resourceVersion": w.resource_version}
        }
        updated = await self.client.apps_v1.deployments(w.namespace).patch(w.name, patch, patch_type="merge")
        w.resource_version = (
            str(updated.metadata.resource_version) if updated.metadata else w.resource_version
        )
        return True

    async def _update_rs(self, rs: ReplicaSet, replicas: int, annotations: dict[str, str]) -> ReplicaSet:
        body = rs.to_dict()
        body.setdefault("spec", {})["replicas"] = replicas
        body["metadata"]["annotations"] = annotations
        updated: ReplicaSet = await self.client.apps_v1.replica_sets(str(rs.metadata.namespace)).update(  # type: ignore[union-attr]
            ReplicaSet.from_dict(body)
        )
        return updated

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Result:
        """kube's ``syncDeployment`` (module docstring)."""
        try:
            cached = self.d_lister.deployments(request.namespace).get(request.name)
        except NotFound:
            return Result()
        meta = cached.metadata
        assert meta is not None
        w = _Work(
            d=cached,
            status=cached.status.to_dict() if cached.status is not None else {},
            annotations=dict(meta.annotations or {}),
            resource_version=str(meta.resource_version),
        )
        raw_selector = cached.spec.selector if cached.spec is not None else None
        if raw_selector is None or not raw_selector.to_dict():
            self.recorder.eventf(
                cached,
                EVENT_TYPE_WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            if int(w.status.get("observedGeneration") or 0) < w.generation:
                w.status["observedGeneration"] = w.generation
                await self._update_status(w)
            return Result()
        rs_list = await self._claim_replica_sets(cached)
        pod_map = self.pod_map(cached, rs_list)
        if meta.deletion_timestamp is not None:
            return await self.sync_status_only(w, rs_list)
        await self._check_paused_conditions(w)
        spec = cached.spec
        assert spec is not None
        if spec.paused:
            return await self.sync_scaling(w, rs_list)
        if await self._is_scaling_event(w, rs_list):
            return await self.sync_scaling(w, rs_list)
        strategy = spec.strategy.type if spec.strategy is not None else "RollingUpdate"
        if strategy == "Recreate":
            return await self.rollout_recreate(w, rs_list, pod_map)
        if strategy in (None, "RollingUpdate"):
            return await self.rollout_rolling(w, rs_list)
        self.log.error("unexpected deployment strategy type: %s", strategy)
        return Result()

    async def _claim_replica_sets(self, d: Deployment) -> list[ReplicaSet]:
        ns = str(d.metadata.namespace)  # type: ignore[union-attr]

        async def can_adopt() -> None:
            fresh = await self.client.apps_v1.deployments(ns).get(_name(d))
            if fresh.metadata is None or fresh.metadata.uid != _uid(d):
                raise RuntimeError(f"original Deployment {ns}/{_name(d)} is gone")
            if fresh.metadata.deletion_timestamp is not None:
                raise RuntimeError(
                    f"{ns}/{_name(d)} has just been deleted at {fresh.metadata.deletion_timestamp}"
                )

        async def patch(rs_ns: str, rs_name: str, body: dict[str, Any]) -> Any:
            return await self.client.apps_v1.replica_sets(rs_ns).patch(rs_name, body)

        manager = ControllerRefManager(
            d, self.selector_of(d), new_controller_ref(d, "apps/v1", "Deployment"), patch, can_adopt
        )
        claimed: list[ReplicaSet] = await manager.claim(self.rs_lister.replica_sets(ns).list())
        return claimed

    async def _check_paused_conditions(self, w: _Work) -> None:
        if not du.has_progress_deadline(w.d):
            return
        cond = du.get_condition(w.status, "Progressing")
        if cond is not None and cond.get("reason") == du.TIMED_OUT_REASON:
            return
        paused_exists = cond is not None and cond.get("reason") == du.PAUSED_DEPLOY_REASON
        paused = bool(w.d.spec.paused) if w.d.spec is not None else False
        if paused and not paused_exists:
            du.set_condition(
                w.status,
                du.new_condition("Progressing", "Unknown", du.PAUSED_DEPLOY_REASON, "Deployment is paused"),
            )
        elif not paused and paused_exists:
            du.set_condition(
                w.status,
                du.new_condition("Progressing", "Unknown", du.RESUMED_DEPLOY_REASON, "Deployment is resumed"),
            )
        else:
            return
        await self._update_status(w)

    async def _is_scaling_event(self, w: _Work, rs_list: list[ReplicaSet]) -> bool:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=False)
        for rs in du.filter_active_replica_sets([*old_rss, new_rs]):
            desired = du.annotations_of(rs).get(du.DESIRED_REPLICAS_ANNOTATION)
            if desired is None:
                continue
            try:
                if int(desired) != du.replicas_of(w.d):
                    return True
            except ValueError:
                continue
        return False

    # -- new and old ReplicaSets ------------------------------------------------------------------

    async def get_all_replica_sets_and_sync_revision(
        self, w: _Work, rs_list: list[ReplicaSet], *, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """(new ReplicaSet or None, old ReplicaSets) with the revision synced (kube's
        ``getAllReplicaSetsAndSyncRevision``)."""
        existing = du.find_new_replica_set(w.d, rs_list)
        old_rss = [rs for rs in rs_list if existing is None or _uid(rs) != _uid(existing)]
        new_rs = await self.get_new_replica_set(w, rs_list, old_rss, create=create)
        return new_rs, old_rss

    async def get_new_replica_set(
        self, w: _Work, rs_list: list[ReplicaSet], old_rss: list[ReplicaSet], *, create: bool
    ) -> ReplicaSet | None:
        """kube's ``getNewReplicaSet``: sync the existing new ReplicaSet's annotations and
        minReadySeconds, or create it (when ``create``)."""
        d = w.d
        existing: ReplicaSet | None = du.find_new_replica_set(d, rs_list)
        new_revision = str(du.max_revision(old_rss) + 1)
        min_ready = du.min_ready_seconds(d)
        if existing is not None:
            annotations = du.annotations_of(existing)
            changed = du.set_new_replica_set_annotations(d, annotations, new_revision, True)
            if changed or du.min_ready_seconds(existing) != min_ready:
                body = existing.to_dict()
                body["metadata"]["annotations"] = annotations
                body.setdefault("spec", {})["minReadySeconds"] = min_ready
                synced: ReplicaSet = await self.client.apps_v1.replica_sets(w.namespace).update(
                    ReplicaSet.from_dict(body)
                )
                existing = synced
            needs_update = await self._set_revision(w, annotations.get(du.REVISION_ANNOTATION, new_revision))
            if du.has_progress_deadline(d) and du.get_condition(w.status, "Progressing") is None:
                du.set_condition(
                    w.status,
                    du.new_condition(
                        "Progressing",
                        "True",
                        du.FOUND_NEW_RS_REASON,
                        f'Found new replica set "{_name(existing)}"',
                    ),
                )
                needs_update = True
            if needs_update:
                await self._update_status(w)
            return existing
        if not create:
            return None

        template = du.template_dict(d)
        collision = w.status.get("collisionCount")
        pod_hash = compute_hash(
            du.normalize_template(template), int(collision) if collision is not None else None
        )
        tmeta = dict(template.get("metadata") or {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_KEY: pod_hash}
        template["metadata"] = tmeta
        selector = d.spec.selector.to_dict() if d.spec is not None and d.spec.selector is not None else {}
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_KEY: pod_hash}
        new_annotations: dict[str, str] = {}
        new_rs_body: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{w.name}-{pod_hash}",
                "namespace": w.namespace,
                "ownerReferences": [new_controller_ref(d, "apps/v1", "Deployment")],
                "labels": dict(tmeta["labels"]),
            },
            "spec": {"replicas": 0, "minReadySeconds": min_ready, "selector": selector, "template": template},
        }
        if min_ready == 0:
            del new_rs_body["spec"]["minReadySeconds"]
        draft = ReplicaSet.from_dict(new_rs_body)
        count = du.new_rs_new_replicas(d, [*old_rss, draft], draft)
        new_rs_body["spec"]["replicas"] = count
        du.set_new_replica_set_annotations(d, new_annotations, new_revision, False)
        new_rs_body["metadata"]["annotations"] = new_annotations
        already_exists = False
        try:
            created = await self.client.apps_v1.replica_sets(w.namespace).create(
                ReplicaSet.from_dict(new_rs_body)
            )
        except Exception as err:
            if is_already_exists(err):
                try:
                    found = self.rs_lister.replica_sets(w.namespace).get(new_rs_body["metadata"]["name"])
                except NotFound:
                    raise err from None
                ref = controller_ref_of(found)
                if (
                    ref is not None
                    and ref.uid == _uid(d)
                    and du.equal_ignore_hash(du.template_dict(found), du.template_dict(d))
                ):
                    created, already_exists = found, True
                else:
                    # a hash collision: bump collisionCount so the next sync tries another name
                    w.status["collisionCount"] = int(w.status.get("collisionCount") or 0) + 1
                    await self._update_status(w)
                    self.log.info(
                        "hash collision for deployment %s/%s; collisionCount now %s",
                        w.namespace,
                        w.name,
                        w.status["collisionCount"],
                    )
                    raise err from None
            else:
                msg = f'Failed to create new replica set "{new_rs_body["metadata"]["name"]}": {err}'
                if du.has_progress_deadline(d):
                    du.set_condition(
                        w.status, du.new_condition("Progressing", "False", du.FAILED_RS_CREATE_REASON, msg)
                    )
                    try:
                        await self._update_status(w)
                    except Exception:
                        pass
                self.recorder.eventf(d, EVENT_TYPE_WARNING, du.FAILED_RS_CREATE_REASON, msg)
                raise
        if not already_exists and count > 0:
            self.recorder.eventf(
                d,
                EVENT_TYPE_NORMAL,
                "ScalingReplicaSet",
                "Scaled up replica set %s from 0 to %d",
                _name(created),
                count,
            )
        needs_update = await self._set_revision(w, new_revision)
        if not already_exists and du.has_progress_deadline(d):
            du.set_condition(
                w.status,
                du.new_condition(
                    "Progressing", "True", du.NEW_RS_REASON, f'Created new replica set "{_name(created)}"'
                ),
            )
            needs_update = True
        if needs_update:
            await self._update_status(w)
        return created

    # -- scaling ----------------------------------------------------------------------------------

    async def scale_replica_set_and_record_event(
        self, rs: ReplicaSet, new_scale: int, w: _Work
    ) -> tuple[bool, ReplicaSet]:
        if du.replicas_of(rs) == new_scale:
            return False, rs
        op = "up" if du.replicas_of(rs) < new_scale else "down"
        return await self.scale_replica_set(rs, new_scale, w, op)

    async def scale_replica_set(
        self, rs: ReplicaSet, new_scale: int, w: _Work, op: str
    ) -> tuple[bool, ReplicaSet]:
        """Set the size and the replica annotations of ``rs``; event ``ScalingReplicaSet``."""
        d = w.d
        size_changed = du.replicas_of(rs) != new_scale
        desired, maximum = du.replicas_of(d), du.replicas_of(d) + du.max_surge(d)
        if not size_changed and not du.replicas_annotations_need_update(rs, desired, maximum):
            return False, rs
        old_scale = du.replicas_of(rs)
        annotations = du.annotations_of(rs)
        du.set_replicas_annotations(annotations, desired, maximum)
        updated = await self._update_rs(rs, new_scale, annotations)
        if size_changed:
            self.recorder.eventf(
                d,
                EVENT_TYPE_NORMAL,
                "ScalingReplicaSet",
                "Scaled %s replica set %s from %d to %d",
                op,
                _name(rs),
                old_scale,
                new_scale,
            )
        return size_changed, updated

    async def scale(self, w: _Work, new_rs: ReplicaSet | None, old_rss: list[ReplicaSet]) -> None:
        """kube's ``scale``: the one active (or latest) ReplicaSet takes all replicas; a saturated new
        ReplicaSet drains the old ones; otherwise, in a rolling update, replicas are added or removed in
        proportion to the ReplicaSets' sizes."""
        d = w.d
        target = du.find_active_or_latest(new_rs, old_rss)
        if target is not None:
            if du.replicas_of(target) != du.replicas_of(d):
                await self.scale_replica_set_and_record_event(target, du.replicas_of(d), w)
            return
        if du.is_saturated(d, new_rs):
            for old in du.filter_active_replica_sets(old_rss):
                await self.scale_replica_set_and_record_event(old, 0, w)
            return
        if not du.is_rolling_update(d):
            return
        all_rss = du.filter_active_replica_sets([*old_rss, new_rs])
        all_replicas = du.replica_count(all_rss)
        allowed = du.replicas_of(d) + du.max_surge(d) if du.replicas_of(d) > 0 else 0
        to_add = allowed - all_replicas
        op = ""
        if to_add > 0:
            all_rss = du.by_size_newer(all_rss)
            op = "up"
        elif to_add < 0:
            all_rss = du.by_size_older(all_rss)
            op = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rss:
            if to_add != 0:
                proportion = du.get_proportion(rs, d, to_add, added)
                sizes[_name(rs)] = du.replicas_of(rs) + proportion
                added += proportion
            else:
                sizes[_name(rs)] = du.replicas_of(rs)
        for i, rs in enumerate(all_rss):
            if i == 0 and to_add != 0:
                sizes[_name(rs)] = max(0, sizes[_name(rs)] + to_add - added)
            await self.scale_replica_set(rs, sizes[_name(rs)], w, op)

    async def sync_scaling(self, w: _Work, rs_list: list[ReplicaSet]) -> Result:
        """kube's ``sync``: scale for a scaling event or a paused Deployment, clean up when paused,
        write the status."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=False)
        await self.scale(w, new_rs, old_rss)
        if w.d.spec is not None and w.d.spec.paused:
            await self.cleanup_deployment(old_rss, w)
        new_rs, old_rss = self._refresh(w, new_rs, old_rss)
        await self.sync_deployment_status([*old_rss, new_rs], new_rs, w)
        return Result()

    def _refresh(
        self, w: _Work, new_rs: ReplicaSet | None, old_rss: list[ReplicaSet]
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """The ReplicaSets as the cache has them now if newer (after this sync's writes)."""

        def fresh(rs: ReplicaSet) -> ReplicaSet:
            try:
                cached = self.rs_lister.replica_sets(w.namespace).get(_name(rs))
            except NotFound:
                return rs
            if cached.metadata is None or cached.metadata.uid != _uid(rs):
                return rs
            try:
                newer = int(cached.metadata.resource_version or 0) > int(rs.metadata.resource_version or 0)  # type: ignore[union-attr]
            except ValueError:
                newer = False
            return cached if newer else rs

        return (fresh(new_rs) if new_rs is not None else None), [fresh(rs) for rs in old_rss]

    async def sync_status_only(self, w: _Work, rs_list: list[ReplicaSet]) -> Result:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=False)
        await self.sync_deployment_status([*old_rss, new_rs], new_rs, w)
        return Result()

    async def sync_deployment_status(
        self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet | None, w: _Work
    ) -> None:
        new_status = self.calculate_status(all_rss, new_rs, w)
        if _normal_status(new_status) == _normal_status(w.status):
            return
        w.status = new_status
        await self._update_status(w)

    # -- strategies -------------------------------------------------------------------------------

    async def rollout_rolling(self, w: _Work, rs_list: list[ReplicaSet]) -> Result:
        """kube's ``rolloutRolling``."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=True)
        assert new_rs is not None
        all_rss: list[ReplicaSet] = [*old_rss, new_rs]
        scaled_up, new_rs = await self.reconcile_new_replica_set(all_rss, new_rs, w)
        all_rss = [*old_rss, new_rs]
        if scaled_up:
            return await self.sync_rollout_status(all_rss, new_rs, w)
        scaled_down, old_rss = await self.reconcile_old_replica_sets(
            all_rss, du.filter_active_replica_sets(old_rss), old_rss, new_rs, w
        )
        all_rss = [*old_rss, new_rs]
        if scaled_down:
            return await self.sync_rollout_status(all_rss, new_rs, w)
        if du.deployment_complete(w.d, w.status):
            await self.cleanup_deployment(old_rss, w)
        return await self.sync_rollout_status(all_rss, new_rs, w)

    async def reconcile_new_replica_set(
        self, all_rss: list[ReplicaSet], new_rs: ReplicaSet, w: _Work
    ) -> tuple[bool, ReplicaSet]:
        d = w.d
        if du.replicas_of(new_rs) == du.replicas_of(d):
            return False, new_rs
        if du.replicas_of(new_rs) > du.replicas_of(d):
            return await self.scale_replica_set_and_record_event(new_rs, du.replicas_of(d), w)
        count = du.new_rs_new_replicas(d, all_rss, new_rs)
        return await self.scale_replica_set_and_record_event(new_rs, count, w)

    async def reconcile_old_replica_sets(
        self,
        all_rss: list[ReplicaSet],
        active_old: list[ReplicaSet],
        old_rss: list[ReplicaSet],
        new_rs: ReplicaSet,
        w: _Work,
    ) -> tuple[bool, list[ReplicaSet]]:
        """kube's ``reconcileOldReplicaSets``: first scale down unhealthy old replicas, then as many
        as ``maxUnavailable`` allows. Returns (scaled, the old ReplicaSets as updated)."""
        d = w.d
        old_count = du.replica_count(active_old)
        if old_count == 0:
            return False, old_rss
        all_count = du.replica_count(all_rss)
        min_available = du.replicas_of(d) - du.max_unavailable(d)
        new_unavailable = du.replicas_of(new_rs) - du.status_int(new_rs, "available_replicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False, old_rss
        updated: dict[str, ReplicaSet] = {}
        active, cleaned = await self._cleanup_unhealthy_replicas(active_old, w, max_scaled_down, updated)
        scaled = await self._scale_down_old_for_rolling_update([*active, new_rs], active, w, updated)
        result = [updated.get(_uid(rs), rs) for rs in old_rss]
        return cleaned + scaled > 0, result

    async def _cleanup_unhealthy_replicas(
        self, old_rss: list[ReplicaSet], w: _Work, max_cleanup: int, updated: dict[str, ReplicaSet]
    ) -> tuple[list[ReplicaSet], int]:
        ordered = du.by_creation(old_rss)
        total = 0
        for i, rs in enumerate(ordered):
            if total >= max_cleanup:
                break
            replicas, available = du.replicas_of(rs), du.status_int(rs, "available_replicas")
            if replicas == 0 or replicas == available:
                continue
            count = min(max_cleanup - total, replicas - available)
            _, new = await self.scale_replica_set_and_record_event(rs, replicas - count, w)
            ordered[i] = updated[_uid(rs)] = new
            total += count
        return ordered, total

    async def _scale_down_old_for_rolling_update(
        self, all_rss: list[ReplicaSet], old_rss: list[ReplicaSet], w: _Work, updated: dict[str, ReplicaSet]
    ) -> int:
        d = w.d
        min_available = du.replicas_of(d) - du.max_unavailable(d)
        available = du.available_replica_count(all_rss)
        if available <= min_available:
            return 0
        to_scale = available - min_available
        total = 0
        for rs in du.by_creation(old_rss):
            if total >= to_scale:
                break
            replicas = du.replicas_of(rs)
            if replicas == 0:
                continue
            count = min(replicas, to_scale - total)
            _, new = await self.scale_replica_set_and_record_event(rs, replicas - count, w)
            updated[_uid(rs)] = new
            total += count
        return total

    async def rollout_recreate(
        self, w: _Work, rs_list: list[ReplicaSet], pod_map: dict[str, list[Pod]]
    ) -> Result:
        """kube's ``rolloutRecreate``."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=False)
        scaled_down = False
        updated_old: list[ReplicaSet] = []
        for rs in old_rss:
            if du.replicas_of(rs) == 0:
                updated_old.append(rs)
                continue
            scaled, new = await self.scale_replica_set_and_record_event(rs, 0, w)
            scaled_down = scaled_down or scaled
            updated_old.append(new)
        old_rss = updated_old
        if scaled_down:
            return await self.sync_rollout_status([*old_rss, new_rs], new_rs, w)
        if self._old_pods_running(new_rs, old_rss, pod_map):
            return await self.sync_rollout_status([*old_rss, new_rs], new_rs, w)
        if new_rs is None:
            new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(w, rs_list, create=True)
        assert new_rs is not None
        _, new_rs = await self.scale_replica_set_and_record_event(new_rs, du.replicas_of(w.d), w)
        if du.deployment_complete(w.d, w.status):
            await self.cleanup_deployment(old_rss, w)
        return await self.sync_rollout_status([*old_rss, new_rs], new_rs, w)

    @staticmethod
    def _old_pods_running(
        new_rs: ReplicaSet | None, old_rss: list[ReplicaSet], pod_map: dict[str, list[Pod]]
    ) -> bool:
        if du.actual_replica_count(old_rss) > 0:
            return True
        for uid, pods in pod_map.items():
            if new_rs is not None and _uid(new_rs) == uid:
                continue
            for pod in pods:
                phase = pod.status.phase if pod.status is not None else None
                if phase in ("Failed", "Succeeded"):
                    continue
                return True  # Pending, Running, Unknown: it may still run
        return False

    # -- history ----------------------------------------------------------------------------------

    async def cleanup_deployment(self, old_rss: list[ReplicaSet], w: _Work) -> None:
        """Delete the oldest ReplicaSets beyond ``revisionHistoryLimit`` that are scaled to zero and
        settled (kube's ``cleanupDeployment``)."""
        limit = du.revision_history_limit(w.d)
        if limit is None:
            return
        alive = [rs for rs in old_rss if rs.metadata is not None and rs.metadata.deletion_timestamp is None]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        for rs in du.by_revision(alive)[:diff]:
            meta = rs.metadata
            assert meta is not None
            if (
                du.status_int(rs, "replicas") != 0
                or du.replicas_of(rs) != 0
                or int(meta.generation or 0) > du.status_int(rs, "observed_generation")
            ):
                continue
            self.log.info(
                "deleting old replica set %s/%s of deployment %s", meta.namespace, meta.name, w.name
            )
            try:
                await self.client.apps_v1.replica_sets(w.namespace).delete(str(meta.name))
            except Exception as err:
                if not is_not_found(err):
                    raise

    # -- status -----------------------------------------------------------------------------------

    def calculate_status(
        self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet | None, w: _Work
    ) -> dict[str, Any]:
        """kube's ``calculateStatus``: counts from the ReplicaSets and the Available condition."""
        d = w.d
        rss = [rs for rs in all_rss if rs is not None]
        available = du.available_replica_count(rss)
        total = du.replica_count(rss)
        status: dict[str, Any] = {
            "observedGeneration": w.generation,
            "replicas": du.actual_replica_count(rss),
            "updatedReplicas": du.actual_replica_count([new_rs] if new_rs is not None else []),
            "readyReplicas": du.ready_replica_count(rss),
            "availableReplicas": available,
            "unavailableReplicas": max(0, total - available),
        }
        if w.status.get("collisionCount") is not None:
            status["collisionCount"] = w.status["collisionCount"]
        if w.status.get("conditions"):
            status["conditions"] = [dict(c) for c in w.status["conditions"]]
        if available >= du.replicas_of(d) - du.max_unavailable(d):
            du.set_condition(
                status,
                du.new_condition(
                    "Available", "True", du.MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability."
                ),
            )
        else:
            du.set_condition(
                status,
                du.new_condition(
                    "Available",
                    "False",
                    du.MINIMUM_REPLICAS_UNAVAILABLE,
                    "Deployment does not have minimum availability.",
                ),
            )
        return status

    async def sync_rollout_status(
        self, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None, w: _Work
    ) -> Result:
        """kube's ``syncRolloutStatus``: the status with the Progressing condition, and a requeue at
        the progress deadline while the rollout is under way."""
        d = w.d
        olds = [rs for rs in all_rss if rs is not None and (new_rs is None or _uid(rs) != _uid(new_rs))]
        new_rs, fresh_old = self._refresh(w, new_rs, olds)
        rss: list[ReplicaSet] = [*fresh_old, *([new_rs] if new_rs is not None else [])]
        new_status = self.calculate_status(list(rss), new_rs, w)
        if not du.has_progress_deadline(d):
            du.remove_condition(new_status, "Progressing")
        current = du.get_condition(w.status, "Progressing")
        complete_before = (
            int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == du.NEW_RS_AVAILABLE_REASON
        )
        now = _dt.datetime.now(_dt.UTC)
        if du.has_progress_deadline(d) and not complete_before:
            subject = f'ReplicaSet "{_name(new_rs)}"' if new_rs is not None else f'Deployment "{w.name}"'
            if du.deployment_complete(d, new_status):
                du.set_condition(
                    new_status,
                    du.new_condition(
                        "Progressing",
                        "True",
                        du.NEW_RS_AVAILABLE_REASON,
                        f"{subject} has successfully progressed.",
                    ),
                )
            elif du.deployment_progressing(w.status, new_status):
                cond = du.new_condition(
                    "Progressing", "True", du.RS_UPDATED_REASON, f"{subject} is progressing."
                )
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    du.remove_condition(new_status, "Progressing")
                du.set_condition(new_status, cond)
            elif du.deployment_timed_out(d, new_status, now):
                du.set_condition(
                    new_status,
                    du.new_condition(
                        "Progressing", "False", du.TIMED_OUT_REASON, f"{subject} has timed out progressing."
                    ),
                )
        failures = self._replica_failures(rss, new_rs)
        if failures:
            du.set_condition(new_status, failures[0])
        else:
            du.remove_condition(new_status, "ReplicaFailure")
        if _normal_status(new_status) == _normal_status(w.status):
            return self._requeue_stuck(w, new_status, now)
        w.status = new_status
        await self._update_status(w)
        return Result()

    @staticmethod
    def _replica_failures(all_rss: list[ReplicaSet], new_rs: ReplicaSet | None) -> list[dict[str, Any]]:
        def failures(rs: ReplicaSet) -> list[dict[str, Any]]:
            out = []
            for c in (rs.status.conditions if rs.status is not None else None) or []:
                if c.type != "ReplicaFailure":
                    continue
                cd = c.to_dict()
                out.append(
                    {
                        "type": cd.get("type"),
                        "status": cd.get("status"),
                        "lastUpdateTime": cd.get("lastTransitionTime"),
                        "lastTransitionTime": cd.get("lastTransitionTime"),
                        "reason": cd.get("reason"),
                        "message": cd.get("message"),
                    }
                )
            return out

        if new_rs is not None and (found := failures(new_rs)):
            return found
        for rs in all_rss:
            if found := failures(rs):
                return found
        return []

    def _requeue_stuck(self, w: _Work, new_status: dict[str, Any], now: _dt.datetime) -> Result:
        """kube's ``requeueStuckDeployment``: look again when the progress deadline passes."""
        current = du.get_condition(w.status, "Progressing")
        if not du.has_progress_deadline(w.d) or current is None:
            return Result()
        if du.deployment_complete(w.d, new_status) or current.get("reason") == du.TIMED_OUT_REASON:
            return Result()
        since = du.parse_time(current.get("lastUpdateTime"))
        if since is None:
            return Result()
        after = (since + _dt.timedelta(seconds=du.progress_deadline(w.d)) - now).total_seconds()
        if after < 1:
            return Result(requeue=True)
        return Result(requeue_after=after + 1)


def new_deployment_controller(ctx: ControllerContext) -> DeploymentController:
    """The registry's init function."""
    return DeploymentController(ctx)
