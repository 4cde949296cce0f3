"""A node as the scheduler sees it: :class:`NodeInfo` (kube ``framework.NodeInfo``).

The typed :class:`~pyclientgo.api.core.v1.Node`, its allocatable resources parsed once, and the
pods bound or assumed onto it with their sums (requested, non-zero requested for scoring, host
ports in use), the pods with (anti-)affinity among them, and its images' sizes. ``generation`` is
stamped by the cache on every change, so a snapshot copies only the nodes that changed.
"""

from __future__ import annotations

from pyclientgo.api.core.v1 import Node, Taint
from testserver.scheduler.podinfo import HostPort, PodInfo
from testserver.scheduler.types import Resource

__all__ = ["NodeInfo", "normalize_image"]


def normalize_image(name: str) -> str:
    """kube ``normalizedImageName``: an image without a tag or digest means ``:latest``."""
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        return name + ":latest"
    return name


class NodeInfo:
    """A node and the pods on it, with their sums (kube ``framework.NodeInfo``)."""

    __slots__ = (
        "allocatable",
        "generation",
        "image_sizes",
        "labels",
        "name",
        "node",
        "non_zero_requested",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "requested",
        "taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Node | None = None) -> None:
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.requested = Resource()
        self.non_zero_requested = Resource()
        self.used_ports: dict[HostPort, int] = {}
        self.generation = 0
        self.node: Node | None = None
        self.name = ""
        self.labels: dict[str, str] = {}
        self.taints: list[Taint] = []
        self.unschedulable = False
        self.allocatable = Resource()
        self.image_sizes: dict[str, int] = {}
        if node is not None:
            self.set_node(node)

    def set_node(self, node: Node) -> None:
        self.node = node
        meta, spec, status = node.metadata, node.spec, node.status
        self.name = (meta.name if meta is not None else None) or ""
        self.labels = (meta.labels if meta is not None else None) or {}
        self.taints = list((spec.taints if spec is not None else None) or ())
        self.unschedulable = bool(spec.unschedulable) if spec is not None else False
        resources = (status.allocatable or status.capacity) if status is not None else None
        self.allocatable = Resource.from_list(resources)
        sizes: dict[str, int] = {}
        for image in (status.images if status is not None else None) or ():
            for name in image.names or ():
                sizes[normalize_image(name)] = image.size_bytes or 0
        self.image_sizes = sizes

    def add_pod(self, pi: PodInfo) -> None:
        self.pods.append(pi)
        if pi.has_affinity():
            self.pods_with_affinity.append(pi)
        if pi.anti_affinity_terms:
            self.pods_with_required_anti_affinity.append(pi)
        self.requested.add(pi.requests)
        self.non_zero_requested.add(pi.non_zero_requests)
        for port in pi.host_ports:
            self.used_ports[port] = self.used_ports.get(port, 0) + 1

    def remove_pod(self, key: str) -> PodInfo | None:
        for i, pi in enumerate(self.pods):
            if pi.key == key:
                del self.pods[i]
                break
        else:
            return None
        if pi.has_affinity():
            self.pods_with_affinity = [p for p in self.pods_with_affinity if p.key != key]
        if pi.anti_affinity_terms:
            self.pods_with_required_anti_affinity = [
                p for p in self.pods_with_required_anti_affinity if p.key != key
            ]
        self.requested.add(pi.requests, -1)
        self.non_zero_requested.add(pi.non_zero_requests, -1)
        for port in pi.host_ports:
            left = self.used_ports.get(port, 0) - 1
            if left > 0:
                self.used_ports[port] = left
            else:
                self.used_ports.pop(port, None)
        return pi

    def clone(self) -> NodeInfo:
        """A copy whose pod lists and sums can change without touching this one."""
        c = NodeInfo.__new__(NodeInfo)
        c.pods = list(self.pods)
        c.pods_with_affinity = list(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        c.requested = self.requested.clone()
        c.non_zero_requested = self.non_zero_requested.clone()
        c.used_ports = dict(self.used_ports)
        c.generation = self.generation
        c.node = self.node
        c.name = self.name
        c.labels = self.labels
        c.taints = self.taints
        c.unschedulable = self.unschedulable
        c.allocatable = self.allocatable
        c.image_sizes = self.image_sizes
        return c

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)})"
