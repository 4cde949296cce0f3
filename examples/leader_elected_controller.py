"""A leader-elected controller: run several copies, one reconciles, another takes over when it dies.

Every copy runs a :class:`~pyclientgo.controller.Manager` with leader election on the Lease
``default/leader-elected-controller`` (``--lease``). All copies keep their informer caches warm and
answer ``/healthz`` (which includes the leader-election check) — but only the leader runs the
controller. The controller stamps each ConfigMap labelled ``example.com/leader-demo=true`` with the
annotation ``example.com/reconciled-by: <identity of the leader>``, so you can see who reconciles.

When the leader stops cleanly (Ctrl-C, SIGTERM) it releases the Lease and another copy takes over at
once. When it dies (``kill -9``) the others wait until the Lease expires (``--lease-duration`` seconds
after they last saw it renewed), then one of them takes over, reconciles every ConfigMap again and
re-stamps them. A copy that loses its Lease while running exits with status 1 (it may hold stale
state; a supervisor restarts it), as controller-runtime managers do.

Run two copies against ``./scripts/up``'s cluster, in two terminals::

    uv run python examples/leader_elected_controller.py --kubeconfig .testserver/kubeconfig --identity a
    uv run python examples/leader_elected_controller.py --kubeconfig .testserver/kubeconfig --identity b

    export KUBECONFIG=.testserver/kubeconfig
    printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: demo, labels: {example.com/leader-demo: "true"}}\\n' \\
        | kubectl apply -f -
    kubectl get lease leader-elected-controller -o jsonpath='{.spec.holderIdentity}'
    kubectl get configmap demo -o jsonpath='{.metadata.annotations}'   # reconciled-by: the leader
    # kill -9 the leader's process: after ~15 s the other copy holds the lease and re-stamps "demo"
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys

from pyclientgo.config import load_config
from pyclientgo.controller import (
    LeaderElectionLost,
    Manager,
    ManagerOptions,
    Request,
    Result,
    label_selector_predicate,
)
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset

NAME = "leader-elected-controller"
LABEL = "example.com/leader-demo"
ANNOTATION = "example.com/reconciled-by"
log = logging.getLogger(NAME)


def build(cs: AsyncClientset, options: ManagerOptions) -> Manager:
    """The manager: a leader-elected controller stamping ConfigMaps with this copy's identity."""
    mgr = Manager(cs, options)
    configmaps = mgr.informer_factory.core_v1.configmaps()
    identity = mgr.identity

    async def reconcile(request: Request) -> Result:
        try:
            cm = configmaps.lister.config_maps(request.namespace).get(request.name)
        except NotFound:
            return Result()
        meta = cm.metadata
        if meta is None or (meta.labels or {}).get(LABEL) != "true":
            return Result()
        if (meta.annotations or {}).get(ANNOTATION) == identity:
            return Result()
        patch = {
            "metadata": {"annotations": {ANNOTATION: identity}, "resourceVersion": meta.resource_version}
        }
        try:
            await cs.core_v1.config_maps(request.namespace).patch(
                request.name, patch, patch_type="merge", field_manager=NAME
            )
        except NotFound:
            return Result()
        log.info("%s stamped %s", identity, request)
        return Result()

    ctrl = mgr.new_controller(NAME, reconcile, max_concurrent_reconciles=2)  # leader-elected by default
    ctrl.for_(configmaps.informer, predicates=[label_selector_predicate(f"{LABEL}=true")])
    return mgr


async def main_async(args: argparse.Namespace) -> int:
    config = load_config(kubeconfig=args.kubeconfig, context=args.context)
    async with AsyncClientset(config) as cs:
        mgr = build(
            cs,
            ManagerOptions(
                probe_port=args.probe_port,
                namespace=args.namespace,
                leader_election=True,
                leader_election_id=args.lease,
                leader_election_namespace=args.lease_namespace,
                identity=args.identity or f"{socket.gethostname()}_{os.getpid()}",
                lease_duration=args.lease_duration,
                renew_deadline=args.renew_deadline,
                retry_period=args.retry_period,
            ),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, mgr.stop)
        log.info("%s: candidate for lease %s/%s", mgr.identity, args.lease_namespace, args.lease)
        try:
            await mgr.run()
        except LeaderElectionLost as err:
            log.error("%s", err)
            return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--kubeconfig", default=None, help="kubeconfig path (default: KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--context", default=None)
    parser.add_argument("--namespace", default=None, help="watch one namespace (default: all)")
    parser.add_argument("--identity", default=None, help="this copy's name in the Lease (default: host_pid)")
    parser.add_argument("--lease", default=NAME, help="Lease name")
    parser.add_argument("--lease-namespace", default="default")
    parser.add_argument("--lease-duration", type=float, default=15.0)
    parser.add_argument("--renew-deadline", type=float, default=10.0)
    parser.add_argument("--retry-period", type=float, default=2.0)
    parser.add_argument("--probe-port", type=int, default=None, help="serve /healthz /readyz /metrics here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
