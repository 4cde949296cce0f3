"""Typed clients for a custom resource, generated from its CRD.

``crontab_api/`` is generated (do not edit it) from ``crontab.yaml`` by::

    uv run codegen crd examples/crd_typed_client/crontab.yaml --package crontab_api --out examples/crd_typed_client

This program installs the CRD, waits until it is Established, then uses the generated models and
clients: create a CronTab (the server applies the schema's defaults), update its status, scale it
through the ``scale`` subresource, list it, and delete it. It prints one JSON object of what it saw.

Run it against any cluster::

    uv run python examples/crd_typed_client/main.py --kubeconfig .testserver/kubeconfig
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import yaml

from pyclientgo.api.apiextensions.v1 import CustomResourceDefinition
from pyclientgo.api.meta.v1 import ObjectMeta
from pyclientgo.config import load_config
from pyclientgo.errors import AlreadyExists
from pyclientgo.kubernetes import AsyncClientset as BuiltinClientset

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crontab_api import AsyncClientset
from crontab_api.stable_v1 import CronTab, CronTabSpec, CronTabStatus

HERE = Path(__file__).resolve().parent


async def install_crd(builtin: BuiltinClientset, timeout: float = 20.0) -> None:
    """Create the CRD (if missing) and wait for its Established condition."""
    crd = CustomResourceDefinition.from_dict(yaml.safe_load((HERE / "crontab.yaml").read_text()))
    crds = builtin.apiextensions_v1.custom_resource_definitions()
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


async def main(kubeconfig: str | None, namespace: str) -> dict[str, object]:
    config = load_config(kubeconfig=kubeconfig)
    async with BuiltinClientset(config) as builtin:
        await install_crd(builtin)
    async with AsyncClientset(config) as cs:
        crontabs = cs.stable_v1.crontabs(namespace)
        created = await crontabs.create(
            CronTab(metadata=ObjectMeta(name="nightly"), spec=CronTabSpec(cron_spec="0 3 * * *"))
        )
        assert created.spec is not None
        status = CronTab(metadata=created.metadata, spec=created.spec, status=CronTabStatus(replicas=1))
        await crontabs.update_status(status)
        scale = await crontabs.patch_scale("nightly", {"spec": {"replicas": 3}})
        listed = await crontabs.list()
        fetched = await crontabs.get("nightly")
        await crontabs.delete("nightly")
        assert fetched.spec is not None and fetched.status is not None
        return {
            "defaultedImage": created.spec.image,
            "defaultedReplicas": created.spec.replicas,
            "scaledTo": scale.spec.replicas if scale.spec else None,
            "replicas": fetched.spec.replicas,
            "statusReplicas": fetched.status.replicas,
            "listed": [c.metadata.name for c in listed.items or [] if c.metadata],
            "type": type(fetched).__name__,
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.kubeconfig, args.namespace))))
