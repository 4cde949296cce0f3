"""A small controller: stamp every ConfigMap with a checksum of its data.

Workloads that mount a ConfigMap often want to roll when its content changes; a common trick is a
checksum annotation they can copy into their pod template. This controller keeps
``pyclientgo.dev/checksum`` on every ConfigMap equal to the SHA-256 of its ``data`` and
``binaryData``.

It is written with the typed clientset and a plain LIST + WATCH loop, the way client-go's
ListWatch works: list, remember the list's resourceVersion, watch from there with bookmarks,
re-watch when the server ends the stream, and re-list when the server says the resourceVersion
is too old (410). (The informer machinery arrives in its own issue; this loop is what it automates.)

Run it against any cluster::

    uv run python examples/configmap_checksum.py --kubeconfig .testserver/kubeconfig
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import signal

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.config import load_config
from pyclientgo.errors import Gone, NotFound
from pyclientgo.kubernetes import AsyncClientset

ANNOTATION = "pyclientgo.dev/checksum"
log = logging.getLogger("configmap-checksum")


def checksum(cm: ConfigMap) -> str:
    """SHA-256 over the sorted data and binaryData maps."""
    payload = json.dumps({"data": cm.data or {}, "binaryData": cm.binary_data or {}}, sort_keys=True)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


async def reconcile(cs: AsyncClientset, cm: ConfigMap) -> bool:
    """Patch the annotation if it is missing or stale; True when a patch was sent."""
    meta = cm.metadata
    if meta is None or meta.name is None or meta.deletion_timestamp is not None:
        return False
    want = checksum(cm)
    if (meta.annotations or {}).get(ANNOTATION) == want:
        return False
    patch = {"metadata": {"annotations": {ANNOTATION: want}, "resourceVersion": meta.resource_version}}
    try:
        await cs.core_v1.config_maps(meta.namespace).patch(
            meta.name, patch, patch_type="merge", field_manager="configmap-checksum"
        )
    except NotFound:
        return False  # deleted meanwhile: nothing to do
    log.info("stamped %s/%s %s", meta.namespace, meta.name, want[:19])
    return True


async def run(cs: AsyncClientset, stop: asyncio.Event) -> None:
    """LIST + WATCH until ``stop`` is set."""
    configmaps = cs.core_v1.config_maps()  # all namespaces
    while not stop.is_set():
        listed = await configmaps.list()
        for cm in listed.items or []:
            await reconcile(cs, cm)
        rv = listed.metadata.resource_version if listed.metadata else None
        try:
            while not stop.is_set():
                async for event in configmaps.watch(
                    resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=300
                ):
                    if stop.is_set():
                        break
                    if event.object.metadata is not None:
                        rv = event.object.metadata.resource_version or rv
                    if event.type in ("ADDED", "MODIFIED"):
                        await reconcile(cs, event.object)
        except Gone:
            log.info("resourceVersion %s expired; listing again", rv)


async def main_async(kubeconfig: str | None, context: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncClientset(load_config(kubeconfig=kubeconfig, context=context)) as cs:
        log.info("configmap-checksum controller running; Ctrl-C to stop")
        runner = asyncio.create_task(run(cs, stop))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        runner.cancel()
        stopper.cancel()
        await asyncio.gather(runner, stopper, return_exceptions=True)
        if runner.done() and not runner.cancelled() and runner.exception() is not None:
            raise runner.exception()  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kubeconfig", default=None, help="kubeconfig path (default: KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--context", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(args.kubeconfig, args.context))


if __name__ == "__main__":
    main()
