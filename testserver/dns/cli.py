"""``testserver dns``: the cluster DNS on :mod:`pyclientgo.component_base`.

::

    testserver dns --kubeconfig K [--port 53] [--dns-bind-address 0.0.0.0] [--domain cluster.local]
        [--ttl 5] [--secure-port 8080]

Informers on Services and EndpointSlices; every event of a Service or of one of its slices rebuilds
that Service's records (:mod:`testserver.dns.records`). DNS is served once both caches have synced
(then the ready file is written). ``/healthz``, ``/readyz`` and ``/metrics`` (CoreDNS's
``coredns_dns_*``) are on ``--secure-port``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from pyclientgo.api.core.v1 import Service
from pyclientgo.api.discovery.v1 import EndpointSlice
from pyclientgo.component_base import (
    ComponentContext,
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
    run_component_sync,
)
from pyclientgo.controller import RunnableFunc
from pyclientgo.errors import NotFound
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.tools.cache import DeletedFinalStateUnknown, drop_managed_fields, wait_for_cache_sync
from testserver.dns.records import SERVICE_NAME_LABEL, Zone, service_records
from testserver.dns.server import DNSServer

__all__ = ["COMPONENT_NAME", "configure_parser", "run"]

COMPONENT_NAME = "coredns"

_DEFAULTS = ComponentOptions(name=COMPONENT_NAME, bind_address="0.0.0.0", secure_port=8080)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The shared component flags and the DNS server's."""
    add_component_flags(parser, defaults=_DEFAULTS)
    g = parser.add_argument_group("dns")
    g.add_argument("--port", type=int, default=53, help="DNS port, UDP and TCP (default 53; 0 = a free port)")
    g.add_argument("--dns-bind-address", default="0.0.0.0", help="DNS address (default 0.0.0.0)")
    g.add_argument("--domain", default="cluster.local", help="the cluster domain (default cluster.local)")
    g.add_argument("--ttl", type=int, default=5, help="TTL of answers and the SOA minimum (default 5)")
    g.add_argument(
        "--dns-port-file",
        default=None,
        help="write the bound DNS port here once serving (tests with --port 0)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve the cluster zone until SIGTERM/SIGINT; the exit code."""
    log = logging.getLogger(COMPONENT_NAME)
    try:
        opts = component_options_from_args(args, name=COMPONENT_NAME)
        if not 0 <= args.port <= 65535:
            raise ValueError(f"--port {args.port} must be between 0 and 65535")
        if args.ttl < 0:
            raise ValueError(f"--ttl {args.ttl} must not be negative")
    except ValueError as err:
        log.error("%s", err)
        print(f"Error: {err}", file=sys.stderr, flush=True)
        return 1

    async def setup(ctx: ComponentContext) -> None:
        zone = Zone(args.domain, ttl=args.ttl)
        server = DNSServer(zone, host=args.dns_bind_address, port=args.port, registry=ctx.registry)
        factory = SharedInformerFactory(ctx.clientset, transform=drop_managed_fields)
        ctx.manager.add_informer_factory(factory)
        services = factory.core_v1.services()
        slices = factory.discovery_v1.endpoint_slices()

        def rebuild(namespace: str, name: str) -> None:
            try:
                svc = services.lister.services(namespace).get(name)
            except NotFound:
                zone.set_service(namespace, name, None)
                return
            mine = [
                s
                for s in slices.lister.endpoint_slices(namespace).list()
                if s.metadata is not None and (s.metadata.labels or {}).get(SERVICE_NAME_LABEL) == name
            ]
            try:
                zone.set_service(namespace, name, service_records(svc, mine, zone.origin_text))
            except Exception:  # a malformed object must not stop the server
                ctx.log.exception("skipping the records of Service %s/%s", namespace, name)

        def on_service(obj: Any) -> None:
            if isinstance(obj, DeletedFinalStateUnknown):
                obj = obj.obj
            if isinstance(obj, Service) and obj.metadata is not None and obj.metadata.name:
                rebuild(obj.metadata.namespace or "default", obj.metadata.name)

        def on_slice(obj: Any) -> None:
            if isinstance(obj, DeletedFinalStateUnknown):
                obj = obj.obj
            if isinstance(obj, EndpointSlice) and obj.metadata is not None:
                name = (obj.metadata.labels or {}).get(SERVICE_NAME_LABEL)
                if name:
                    rebuild(obj.metadata.namespace or "default", name)

        services.informer.add_event_handler(
            on_add=on_service, on_update=lambda _old, new: on_service(new), on_delete=on_service
        )
        slices.informer.add_event_handler(
            on_add=on_slice, on_update=lambda _old, new: on_slice(new), on_delete=on_slice
        )

        async def serve() -> None:
            await wait_for_cache_sync(services.informer.has_synced, slices.informer.has_synced)
            await server.start()
            if args.dns_port_file:
                with open(args.dns_port_file + ".tmp", "w") as f:
                    f.write(str(server.port))
                os.replace(args.dns_port_file + ".tmp", args.dns_port_file)
            try:
                await _forever()
            finally:
                await server.stop()

        ctx.manager.add(RunnableFunc(serve, need_leader_election=False))

    return run_component_sync(opts, setup)


async def _forever() -> None:
    import asyncio

    await asyncio.Event().wait()
