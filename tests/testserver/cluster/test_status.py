"""The status: what :class:`ClusterObserver` reads from a real API server, how :func:`render` draws it
and what :class:`ProgressLog` prints."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from rich.console import Console

from pyclientgo.api.coordination.v1 import Lease
from pyclientgo.api.core.v1 import Event, Node, Pod, ServiceAccount
from pyclientgo.config import load_config
from pyclientgo.kubernetes import Clientset
from testserver.cluster.status import (
    ClusterObserver,
    ClusterView,
    NodeRow,
    ProgressLog,
    WarningEvent,
    render,
)
from testserver.cluster.supervisor import ComponentState, ComponentStatus
from testserver.testing import TestServer


def component(name: str, state: ComponentState = ComponentState.READY, **kw: object) -> ComponentStatus:
    values: dict[str, object] = {
        "pid": 42,
        "url": "",
        "restarts": 0,
        "last_exit": None,
        "fallback": False,
        "ever_ready": state is ComponentState.READY,
    }
    values.update(kw)
    return ComponentStatus(name=name, state=state, **values)  # type: ignore[arg-type]


def text_of(view: ClusterView, **kw: str) -> str:
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(render(view, **kw))
    return console.export_text()


def test_render_shows_components_nodes_pods_and_warnings() -> None:
    now = dt.datetime.now(dt.UTC)
    view = ClusterView(
        components=[
            component("apiserver", url="https://127.0.0.1:6443"),
            component("controller-manager", ComponentState.BACKOFF, pid=None, restarts=3, last_exit=-9),
            component("scheduler", ComponentState.WAITING),
            component("kubelet", fallback=True),
        ],
        health={"apiserver": "ok", "kubelet": "ok"},
        leaders={"controller-manager": "", "scheduler": "vm_e60bcc9f-c2a7-47a6-86f2-ac55ed813f53"},
        nodes=[
            NodeRow(name="node-0", ready="True", reason="KubeletReady"),
            NodeRow(name="node-1", ready="Unknown"),
        ],
        pods={"Running": 2, "Pending": 1},
        warnings=[
            WarningEvent(
                when=now - dt.timedelta(seconds=5),
                object="Pod/default/web",
                reason="BackOff",
                message="Back-off restarting failed container",
            )
        ],
        recent=["00:00:01 controller-manager: exited with -9; restarting in 1s (restart 1)"],
    )
    text = text_of(view, title="testserver up — starting", footer="KUBECONFIG=/x")
    assert "testserver up — starting" in text and "KUBECONFIG=/x" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 3}
    assert "BackOff" in rows["controller-manager"] and " 3 " in rows["controller-manager"]
    assert "(none)" in rows["controller-manager"]  # no Lease holder
    assert "vm_e60bcc9f " in rows["scheduler"] and "Waiting" in rows["scheduler"]
    assert "Ready (fake)" in rows["kubelet"]
    assert "KubeletReady" in rows["node-0"] and "Unknown" in rows["node-1"]
    assert "Pods: Pending 1, Running 2" in text
    assert "Latest warning events" in text and "Pod/default/web" in text and "Back-off restarting" in text
    assert "exited with -9; restarting in 1s (restart 1)" in text


def test_view_health_and_node_readiness() -> None:
    view = ClusterView(
        components=[component("apiserver"), component("kubelet")],
        health={"apiserver": "ok", "kubelet": "ok"},
        nodes=[NodeRow(name="a", ready="True"), NodeRow(name="b", ready="False")],
    )
    assert view.healthy()
    assert view.nodes_ready(["a"]) and not view.nodes_ready(["a", "b"]) and not view.nodes_ready(["c"])
    view.health["kubelet"] = "HTTP 500"
    assert not view.healthy()
    view.health["kubelet"] = "ok"
    view.components.append(component("scheduler", ComponentState.STARTING))
    assert not view.healthy()


def test_progress_log_quiet_and_node_changes() -> None:
    out = io.StringIO()
    log = ProgressLog(out, quiet=True)
    log.component_event("kubelet", "started (pid 1)")
    log.component_event("kubelet", "exited with 1; restarting in 1s (restart 1)")
    assert out.getvalue() == "testserver up: kubelet: exited with 1; restarting in 1s (restart 1)\n"
    out = io.StringIO()
    log = ProgressLog(out)
    view = ClusterView(components=[], nodes=[NodeRow(name="n", ready="False", reason="KubeletNotReady")])
    log.nodes(view)
    log.nodes(view)  # unchanged: nothing new
    log.nodes(ClusterView(components=[], nodes=[NodeRow(name="n", ready="True", reason="KubeletReady")]))
    assert out.getvalue().splitlines() == [
        "testserver up: node n: Ready=False (KubeletNotReady)",
        "testserver up: node n: Ready=True (KubeletReady)",
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with TestServer() as s:
        yield s


def test_observer_reads_the_cluster_through_the_api(server: TestServer) -> None:
    with Clientset(load_config(kubeconfig=str(server.kubeconfig))) as cs:
        cs.core_v1.nodes().create(  # the API server keeps a Node's status on create
            Node(
                metadata={"name": "observed-0"},
                status={"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]},
            )
        )
        cs.core_v1.service_accounts("default").create(ServiceAccount(metadata={"name": "default"}))
        cs.core_v1.pods("default").create(
            Pod(metadata={"name": "p"}, spec={"containers": [{"name": "c", "image": "busybox"}]})
        )
        for i, (kind, reason) in enumerate([("Warning", "FailedScheduling"), ("Normal", "Scheduled")]):
            cs.core_v1.events("default").create(
                Event(
                    metadata={"name": f"e{i}"},
                    involved_object={"kind": "Pod", "namespace": "default", "name": "p"},
                    reason=reason,
                    message=f"{reason} message",
                    type=kind,
                    last_timestamp=dt.datetime.now(dt.UTC),
                    count=2,
                )
            )
        cs.coordination_v1.leases("kube-system").create(
            Lease(metadata={"name": "kube-scheduler"}, spec={"holderIdentity": "somebody"})
        )
    observer = ClusterObserver(server.kubeconfig)
    try:
        view = observer.observe(
            [component("apiserver"), component("scheduler"), component("controller-manager")]
        )
    finally:
        observer.close()
    assert view.api_error == ""
    assert view.health["apiserver"] == "ok"
    assert NodeRow(name="observed-0", ready="True", reason="KubeletReady") in view.nodes
    assert view.pods == {"Pending": 1}
    assert [(w.object, w.reason, w.count) for w in view.warnings] == [
        ("Pod/default/p", "FailedScheduling", 2)
    ]
    assert view.leaders == {"scheduler": "somebody", "controller-manager": ""}


def test_observer_reports_an_unreachable_component_instead_of_raising(server: TestServer) -> None:
    observer = ClusterObserver(server.kubeconfig, timeout=1.0)
    try:
        view = observer.observe(
            [component("apiserver"), component("kubelet", url="http://127.0.0.1:9")]  # nothing listens on 9
        )
    finally:
        observer.close()
    assert view.health["kubelet"] == "ConnectError"
    assert view.health["apiserver"] == "ok"
