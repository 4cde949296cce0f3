"""kube's ``helper.DefaultSelector``: the selector of the workloads that select a pod.

The union of the ``spec.selector`` of the Services of the pod's namespace that select it (a Service
without a selector selects nothing), then, by the pod's controller reference, its
ReplicationController's selector or its ReplicaSet's / StatefulSet's label selector. Default
topology spreading (PodTopologySpread with no constraints of the pod's own) counts the pods this
selector matches.
"""

from __future__ import annotations

from pyclientgo.apimachinery.labels import Selector, selector_from_label_selector, selector_from_set
from pyclientgo.apimachinery.meta import get_controller_of_no_copy
from pyclientgo.errors import NotFound
from pyclientgo.listers import ReplicaSetLister, ReplicationControllerLister, ServiceLister, StatefulSetLister
from testserver.scheduler.podinfo import PodInfo

__all__ = ["DefaultSelector"]


class DefaultSelector:
    """``DefaultSelector(services, rcs, rss, sss)(pod_info) -> Selector`` over the informers' listers."""

    def __init__(
        self,
        services: ServiceLister,
        replication_controllers: ReplicationControllerLister,
        replica_sets: ReplicaSetLister,
        stateful_sets: StatefulSetLister,
    ) -> None:
        self.services = services
        self.replication_controllers = replication_controllers
        self.replica_sets = replica_sets
        self.stateful_sets = stateful_sets

    def __call__(self, pod_info: PodInfo) -> Selector:
        ns, labels = pod_info.namespace, pod_info.labels
        label_set: dict[str, str] = {}
        for svc in self.services.services(ns).list():
            selector = svc.spec.selector if svc.spec is not None else None
            if selector is not None and all(labels.get(k) == v for k, v in selector.items()):
                label_set.update(selector)
        result = selector_from_set(label_set)
        owner = get_controller_of_no_copy(pod_info.pod)
        if owner is None:
            return result
        try:
            if owner.kind == "ReplicationController" and owner.api_version == "v1":
                rc = self.replication_controllers.replication_controllers(ns).get(owner.name or "")
                label_set.update((rc.spec.selector if rc.spec is not None else None) or {})
                return selector_from_set(label_set)
            if owner.kind in ("ReplicaSet", "StatefulSet") and owner.api_version == "apps/v1":
                lister = (
                    self.replica_sets.replica_sets
                    if owner.kind == "ReplicaSet"
                    else self.stateful_sets.stateful_sets
                )
                obj = lister(ns).get(owner.name or "")
                raw = obj.spec.selector if obj.spec is not None else None
                other = selector_from_label_selector(raw.to_dict() if raw is not None else None)
                if not other.match_nothing:
                    result = result.add(*other.requirements)
        except (NotFound, ValueError):
            pass
        return result
