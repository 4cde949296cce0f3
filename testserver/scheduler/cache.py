"""The scheduler's cache of nodes and the pods on them, and the per-cycle snapshot.

After kube ``pkg/scheduler/backend/cache``: a scheduled pod is *assumed* onto its node as soon
as the scheduling cycle picks the node (so the next cycle already counts it) while the binding
runs asynchronously; the informer's add of the bound pod *confirms* it; a failed binding *forgets*
it; an assumed pod whose binding finished but which the informer never confirmed expires after
``ttl`` (kube's ``durationToExpireAssumedPod``, 0 = never). Every change bumps a global generation
and stamps the node; :meth:`SchedulerCache.update_snapshot` copies only the nodes changed since the
snapshot's generation, so a cycle never copies the whole cluster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyclientgo.api.core.v1 import Node
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo

__all__ = ["SchedulerCache", "Snapshot"]

log = logging.getLogger("kube-scheduler.cache")


@dataclass
class _PodState:
    info: PodInfo
    assumed: bool = False
    binding_finished: bool = False
    deadline: float | None = None


@dataclass
class Snapshot:
    """The nodes as one scheduling cycle sees them (kube ``cache.Snapshot``)."""

    node_info_map: dict[str, NodeInfo] = field(default_factory=dict)
    node_info_list: list[NodeInfo] = field(default_factory=list)
    have_pods_with_affinity: list[NodeInfo] = field(default_factory=list)
    have_pods_with_required_anti_affinity: list[NodeInfo] = field(default_factory=list)
    generation: int = 0
    positions: dict[str, int] = field(default_factory=dict)
    node_revision: int = 0
    """Bumped whenever a Node object (not just its pods) changed."""

    def get(self, name: str) -> NodeInfo | None:
        return self.node_info_map.get(name)

    def num_nodes(self) -> int:
        return len(self.node_info_list)


def _zone(node_info: NodeInfo) -> str:
    labels = node_info.labels
    region = labels.get("topology.kubernetes.io/region", "")
    zone = labels.get("topology.kubernetes.io/zone", "")
    return f"{region}:\x00:{zone}" if region or zone else ""


class SchedulerCache:
    """Nodes, the pods bound or assumed onto them, and the snapshot (kube ``cache.Cache``)."""

    def __init__(self, ttl: float = 0.0) -> None:
        self.ttl = ttl
        self.nodes: dict[str, NodeInfo] = {}
        self.pod_states: dict[str, _PodState] = {}
        self.assumed: set[str] = set()
        self.generation = 0
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._tree_changed = True
        self._tree: list[str] = []
        self.node_revision = 0

    def node_count(self) -> int:
        """Nodes the cache knows (a deleted node whose pods are still there does not count)."""
        return sum(1 for info in self.nodes.values() if info.node is not None)

    # -- nodes ------------------------------------------------------------------------------------

    def _bump(self, info: NodeInfo) -> None:
        self.generation += 1
        info.generation = self.generation
        self._dirty.add(info.name)

    def _node_info(self, name: str) -> NodeInfo:
        info = self.nodes.get(name)
        if info is None:
            info = NodeInfo()
            info.name = name
            self.nodes[name] = info
        return info

    def add_node(self, node: Node) -> NodeInfo:
        name = (node.metadata.name if node.metadata is not None else None) or ""
        info = self._node_info(name)
        old_zone = _zone(info) if info.node is not None else None
        info.set_node(node)
        self.node_revision += 1
        if old_zone is None or old_zone != _zone(info):
            self._tree_changed = True
        self._bump(info)
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self.nodes.get(name)
        if info is None:
            return
        self._tree_changed = True
        self.node_revision += 1
        if info.pods:
            # Pods still on it keep a node-less NodeInfo, as kube's cache does, until they go.
            info.node = None
            self._bump(info)
        else:
            del self.nodes[name]
            self._dirty.discard(name)
            self.generation += 1
        self._removed.add(name)

    # -- pods -------------------------------------------------------------------------------------

    def assume_pod(self, info: PodInfo) -> None:
        """Count ``info`` (its ``node_name`` set) on its node before the binding is confirmed."""
        if info.key in self.pod_states:
            raise ValueError(f"pod {info.key} is in the cache, so can't be assumed")
        self.pod_states[info.key] = _PodState(info, assumed=True)
        self.assumed.add(info.key)
        node = self._node_info(info.node_name)
        node.add_pod(info)
        self._bump(node)

    def finish_binding(self, key: str, now: float) -> None:
        state = self.pod_states.get(key)
        if state is not None and state.assumed:
            state.binding_finished = True
            state.deadline = now + self.ttl if self.ttl > 0 else None

    def forget_pod(self, key: str) -> None:
        """Undo :meth:`assume_pod` (the binding failed)."""
        state = self.pod_states.get(key)
        if state is None or not state.assumed:
            return
        self._remove(state.info)
        del self.pod_states[key]
        self.assumed.discard(key)

    def is_assumed(self, key: str) -> bool:
        return key in self.assumed

    def _remove(self, info: PodInfo) -> None:
        node = self.nodes.get(info.node_name)
        if node is None:
            return
        node.remove_pod(info.key)
        if node.node is None and not node.pods:
            del self.nodes[info.node_name]
            self._dirty.discard(info.node_name)
            self._removed.add(info.node_name)
            self.generation += 1
        else:
            self._bump(node)

    def add_pod(self, info: PodInfo) -> None:
        """A bound pod seen by the informer: confirms an assumed pod or adds it."""
        state = self.pod_states.get(info.key)
        if state is not None and state.assumed:
            if state.info.node_name != info.node_name:
                log.info(
                    "pod %s was assumed to %s but bound to %s", info.key, state.info.node_name, info.node_name
                )
            self._remove(state.info)
            self.assumed.discard(info.key)
        elif state is not None:
            self._remove(state.info)
        self.pod_states[info.key] = _PodState(info)
        node = self._node_info(info.node_name)
        node.add_pod(info)
        self._bump(node)

    update_pod = add_pod

    def remove_pod(self, key: str) -> None:
        state = self.pod_states.pop(key, None)
        if state is None:
            return
        self.assumed.discard(key)
        self._remove(state.info)

    def get_pod(self, key: str) -> PodInfo | None:
        state = self.pod_states.get(key)
        return state.info if state is not None else None

    def cleanup_expired_assumed_pods(self, now: float) -> list[str]:
        """Forget assumed pods whose binding finished but was never confirmed before the deadline."""
        expired = []
        for key in list(self.assumed):
            state = self.pod_states[key]
            if state.binding_finished and state.deadline is not None and now > state.deadline:
                log.warning("assumed pod %s expired", key)
                self._remove(state.info)
                del self.pod_states[key]
                self.assumed.discard(key)
                expired.append(key)
        return expired

    # -- snapshot ---------------------------------------------------------------------------------

    def _node_tree(self) -> list[str]:
        """Node names interleaved across zones (kube's ``nodeTree``), so a partial search spreads."""
        zones: dict[str, list[str]] = {}
        for name, info in self.nodes.items():
            if info.node is not None:
                zones.setdefault(_zone(info), []).append(name)
        out: list[str] = []
        lists = list(zones.values())
        i = 0
        while lists:
            lists = [lst for lst in lists if i < len(lst)]
            for lst in lists:
                out.append(lst[i])
            i += 1
        return out

    def update_snapshot(self, snapshot: Snapshot) -> None:
        """Bring ``snapshot`` up to date, copying only the nodes that changed since its generation."""
        if snapshot.generation == self.generation and not self._tree_changed and not self._dirty:
            return
        rebuild = self._tree_changed or bool(self._removed)
        affinity_changed = False
        changed: list[str] = []
        for name in self._dirty:
            info = self.nodes.get(name)
            if info is None:
                continue
            old = snapshot.node_info_map.get(name)
            if old is None or old.generation != info.generation:
                clone = info.clone()
                if old is None:
                    rebuild = True
                elif (
                    (bool(old.pods_with_affinity) != bool(clone.pods_with_affinity))
                    or (
                        bool(old.pods_with_required_anti_affinity)
                        != bool(clone.pods_with_required_anti_affinity)
                    )
                    or clone.pods_with_affinity
                    or clone.pods_with_required_anti_affinity
                ):
                    affinity_changed = True
                snapshot.node_info_map[name] = clone
                changed.append(name)
        for name in self._removed:
            if name not in self.nodes:
                snapshot.node_info_map.pop(name, None)
        self._dirty.clear()
        self._removed.clear()
        if self._tree_changed:
            self._tree = self._node_tree()
            self._tree_changed = False
        if rebuild:
            snapshot.node_info_list = [
                snapshot.node_info_map[n] for n in self._tree if n in snapshot.node_info_map
            ]
            snapshot.positions = {info.name: i for i, info in enumerate(snapshot.node_info_list)}
            affinity_changed = True
        else:
            for name in changed:
                pos = snapshot.positions.get(name)
                if pos is not None:
                    snapshot.node_info_list[pos] = snapshot.node_info_map[name]
        if affinity_changed:
            snapshot.have_pods_with_affinity = [n for n in snapshot.node_info_list if n.pods_with_affinity]
            snapshot.have_pods_with_required_anti_affinity = [
                n for n in snapshot.node_info_list if n.pods_with_required_anti_affinity
            ]
        snapshot.generation = self.generation
        snapshot.node_revision = self.node_revision
