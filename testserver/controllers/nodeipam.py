"""The node IPAM controller's range allocator (``pkg/controller/nodeipam/ipam/range_allocator.go``).

With ``--allocate-node-cidrs`` and ``--cluster-cidr`` (comma-separated for dual stack), every Node
without ``spec.podCIDRs`` gets the next free subnet of each cluster CIDR (mask
``--node-cidr-mask-size-ipv4``/``-ipv6``, or ``--node-cidr-mask-size``; kube's defaults /24 and /64),
written as ``spec.podCIDR`` and ``spec.podCIDRs`` in one patch. Ranges that nodes already hold are
marked used before the first allocation (kube occupies them from the initial node list), the Service
range is taken out when it overlaps a cluster CIDR, and a deleted node's ranges go back to the pool.
A full pool records kube's ``CIDRNotAvailable`` event on the node ("Node n status is now:
CIDRNotAvailable") and retries with back-off; unlike kube, a release also requeues the nodes still
waiting, so they do not sit out a long back-off.

:class:`CIDRSet` is kube's ``cidrset``: subnets of one cluster CIDR by index, allocated round-robin
from the last allocation (so a released range is not handed out again at once).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pyclientgo.api.core.v1 import Node
from pyclientgo.controller import Controller, ControllerOptions, Request, Result
from pyclientgo.errors import NotFound
from pyclientgo.tools.record import EVENT_TYPE_NORMAL
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLER_NAME",
    "CIDRSet",
    "CIDRSetError",
    "NodeIPAMController",
    "new_node_ipam_controller",
    "parse_cluster_cidrs",
]

CONTROLLER_NAME = "node-ipam-controller"
EVENT_COMPONENT = "cidrAllocator"
"""The event source kube's range allocator reports as."""

_MAX_PREFIX_DIFFERENCE = 16
"""kube's cidrset refuses node masks more than 16 bits longer than the cluster mask."""

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CIDRSetError(ValueError):
    """A cluster CIDR / node mask pair that cannot be split, or a range outside the set."""


class CIDRSet:
    """The subnets of ``cluster_cidr`` with prefix length ``node_mask_size``, used or free."""

    def __init__(self, cluster_cidr: IPNetwork, node_mask_size: int) -> None:
        if node_mask_size < cluster_cidr.prefixlen:
            raise CIDRSetError(
                f"node mask /{node_mask_size} is shorter than the cluster CIDR's /{cluster_cidr.prefixlen}"
            )
        if node_mask_size > cluster_cidr.max_prefixlen:
            raise CIDRSetError(f"node mask /{node_mask_size} is too long for {cluster_cidr}")
        if node_mask_size - cluster_cidr.prefixlen > _MAX_PREFIX_DIFFERENCE:
            raise CIDRSetError(
                "a node mask more than 16 bits longer than the cluster mask is not supported "
                f"({cluster_cidr} with /{node_mask_size})"
            )
        self.cluster_cidr = cluster_cidr
        self.node_mask_size = node_mask_size
        self.max_cidrs = 1 << (node_mask_size - cluster_cidr.prefixlen)
        self._step = 1 << (cluster_cidr.max_prefixlen - node_mask_size)
        self._base = int(cluster_cidr.network_address)
        self._used: set[int] = set()
        self._next_candidate = 0

    @property
    def allocated(self) -> int:
        return len(self._used)

    def _subnet(self, index: int) -> IPNetwork:
        address = ipaddress.ip_address(self._base + index * self._step)
        return ipaddress.ip_network(f"{address}/{self.node_mask_size}")

    def _indices(self, cidr: IPNetwork) -> range:
        """The subnet indices ``cidr`` covers (clipped to the set), as kube's ``getBeginningAndEndIndices``."""
        if cidr.version != self.cluster_cidr.version:
            raise CIDRSetError(f"{cidr} is not an IPv{self.cluster_cidr.version} range")
        if not (cidr.subnet_of(self.cluster_cidr) or self.cluster_cidr.subnet_of(cidr)):  # type: ignore[arg-type]
            raise CIDRSetError(f"{cidr} is outside the cluster CIDR {self.cluster_cidr}")
        first = max(int(cidr.network_address), self._base)
        last = min(int(cidr.broadcast_address), int(self.cluster_cidr.broadcast_address))
        return range((first - self._base) // self._step, (last - self._base) // self._step + 1)

    def allocate_next(self) -> IPNetwork:
        """The next free subnet after the last one handed out (raises when the set is full)."""
        if len(self._used) >= self.max_cidrs:
            raise CIDRSetError(
                "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
            )
        for offset in range(self.max_cidrs):
            index = (self._next_candidate + offset) % self.max_cidrs
            if index not in self._used:
                self._used.add(index)
                self._next_candidate = (index + 1) % self.max_cidrs
                return self._subnet(index)
        raise CIDRSetError(
            "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
        )

    def occupy(self, cidr: IPNetwork) -> None:
        """Mark every subnet ``cidr`` covers as used."""
        self._used.update(self._indices(cidr))

    def release(self, cidr: IPNetwork) -> None:
        """Return the subnets ``cidr`` covers to the pool."""
        self._used.difference_update(self._indices(cidr))


def parse_cluster_cidrs(value: str) -> list[IPNetwork]:
    """``--cluster-cidr``: one CIDR, or an IPv4 and an IPv6 one (dual stack), comma-separated."""
    cidrs = [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]
    if not cidrs:
        raise ValueError("--cluster-cidr is empty")
    if len(cidrs) > 2:
        raise ValueError("--cluster-cidr takes at most two CIDRs (one per IP family)")
    if len(cidrs) == 2 and cidrs[0].version == cidrs[1].version:
        raise ValueError("--cluster-cidr with two CIDRs needs one IPv4 and one IPv6 range")
    return cidrs


class NodeIPAMController:
    """Gives every Node pod CIDRs from the cluster CIDRs (module docstring)."""

    def __init__(self, ctx: ControllerContext) -> None:
        opts = ctx.options
        self.client = ctx.clientset
        self.log = ctx.logger(CONTROLLER_NAME)
        self.recorder = ctx.event_recorder(EVENT_COMPONENT) if ctx.manager is not None else None
        self.cidr_sets: list[CIDRSet] = []
        for cidr in parse_cluster_cidrs(opts.cluster_cidr):
            family_mask = (
                opts.node_cidr_mask_size_ipv4 if cidr.version == 4 else opts.node_cidr_mask_size_ipv6
            )
            mask = family_mask or opts.node_cidr_mask_size or (24 if cidr.version == 4 else 64)
            self.cidr_sets.append(CIDRSet(cidr, mask))
        if opts.service_cluster_ip_range:
            for part in opts.service_cluster_ip_range.split(","):
                self._filter_out_service_range(ipaddress.ip_network(part.strip(), strict=False))
        nodes = ctx.informer_factory.core_v1.nodes()
        self.node_lister = nodes.lister
        self.controller = Controller(CONTROLLER_NAME, self.sync, ControllerOptions(clock=ctx.clock))
        self.controller.for_(nodes.informer)
        self._primed = False
        self._held: dict[str, list[IPNetwork]] = {}
        """The ranges each node holds, so a deleted node's ranges can be released."""

    def _filter_out_service_range(self, service: IPNetwork) -> None:
        for cidr_set in self.cidr_sets:
            cluster = cidr_set.cluster_cidr
            if service.version != cluster.version:
                continue
            if service.overlaps(cluster):
                cidr_set.occupy(service)

    async def run(self) -> None:
        await self.controller.run()

    def need_leader_election(self) -> bool:
        return True

    def _prime(self) -> None:
        """Occupy what every cached node already holds, before the first allocation."""
        for node in self.node_lister.list():
            try:
                self._occupy(node)
            except (CIDRSetError, ValueError) as err:
                self.log.error("node %s: %s", _name(node), err)
        self._primed = True

    def _occupy(self, node: Node) -> None:
        cidrs = [ipaddress.ip_network(c, strict=False) for c in _pod_cidrs(node)]
        for index, cidr in enumerate(cidrs):
            if index >= len(self.cidr_sets):
                raise CIDRSetError(
                    f"node:{_name(node)} has an allocated cidr: {cidr} at index:{index} that does not "
                    "exist in cluster cidrs configuration"
                )
            self.cidr_sets[index].occupy(cidr)
        if cidrs:
            self._held[_name(node)] = cidrs

    async def sync(self, request: Request) -> Result:
        if not self._primed:
            self._prime()
        try:
            node: Node = self.node_lister.get(request.name)
        except NotFound:
            self._release(request.name)
            return Result()
        if node.metadata is not None and node.metadata.deletion_timestamp is not None:
            return Result()
        if _pod_cidrs(node):
            if request.name not in self._held:
                self._occupy(node)
            return Result()
        allocated: list[IPNetwork] = []
        try:
            for cidr_set in self.cidr_sets:
                allocated.append(cidr_set.allocate_next())
        except CIDRSetError as err:
            for cidr_set, cidr in zip(self.cidr_sets, allocated, strict=False):
                cidr_set.release(cidr)
            self._record(node, "CIDRNotAvailable")
            raise RuntimeError(
                f"failed to allocate cidr from cluster cidr at idx:{len(allocated)}: {err}"
            ) from err
        strings = [str(c) for c in allocated]
        patch: dict[str, Any] = {"spec": {"podCIDR": strings[0], "podCIDRs": strings}}
        try:
            await self.client.core_v1.nodes().patch(request.name, patch, patch_type="strategic")
        except NotFound:
            for cidr_set, cidr in zip(self.cidr_sets, allocated, strict=True):
                cidr_set.release(cidr)
            return Result()
        except Exception:
            for cidr_set, cidr in zip(self.cidr_sets, allocated, strict=True):
                cidr_set.release(cidr)
            self._record(node, "CIDRAssignmentFailed")
            raise
        self._held[request.name] = allocated
        self.log.info('"Set node PodCIDR" node="%s" podCIDRs=%s', request.name, strings)
        return Result()

    def _release(self, name: str) -> None:
        held = self._held.pop(name, [])
        for cidr_set, cidr in zip(self.cidr_sets, held, strict=False):
            try:
                cidr_set.release(cidr)
            except CIDRSetError as err:
                self.log.error("releasing %s of node %s: %s", cidr, name, err)
        if held:
            # Nodes waiting for a range are retried now rather than at their next back-off (which
            # grows to 1000 s in kube, where they wait for it).
            for node in self.node_lister.list():
                if not _pod_cidrs(node) and _name(node):
                    self.controller.queue.add(Request("", _name(node)))

    def _record(self, node: Node, status: str) -> None:
        """kube's ``RecordNodeStatusChange``: a Normal event "Node n status is now: s"."""
        if self.recorder is not None:
            name = _name(node)
            self.recorder.eventf(node, EVENT_TYPE_NORMAL, status, "Node %s status is now: %s", name, status)


def _name(node: Node) -> str:
    return (node.metadata.name if node.metadata is not None else None) or ""


def _pod_cidrs(node: Node) -> list[str]:
    spec = node.spec
    if spec is None:
        return []
    if spec.pod_cidrs:
        return list(spec.pod_cidrs)
    return [spec.pod_cidr] if spec.pod_cidr else []


def new_node_ipam_controller(ctx: ControllerContext) -> NodeIPAMController | None:
    """The registry's init function: off unless ``--allocate-node-cidrs`` (kube's ``enabled=false``)."""
    if not ctx.options.allocate_node_cidrs:
        return None
    return NodeIPAMController(ctx)
