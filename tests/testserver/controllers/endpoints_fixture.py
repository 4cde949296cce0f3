"""A cluster for the endpoints, EndpointSlice, mirroring and disruption tests: a private API server,
a controller-manager with those controllers (and the serviceaccount controller: pods need the
``default`` ServiceAccount), and a fake kubelet hosting two nodes, ``epnode-0`` and ``epnode-1``, both
labelled ``topology.kubernetes.io/zone=zone-a``, that runs the pods.

Pods are made Running/Ready by the fake kubelet; tests that need a specific readiness write the pod's
status themselves (:func:`set_pod_ready`) — the fake kubelet only writes a status when its own view
changes, so a written condition stays until the test changes it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from controller_manager_fixture import Cluster, eventually, start_cluster, stop_cluster

from pyclientgo.api.core.v1 import Pod
from pyclientgo.kubernetes import AsyncClientset, Clientset
from testserver.kubelet.testing import KubeletProcess

__all__ = ["NODES", "ZONE", "EndpointsCluster", "endpoints_cluster", "new_pod", "set_pod_ready"]

NODES = ("epnode-0", "epnode-1")
ZONE = "zone-a"


class EndpointsCluster:
    """The cluster and its kubelet."""

    def __init__(self, cluster: Cluster, kubelet: KubeletProcess) -> None:
        self.cluster = cluster
        self.kubelet = kubelet

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    def config(self) -> Any:
        return self.cluster.config()


def endpoints_cluster(data_dir: Path, controllers: str, *extra: str) -> Iterator[EndpointsCluster]:
    """Start the cluster with ``--controllers controllers``; stop everything afterwards (a generator
    for a pytest fixture)."""
    cluster = start_cluster(data_dir, "--controllers", f"{controllers},serviceaccount", *extra)
    kubelet: KubeletProcess | None = None
    try:
        with Clientset(cluster.config()) as cs:  # pods need the default ServiceAccount
            eventually(lambda: cs.core_v1.service_accounts("default").get("default"), what="default SA")
        kubelet = KubeletProcess(
            cluster.kubeconfig,
            node_name="epnode",
            nodes=len(NODES),
            data_dir=data_dir / "kubelet",
            extra_args=["--node-labels", f"topology.kubernetes.io/zone={ZONE}"],
        )
        kubelet.start()
        yield EndpointsCluster(cluster, kubelet)
    finally:
        try:
            if kubelet is not None:
                kubelet.cleanup()
        finally:
            stop_cluster(cluster)


def new_pod(
    name: str,
    labels: dict[str, str],
    *,
    node: str = NODES[0],
    ports: list[dict[str, Any]] | None = None,
    owner: dict[str, Any] | None = None,
    **spec: Any,
) -> Pod:
    """A pod bound to ``node`` (the fake kubelet runs it) with one container and ``ports``."""
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    container: dict[str, Any] = {"name": "app", "image": "registry.k8s.io/pause:3.10"}
    if ports:
        container["ports"] = ports
    return Pod.from_dict({"metadata": meta, "spec": {"nodeName": node, "containers": [container], **spec}})


async def set_pod_ready(cs: AsyncClientset, namespace: str, name: str, ready: bool) -> None:
    """Write the pod's Ready (and ContainersReady) condition — the test playing a readiness probe."""
    pod = await cs.core_v1.pods(namespace).get(name)
    status = pod.to_dict().get("status") or {}
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = "True" if ready else "False"
    conditions = []
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Ready", "ContainersReady") and cond.get("status") != value:
            cond = {**cond, "status": value, "lastTransitionTime": now}
            if not ready:
                cond["reason"] = "ContainersNotReady"
            else:
                cond.pop("reason", None)
                cond.pop("message", None)
        conditions.append(cond)
    await cs.core_v1.pods(namespace).patch(
        name, {"status": {"conditions": conditions}}, patch_type="merge", subresource="status"
    )
