"""The cluster zone: DNS records of Services and their EndpointSlices (Kubernetes' DNS spec, as
CoreDNS's kubernetes plugin serves it).

For a Service ``svc`` in ``ns`` under the zone ``cluster.local``:

- ``svc.ns.svc.cluster.local`` — A/AAAA of the ClusterIPs; of a headless Service, one A/AAAA per
  ready endpoint (every endpoint with ``publishNotReadyAddresses``); CNAME of an ExternalName Service;
- ``_port._proto.svc.ns.svc.cluster.local`` — SRV of each named port: to the Service's name (ClusterIP)
  or to each endpoint's name (headless);
- ``host.svc.ns.svc.cluster.local`` — A/AAAA of a headless Service's endpoint with ``hostname`` (the
  pods of a StatefulSet through its governing Service), else ``a-b-c-d.svc.ns.svc.cluster.local``;
- ``a-b-c-d.ns.pod.cluster.local`` — A of any pod IP (CoreDNS's ``pods insecure``).

:class:`Zone` answers a question with (rcode, answer, authority): NXDOMAIN with the zone's SOA for a
name that does not exist, NOERROR with the SOA and no answer for a name that exists without records of
that type, REFUSED outside the zone.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import Counter
from collections.abc import Iterable

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdatatype import RdataType

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice

__all__ = ["SERVICE_NAME_LABEL", "Zone", "service_records"]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"

Records = dict[str, dict[RdataType, list[str]]]
"""Absolute lowercase names (with the trailing dot) to their records' texts by type."""


def _ip_type(ip: str) -> RdataType:
    return dns.rdatatype.AAAA if ":" in ip else dns.rdatatype.A


def _dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


def service_records(service: Service, slices: Iterable[EndpointSlice], zone: str) -> Records:
    """The records of ``service`` (with its slices) under ``zone`` ("cluster.local.")."""
    meta, spec = service.metadata, service.spec
    if meta is None or spec is None or not meta.name:
        return {}
    ns = meta.namespace or "default"
    base = f"{meta.name}.{ns}.svc.{zone}".lower()
    out: Records = {}

    def add(name: str, rdtype: RdataType, text: str) -> None:
        bucket = out.setdefault(name.lower(), {}).setdefault(rdtype, [])
        if text not in bucket:
            bucket.append(text)

    if spec.type == "ExternalName":
        if spec.external_name:
            add(base, dns.rdatatype.CNAME, spec.external_name.rstrip(".") + ".")
        return out
    cluster_ips = [
        ip
        for ip in (spec.cluster_ips or ([spec.cluster_ip] if spec.cluster_ip else []))
        if ip and ip != "None"
    ]
    headless = spec.cluster_ip == "None" or (not cluster_ips and spec.type in (None, "ClusterIP"))
    if not headless:
        for ip in cluster_ips:
            add(base, _ip_type(ip), ip)
        for port in spec.ports or []:
            if port.name and port.port:
                srv = f"_{port.name}._{(port.protocol or 'TCP').lower()}.{base}"
                add(srv, dns.rdatatype.SRV, f"0 100 {port.port} {base}")
        return out
    publish_not_ready = bool(spec.publish_not_ready_addresses)
    for sl in slices:
        if sl.address_type not in ("IPv4", "IPv6"):
            continue
        for ep in sl.endpoints or []:
            if not ep.addresses:
                continue
            cond = ep.conditions
            ready = cond is None or cond.ready is None or bool(cond.ready)
            if not ready and not publish_not_ready:
                continue
            for ip in ep.addresses:
                try:
                    ipaddress.ip_address(ip)
                except ValueError:
                    continue
                add(base, _ip_type(ip), ip)
                host = ep.hostname or _dashed(ip)
                target = f"{host}.{base}"
                add(target, _ip_type(ip), ip)
                for ep_port in sl.ports or []:
                    if ep_port.name and ep_port.port:
                        srv = f"_{ep_port.name}._{(ep_port.protocol or 'TCP').lower()}.{base}"
                        add(srv, dns.rdatatype.SRV, f"0 100 {ep_port.port} {target}")
    if not out:  # a headless Service without ready endpoints still exists (NODATA, not NXDOMAIN)
        out[base] = {}
    return out


class Zone:
    """The records of the cluster zone, updated per Service; answers questions (module docstring)."""

    def __init__(self, origin: str = "cluster.local", ttl: int = 5) -> None:
        self.origin = dns.name.from_text(origin)
        self.origin_text = self.origin.to_text().lower()
        self.ttl = ttl
        self._lock = threading.Lock()
        self._names: dict[str, dict[RdataType, list[str]]] = {}
        self._by_service: dict[tuple[str, str], Records] = {}
        self._ancestors: Counter[str] = Counter()
        self.version = 0
        """Bumped on every change (answer caches compare it)."""
        self.soa = dns.rrset.from_text(
            self.origin,
            ttl,
            dns.rdataclass.IN,
            dns.rdatatype.SOA,
            f"ns.dns.{self.origin_text} hostmaster.{self.origin_text} 1 7200 1800 86400 {ttl}",
        )
        self.ns = dns.rrset.from_text(
            self.origin, ttl, dns.rdataclass.IN, dns.rdatatype.NS, f"ns.dns.{self.origin_text}"
        )

    def set_service(self, namespace: str, name: str, records: Records | None) -> None:
        """Replace the records of one Service (``None``: it was deleted)."""
        key = (namespace, name)
        with self._lock:
            self.version += 1
            old = self._by_service.pop(key, {})
            for n in old:
                self._names.pop(n, None)
                for a in self._parents(n):
                    self._ancestors[a] -= 1
                    if self._ancestors[a] <= 0:
                        del self._ancestors[a]
            if records:
                self._by_service[key] = records
                for n, by_type in records.items():
                    self._names[n] = by_type
                    for a in self._parents(n):
                        self._ancestors[a] += 1

    def _parents(self, name: str) -> list[str]:
        out: list[str] = []
        rest = name
        while rest != self.origin_text and "." in rest:
            rest = rest.split(".", 1)[1]
            if not rest.endswith(self.origin_text):
                break
            out.append(rest)
        return out

    def lookup(
        self, qname: dns.name.Name, rdtype: RdataType
    ) -> tuple[int, list[dns.rrset.RRset], list[dns.rrset.RRset]]:
        """(rcode, answer, authority) for a question in the IN class."""
        if not qname.is_subdomain(self.origin):
            return dns.rcode.REFUSED, [], []
        text = qname.to_text().lower()
        if text == self.origin_text:
            if rdtype == dns.rdatatype.SOA:
                return dns.rcode.NOERROR, [self.soa], []
            if rdtype == dns.rdatatype.NS:
                return dns.rcode.NOERROR, [self.ns], []
            return dns.rcode.NOERROR, [], [self.soa]
        with self._lock:
            by_type = self._names.get(text)
            exists = by_type is not None or text in self._ancestors
        if by_type is None:
            pod = self._pod_address(text)
            if pod is not None:
                by_type = {_ip_type(pod): [pod]}
                exists = True
        if not exists:
            return dns.rcode.NXDOMAIN, [], [self.soa]
        assert by_type is not None or exists
        answers: list[dns.rrset.RRset] = []
        types = [rdtype]
        if by_type and dns.rdatatype.CNAME in by_type and rdtype != dns.rdatatype.CNAME:
            types = [dns.rdatatype.CNAME]
        if rdtype == dns.rdatatype.ANY:
            types = list(by_type or {})
        for t in types:
            texts = (by_type or {}).get(t)
            if texts:
                answers.append(dns.rrset.from_text_list(qname, self.ttl, dns.rdataclass.IN, t, texts))
        if not answers:
            return dns.rcode.NOERROR, [], [self.soa]
        return dns.rcode.NOERROR, answers, []

    def _pod_address(self, text: str) -> str | None:
        """``a-b-c-d.<ns>.pod.<zone>`` → a.b.c.d (``pods insecure``: any such name answers)."""
        suffix = ".pod." + self.origin_text
        if not text.endswith(suffix):
            return None
        labels = text[: -len(suffix)].split(".")
        if len(labels) != 2:
            return None
        dashed = labels[0]
        for candidate in (dashed.replace("-", "."), dashed.replace("-", ":")):
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
        return None

    def names(self) -> list[str]:
        """Every name with records (for tests and logs)."""
        with self._lock:
            return sorted(self._names)
