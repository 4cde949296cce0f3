"""Cluster IP and NodePort allocation for Services (kube's ipallocator/portallocator and the
service registry's allocation step), with kube's errors.

State is not stored separately: it is *derived from the stored Services*. :class:`ServiceAllocations`
is fed every stored Service by the background loop (list at startup, then a storage watch), so
deletes from any path release their IP and ports, and a restarted server (SQLite storage)
rebuilds the same state. Allocations made by a request that has not been written yet are held
as *pending* (per Service key) until the watch reports that Service, or for a short grace period
if the write failed.
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from testserver.apiserver import status as st
from testserver.apiserver.registry import field as fe
from testserver.apiserver.registry.values import as_dict

__all__ = ["IPRange", "PortRange", "ServiceAllocations", "service_allocations_of"]

_PENDING_SECONDS = 30.0


class IPRange:
    """A service CIDR (``--service-cluster-ip-range``): network and broadcast addresses excluded."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr, strict=False)
        self.cidr = str(self.network)
        first = int(self.network.network_address)
        last = int(self.network.broadcast_address)
        if self.network.num_addresses > 2:
            first, last = first + 1, last - 1 if self.network.version == 4 else last
        self.first, self.last = first, last
        self.family = "IPv4" if self.network.version == 4 else "IPv6"

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def first_ip(self) -> str:
        return str(ipaddress.ip_address(self.first))

    def contains(self, ip: str) -> bool:
        try:
            n = int(ipaddress.ip_address(ip))
        except ValueError:
            return False
        return self.first <= n <= self.last and ipaddress.ip_address(ip).version == self.network.version

    def pick(self, taken: Callable[[str], bool]) -> str | None:
        """A free address: random probes first (large ranges), then a full scan (small ones)."""
        if self.size <= 0:
            return None
        for _ in range(min(64, self.size)):
            ip = str(ipaddress.ip_address(random.randint(self.first, self.last)))
            if not taken(ip):
                return ip
        start = random.randint(0, self.size - 1)
        for i in range(self.size):
            ip = str(ipaddress.ip_address(self.first + (start + i) % self.size))
            if not taken(ip):
                return ip
        return None


class PortRange:
    """A NodePort range (``--service-node-port-range``, ``30000-32767``)."""

    def __init__(self, spec: str) -> None:
        lo, _, hi = spec.partition("-")
        self.base = int(lo)
        self.last = int(hi) if hi else int(lo)
        if self.last < self.base:
            raise ValueError(f"invalid port range {spec!r}")
        self.text = f"{self.base}-{self.last}"

    @property
    def size(self) -> int:
        return self.last - self.base + 1

    def contains(self, port: int) -> bool:
        return self.base <= port <= self.last

    def pick(self, taken: Callable[[int], bool]) -> int | None:
        start = random.randint(0, self.size - 1)
        for i in range(self.size):
            port = self.base + (start + i) % self.size
            if not taken(port):
                return port
        return None


def service_allocations_of(obj: dict[str, Any]) -> tuple[set[str], set[int]]:
    """The cluster IPs and node ports a stored Service holds."""
    spec = as_dict(obj.get("spec"))
    ips = {ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str) and ip not in ("", "None")}
    if isinstance(spec.get("clusterIP"), str) and spec["clusterIP"] not in ("", "None"):
        ips.add(spec["clusterIP"])
    ports = {
        p["nodePort"]
        for p in spec.get("ports") or []
        if isinstance(p, dict) and isinstance(p.get("nodePort"), int) and p["nodePort"]
    }
    if isinstance(spec.get("healthCheckNodePort"), int) and spec["healthCheckNodePort"]:
        ports.add(spec["healthCheckNodePort"])
    return ips, ports


@dataclass
class _Pending:
    ips: set[str] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    expires: float = 0.0


class ServiceAllocations:
    """Who holds which cluster IP / node port, and the allocation step of Service writes."""

    def __init__(
        self, ip_range: IPRange, port_range: PortRange, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ip_range = ip_range
        self.port_range = port_range
        self._clock = clock
        self._stored: dict[str, tuple[set[str], set[int]]] = {}
        self._ip_owner: dict[str, str] = {}
        self._port_owner: dict[int, str] = {}
        self._pending: dict[str, _Pending] = {}

    # -- state fed from storage --------------------------------------------------------------

    def observe(self, key: str, obj: dict[str, Any] | None) -> None:
        """A stored Service changed (``obj``) or was deleted (``None``)."""
        old = self._stored.pop(key, None)
        if old is not None:
            for ip in old[0]:
                if self._ip_owner.get(ip) == key:
                    del self._ip_owner[ip]
            for port in old[1]:
                if self._port_owner.get(port) == key:
                    del self._port_owner[port]
        self._pending.pop(key, None)
        if obj is None:
            return
        ips, ports = service_allocations_of(obj)
        self._stored[key] = (ips, ports)
        for ip in ips:
            self._ip_owner.setdefault(ip, key)
        for port in ports:
            self._port_owner.setdefault(port, key)

    def reset(self) -> None:
        self._stored.clear()
        self._ip_owner.clear()
        self._port_owner.clear()

    def _ip_holder(self, ip: str) -> str | None:
        owner = self._ip_owner.get(ip)
        return owner if owner is not None else self._pending_holder(lambda p: ip in p.ips)

    def _port_holder(self, port: int) -> str | None:
        owner = self._port_owner.get(port)
        return owner if owner is not None else self._pending_holder(lambda p: port in p.ports)

    def _pending_holder(self, holds: Callable[[_Pending], bool]) -> str | None:
        """The key of the unexpired reservation that ``holds`` the value; expired ones are dropped."""
        now = self._clock()
        for key, pending in list(self._pending.items()):
            if pending.expires < now:
                del self._pending[key]
            elif holds(pending):
                return key
        return None

    @property
    def used_ips(self) -> int:
        return len(self._ip_owner)

    # -- the allocation step ---------------------------------------------------------------

    def allocate(self, key: str, svc: dict[str, Any], old: dict[str, Any] | None, *, dry_run: bool) -> None:
        """Fill cluster IPs, IP families and node ports of ``svc`` (new or updated), reserving them.

        Raises 422 Invalid for a taken or out-of-range value and 500 when a range is full.
        """
        spec = svc.get("spec")
        if not isinstance(spec, dict):
            return
        name = svc["metadata"].get("name") or ""
        stype = spec.get("type")
        reserved_ips: set[str] = set()
        reserved_ports: set[int] = set()
        if stype != "ExternalName":
            self._families(spec)
            ip = spec.get("clusterIP") or ""
            if ip != "None":
                already = old is not None and ip and ip in service_allocations_of(old)[0]
                if not ip:
                    picked = self.ip_range.pick(lambda c: self._ip_holder(c) not in (None, key))
                    if picked is None:
                        raise st.internal_error("failed to allocate a serviceIP: range is full")
                    ip = picked
                elif not already:
                    self._check_ip(key, name, ip, spec)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
                reserved_ips.add(ip)
        if (
            stype in ("NodePort", "LoadBalancer")
            and spec.get("allocateLoadBalancerNodePorts", True) is not False
        ):
            old_ports = service_allocations_of(old)[1] if old is not None else set()
            taken_here: dict[int, str] = {}
            for i, port in enumerate(spec.get("ports") or []):
                if not isinstance(port, dict):
                    continue
                node_port = port.get("nodePort")
                if node_port:
                    if node_port not in old_ports and node_port not in taken_here:
                        self._check_port(key, name, i, node_port, port.get("protocol"), taken_here)
                    taken_here[node_port] = str(port.get("protocol"))
                    reserved_ports.add(node_port)
                    continue
                picked_port = self.port_range.pick(
                    lambda p: p in taken_here or self._port_holder(p) not in (None, key)
                )
                if picked_port is None:
                    raise st.internal_error("failed to allocate a nodePort: range is full")
                port["nodePort"] = picked_port
                taken_here[picked_port] = str(port.get("protocol"))
                reserved_ports.add(picked_port)
        if not dry_run and (reserved_ips or reserved_ports):
            self._pending[key] = _Pending(reserved_ips, reserved_ports, self._clock() + _PENDING_SECONDS)

    def _families(self, spec: dict[str, Any]) -> None:
        if spec.get("ipFamilyPolicy") is None:
            headless_selectorless = spec.get("clusterIP") == "None" and not spec.get("selector")
            spec["ipFamilyPolicy"] = "RequireDualStack" if headless_selectorless else "SingleStack"
        if not spec.get("ipFamilies"):
            if spec.get("clusterIP") == "None" and spec["ipFamilyPolicy"] != "SingleStack":
                spec["ipFamilies"] = ["IPv4", "IPv6"] if self.ip_range.family == "IPv4" else ["IPv6", "IPv4"]
            else:
                spec["ipFamilies"] = [self.ip_range.family]

    def _check_ip(self, key: str, name: str, ip: str, spec: dict[str, Any]) -> None:
        shown = list(spec.get("clusterIPs") or [ip])
        if not self.ip_range.contains(ip):
            detail = (
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {self.ip_range.cidr}"
            )
            raise fe.invalid_error("Service", "", name, [fe.invalid("spec.clusterIPs", shown, detail)])
        if self._ip_holder(ip) not in (None, key):
            detail = f"failed to allocate IP {ip}: provided IP is already allocated"
            raise fe.invalid_error("Service", "", name, [fe.invalid("spec.clusterIPs", shown, detail)])

    def _check_port(
        self, key: str, name: str, index: int, port: Any, protocol: Any, taken_here: dict[int, str]
    ) -> None:
        path = f"spec.ports[{index}].nodePort"
        if not isinstance(port, int) or not self.port_range.contains(port):
            detail = (
                f"provided port is not in the valid range. The range of valid ports is {self.port_range.text}"
            )
            raise fe.invalid_error("Service", "", name, [fe.invalid(path, port, detail)])
        if self._port_holder(port) not in (None, key):
            raise fe.invalid_error(
                "Service", "", name, [fe.invalid(path, port, "provided port is already allocated")]
            )
