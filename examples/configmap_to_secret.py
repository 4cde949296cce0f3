"""A ConfigMap-to-Secret controller: informers, listers, a work queue, events, owner references.

For every ConfigMap labelled ``example.com/mirror=true`` it keeps a Secret of the same name in the same
namespace with the same data (``data`` base64-encoded, ``binaryData`` copied), owned by the ConfigMap
(an ``ownerReferences`` entry with ``controller: true``), and records an Event ``Mirrored`` on the
ConfigMap each time it writes the Secret. When the ConfigMap loses the label or is deleted, the
controller deletes the Secret it owns (a cluster's garbage collector would also delete it once the
ConfigMap is gone; the bundled test cluster has none, so the controller does it). A Secret of that name
that it does not own is never touched: the request fails with a terminal error and a Warning event.

It is built with :mod:`pyclientgo.controller`: a Manager with the shared informer factory, one
Controller that reconciles ConfigMaps (``for_``, filtered by the label) and is woken by changes to the
Secrets it owns (``owns``), several workers over a rate-limited queue (a failed reconcile is retried
with back-off), and ``/healthz``, ``/readyz``, ``/metrics`` on 127.0.0.1.

Run it against ``./scripts/up``'s cluster (in another terminal)::

    uv run python examples/configmap_to_secret.py --kubeconfig .testserver/kubeconfig --probe-port 8081

    export KUBECONFIG=.testserver/kubeconfig
    printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: demo, labels: {example.com/mirror: "true"}}\\ndata: {a: b}\\n' \\
        | kubectl apply -f -
    kubectl get secret demo -o yaml          # data.a == base64("b"), ownerReferences -> ConfigMap demo
    kubectl get events --field-selector reason=Mirrored
    kubectl delete configmap demo            # the Secret goes too
    curl -s 127.0.0.1:8081/metrics | grep configmap-to-secret
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import signal

from pyclientgo.api.core.v1 import ConfigMap, Secret
from pyclientgo.config import load_config
from pyclientgo.controller import (
    Manager,
    ManagerOptions,
    Request,
    Result,
    TerminalError,
    label_selector_predicate,
    owner_references,
)
from pyclientgo.errors import NotFound
from pyclientgo.informers import ConfigMapInformer, SecretInformer
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder

NAME = "configmap-to-secret"
LABEL = "example.com/mirror"
MANAGED_BY = "app.kubernetes.io/managed-by"
log = logging.getLogger(NAME)


def desired_data(cm: ConfigMap) -> dict[str, str]:
    """The Secret's ``data``: ConfigMap ``data`` base64-encoded, ``binaryData`` as is (already base64)."""
    data = {k: base64.b64encode(v.encode()).decode() for k, v in (cm.data or {}).items()}
    data.update(cm.binary_data or {})
    return data


def is_mirrored(cm: ConfigMap | None) -> bool:
    return (
        cm is not None
        and cm.metadata is not None
        and cm.metadata.deletion_timestamp is None
        and (cm.metadata.labels or {}).get(LABEL) == "true"
    )


def owned_by(secret: Secret, cm_name: str, cm_uid: str | None = None) -> bool:
    """Whether ``secret``'s controller reference is the ConfigMap ``cm_name`` (with ``cm_uid`` if given)."""
    return any(
        ref.controller and ref.kind == "ConfigMap" and ref.group == "" and ref.name == cm_name
        and (cm_uid is None or ref.uid == cm_uid)
        for ref in owner_references(secret)
    )  # fmt: skip


class ConfigMapToSecret:
    """The reconciler: reads the caches through listers, writes through the clientset."""

    def __init__(
        self,
        cs: AsyncClientset,
        configmaps: ConfigMapInformer,
        secrets: SecretInformer,
        recorder: EventRecorder,
    ) -> None:
        self.cs = cs
        self.configmaps = configmaps
        self.secrets = secrets
        self.recorder = recorder

    async def reconcile(self, request: Request) -> Result:
        ns, name = request.namespace, request.name
        try:
            cm: ConfigMap | None = self.configmaps.lister.config_maps(ns).get(name)
        except NotFound:
            cm = None
        try:
            secret: Secret | None = self.secrets.lister.secrets(ns).get(name)
        except NotFound:
            secret = None

        if not is_mirrored(cm):
            if secret is not None and owned_by(secret, name):
                uid = secret.metadata.uid if secret.metadata else None
                try:
                    await self.cs.core_v1.secrets(ns).delete(name, preconditions={"uid": uid})
                except NotFound:
                    pass
                log.info(
                    "deleted Secret %s/%s (ConfigMap %s)", ns, name, "gone" if cm is None else "unlabelled"
                )
                if cm is not None:
                    self.recorder.event(cm, EVENT_TYPE_NORMAL, "Unmirrored", f"Deleted Secret {name}")
            return Result()

        assert cm is not None and cm.metadata is not None
        data = desired_data(cm)
        if secret is None:
            owner = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": name,
                "uid": cm.metadata.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
            new = Secret(
                metadata={
                    "name": name,
                    "namespace": ns,
                    "labels": {MANAGED_BY: NAME},
                    "ownerReferences": [owner],
                },
                type="Opaque",
                data=data,
            )
            await self.cs.core_v1.secrets(ns).create(new, field_manager=NAME)
            log.info("created Secret %s/%s", ns, name)
            self.recorder.event(cm, EVENT_TYPE_NORMAL, "Mirrored", f"Created Secret {name}")
            return Result()

        if not owned_by(secret, name, cm.metadata.uid):
            self.recorder.event(
                cm,
                EVENT_TYPE_WARNING,
                "SecretExists",
                f"Secret {name} exists and is not owned by this ConfigMap",
            )
            raise TerminalError(f"Secret {ns}/{name} exists and is not ours; not touching it")

        if (secret.data or {}) != data:
            # Update with the cached resourceVersion: a concurrent change answers 409 and the request
            # is retried with back-off against a fresher cache.
            updated = Secret(metadata=secret.metadata, type=secret.type, data=data)
            await self.cs.core_v1.secrets(ns).update(updated, field_manager=NAME)
            log.info("updated Secret %s/%s", ns, name)
            self.recorder.event(cm, EVENT_TYPE_NORMAL, "Mirrored", f"Updated Secret {name}")
        return Result()


def build(cs: AsyncClientset, options: ManagerOptions, *, workers: int = 2) -> Manager:
    """The manager with the controller wired in (also used by tests and benchmarks)."""
    mgr = Manager(cs, options)
    configmaps = mgr.informer_factory.core_v1.configmaps()
    secrets = mgr.informer_factory.core_v1.secrets()
    reconciler = ConfigMapToSecret(cs, configmaps, secrets, mgr.get_event_recorder(NAME))
    ctrl = mgr.new_controller(NAME, reconciler, max_concurrent_reconciles=workers)
    # An update passes when the old or the new ConfigMap is labelled: removing the label is seen.
    ctrl.for_(configmaps.informer, predicates=[label_selector_predicate(f"{LABEL}=true")])
    ctrl.owns(secrets.informer, ConfigMap)
    return mgr


async def main_async(args: argparse.Namespace) -> None:
    config = load_config(kubeconfig=args.kubeconfig, context=args.context)
    async with AsyncClientset(config) as cs:
        mgr = build(
            cs,
            ManagerOptions(probe_port=args.probe_port, namespace=args.namespace),
            workers=args.workers,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, mgr.stop)
        log.info("%s running; Ctrl-C to stop", NAME)
        await mgr.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--kubeconfig", default=None, help="kubeconfig path (default: KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--context", default=None)
    parser.add_argument("--namespace", default=None, help="watch one namespace (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent reconciles")
    parser.add_argument("--probe-port", type=int, default=None, help="serve /healthz /readyz /metrics here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
