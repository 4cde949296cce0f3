"""``testserver controller-manager``: kube-controller-manager on pyclientgo.

::

    testserver controller-manager --kubeconfig KUBECONFIG [--controllers '*,-podgc'] [--secure-port 0]
        [--leader-elect=false] [--node-monitor-grace-period 50s] [--cluster-cidr 10.244.0.0/16
        --allocate-node-cidrs] [--concurrent-gc-syncs 20] ...

The shared component flags (``--kubeconfig``, ``--kube-api-qps`` 20, ``--kube-api-burst`` 30,
``--secure-port`` 10257, ``--leader-elect`` on the Lease ``kube-system/kube-controller-manager`` with
15 s / 10 s / 2 s) come from :mod:`pyclientgo.component_base`; the controller-manager's own flags are
kube's names and defaults (:class:`~testserver.controllers.context.ControllerManagerOptions`).

Every enabled controller is built before anything starts (so the informers they ask for start
together), gets a ``/healthz/<controller-name>`` check, and runs only while this process holds the
leader Lease.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Any

from pyclientgo.component_base import (
    ComponentContext,
    ComponentOptions,
    add_component_flags,
    component_options_from_args,
    run_component_sync,
)
from pyclientgo.component_base.options import parse_bool, parse_duration
from pyclientgo.controller import Runnable
from pyclientgo.discovery import AsyncCachedDiscoveryClient
from pyclientgo.dynamic import AsyncDynamicClient, MetadataSharedInformerFactory
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.tools.cache import drop_managed_fields
from testserver.controllers.context import ControllerContext, ControllerManagerOptions
from testserver.controllers.registry import (
    CONTROLLERS,
    enabled_but_missing,
    enabled_controllers,
    validate_controllers,
)

__all__ = [
    "COMPONENT_NAME",
    "build_context",
    "configure_parser",
    "options_from_args",
    "run",
    "start_controllers",
]

COMPONENT_NAME = "kube-controller-manager"

_DEFAULTS = ComponentOptions(
    name=COMPONENT_NAME,
    kube_api_qps=20.0,
    kube_api_burst=30,
    secure_port=10257,
    leader_elect=True,
    leader_elect_resource_namespace="kube-system",
    leader_elect_resource_name=COMPONENT_NAME,
    leader_elect_lease_duration=15.0,
    leader_elect_renew_deadline=10.0,
    leader_elect_retry_period=2.0,
)

_DURATIONS = frozenset(
    {
        "node_monitor_period",
        "node_monitor_grace_period",
        "node_startup_grace_period",
        "resource_quota_sync_period",
        "namespace_sync_period",
        "min_resync_period",
        "discovery_resync_period",
        "endpoint_updates_batch_period",
        "endpointslice_updates_batch_period",
        "mirroring_endpointslice_updates_batch_period",
        "pvclaimbinder_sync_period",
        "cluster_signing_duration",
        "horizontal_pod_autoscaler_sync_period",
    }
)

_HELP = {
    "controllers": "controllers to enable: '*' all on by default, 'foo' enables foo, '-foo' disables foo",
    "node_monitor_grace_period": "how long a node may be unresponsive before it is marked unhealthy",
    "node_startup_grace_period": "how long a starting node may be unresponsive before it is marked unhealthy",
    "node_eviction_rate": "nodes per second whose pods are evicted when a zone is healthy",
    "secondary_node_eviction_rate": "nodes per second whose pods are evicted when a zone is unhealthy",
    "cluster_cidr": "CIDR range for pods (only with --allocate-node-cidrs)",
    "allocate_node_cidrs": "allocate pod CIDRs to nodes (needs --cluster-cidr)",
    "terminated_pod_gc_threshold": "terminated pods kept before the oldest are deleted (<= 0 disables)",
    "resource_quota_sync_period": "period of full quota usage recalculation",
    "enable_hostpath_provisioner": "provision hostPath persistent volumes (single-node testing only)",
    "use_service_account_credentials": "accepted; every controller uses the controller-manager's credentials",
    "root_ca_file": "CA published in kube-root-ca.crt (default: the kubeconfig's CA)",
    "discovery_resync_period": "how often the garbage collector re-reads discovery (this implementation's flag)",
}


def _controllers(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The shared component flags with kube-controller-manager's defaults, and its own flags."""
    add_component_flags(parser, defaults=_DEFAULTS)
    group = parser.add_argument_group("controller-manager")
    defaults = ControllerManagerOptions()
    for f in dataclasses.fields(ControllerManagerOptions):
        default = getattr(defaults, f.name)
        flags = ["--" + f.name.replace("_", "-")]
        if f.name == "concurrent_rc_syncs":
            flags.append("--concurrent_rc_syncs")  # kube's own spelling
        help_text = _HELP.get(f.name, "")
        kwargs: dict[str, Any] = {"dest": f.name, "default": default}
        if f.name == "controllers":
            kwargs.update(type=_controllers, default=list(default))
            help_text += " (default *)"
        elif isinstance(default, bool):
            kwargs.update(type=parse_bool, nargs="?", const=True)
            help_text += f" (default {str(default).lower()})"
        elif f.name in _DURATIONS:
            kwargs["type"] = parse_duration
            help_text += f" (default {default:g}s)"
        elif isinstance(default, int):
            kwargs["type"] = int
            help_text += f" (default {default})"
        elif isinstance(default, float):
            kwargs["type"] = float
            help_text += f" (default {default:g})"
        else:
            kwargs["type"] = str
        group.add_argument(*flags, help=help_text.strip() or None, **kwargs)


def options_from_args(args: argparse.Namespace) -> ControllerManagerOptions:
    """The :class:`ControllerManagerOptions` parsed by :func:`configure_parser`'s flags (validated)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(ControllerManagerOptions)}
    opts = ControllerManagerOptions(**values)
    validate_controllers(opts.controllers)
    if opts.allocate_node_cidrs and not opts.cluster_cidr:
        raise ValueError("--allocate-node-cidrs needs --cluster-cidr")
    for name in (
        "node_monitor_grace_period",
        "node_startup_grace_period",
        "node_monitor_period",
        "discovery_resync_period",
    ):
        if getattr(opts, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    return opts


def build_context(ctx: ComponentContext, options: ControllerManagerOptions) -> ControllerContext:
    """The :class:`ControllerContext` over a running component's clientset and manager."""
    factory = SharedInformerFactory(ctx.clientset, transform=drop_managed_fields)
    metadata_factory = MetadataSharedInformerFactory(ctx.clientset, transform=drop_managed_fields)
    ctx.manager.add_informer_factory(factory)
    ctx.manager.add_informer_factory(metadata_factory)
    return ControllerContext(
        clientset=ctx.clientset,
        informer_factory=factory,
        metadata_informer_factory=metadata_factory,
        dynamic_client=AsyncDynamicClient(ctx.clientset.rest),
        discovery=AsyncCachedDiscoveryClient(ctx.clientset.rest, ttl=options.discovery_resync_period),
        options=options,
        config=ctx.config,
        clock=ctx.manager.clock,
        log=ctx.log,
        manager=ctx.manager,
    )


def start_controllers(cctx: ControllerContext, names: list[str]) -> dict[str, Runnable]:
    """Build every controller in ``names`` and add it to the manager with a health check.

    A controller whose init raises stops the start (kube: ``Error starting "name"``, fatal).
    """
    log = cctx.log
    built: dict[str, Runnable] = {}
    for name in names:
        desc = CONTROLLERS[name]
        log.info("Starting controller %s", name)
        try:
            runnable = desc.init(cctx)
        except ImportError as err:  # its module is not there (yet): only this controller is off
            log.warning("Warning: controller %s is not available (%s); skipping", name, err)
            continue
        except Exception as err:
            raise RuntimeError(f'Error starting "{name}": {err}') from err
        if runnable is None:
            log.warning("Warning: controller %s is disabled", name)
            continue
        built[name] = runnable
        if cctx.manager is not None:
            cctx.manager.add(runnable)
            if name not in cctx.healthz_checks:
                cctx.add_healthz_check(name, _health_check(runnable))
        log.info("Started controller %s", name)
    return built


def _health_check(runnable: Runnable) -> Any:
    check = getattr(runnable, "health_check", None)
    if callable(check):
        return check

    def ping() -> None:
        return None

    return ping


def run(args: argparse.Namespace) -> int:
    """Run the controller-manager until SIGTERM/SIGINT; the exit code."""
    try:
        component = component_options_from_args(args, name=COMPONENT_NAME)
        options = options_from_args(args)
        names = enabled_controllers(options.controllers)
    except ValueError as err:
        logging.getLogger(COMPONENT_NAME).error("%s", err)
        print(f"Error: {err}", flush=True)
        return 1

    async def setup(ctx: ComponentContext) -> None:
        if options.use_service_account_credentials:
            ctx.log.info(
                "--use-service-account-credentials: accepted; controllers use the controller-manager's "
                "own credentials here"
            )
        missing = enabled_but_missing(options.controllers)
        if missing:
            ctx.log.info("not implemented here, skipped: %s", ", ".join(missing))
        cctx = build_context(ctx, options)
        start_controllers(cctx, names)

    return run_component_sync(component, setup)
