"""``testserver scheduler``: kube-scheduler on pyclientgo.

::

    testserver scheduler --kubeconfig KUBECONFIG [--config scheduler-config.yaml] [--secure-port 0]
        [--leader-elect=false] [--kube-api-qps 50 --kube-api-burst 100] [--ready-file PATH]

The shared component flags come from :mod:`pyclientgo.component_base` with kube-scheduler's
defaults (QPS 50, burst 100, ``--secure-port`` 10259, ``--leader-elect`` on the Lease
``kube-system/kube-scheduler``); ``--config`` is a KubeSchedulerConfiguration file
(:mod:`testserver.scheduler.config`). Informers run from the start; pods are scheduled only while
this process holds the Lease.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from collections.abc import Mapping

from pyclientgo.api.core.v1 import Pod
from pyclientgo.api.policy.v1 import PodDisruptionBudget
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
from pyclientgo.tools.cache import drop_managed_fields
from pyclientgo.tools.record import EventsV1Recorder
from testserver.scheduler.config import SchedulerConfiguration, load_configuration
from testserver.scheduler.defaultselector import DefaultSelector
from testserver.scheduler.framework import Plugin
from testserver.scheduler.scheduler import API_CALLS_IN_FLIGHT, Scheduler

__all__ = ["COMPONENT_NAME", "configure_parser", "run", "setup_scheduler"]

COMPONENT_NAME = "kube-scheduler"
EVENT_FLUSH_TIMEOUT = 3.0
"""Seconds a stopping scheduler spends writing its queued events."""

_DEFAULTS = ComponentOptions(
    name=COMPONENT_NAME,
    kube_api_qps=50.0,
    kube_api_burst=100,
    secure_port=10259,
    leader_elect=True,
    leader_elect_resource_namespace="kube-system",
    leader_elect_resource_name=COMPONENT_NAME,
)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The shared component flags with kube-scheduler's defaults, ``--config`` and test helpers."""
    add_component_flags(parser, defaults=_DEFAULTS)
    group = parser.add_argument_group("scheduler")
    group.add_argument("--config", default=None, help="path to a KubeSchedulerConfiguration file")
    group.add_argument(
        "--api-calls-in-flight",
        type=int,
        default=API_CALLS_IN_FLIGHT,
        help=f"bindings/status updates/preemptions sent at once (testserver only; default {API_CALLS_IN_FLIGHT})",
    )


def setup_scheduler(
    ctx: ComponentContext,
    config: SchedulerConfiguration,
    plugin_registry: Mapping[str, type[Plugin]] | None = None,
    api_calls_in_flight: int = API_CALLS_IN_FLIGHT,
) -> Scheduler:
    """Build the scheduler on a running component: informers, handlers, the leader-only loop."""
    sched = Scheduler(
        ctx.clientset,
        config,
        plugin_registry=plugin_registry,
        registry=ctx.registry,
        api_calls_in_flight=api_calls_in_flight,
    )
    instance = f"{COMPONENT_NAME}-{socket.gethostname()}-{os.getpid()}"
    recorders = {
        name: EventsV1Recorder(ctx.clientset, reporting_controller=name, reporting_instance=instance)
        for name in sched.frameworks
    }
    sched.recorders = dict(recorders)
    factory = SharedInformerFactory(ctx.clientset, transform=drop_managed_fields)
    ctx.manager.add_informer_factory(factory)
    pods = factory.core_v1.pods()
    nodes = factory.core_v1.nodes()
    namespaces = factory.core_v1.namespaces()
    pdbs = factory.policy_v1.pod_disruption_budgets()
    pods.informer.add_event_handler(
        on_add=sched.on_pod_add, on_update=sched.on_pod_update, on_delete=sched.on_pod_delete
    )
    nodes.informer.add_event_handler(
        on_add=sched.on_node_add, on_update=sched.on_node_update, on_delete=sched.on_node_delete
    )
    namespaces.informer.add_event_handler(on_add=sched.on_namespace, on_update=sched.on_namespace_update)

    def list_pdbs() -> list[PodDisruptionBudget]:
        return list(pdbs.lister.list())

    def get_pod(namespace: str, name: str) -> Pod | None:
        try:
            return pods.lister.pods(namespace).get(name)
        except NotFound:
            return None

    sched.pdbs = list_pdbs
    sched.default_selector_fn = DefaultSelector(
        factory.core_v1.services().lister,
        factory.core_v1.replication_controllers().lister,
        factory.apps_v1.replica_sets().lister,
        factory.apps_v1.stateful_sets().lister,
    )
    sched.get_pod = get_pod

    async def schedule() -> None:
        for recorder in recorders.values():
            recorder.start()
        try:
            await sched.run()
        finally:
            # Write what is queued, but do not hold a SIGTERM up behind a slow API server.
            for recorder in recorders.values():
                try:
                    async with asyncio.timeout(EVENT_FLUSH_TIMEOUT):
                        await recorder.shutdown()
                except TimeoutError:
                    ctx.log.warning("stopped with events still queued (not written)")

    ctx.manager.add(RunnableFunc(schedule, need_leader_election=True))
    return sched


def run(args: argparse.Namespace, plugin_registry: Mapping[str, type[Plugin]] | None = None) -> int:
    """Run the scheduler until SIGTERM/SIGINT; the exit code. ``plugin_registry`` (name → plugin
    class) replaces the in-tree registry, e.g. with out-of-tree plugins added."""
    try:
        component = component_options_from_args(args, name=COMPONENT_NAME)
        config = load_configuration(args.config)
        if args.api_calls_in_flight <= 0:
            raise ValueError(f"--api-calls-in-flight: must be positive, got {args.api_calls_in_flight}")
        Scheduler(None, config, plugin_registry=plugin_registry)  # a bad profile fails here, before starting
    except (ValueError, OSError) as err:
        logging.getLogger(COMPONENT_NAME).error("%s", err)
        print(f"Error: {err}", flush=True)
        return 1

    async def setup(ctx: ComponentContext) -> None:
        setup_scheduler(ctx, config, plugin_registry, args.api_calls_in_flight)

    return run_component_sync(component, setup)
