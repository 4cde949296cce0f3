"""Helpers for the scheduler tests: :class:`SchedCluster` (a sync clientset and waits on a cluster
with a scheduler) and :func:`eventually`; the process itself is :mod:`testserver.scheduler.testing`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from testserver.scheduler.testing import SchedulerProcess, make_node, make_pod, parse_metrics

__all__ = ["SchedCluster", "SchedulerProcess", "eventually", "make_node", "make_pod", "parse_metrics"]

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, timeout: float = 30.0, what: str = "condition") -> T:
    """Call ``probe()`` every 0.05 s until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as err:  # the state may not be there yet
            last = err
        else:
            if last:
                return cast(T, last)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(0.05)


class SchedCluster:
    """An API server with a scheduler on it, seen through a sync clientset, with test helpers."""

    def __init__(self, kubeconfig: Path, scheduler: SchedulerProcess, namespace: str = "default") -> None:
        from pyclientgo.config import load_config
        from pyclientgo.kubernetes import Clientset

        self.kubeconfig = kubeconfig
        self.scheduler = scheduler
        self.namespace = namespace
        self.cs = Clientset(load_config(kubeconfig=str(kubeconfig)))

    def close(self) -> None:
        self.cs.close()

    # -- objects ----------------------------------------------------------------------------------

    def ensure_namespace(self, namespace: str) -> None:
        """The namespace and its ``default`` ServiceAccount (no controller-manager creates it here)."""
        from pyclientgo.api.core.v1 import Namespace, ServiceAccount
        from pyclientgo.errors import AlreadyExists

        try:
            self.cs.core_v1.namespaces().create(Namespace.from_dict({"metadata": {"name": namespace}}))
        except AlreadyExists:
            pass
        try:
            self.cs.core_v1.service_accounts(namespace).create(
                ServiceAccount.from_dict({"metadata": {"name": "default"}})
            )
        except AlreadyExists:
            pass

    def create_node(self, name: str, **kwargs: Any) -> Any:
        from pyclientgo.api.core.v1 import Node

        return self.cs.core_v1.nodes().create(Node.from_dict(make_node(name, **kwargs)))

    def create_pod(self, name: str, namespace: str | None = None, **kwargs: Any) -> Any:
        from pyclientgo.api.core.v1 import Pod

        return self.cs.core_v1.pods(namespace or self.namespace).create(
            Pod.from_dict(make_pod(name, **kwargs))
        )

    def pod(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        pod: dict[str, Any] = self.cs.core_v1.pods(namespace or self.namespace).get(name).to_dict()
        return pod

    def wait_bound(self, name: str, namespace: str | None = None, timeout: float = 30.0) -> str:
        """The node the pod gets bound to."""

        def bound() -> str | None:
            node = (self.pod(name, namespace).get("spec") or {}).get("nodeName")
            return str(node) if node else None

        return eventually(bound, timeout=timeout, what=f"pod {name} bound")

    def scheduled_condition(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        for c in (self.pod(name, namespace).get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled":
                return dict(c)
        return None

    def wait_unschedulable(self, name: str, namespace: str | None = None, timeout: float = 30.0) -> str:
        """The message of the pod's PodScheduled=False condition, once the scheduler wrote it."""

        def unschedulable() -> str | None:
            c = self.scheduled_condition(name, namespace)
            if c and c.get("status") == "False" and c.get("reason") == "Unschedulable":
                return str(c.get("message"))
            return None

        return eventually(unschedulable, timeout=timeout, what=f"pod {name} Unschedulable")

    def events(
        self, name: str, reason: str | None = None, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """The events.k8s.io/v1 events about the pod (this incarnation of it, when it exists)."""
        from pyclientgo.errors import NotFound

        try:
            uid = self.pod(name, namespace)["metadata"].get("uid")
        except NotFound:
            uid = None
        items = self.cs.events_v1.events(namespace or self.namespace).list().items or []
        out = []
        for e in items:
            d = e.to_dict()
            regarding = d.get("regarding") or {}
            if regarding.get("name") != name or (uid is not None and regarding.get("uid") != uid):
                continue
            if reason is None or d.get("reason") == reason:
                out.append(d)
        return out

    def wait_event(self, name: str, reason: str, namespace: str | None = None) -> dict[str, Any]:
        def last() -> dict[str, Any] | None:
            found = self.events(name, reason, namespace)
            return found[-1] if found else None

        return eventually(last, what=f"{reason} event for {name}")

    def metrics(self) -> dict[str, float]:
        import httpx

        return parse_metrics(httpx.get(self.scheduler.url + "/metrics", timeout=5.0).text)

    # -- between tests ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete every pod and node and wait until the scheduler's cache is empty."""
        for ns in self.cs.core_v1.namespaces().list().items or []:
            ns_name = ns.metadata.name if ns.metadata and ns.metadata.name else ""
            for pod in self.cs.core_v1.pods(ns_name).list().items or []:
                if pod.metadata and pod.metadata.name:
                    self.cs.core_v1.pods(ns_name).delete(pod.metadata.name, grace_period_seconds=0)
        for node in self.cs.core_v1.nodes().list().items or []:
            if node.metadata and node.metadata.name:
                self.cs.core_v1.nodes().delete(node.metadata.name)

        def empty() -> bool:
            m = self.metrics()
            return (
                m.get('scheduler_cache_size{type="nodes"}') == 0.0
                and m.get('scheduler_cache_size{type="pods"}') == 0.0
                and m.get('scheduler_pending_pods{queue="active"}') == 0.0
                and m.get('scheduler_pending_pods{queue="unschedulable"}') == 0.0
                and m.get('scheduler_pending_pods{queue="backoff"}') == 0.0
                and m.get('scheduler_pending_pods{queue="gated"}') == 0.0
            )

        eventually(empty, what="an empty scheduler cache and queue")
