"""A controller for a custom resource, with typed models and clients generated from its CRD.

``ConfigSet`` (``demo.example.com/v1``, defined in ``configset.yaml``) asks for ``spec.copies``
identical ConfigMaps named ``<configset>-<i>`` holding ``spec.data``. The controller creates, updates
and deletes those ConfigMaps (each owned by its ConfigSet through a controller ``ownerReference``),
and reports on the ConfigSet's status subresource: ``observedGeneration``, ``readyCopies`` and a
``Ready`` condition. Events ``Created``/``Updated``/``Deleted`` are recorded on the ConfigSet.

``configset_api/`` is generated (do not edit it) from the CRD by::

    uv run codegen crd examples/crd_controller/configset.yaml --package configset_api --out examples/crd_controller

The generated ``AsyncConfigSetClient`` is bound to a typed informer (``ConfigSetInformer`` below, a
:class:`~pyclientgo.informers.TypedInformer`) so the ConfigSets share the manager's informer factory
with the ConfigMaps. The ConfigSet watch filters with ``GenerationChangedPredicate`` (the controller's
own status writes do not wake it); the ConfigMap watch (``owns``) wakes the owner when a ConfigMap it
owns changes or disappears. The bundled test cluster has no garbage collector, so when a ConfigSet is
deleted the controller deletes the ConfigMaps it owned.

Run it against ``./scripts/up``'s cluster (it installs the CRD)::

    uv run python examples/crd_controller/main.py --kubeconfig .testserver/kubeconfig

    export KUBECONFIG=.testserver/kubeconfig
    printf 'apiVersion: demo.example.com/v1\\nkind: ConfigSet\\nmetadata: {name: web}\\nspec: {copies: 3, data: {a: b}}\\n' \\
        | kubectl apply -f -
    kubectl get configsets                    # COPIES 3, READY 3
    kubectl get configmaps -l demo.example.com/configset=web
    kubectl patch configset web --type merge -p '{"spec":{"copies":1}}'
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from pyclientgo.api.apiextensions.v1 import CustomResourceDefinition
from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.config import load_config
from pyclientgo.controller import (
    GenerationChangedPredicate,
    Manager,
    ManagerOptions,
    Request,
    Result,
    owner_references,
)
from pyclientgo.errors import AlreadyExists, NotFound
from pyclientgo.informers import TypedInformer
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.listers import GenericLister
from pyclientgo.tools.record import EVENT_TYPE_NORMAL, EventRecorder

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from configset_api._async.clientset import AsyncConfigSetClient  # noqa: E402
from configset_api._registry import DEMO_V1_CONFIGSETS  # noqa: E402
from configset_api.demo_v1 import (  # noqa: E402
    ConfigSet,
    ConfigSetStatus,
    ConfigSetStatusConditions,
)

NAME = "configset-controller"
OWNER_LABEL = "demo.example.com/configset"
log = logging.getLogger(NAME)


class ConfigSetLister(GenericLister[ConfigSet]):
    """Reads ConfigSets from the informer's cache (``.by_namespace(ns).get(name)``)."""

    INFO = DEMO_V1_CONFIGSETS


class ConfigSetInformer(TypedInformer[ConfigSet, ConfigSetLister]):
    """The shared informer of ConfigSets: the generated client bound to the factory machinery."""

    INFO = DEMO_V1_CONFIGSETS
    MODEL = ConfigSet
    CLIENT = AsyncConfigSetClient
    LISTER = ConfigSetLister


def owner_ref(cs_obj: ConfigSet) -> dict[str, Any]:
    meta = cs_obj.metadata
    assert meta is not None
    return {
        "apiVersion": ConfigSet.API_VERSION,
        "kind": ConfigSet.KIND,
        "name": meta.name,
        "uid": meta.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(cm: ConfigMap, name: str) -> bool:
    return any(
        r.controller and r.kind == ConfigSet.KIND and r.group == "demo.example.com" and r.name == name
        for r in owner_references(cm)
    )


class ConfigSetReconciler:
    """Keeps ``spec.copies`` ConfigMaps with ``spec.data`` and writes the status."""

    def __init__(
        self,
        cs: AsyncClientset,
        configsets: ConfigSetInformer,
        configmaps: Any,
        recorder: EventRecorder,
    ) -> None:
        self.cs = cs
        self.configsets = configsets
        self.configmaps = configmaps
        self.recorder = recorder

    def owned(self, ns: str, name: str) -> dict[str, ConfigMap]:
        """The ConfigMaps of the cache controlled by ConfigSet ``name``, by name."""
        found = self.configmaps.lister.config_maps(ns).list(f"{OWNER_LABEL}={name}")
        return {cm.metadata.name: cm for cm in found if controlled_by(cm, name)}

    async def reconcile(self, request: Request) -> Result:
        ns, name = request.namespace, request.name
        cms = self.cs.core_v1.config_maps(ns)
        owned = self.owned(ns, name)
        try:
            cfs: ConfigSet = self.configsets.lister.by_namespace(ns).get(name)
        except NotFound:
            for cm_name in owned:  # no garbage collector here: clean up what we owned
                try:
                    await cms.delete(cm_name)
                except NotFound:
                    pass
                log.info("deleted ConfigMap %s/%s (ConfigSet gone)", ns, cm_name)
            return Result()
        if cfs.metadata is None or cfs.metadata.deletion_timestamp is not None:
            return Result()

        spec = cfs.spec
        copies = spec.copies if spec is not None and spec.copies is not None else 1
        data = dict(spec.data or {}) if spec is not None else {}
        wanted = [f"{name}-{i}" for i in range(copies)]
        ready = 0
        for cm_name in wanted:
            current = owned.get(cm_name)
            if current is None:
                new = ConfigMap(
                    metadata={
                        "name": cm_name,
                        "labels": {OWNER_LABEL: name},
                        "ownerReferences": [owner_ref(cfs)],
                    },
                    data=data,
                )
                try:
                    await cms.create(new, field_manager=NAME)
                except AlreadyExists:
                    log.info("ConfigMap %s/%s exists (cache behind, or not ours)", ns, cm_name)
                    continue
                self.recorder.event(cfs, EVENT_TYPE_NORMAL, "Created", f"Created ConfigMap {cm_name}")
            elif (current.data or {}) != data:
                updated = ConfigMap(metadata=current.metadata, data=data)
                await cms.update(updated, field_manager=NAME)  # a 409 is retried with back-off
                self.recorder.event(cfs, EVENT_TYPE_NORMAL, "Updated", f"Updated ConfigMap {cm_name}")
            else:
                ready += 1  # seen in the cache as wanted; new writes count when their events arrive
        for cm_name in sorted(set(owned) - set(wanted)):
            try:
                await cms.delete(cm_name)
            except NotFound:
                pass
            self.recorder.event(cfs, EVENT_TYPE_NORMAL, "Deleted", f"Deleted ConfigMap {cm_name}")

        await self.write_status(cfs, ready, copies)
        return Result()

    async def write_status(self, cfs: ConfigSet, ready: int, copies: int) -> None:
        assert cfs.metadata is not None
        done = ready == copies
        status = ConfigSetStatus(
            observed_generation=cfs.metadata.generation,
            ready_copies=ready,
            conditions=[
                ConfigSetStatusConditions(
                    type="Ready",
                    status="True" if done else "False",
                    reason="AllCopiesReady" if done else "Progressing",
                    message=f"{ready}/{copies} ConfigMaps ready",
                )
            ],
        )
        if cfs.status is not None and cfs.status.to_dict() == status.to_dict():
            return
        # The cached object's resourceVersion guards the write: if the ConfigSet changed meanwhile,
        # the 409 is retried and the next attempt reads the fresher cache.
        body = ConfigSet(metadata=cfs.metadata, spec=cfs.spec, status=status)
        await AsyncConfigSetClient(self.cs.rest, cfs.metadata.namespace).update_status(
            body, field_manager=NAME
        )


def build(cs: AsyncClientset, options: ManagerOptions, *, workers: int = 2) -> Manager:
    """The manager with the ConfigSet controller wired in."""
    mgr = Manager(cs, options)
    configsets = ConfigSetInformer.for_factory(mgr.informer_factory)
    configmaps = mgr.informer_factory.core_v1.configmaps()
    reconciler = ConfigSetReconciler(cs, configsets, configmaps, mgr.get_event_recorder(NAME))
    ctrl = mgr.new_controller(NAME, reconciler, max_concurrent_reconciles=workers)
    ctrl.for_(configsets.informer, predicates=[GenerationChangedPredicate()])
    ctrl.owns(configmaps.informer, ConfigSet)
    return mgr


async def install_crd(cs: AsyncClientset, timeout: float = 20.0) -> None:
    """Create the CRD (if missing) and wait until it is Established."""
    crd = CustomResourceDefinition.from_dict(yaml.safe_load((HERE / "configset.yaml").read_text()))
    crds = cs.apiextensions_v1.custom_resource_definitions()
    try:
        await crds.create(crd)
    except AlreadyExists:
        pass
    name = crd.metadata.name if crd.metadata and crd.metadata.name else ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        current = await crds.get(name)
        conditions = (current.status.conditions if current.status else None) or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"CRD {name} not Established")
        await asyncio.sleep(0.05)


async def main_async(args: argparse.Namespace) -> None:
    config = load_config(kubeconfig=args.kubeconfig, context=args.context)
    async with AsyncClientset(config) as cs:
        if not args.skip_crd_install:
            await install_crd(cs)
        mgr = build(
            cs, ManagerOptions(probe_port=args.probe_port, namespace=args.namespace), workers=args.workers
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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--probe-port", type=int, default=None, help="serve /healthz /readyz /metrics here")
    parser.add_argument("--skip-crd-install", action="store_true", help="the CRD is installed already")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
