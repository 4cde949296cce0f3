"""Rows of networking.k8s.io and discovery.k8s.io kinds: Ingresses, IngressClasses, NetworkPolicies, EndpointSlices."""

from __future__ import annotations

import datetime as _dt

from testserver.apiserver.tables.columns import (
    AGE,
    NAME,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    format_label_selector,
    int_at,
    list_at,
    load_balancer_ips,
    map_at,
    name_of,
    str_at,
    value_at,
)

__all__ = ["PRINTERS"]


def _print_ingress(obj: Obj, now: _dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    rules = list_at(spec, "rules")
    hosts = [str_at(r, "host") for r in rules[:3] if str_at(r, "host")]
    host_text = ",".join(hosts) or "*"
    if len(rules) > 3 and hosts:
        host_text += f" + {len(rules) - 3} more..."
    address = ",".join(load_balancer_ips(value_at(obj, "status")))
    if len(address) > 16:
        address = address[:13] + "..."
    return [
        name_of(obj),
        str_at(spec, "ingressClassName") or "<none>",
        host_text,
        address,
        "80, 443" if list_at(spec, "tls") else "80",
        age(obj, now),
    ]


def _print_ingress_class(obj: Obj, now: _dt.datetime) -> Cells:
    params = map_at(obj, "spec", "parameters")
    text = "<none>"
    if params:
        text = str_at(params, "kind")
        if value_at(params, "apiGroup") is not None:
            text += "." + str_at(params, "apiGroup")
        text += "/" + str_at(params, "name")
    return [name_of(obj), str_at(obj, "spec", "controller"), text, age(obj, now)]


def _print_network_policy(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), format_label_selector(map_at(obj, "spec", "podSelector")), age(obj, now)]


def _print_endpoint_slice(obj: Obj, now: _dt.datetime) -> Cells:
    def more(items: list[str], count: int) -> str:
        text = ",".join(items[:3])
        if count > 3:
            return f"{text} + {count - 3} more..."
        return text or "<unset>"

    ports = []
    for port in list_at(obj, "ports"):
        if isinstance(value_at(port, "port"), int):
            ports.append(str(int_at(port, "port")))
        elif value_at(port, "name") is not None:
            ports.append(str_at(port, "name"))
        else:
            ports.append("*")
    addresses = [str(a) for ep in list_at(obj, "endpoints") for a in list_at(ep, "addresses")]
    return [
        name_of(obj),
        str_at(obj, "addressType"),
        more(ports, len(ports)),
        more(addresses, len(addresses)),
        age(obj, now),
    ]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("networking.k8s.io", "Ingress"): (
        (
            NAME,
            Col(
                "Class",
                doc="The name of the IngressClass resource that should be used for additional configuration",
            ),
            Col("Hosts", doc="Hosts that incoming requests are matched against before the ingress rule"),
            Col("Address", doc="Address is a list containing ingress points for the load-balancer"),
            Col("Ports", doc="Ports of TLS configurations that open"),
            AGE,
        ),
        _print_ingress,
    ),
    ("networking.k8s.io", "IngressClass"): (
        (
            NAME,
            Col("Controller", doc="Controller that is responsible for handling this class"),
            Col("Parameters", doc="A reference to a resource with additional parameters"),
            AGE,
        ),
        _print_ingress_class,
    ),
    ("networking.k8s.io", "NetworkPolicy"): (
        (
            NAME,
            Col("Pod-Selector", doc=("pyclientgo.api.networking.v1:NetworkPolicySpec", "podSelector")),
            AGE,
        ),
        _print_network_policy,
    ),
    ("discovery.k8s.io", "EndpointSlice"): (
        (
            NAME,
            Col("AddressType", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "addressType")),
            Col("Ports", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "ports")),
            Col("Endpoints", doc=("pyclientgo.api.discovery.v1:EndpointSlice", "endpoints")),
            AGE,
        ),
        _print_endpoint_slice,
    ),
}
