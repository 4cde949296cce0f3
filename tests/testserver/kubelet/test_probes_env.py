"""The process-runtime kubelet's probes (liveness restart, readiness and startup gating; exec,
httpGet, tcpSocket) and container environment (configMap/secret/downward API/envFrom/$(VAR)/service
variables, CreateContainerConfigError) against a real API server, read back with ``kubectl logs``."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap, Pod, Secret, Service
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess

from .conftest import PROC_NODE, Kubectl, wait_for


def pod(name: str, *containers: dict[str, Any], labels: dict[str, str] | None = None, **spec: Any) -> Pod:
    return Pod.model_validate(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"nodeName": PROC_NODE, "containers": list(containers), **spec},
        }
    )


def status(cs: Clientset, name: str) -> dict[str, Any]:
    return cs.core_v1.pods("default").get(name).to_dict().get("status") or {}


def container(cs: Clientset, name: str) -> dict[str, Any]:
    return dict((status(cs, name).get("containerStatuses") or [{}])[0])


def condition(cs: Clientset, name: str, type_: str) -> dict[str, Any]:
    return next((c for c in status(cs, name).get("conditions") or [] if c["type"] == type_), {})


def events(cs: Clientset, name: str) -> list[tuple[str, str]]:
    out = []
    for e in cs.core_v1.events("default").list().to_dict().get("items") or []:
        if (e.get("involvedObject") or {}).get("name") == name:
            out.append((e.get("reason", ""), e.get("message", "")))
    return out


def sandbox(kubelet: KubeletProcess, cs: Clientset, name: str) -> Path:
    uid = cs.core_v1.pods("default").get(name).to_dict()["metadata"]["uid"]
    return kubelet.data_dir / "root" / "pods" / str(uid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exec_probe(*command: str, **kw: Any) -> dict[str, Any]:
    return {"exec": {"command": list(command)}, "periodSeconds": 1, "failureThreshold": 1, **kw}


def test_liveness_failure_restarts_the_container(proc_cs: Clientset, proc_kubelet: KubeletProcess) -> None:
    proc_cs.core_v1.pods("default").create(
        pod(
            "live",
            {
                "name": "main",
                "image": "busybox",
                "command": ["sh", "-c", "touch healthy; sleep 1; rm healthy; sleep 600"],
                "livenessProbe": exec_probe("test", "-f", "healthy"),
            },
            terminationGracePeriodSeconds=1,
        )
    )
    cst = wait_for(
        lambda: (c := container(proc_cs, "live")).get("restartCount", 0) >= 1 and c, what="restart"
    )
    assert cst["lastState"]["terminated"]["exitCode"] == 143  # sh killed by SIGTERM
    assert cst["lastState"]["terminated"]["reason"] == "Error"
    got = events(proc_cs, "live")
    assert ("Killing", "Container main failed liveness probe, will be restarted") in got
    assert any(r == "Unhealthy" and m.startswith("Liveness probe failed:") for r, m in got)
    proc_cs.core_v1.pods("default").delete("live", grace_period_seconds=0)


def test_readiness_gates_ready_both_ways(proc_cs: Clientset, proc_kubelet: KubeletProcess) -> None:
    proc_cs.core_v1.pods("default").create(
        pod(
            "ready-file",
            {
                "name": "main",
                "image": "busybox",
                "command": ["sleep", "600"],
                "readinessProbe": exec_probe("test", "-f", "ready"),
            },
            terminationGracePeriodSeconds=1,
        )
    )
    wait_for(lambda: status(proc_cs, "ready-file").get("phase") == "Running", what="Running")
    ready = condition(proc_cs, "ready-file", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")
    assert ready["message"] == "containers with unready status: [main]"
    cst = container(proc_cs, "ready-file")
    assert cst["ready"] is False and cst["started"] is True and "running" in cst["state"]
    (sandbox(proc_kubelet, proc_cs, "ready-file") / "ready").touch()  # the container's cwd
    wait_for(lambda: condition(proc_cs, "ready-file", "Ready").get("status") == "True", what="Ready")
    assert condition(proc_cs, "ready-file", "ContainersReady")["status"] == "True"
    assert container(proc_cs, "ready-file")["ready"] is True
    (sandbox(proc_kubelet, proc_cs, "ready-file") / "ready").unlink()
    wait_for(
        lambda: condition(proc_cs, "ready-file", "Ready").get("status") == "False", what="not Ready again"
    )
    assert container(proc_cs, "ready-file")["restartCount"] == 0  # readiness never restarts
    proc_cs.core_v1.pods("default").delete("ready-file", grace_period_seconds=0)


def test_http_and_tcp_probes_on_the_image_tables_nginx(
    proc_cs: Clientset, proc_kubelet: KubeletProcess
) -> None:
    port = free_port()
    closed = free_port()
    proc_cs.core_v1.pods("default").create(
        pod(
            "web",
            {
                "name": "web",
                "image": "nginx:1.27",  # no command: the image table serves http on the containerPort
                "ports": [{"name": "http", "containerPort": port}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
                "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1, "failureThreshold": 30},
            },
            {
                "name": "never-ready",
                "image": "busybox",
                "command": ["sleep", "600"],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": closed}, "periodSeconds": 1},
            },
            terminationGracePeriodSeconds=1,
        )
    )

    def web_ready() -> bool:
        return any(
            c["name"] == "web" and c["ready"] for c in status(proc_cs, "web").get("containerStatuses") or []
        )

    wait_for(web_ready, what="web ready through its httpGet probe")
    ready = condition(proc_cs, "web", "Ready")
    assert ready["status"] == "False" and ready["message"] == "containers with unready status: [never-ready]"
    want = (
        f'Readiness probe failed: Get "http://127.0.0.1:{closed}/healthz": '
        f"dial tcp 127.0.0.1:{closed}: connect: connection refused"
    )
    wait_for(lambda: ("Unhealthy", want) in events(proc_cs, "web"), what="readiness failure event")
    assert all(c["restartCount"] == 0 for c in status(proc_cs, "web")["containerStatuses"])  # tcp liveness ok
    proc_cs.core_v1.pods("default").delete("web", grace_period_seconds=0)


def test_startup_probe_gates_started(proc_cs: Clientset, proc_kubelet: KubeletProcess) -> None:
    proc_cs.core_v1.pods("default").create(
        pod(
            "slow-start",
            {
                "name": "main",
                "image": "busybox",
                "command": ["sleep", "600"],
                "startupProbe": exec_probe("test", "-f", "started", failureThreshold=600),
            },
            terminationGracePeriodSeconds=1,
        )
    )
    wait_for(lambda: status(proc_cs, "slow-start").get("phase") == "Running", what="Running")
    cst = container(proc_cs, "slow-start")
    assert cst["started"] is False and cst["ready"] is False
    (sandbox(proc_kubelet, proc_cs, "slow-start") / "started").touch()
    wait_for(lambda: container(proc_cs, "slow-start").get("started") is True, what="started")
    wait_for(lambda: condition(proc_cs, "slow-start", "Ready").get("status") == "True", what="Ready")
    proc_cs.core_v1.pods("default").delete("slow-start", grace_period_seconds=0)


def _env_lines(kubectl: Kubectl, name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in kubectl.run("logs", name).stdout.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    return out


def test_environment_from_every_source(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl
) -> None:
    svc = proc_cs.core_v1.services("default").create(
        Service.model_validate(
            {
                "metadata": {"name": "my-svc"},
                "spec": {
                    "ports": [{"name": "http", "port": 8080}, {"name": "dns", "port": 53, "protocol": "UDP"}]
                },
            }
        )
    )
    ip = svc.to_dict()["spec"]["clusterIP"]
    proc_cs.core_v1.configmaps("default").create(
        ConfigMap.model_validate({"metadata": {"name": "cm1"}, "data": {"a": "1", "b": "two"}})
    )
    proc_cs.core_v1.secrets("default").create(
        Secret.model_validate({"metadata": {"name": "s1"}, "stringData": {"password": "hunter2"}})
    )
    env = [
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm1", "key": "a"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "password"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {
            "name": "MEM_MI",
            "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
        },
        {"name": "CPU_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
        {"name": "GREETING", "value": "hi $(POD_NAME) $(NOPE) $$(A)"},
        {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "x", "optional": True}}},
    ]
    proc_cs.core_v1.pods("default").create(
        pod(
            "envpod",
            {
                "name": "main",
                "image": "busybox",
                "command": ["sh", "-c", "env; echo ARG=$1", "--"],
                "args": ["$(A)-$(POD_NAME)"],
                "env": env,
                "envFrom": [
                    {"configMapRef": {"name": "cm1"}, "prefix": "CM_"},
                    {"secretRef": {"name": "s1"}},
                ],
                "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}, "requests": {"cpu": "250m"}},
            },
            labels={"app": "demo"},
            restartPolicy="Never",
        )
    )
    wait_for(lambda: status(proc_cs, "envpod").get("phase") == "Succeeded", what="envpod Succeeded")
    got = _env_lines(proc_kubectl, "envpod")
    assert got["A"] == "1" and got["PW"] == "hunter2" and got["password"] == "hunter2"
    assert (got["POD_NAME"], got["POD_NS"], got["NODE"], got["POD_IP"]) == (
        "envpod",
        "default",
        PROC_NODE,
        "127.0.0.1",
    )
    assert got["APP"] == "demo" and got["MEM_MI"] == "64" and got["CPU_REQ"] == "250"
    assert got["GREETING"] == "hi envpod $(NOPE) $(A)"
    assert got["CM_a"] == "1" and got["CM_b"] == "two"
    assert "OPT" not in got
    assert got["ARG"] == "1-envpod"  # $(VAR) expanded in args
    assert got["MY_SVC_SERVICE_HOST"] == ip and got["MY_SVC_SERVICE_PORT"] == "8080"
    assert got["MY_SVC_SERVICE_PORT_DNS"] == "53"
    assert got["MY_SVC_PORT"] == f"tcp://{ip}:8080"
    assert got["MY_SVC_PORT_53_UDP"] == f"udp://{ip}:53" and got["MY_SVC_PORT_53_UDP_ADDR"] == ip
    assert got["HOSTNAME"] == "envpod"
    proc_cs.core_v1.pods("default").create(
        pod(
            "nolinks",
            {"name": "main", "image": "busybox", "command": ["env"]},
            restartPolicy="Never",
            enableServiceLinks=False,
        )
    )
    wait_for(lambda: status(proc_cs, "nolinks").get("phase") == "Succeeded", what="nolinks Succeeded")
    assert not any(k.startswith("MY_SVC_") for k in _env_lines(proc_kubectl, "nolinks"))


def test_missing_configmap_is_create_container_config_error(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl
) -> None:
    proc_cs.core_v1.pods("default").create(
        pod(
            "needs-cm",
            {
                "name": "main",
                "image": "busybox",
                "command": ["sh", "-c", "echo V=$V"],
                "env": [{"name": "V", "valueFrom": {"configMapKeyRef": {"name": "late-cm", "key": "v"}}}],
            },
            restartPolicy="Never",
        )
    )

    def waiting() -> dict[str, Any] | None:
        w = (container(proc_cs, "needs-cm").get("state") or {}).get("waiting") or {}
        return w if w.get("reason") == "CreateContainerConfigError" else None

    assert wait_for(waiting, what="CreateContainerConfigError")["message"] == 'configmap "late-cm" not found'
    assert status(proc_cs, "needs-cm")["phase"] == "Pending"
    assert ("Failed", 'Error: configmap "late-cm" not found') in events(proc_cs, "needs-cm")
    proc_cs.core_v1.configmaps("default").create(
        ConfigMap.model_validate({"metadata": {"name": "late-cm"}, "data": {"w": "x"}})
    )
    wait_for(
        lambda: (waiting() or {}).get("message") == "couldn't find key v in ConfigMap default/late-cm",
        what="missing key message",
    )
    proc_cs.core_v1.configmaps("default").patch("late-cm", {"data": {"v": "now"}})
    wait_for(lambda: status(proc_cs, "needs-cm").get("phase") == "Succeeded", what="runs once the key exists")
    assert proc_kubectl.run("logs", "needs-cm").stdout == "V=now\n"
