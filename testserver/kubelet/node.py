"""Node registration, node status and the node Lease (kubelet_node_status.go, nodestatus/setters.go,
component-helpers/apimachinery/lease).

:class:`NodeAgent` registers the Node (creating it, then writing its status through ``nodes/status`` so
it works whether or not the API server keeps status on create), recomputes the status every
``node_status_update_frequency`` and PATCHes it when it changed or ``node_status_report_frequency``
passed, and renews the Lease ``kube-node-lease/<node>`` every ``0.25 x node_lease_duration_seconds``
(holder = node name, ownerReference = the Node).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import os
import platform
import random
from dataclasses import dataclass, field
from typing import Any

from pyclientgo.api.coordination.v1 import Lease
from pyclientgo.api.core.v1 import Node
from pyclientgo.errors import AlreadyExists, Conflict, NotFound
from pyclientgo.kubernetes import AsyncClientset

__all__ = ["NodeAgent", "NodeConfig", "machine_capacity"]

log = logging.getLogger("kubelet")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _time(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_time(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def machine_capacity() -> dict[str, str]:
    """cpu, memory and ephemeral-storage of this machine (as the kubelet's cadvisor reports them)."""
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    st = os.statvfs("/")
    return {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{mem_kib}Ki",
        "ephemeral-storage": f"{st.f_blocks * st.f_frsize // 1024}Ki",
    }


def _arch() -> str:
    m = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


@dataclass(kw_only=True)
class NodeConfig:
    """What a node registers as. Durations are float seconds."""

    name: str
    """The node's name (``--hostname-override``)."""
    node_ip: str = "127.0.0.1"
    """The InternalIP address (``--node-ip``); pods on the host network get it as their IP."""
    capacity: dict[str, str] = field(default_factory=machine_capacity)
    """cpu, memory, ephemeral-storage; ``pods`` is added from ``max_pods``."""
    max_pods: int = 110
    """``--max-pods``."""
    reserved: dict[str, str] = field(default_factory=dict)
    """``--kube-reserved`` + ``--system-reserved``, subtracted from capacity for allocatable."""
    eviction_hard_memory: str = "100Mi"
    """memory.available hard eviction threshold, also subtracted from allocatable memory."""
    labels: dict[str, str] = field(default_factory=dict)
    """``--node-labels``."""
    taints: list[dict[str, Any]] = field(default_factory=list)
    """``--register-with-taints``."""
    node_status_update_frequency: float = 10.0
    node_status_report_frequency: float = 300.0
    node_lease_duration_seconds: int = 40
    kubelet_version: str = "v1.32.0-pyclientgo"
    kubelet_port: int = 10250


def _allocatable(cfg: NodeConfig) -> dict[str, str]:
    from pyclientgo.apimachinery.quantity import Quantity

    out: dict[str, str] = {}
    for name, value in {**cfg.capacity, "pods": str(cfg.max_pods)}.items():
        q = Quantity.parse(value)
        if name in cfg.reserved:
            q = q - Quantity.parse(cfg.reserved[name])
        if name == "memory" and cfg.eviction_hard_memory:
            q = q - Quantity.parse(cfg.eviction_hard_memory)
        if q.sign() < 0:
            q = Quantity.parse("0")
        out[name] = str(q)
    return out


_CONDITIONS = [
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
]


class NodeAgent:
    """One node's registration, status loop and Lease loop."""

    def __init__(
        self,
        clientset: AsyncClientset,
        config: NodeConfig,
        recorder: Any | None = None,
        api_slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.cs = clientset
        self.api_slots = api_slots or asyncio.Semaphore(1_000_000)
        """Bounds the API calls in flight of all the nodes of a process (so many nodes reuse a few
        kept-alive connections instead of opening one each per renewal)."""
        self.config = config
        self.recorder = recorder
        self.uid: str = ""
        self.pod_cidr: str = ""
        self._conditions: dict[str, dict[str, Any]] = {}
        self._last_report: float = 0.0
        self._lease: Any | None = None
        self.lease_renewals: list[tuple[float, float]] = []
        """(due, done) monotonic times of the last lease renewals (kept short; for benchmarks)."""

    # -- registration ------------------------------------------------------------------------------

    def _node_object(self) -> dict[str, Any]:
        c = self.config
        labels = {
            "beta.kubernetes.io/arch": _arch(),
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": _arch(),
            "kubernetes.io/hostname": c.name,
            "kubernetes.io/os": "linux",
            **c.labels,
        }
        spec: dict[str, Any] = {}
        if c.taints:
            spec["taints"] = c.taints
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": c.name,
                "labels": labels,
                "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": spec,
        }

    def _status(self, now: _dt.datetime) -> dict[str, Any]:
        c = self.config
        conditions = []
        for type_, status, reason, message in _CONDITIONS:
            prev = self._conditions.get(type_)
            transition = prev["lastTransitionTime"] if prev and prev["status"] == status else _time(now)
            cond = {
                "type": type_,
                "status": status,
                "lastHeartbeatTime": _time(now),
                "lastTransitionTime": transition,
                "reason": reason,
                "message": message,
            }
            conditions.append(cond)
        return {
            "capacity": {**c.capacity, "pods": str(c.max_pods)},
            "allocatable": _allocatable(c),
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": c.node_ip},
                {"type": "Hostname", "address": c.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": c.kubelet_port}},
            "nodeInfo": {
                "machineID": _machine_id(),
                "systemUUID": _machine_id(),
                "bootID": _boot_id(),
                "kernelVersion": platform.release(),
                "osImage": _os_image(),
                "containerRuntimeVersion": "pyclientgo://0.1.0",
                "kubeletVersion": c.kubelet_version,
                "kubeProxyVersion": c.kubelet_version,
                "operatingSystem": "linux",
                "architecture": _arch(),
            },
        }

    async def register(self) -> None:
        """Create the Node (or adopt the existing one) and post its first status."""
        nodes = self.cs.core_v1.nodes()
        try:
            node = await nodes.create(Node.model_validate(self._node_object()))
            log.info("Successfully registered node %s", self.config.name)
        except AlreadyExists:
            node = await nodes.get(self.config.name)
        self.uid = (node.metadata.uid if node.metadata else None) or ""
        self.pod_cidr = (node.spec.pod_cidr if node.spec else None) or ""
        await self.post_status(first=True)
        if self.recorder is not None:
            ref = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": self.config.name, "uid": self.config.name},
            }
            self.recorder.event(ref, "Normal", "Starting", "Starting kubelet.")
            self.recorder.event(
                ref, "Normal", "NodeReady", f"Node {self.config.name} status is now: NodeReady"
            )

    async def post_status(self, *, first: bool = False) -> None:
        async with self.api_slots:
            await self._post_status(first=first)

    async def _post_status(self, *, first: bool = False) -> None:
        now = _now()
        status = self._status(now)
        changed = first or any(
            self._conditions.get(cond["type"], {}).get("status") != cond["status"]
            for cond in status["conditions"]
        )
        loop = asyncio.get_running_loop()
        if not changed and loop.time() - self._last_report < self.config.node_status_report_frequency:
            return
        node = await self.cs.core_v1.nodes().patch(
            self.config.name, {"status": status}, patch_type="strategic", subresource="status"
        )
        self.pod_cidr = (node.spec.pod_cidr if node.spec else None) or self.pod_cidr
        self._conditions = {cond["type"]: cond for cond in status["conditions"]}
        self._last_report = loop.time()

    async def status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.node_status_update_frequency)
            try:
                await self.post_status()
            except NotFound:
                log.warning("node %s not found; registering again", self.config.name)
                await self._retry(self.register)
            except Exception as err:
                log.error("Error updating node status, will retry: %s", err)

    async def _retry(self, fn: Any) -> None:
        try:
            await fn()
        except Exception as err:
            log.error("%s failed for node %s: %s", getattr(fn, "__name__", fn), self.config.name, err)

    # -- lease -------------------------------------------------------------------------------------

    def _lease_body(self, now: _dt.datetime) -> dict[str, Any]:
        c = self.config
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": c.name,
                "namespace": "kube-node-lease",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": c.name, "uid": self.uid}],
            },
            "spec": {
                "holderIdentity": c.name,
                "leaseDurationSeconds": c.node_lease_duration_seconds,
                "renewTime": _micro_time(now),
            },
        }

    async def renew_lease(self) -> None:
        """Create or renew ``kube-node-lease/<node>`` (one request when the cached Lease is current)."""
        async with self.api_slots:
            await self._renew_lease()

    async def _renew_lease(self) -> None:
        leases = self.cs.coordination_v1.leases("kube-node-lease")
        now = _now()
        if self._lease is not None:
            body = self._lease.to_dict()
            body["spec"]["renewTime"] = _micro_time(now)
            body["spec"]["holderIdentity"] = self.config.name
            body["spec"]["leaseDurationSeconds"] = self.config.node_lease_duration_seconds
            try:
                self._lease = await leases.update(Lease.from_dict(body))
                return
            except (Conflict, NotFound):
                self._lease = None
        try:
            self._lease = await leases.get(self.config.name)
        except NotFound:
            self._lease = await leases.create(Lease.from_dict(self._lease_body(now)))
            return
        await self._renew_lease()

    async def lease_loop(self, *, jitter: bool = False) -> None:
        interval = 0.25 * self.config.node_lease_duration_seconds
        loop = asyncio.get_running_loop()
        due = loop.time() + (random.uniform(0, interval) if jitter else 0.0)
        retry = 0.2
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                await self.renew_lease()
            except Exception as err:
                # kube's lease controller: 200 ms doubling to 7 s between failed attempts
                log.error(
                    "failed to update lease %s, will retry after %.1fs: %r", self.config.name, retry, err
                )
                due = loop.time() + retry
                retry = min(retry * 2, 7.0)
                continue
            retry = 0.2
            done = loop.time()
            self.lease_renewals = [*self.lease_renewals[-9:], (due, done)]
            due = done + interval


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _machine_id() -> str:
    return _read("/etc/machine-id")


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"
