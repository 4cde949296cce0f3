"""The process around a component: :func:`run_component`.

In order, :func:`run_component`:

1. configures logging that names the component (``-v`` 4+ logs at DEBUG);
2. loads the client configuration (``--kubeconfig`` / ``--master``, else client-go's default loading
   rules), applies ``--kube-api-qps``/``--kube-api-burst`` and opens an :class:`AsyncClientset`;
3. builds a :class:`~pyclientgo.controller.Manager`: health and metrics on
   ``--bind-address:--secure-port`` (``/healthz``, ``/livez``, ``/readyz`` with ``?verbose`` and
   per-check paths, ``/metrics`` from the component's own Prometheus registry), and with
   ``--leader-elect`` leader election on the Lease ``<resource-namespace>/<resource-name>``;
4. awaits the component's ``setup(ctx)``, which wires informers and runnables onto ``ctx.manager``;
5. runs the manager; once the health server serves and every started informer has synced, writes the
   ready file (JSON ``{"pid", "url", "component"}``);
6. on SIGTERM or SIGINT stops gracefully: leader-elected work is cancelled, the Lease is released, the
   informers stop, queued events are written. The exit code is 0 then, 1 when leadership was lost or
   the component failed (as the Kubernetes components exit, to be restarted by their supervisor).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from pyclientgo.component_base.options import ComponentOptions
from pyclientgo.config import Config, load_config
from pyclientgo.controller import Manager, ManagerOptions
from pyclientgo.controller.manager import LeaderElectionLost
from pyclientgo.kubernetes import AsyncClientset

__all__ = ["ComponentContext", "configure_logging", "run_component", "run_component_sync"]

_LOG_FORMAT = "%(levelname).1s%(asctime)s.%(msecs)03d %(process)7d %(name)s] %(message)s"
_LOG_DATEFMT = "%m%d %H:%M:%S"


@dataclass(kw_only=True)
class ComponentContext:
    """What a component's ``setup`` function gets to wire itself with."""

    options: ComponentOptions
    """The parsed shared flags."""
    config: Config
    """The client configuration, with the component's QPS and burst applied."""
    clientset: AsyncClientset
    """The typed clientset, open for the component's lifetime."""
    manager: Manager
    """The manager that runs the component: ``informer_factory``, ``add``, ``new_controller``,
    ``get_event_recorder``, ``add_healthz_check``, ``add_readyz_check``."""
    registry: CollectorRegistry
    """The component's Prometheus registry, served on ``/metrics``."""
    log: logging.Logger
    """The component's logger (named after it)."""


def configure_logging(name: str, verbosity: int) -> logging.Logger:
    """Log to stderr in a klog-like line format naming the component; the component's logger."""
    level = logging.DEBUG if verbosity >= 4 else logging.INFO
    root = logging.getLogger()
    if not any(getattr(h, "_pyclientgo_component", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT, _LOG_DATEFMT))
        handler._pyclientgo_component = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):  # one line per request otherwise
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity >= 8 else logging.WARNING)
    return logging.getLogger(name)


def _client_config(options: ComponentOptions) -> Config:
    config = load_config(kubeconfig=options.kubeconfig) if options.kubeconfig else load_config()
    changes: dict[str, object] = {"qps": options.kube_api_qps, "burst": options.kube_api_burst}
    if options.master:
        changes["host"] = options.master
    if config.user_agent is None:
        changes["user_agent"] = f"{options.name}/pyclientgo"
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


async def run_component(
    options: ComponentOptions,
    setup: Callable[[ComponentContext], Awaitable[None]],
    *,
    registry: CollectorRegistry | None = None,
) -> int:
    """Run the component that ``setup`` wires until SIGTERM/SIGINT or cancellation (module docstring).

    Returns the process exit code. ``registry`` defaults to a new registry of the component's own (so
    several components in one test process do not share metrics).
    """
    log = configure_logging(options.name, options.verbosity)
    registry = registry if registry is not None else CollectorRegistry()
    try:
        config = _client_config(options)
    except Exception as err:
        log.error("invalid client configuration: %s", err)
        return 1
    async with AsyncClientset(config) as clientset:
        manager = Manager(
            clientset,
            ManagerOptions(
                probe_port=None if options.secure_port < 0 else options.secure_port,
                probe_host=options.bind_address,
                registry=registry,
                leader_election=options.leader_elect,
                leader_election_id=options.lease_name,
                leader_election_namespace=options.leader_elect_resource_namespace,
                lease_duration=options.leader_elect_lease_duration,
                renew_deadline=options.leader_elect_renew_deadline,
                retry_period=options.leader_elect_retry_period,
            ),
        )
        ctx = ComponentContext(
            options=options, config=config, clientset=clientset, manager=manager, registry=registry, log=log
        )
        try:
            await setup(ctx)
        except Exception:
            log.exception("%s: setup failed", options.name)
            return 1
        stop_signals = _install_signal_handlers(manager, log)
        run_task = asyncio.create_task(manager.run(), name=f"{options.name}-manager")
        ready_task = asyncio.create_task(_write_ready_file(ctx), name=f"{options.name}-ready")
        try:
            await run_task
        except LeaderElectionLost as err:
            log.error("leaderelection lost: %s", err)
            return 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", options.name)
            return 1
        finally:
            ready_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ready_task
            _remove_signal_handlers(stop_signals)
            if not run_task.done():
                run_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run_task
            if options.ready_file is not None:
                with contextlib.suppress(OSError):
                    options.ready_file.unlink()
        log.info("%s stopped", options.name)
        return 0


def run_component_sync(
    options: ComponentOptions, setup: Callable[[ComponentContext], Awaitable[None]]
) -> int:
    """:func:`run_component` in a new event loop (what a component's ``main`` calls)."""
    if options.exit_with_parent:
        exit_with_parent()
    try:
        return asyncio.run(run_component(options, setup))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 130


def _install_signal_handlers(manager: Manager, log: logging.Logger) -> list[int]:
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def stop(signum: int) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        manager.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
            continue
        installed.append(signum)
    return installed


def _remove_signal_handlers(signums: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for signum in signums:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signum)


async def _write_ready_file(ctx: ComponentContext, poll_interval: float = 0.05) -> None:
    """Once the health server serves and every started informer has synced, write the ready file."""
    manager, options = ctx.manager, ctx.options
    while True:
        probe = manager.probe_server
        if (probe is None or probe.serving) and manager.informers_synced():
            break
        await asyncio.sleep(poll_interval)
    url = manager.probe_server.url if manager.probe_server is not None else ""
    ctx.log.info("%s ready%s", options.name, f", serving health and metrics on {url}" if url else "")
    if options.ready_file is not None:
        tmp = options.ready_file.with_name(options.ready_file.name + ".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "url": url, "component": options.name}))
        tmp.replace(options.ready_file)


def exit_with_parent(poll_interval: float = 0.5) -> None:
    """Send SIGTERM to this process once its parent is gone (a daemon thread polls the parent PID),
    which stops a component gracefully; ``--exit-with-parent`` turns it on."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
