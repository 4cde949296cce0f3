"""What ``testserver up`` shows: the cluster as seen through the API (:class:`ClusterObserver`), drawn
live in a terminal with rich (:func:`render`) or told as plain progress lines (:class:`ProgressLog`).

A :class:`ClusterView` holds, for one moment: every supervised component (state, PID, restarts, its
``/healthz`` answer — ``/readyz`` for the API server — and, for the leader-elected ones, who holds
their Lease), the nodes and their ``Ready`` condition, the pods counted by phase and the latest
``Warning`` events.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from testserver.cluster.supervisor import ComponentState, ComponentStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["ClusterObserver", "ClusterView", "NodeRow", "ProgressLog", "WarningEvent", "render"]

LEASES: dict[str, str] = {
    "controller-manager": "kube-controller-manager",
    "scheduler": "kube-scheduler",
}
"""The components that elect a leader, and their Lease in ``kube-system``."""

_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


@dataclass(frozen=True, kw_only=True)
class NodeRow:
    """One node as the status shows it."""

    name: str
    """The node's name."""
    ready: str
    """The status of its ``Ready`` condition: ``True``, ``False`` or ``Unknown`` (none posted yet)."""
    reason: str = ""
    """The reason of that condition."""


@dataclass(frozen=True, kw_only=True)
class WarningEvent:
    """One ``Warning`` event."""

    when: dt.datetime | None
    """Its last time (lastTimestamp, else eventTime, else creation)."""
    object: str
    """``kind/namespace/name`` of the object it is about."""
    reason: str
    """The event's reason."""
    message: str
    """The event's message."""
    count: int = 1
    """How many times it happened."""


@dataclass(kw_only=True)
class ClusterView:
    """The cluster at one moment."""

    components: list[ComponentStatus]
    """The supervised components, in start order."""
    health: dict[str, str] = field(default_factory=dict)
    """Per component: ``ok`` or why its health check failed (absent: not probed)."""
    leaders: dict[str, str] = field(default_factory=dict)
    """Per leader-electing component: the holder identity of its Lease."""
    nodes: list[NodeRow] = field(default_factory=list)
    """Every node, by name."""
    pods: dict[str, int] = field(default_factory=dict)
    """Pods per phase."""
    warnings: list[WarningEvent] = field(default_factory=list)
    """The latest warning events, newest first."""
    api_error: str = ""
    """Why the API could not be read (empty when it could)."""
    recent: list[str] = field(default_factory=list)
    """The supervisor's latest messages, oldest first."""

    def healthy(self) -> bool:
        """Whether every component is ready and answers its health check with ok."""
        return all(
            c.state is ComponentState.UNAVAILABLE
            or (c.state is ComponentState.READY and self.health.get(c.name) == "ok")
            for c in self.components
        )

    def nodes_ready(self, expected: list[str]) -> bool:
        """Whether every node in ``expected`` is registered and Ready."""
        ready = {n.name for n in self.nodes if n.ready == "True"}
        return all(name in ready for name in expected)


def _when(event: Any) -> dt.datetime | None:
    for value in (
        event.last_timestamp,
        event.event_time,
        event.metadata and event.metadata.creation_timestamp,
    ):
        if isinstance(value, dt.datetime):
            return value
    return None


class ClusterObserver:
    """Reads a :class:`ClusterView` through the API with the admin kubeconfig (the SDK's Clientset)."""

    def __init__(self, kubeconfig: Path, *, max_warnings: int = 5, timeout: float = 2.0) -> None:
        self.kubeconfig = kubeconfig
        self.max_warnings = max_warnings
        self.timeout = timeout
        self._clientset: Any = None
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
        if self._clientset is not None:
            self._clientset.close()
            self._clientset = None

    def _client(self) -> Any:
        if self._clientset is None:
            from pyclientgo.config import load_config
            from pyclientgo.kubernetes import Clientset

            self._clientset = Clientset(load_config(kubeconfig=str(self.kubeconfig)))
        return self._clientset

    def observe(self, components: list[ComponentStatus], *, cluster: bool = True) -> ClusterView:
        """The view of ``components`` and (with ``cluster``) of the nodes, pods, Leases and events."""
        view = ClusterView(components=components)
        api_up = any(c.name == "apiserver" and c.state is ComponentState.READY for c in components)
        for c in components:
            if c.state is not ComponentState.READY or c.name == "apiserver" or not c.url:
                continue
            try:
                response = self._http.get(c.url + "/healthz")
                view.health[c.name] = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as err:
                view.health[c.name] = type(err).__name__
        if not api_up or not self.kubeconfig.exists():
            return view
        try:
            cs = self._client()
            response = cs.rest.request("GET", "/readyz", timeout=self.timeout)
            view.health["apiserver"] = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
            if cluster:
                self._read_cluster(cs, view)
        except Exception as err:  # the API server restarting, a timeout: shown, tried again next time
            view.api_error = f"{type(err).__name__}: {err}"[:200]
            view.health.setdefault("apiserver", type(err).__name__)
        return view

    def _read_cluster(self, cs: Any, view: ClusterView) -> None:
        from pyclientgo.errors import NotFound

        names = {c.name for c in view.components}
        for component, lease in LEASES.items():
            if component not in names:
                continue
            try:
                holder = cs.coordination_v1.leases("kube-system").get(lease).spec.holder_identity
            except NotFound:
                holder = None
            view.leaders[component] = holder or ""
        for node in cs.core_v1.nodes().list().items or []:
            ready = (
                next(
                    (c for c in (node.status.conditions or []) if c.type == "Ready"),
                    None,
                )
                if node.status is not None
                else None
            )
            view.nodes.append(
                NodeRow(
                    name=node.metadata.name,
                    ready=ready.status if ready is not None and ready.status else "Unknown",
                    reason=(ready.reason or "") if ready is not None else "",
                )
            )
        view.nodes.sort(key=lambda n: n.name)
        phases: Counter[str] = Counter()
        for pod in cs.core_v1.pods(None).list().items or []:
            phases[(pod.status.phase if pod.status is not None else None) or "Pending"] += 1
        view.pods = dict(phases)
        warnings = []
        for event in cs.core_v1.events(None).list(field_selector="type=Warning").items or []:
            if event.type != "Warning":
                continue
            obj = event.involved_object
            ref = "/".join(p for p in (obj.kind, obj.namespace, obj.name) if p) if obj is not None else ""
            warnings.append(
                WarningEvent(
                    when=_when(event),
                    object=ref,
                    reason=event.reason or "",
                    message=(event.message or "").strip(),
                    count=event.count or 1,
                )
            )
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        warnings.sort(key=lambda e: e.when or epoch, reverse=True)
        view.warnings = warnings[: self.max_warnings]


def _age(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "?"
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _short_identity(identity: str) -> str:
    """``host_<uuid>`` (the SDK's default identity) shortened to ``host_<first 8 of the uuid>``."""
    host, sep, rest = identity.rpartition("_")
    return f"{host}_{rest[:8]}" if sep and len(rest) == 36 else identity


def render(view: ClusterView, *, title: str = "testserver up", footer: str = "") -> RenderableType:
    """The live status as rich renderables: components, nodes, pods, warnings, supervisor messages."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    styles = {
        ComponentState.READY: "green",
        ComponentState.STARTING: "yellow",
        ComponentState.PENDING: "dim",
        ComponentState.WAITING: "dim yellow",
        ComponentState.BACKOFF: "red",
        ComponentState.STOPPED: "dim",
        ComponentState.UNAVAILABLE: "red dim",
    }
    components = Table(title="Components", title_justify="left", expand=False)
    for column in ("COMPONENT", "STATE", "PID", "RESTARTS", "HEALTH", "LEADER", "URL"):
        components.add_column(column)
    for c in view.components:
        health = view.health.get(c.name, "")
        leader = view.leaders.get(c.name, "-" if c.name not in LEASES else "")
        state = c.state.value + (" (fake)" if c.fallback else "")
        components.add_row(
            c.name,
            Text(state, style=styles[c.state]),
            str(c.pid or ""),
            str(c.restarts),
            Text(health, style="green" if health == "ok" else "red"),
            _short_identity(leader) or ("(none)" if c.name in LEASES else "-"),
            c.url,
        )
    nodes = Table(title="Nodes", title_justify="left")
    nodes.add_column("NAME")
    nodes.add_column("READY")
    nodes.add_column("REASON")
    shown = view.nodes[:20]
    for n in shown:
        nodes.add_row(n.name, Text(n.ready, style="green" if n.ready == "True" else "red"), n.reason)
    if len(view.nodes) > len(shown):
        ready = sum(1 for n in view.nodes if n.ready == "True")
        nodes.add_row(f"... {len(view.nodes) - len(shown)} more", f"{ready}/{len(view.nodes)} Ready", "")
    pods = Text("Pods: " + (", ".join(f"{p} {view.pods[p]}" for p in _PHASES if view.pods.get(p)) or "none"))
    parts: list[RenderableType] = [Text(title, style="bold"), components, nodes, pods]
    if view.warnings:
        now = dt.datetime.now(dt.UTC)
        events = Table(title="Latest warning events", title_justify="left")
        for column in ("AGE", "OBJECT", "REASON", "MESSAGE"):
            events.add_column(column)
        for e in view.warnings:
            events.add_row(_age(e.when, now), e.object, e.reason, e.message[:100])
        parts.append(events)
    if view.api_error:
        parts.append(Text(f"API: {view.api_error}", style="red"))
    if view.recent:
        parts.append(Text("\n".join(view.recent), style="dim"))
    if footer:
        parts.append(Text(footer))
    return Group(*parts)


class ProgressLog:
    """Plain progress lines (for output that is not a terminal): supervisor messages and node changes."""

    def __init__(
        self, out: TextIO | None = None, *, quiet: bool = False, prefix: str = "testserver up"
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.quiet = quiet
        self.prefix = prefix
        self._nodes: dict[str, str] = {}

    def line(self, message: str, *, important: bool = False) -> None:
        """Print one line (with ``quiet``, only ``important`` ones)."""
        if self.quiet and not important:
            return
        print(f"{self.prefix}: {message}", file=self.out, flush=True)

    def component_event(self, component: str, message: str) -> None:
        """A supervisor message about ``component`` (restarts are important)."""
        important = any(w in message for w in ("exited", "failed", "killing", "cannot run"))
        self.line(f"{component}: {message}", important=important)

    def nodes(self, view: ClusterView) -> None:
        """Lines for nodes that appeared or whose Ready status changed since the last view."""
        if view.api_error:
            return
        for n in view.nodes:
            if self._nodes.get(n.name) != n.ready:
                self._nodes[n.name] = n.ready
                self.line(f"node {n.name}: Ready={n.ready}{' (' + n.reason + ')' if n.reason else ''}")


def event_sink(*sinks: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """One ``on_event`` callback that calls each of ``sinks``."""

    def emit(component: str, message: str) -> None:
        for sink in sinks:
            sink(component, message)

    return emit
