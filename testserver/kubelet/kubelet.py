"""The kubelet of one or many nodes in one process: :class:`KubeletHost`.

One pod informer serves every node of the process (``fieldSelector spec.nodeName=<node>`` with one
node; all pods, filtered by node, with many); each node has a :class:`~testserver.kubelet.node.NodeAgent`
and its pods a :class:`~testserver.kubelet.pods.PodWorker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import httpx

from pyclientgo.errors import NotFound
from pyclientgo.informers import SharedInformerFactory
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.cache import ListOptions
from testserver.kubelet.env import EnvSources
from testserver.kubelet.node import NodeAgent, NodeConfig, _allocatable
from testserver.kubelet.pods import BackOff, PodWorker, _Ctr, admit, generate_pod_status
from testserver.kubelet.runtime import RuntimeService
from testserver.kubelet.server import HttpError, KubeletServer
from testserver.kubelet.volumes import PodVolumes

__all__ = ["KubeletHost"]

_API_SLOTS = 20
"""Node status/Lease calls in flight at once for all the nodes of the process (under the REST
client's 25 kept-alive connections: many nodes never open a connection each)."""

log = logging.getLogger("kubelet")


class KubeletHost:
    """The nodes of this process and their pod workers."""

    def __init__(
        self,
        clientset: AsyncClientset,
        runtime: RuntimeService,
        nodes: list[NodeConfig],
        broadcaster: Any,
        backoff: BackOff | None = None,
        server: KubeletServer | None = None,
        pods_dir: Path | None = None,
        sync_frequency: float = 60.0,
    ) -> None:
        """``pods_dir``: where pod volumes are set up (``<root-dir>/pods``; None: no volumes, as
        for the fake runtime)."""
        self.cs = clientset
        self.server = server
        self.pods_dir = pods_dir
        self.sync_frequency = sync_frequency
        self.runtime = runtime
        slots = asyncio.Semaphore(_API_SLOTS)
        self.nodes = {
            n.name: NodeAgent(clientset, n, broadcaster.new_recorder(component="kubelet", host=n.name), slots)
            for n in nodes
        }
        self.recorders = {n.name: broadcaster.new_recorder(component="kubelet", host=n.name) for n in nodes}
        self.backoff = backoff or BackOff()
        self.workers: dict[str, PodWorker] = {}
        self._done_uids: set[str] = set()
        runtime.set_event_handler(self._on_container_event)
        self._sandbox_workers: dict[str, PodWorker] = {}
        one = next(iter(self.nodes)) if len(self.nodes) == 1 else None

        def tweak(opts: ListOptions) -> None:
            if one is not None:
                opts.field_selector = f"spec.nodeName={one}"

        self.factory = SharedInformerFactory(clientset, tweak_list_options=tweak)
        self.pods = self.factory.core_v1.pods()
        # services for the containers' environment (no spec.nodeName selector: a factory of their own)
        self.service_factory = SharedInformerFactory(clientset)
        self.services = self.service_factory.core_v1.services()
        self.factories = [self.factory, self.service_factory]
        self.http = httpx.AsyncClient(verify=False, follow_redirects=True)  # probes, as kube: no TLS verify
        self.pods.informer.add_event_handler(
            on_add=lambda obj, *_: self._on_pod(obj),
            on_update=lambda _old, new: self._on_pod(new),
            on_delete=self._on_pod_deleted,
        )

    def _on_container_event(self, sandbox_id: str) -> None:
        for w in self.workers.values():
            if w.sandbox_id == sandbox_id:
                w.wake.set()

    def _on_pod(self, obj: Any) -> None:
        pod = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        node = (pod.get("spec") or {}).get("nodeName")
        agent = self.nodes.get(node or "")
        if agent is None:
            return
        uid = pod["metadata"].get("uid", "")
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        if uid in self._done_uids:
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp"):
            return  # already terminal (e.g. after a kubelet restart): nothing to run
        if not pod["metadata"].get("deletionTimestamp"):
            others = [
                w.pod for w in self.workers.values() if (w.pod.get("spec") or {}).get("nodeName") == node
            ]
            rejected = admit(pod, _allocatable(agent.config), others, agent.config.max_pods)
            if rejected is not None:
                self._done_uids.add(uid)
                asyncio.get_running_loop().create_task(self._reject(pod, *rejected, node=agent))
                return
        worker = PodWorker(
            pod=pod,
            clientset=self.cs,
            runtime=self.runtime,
            recorder=self.recorders[agent.config.name],
            node_ip=agent.config.node_ip,
            backoff=self.backoff,
            on_done=self._worker_done,
            env_sources=EnvSources(
                clientset=self.cs,
                services=self._service_dicts,
                node_allocatable=_allocatable(agent.config),
            ),
            http=self.http,
            volumes=PodVolumes(pod, self.pods_dir / uid, self.cs)
            if self.pods_dir is not None and uid
            else None,
            sync_frequency=self.sync_frequency,
        )
        self.workers[uid] = worker
        worker.start()

    def _service_dicts(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.services.lister.list()]

    # -- the kubelet API's view (testserver.kubelet.server.ContainerLogSource) ---------------------

    def api_pods(self) -> list[dict[str, Any]]:
        return [w.pod for w in self.workers.values()]

    def log_target(self, namespace: str, pod: str, container: str) -> _Ctr | None:
        worker = next((w for w in self.workers.values() if w.key == f"{namespace}/{pod}"), None)
        if worker is None:
            raise HttpError(404, f'pod "{pod}" does not exist')
        for c in worker.inits + worker.ctrs:
            if c.name == container:
                return c
        return None

    def _on_pod_deleted(self, obj: Any) -> None:
        obj = getattr(obj, "obj", obj)  # DeletedFinalStateUnknown
        meta = getattr(obj, "metadata", None)
        uid = getattr(meta, "uid", None) if meta is not None else None
        worker = self.workers.get(uid or "")
        if worker is not None and worker.task is not None:
            worker.task.cancel()
            if worker.volumes is not None:
                worker.volumes.teardown()  # tmpfs unmounted before the sandbox directory goes
            if worker.sandbox_id is not None:
                asyncio.get_running_loop().create_task(self.runtime.remove_pod_sandbox(worker.sandbox_id))

    def _worker_done(self, worker: PodWorker) -> None:
        uid = worker.pod["metadata"].get("uid", "")
        self.workers.pop(uid, None)
        self._done_uids.add(uid)

    async def _reject(self, pod: dict[str, Any], reason: str, message: str, *, node: NodeAgent) -> None:
        """A pod the node cannot admit: phase Failed with the reason (kubelet.go:rejectPod)."""
        self.recorders[node.config.name].event(pod, "Warning", reason, message)
        status = generate_pod_status(pod, [], [], sandbox_ready=False, host_ip=node.config.node_ip, pod_ip="")
        status.update(phase="Failed", reason=reason, message=message)
        status.pop("podIP"), status.pop("podIPs")
        meta = pod["metadata"]
        try:
            await self.cs.core_v1.pods(meta.get("namespace")).patch(
                meta["name"], {"status": status}, patch_type="strategic", subresource="status"
            )
        except NotFound:
            pass
        except Exception as err:
            log.error("failed to reject pod %s/%s: %s", meta.get("namespace"), meta["name"], err)

    async def run(self) -> None:
        """Register every node, then keep their status and Leases; pods run as the informer sees them."""
        agents = list(self.nodes.values())
        sem = asyncio.Semaphore(_API_SLOTS)

        async def register(a: NodeAgent) -> None:
            async with sem:
                while True:
                    try:
                        await a.register()
                        return
                    except Exception as err:
                        log.error("Unable to register node %s with API server: %s", a.config.name, err)
                        await asyncio.sleep(1.0)

        if self.server is not None:
            port = await self.server.start()
            for a in agents:
                a.config.kubelet_port = port
        await asyncio.gather(*(register(a) for a in agents))
        jitter = len(agents) > 1
        tasks = [asyncio.create_task(a.lease_loop(jitter=jitter)) for a in agents]
        tasks += [asyncio.create_task(a.status_loop()) for a in agents]
        self.factory.start()
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            for w in list(self.workers.values()):
                if w.task is not None:
                    w.task.cancel()
                if w.volumes is not None:
                    w.volumes.teardown()
            with contextlib.suppress(Exception):
                await self.runtime.shutdown()  # every process, cgroup and sandbox directory
            if self.server is not None:
                await self.server.stop()
            await self.http.aclose()
            await self.factory.shutdown()
            await self.service_factory.shutdown()
