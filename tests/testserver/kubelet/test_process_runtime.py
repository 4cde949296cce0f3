"""``testserver kubelet`` with the process runtime against a real API server: containers are real
processes, their logs read with the real ``kubectl logs``; restart policies and CrashLoopBackOff,
graceful stop of a process that traps SIGTERM, the image table and ErrImagePull, clean-up."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyclientgo.api.core.v1 import Pod
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import Clientset
from testserver.kubelet.testing import KubeletProcess
from testserver.testing import TestServer

from .conftest import PROC_NODE, Kubectl, wait_for

PY = sys.executable


def pod(name: str, *containers: dict[str, Any], node: str = PROC_NODE, **spec: Any) -> Pod:
    return Pod.model_validate(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": list(containers), **spec},
        }
    )


def ctr(
    command: list[str] | None = None, name: str = "main", image: str = "busybox", **kw: Any
) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, **kw}
    if command is not None:
        c["command"] = command
    return c


def status(cs: Clientset, name: str) -> dict[str, Any]:
    return cs.core_v1.pods("default").get(name).to_dict().get("status") or {}


def phase_is(cs: Clientset, name: str, *phases: str) -> dict[str, Any] | None:
    st = status(cs, name)
    return st if st.get("phase") in phases else None


def gone(cs: Clientset, name: str) -> bool:
    try:
        cs.core_v1.pods("default").get(name)
    except NotFound:
        return True
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def events(cs: Clientset, name: str) -> list[tuple[str, str]]:
    out = []
    for e in cs.core_v1.events("default").list().items or []:
        d = e.to_dict()
        if (d.get("involvedObject") or {}).get("name") == name:
            out.append((d.get("reason", ""), d.get("message", "")))
    return out


def test_pod_prints_and_exits_then_kubectl_logs(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl
) -> None:
    proc_cs.core_v1.pods("default").create(
        pod("hello", ctr(["sh", "-c", "echo hello; echo second line; echo oops >&2"]), restartPolicy="Never")
    )
    st = wait_for(lambda: phase_is(proc_cs, "hello", "Succeeded", "Failed"), what="pod finished")
    assert st["phase"] == "Succeeded"
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    assert term["startedAt"] and term["finishedAt"] and term["containerID"].startswith("pyclientgo://")
    assert st["podIP"] == "127.0.0.1" and st["hostIP"] == "127.0.0.1"
    out = proc_kubectl.run("logs", "hello").stdout
    assert sorted(out.splitlines()) == ["hello", "oops", "second line"]
    assert out.splitlines().index("hello") < out.splitlines().index("second line")
    tail = proc_kubectl.run("logs", "hello", "--tail=1", "-c", "main").stdout
    assert len(tail.splitlines()) == 1
    stamped = proc_kubectl.run("logs", "hello", "--timestamps").stdout.splitlines()
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ", line) for line in stamped), stamped
    limited = proc_kubectl.run("logs", "hello", "--limit-bytes=3").stdout
    assert len(limited) == 3
    reasons = [r for r, _ in events(proc_cs, "hello")]
    assert {"Pulled", "Created", "Started"} <= set(reasons)


def test_exit_code_and_restart_policies(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl
) -> None:
    pods = proc_cs.core_v1.pods("default")
    pods.create(pod("never-fails", ctr(["sh", "-c", "exit 3"]), restartPolicy="Never"))
    pods.create(pod("onfailure-ok", ctr(["sh", "-c", "exit 0"]), restartPolicy="OnFailure"))
    pods.create(pod("always-crash", ctr(["sh", "-c", "echo attempt; exit 1"]), restartPolicy="Always"))
    st = wait_for(lambda: phase_is(proc_cs, "never-fails", "Failed", "Succeeded"), what="never-fails done")
    assert st["phase"] == "Failed"
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (3, "Error")
    assert st["containerStatuses"][0]["restartCount"] == 0
    st = wait_for(lambda: phase_is(proc_cs, "onfailure-ok", "Failed", "Succeeded"), what="onfailure-ok done")
    assert st["phase"] == "Succeeded"

    def crash_looping() -> dict[str, Any] | None:
        cst = (status(proc_cs, "always-crash").get("containerStatuses") or [{}])[0]
        waiting = (cst.get("state") or {}).get("waiting") or {}
        return (
            cst if waiting.get("reason") == "CrashLoopBackOff" and cst.get("restartCount", 0) >= 2 else None
        )

    cst = wait_for(crash_looping, what="CrashLoopBackOff after restarts")
    assert "back-off" in cst["state"]["waiting"]["message"]
    assert cst["lastState"]["terminated"]["exitCode"] == 1
    assert status(proc_cs, "always-crash")["phase"] == "Running"
    assert proc_kubectl.run("logs", "always-crash", "--previous").stdout == "attempt\n"
    assert "BackOff" in [r for r, _ in events(proc_cs, "always-crash")]
    for name in ("never-fails", "onfailure-ok", "always-crash"):
        pods.delete(name)
    for name in ("never-fails", "onfailure-ok", "always-crash"):
        wait_for(functools.partial(gone, proc_cs, name), what=f"{name} deleted")


def test_graceful_stop_of_a_process_trapping_sigterm(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, tmp_path: Path
) -> None:
    marker = tmp_path / "term.txt"
    pidfile = tmp_path / "pids.txt"
    script = (
        "import os, signal, subprocess, sys, time\n"
        f"child = subprocess.Popen(['sleep', '1000'])\n"
        f"open({str(pidfile)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "def term(signum, frame):\n"
        f"    open({str(marker)!r}, 'w').write('got SIGTERM')\n"
        "    time.sleep(0.5)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, term)\n"
        "while True: time.sleep(0.1)\n"
    )
    proc_cs.core_v1.pods("default").create(
        pod("trap", ctr([PY, "-c", script]), terminationGracePeriodSeconds=10)
    )
    wait_for(lambda: phase_is(proc_cs, "trap", "Running"), what="Running")
    pids = [int(p) for p in wait_for(lambda: pidfile.exists() and pidfile.read_text().split(), what="pids")]
    assert all(alive(p) for p in pids)
    uid = proc_cs.core_v1.pods("default").get("trap").to_dict()["metadata"]["uid"]
    sandbox = proc_kubelet.data_dir / "root" / "pods" / str(uid)
    assert sandbox.is_dir()
    proc_cs.core_v1.pods("default").delete("trap")
    wait_for(lambda: gone(proc_cs, "trap"), what="pod deleted after graceful stop")
    assert marker.read_text() == "got SIGTERM"
    wait_for(lambda: not any(alive(p) for p in pids), what="the container's process tree gone")
    assert not sandbox.exists()
    assert not list((proc_kubelet.data_dir / "root" / "logs").glob(f"default_trap_{uid}"))
    assert ("Killing", "Stopping container main") in events(proc_cs, "trap")


def test_sigkill_after_grace_period(proc_cs: Clientset, proc_kubelet: KubeletProcess, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "while True: time.sleep(0.1)\n"
    )
    proc_cs.core_v1.pods("default").create(
        pod("stubborn", ctr([PY, "-c", script]), terminationGracePeriodSeconds=1)
    )
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text(), what="pid"))
    proc_cs.core_v1.pods("default").delete("stubborn")
    wait_for(lambda: gone(proc_cs, "stubborn"), what="pod deleted after SIGKILL")
    assert not alive(pid)


def test_image_table_and_err_image_pull(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl
) -> None:
    pods = proc_cs.core_v1.pods("default")
    pods.create(pod("unknown-image", ctr(None, image="example.com/team/app:1.0")))
    pods.create(pod("pause", ctr(None, image="registry.k8s.io/pause:3.10")))

    def pulling_failed() -> dict[str, Any] | None:
        cst = (status(proc_cs, "unknown-image").get("containerStatuses") or [{}])[0]
        waiting = (cst.get("state") or {}).get("waiting") or {}
        return waiting if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff") else None

    waiting = wait_for(pulling_failed, what="ErrImagePull")
    assert 'image "example.com/team/app:1.0" is not in the kubelet\'s image table' in waiting["message"]
    assert "--image-command example.com/team/app=CMD" in waiting["message"]
    assert status(proc_cs, "unknown-image")["phase"] == "Pending"
    failed = [m for r, m in events(proc_cs, "unknown-image") if r == "Failed"]
    assert any(m.startswith('Failed to pull image "example.com/team/app:1.0": ') for m in failed)
    r = proc_kubectl.run("logs", "unknown-image", check=False)
    assert r.returncode != 0 and 'container "main" in pod "unknown-image" is waiting to start' in r.stderr
    # pause has no command: the table runs sleep infinity
    wait_for(lambda: phase_is(proc_cs, "pause", "Running"), what="pause Running")
    pods.delete("unknown-image", grace_period_seconds=0)
    pods.delete("pause", grace_period_seconds=1)
    wait_for(lambda: gone(proc_cs, "pause"), what="pause deleted")


def test_kubectl_logs_follow_streams(
    proc_cs: Clientset, proc_kubelet: KubeletProcess, proc_kubectl: Kubectl, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    script = f"echo line 1; while [ ! -e {go} ]; do sleep 0.05; done; echo line 2"
    proc_cs.core_v1.pods("default").create(pod("follow", ctr(["sh", "-c", script]), restartPolicy="Never"))
    wait_for(lambda: phase_is(proc_cs, "follow", "Running"), what="Running")
    follower = proc_kubectl.popen("logs", "-f", "follow")
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "line 1\n"
        assert status(proc_cs, "follow")["phase"] == "Running"  # streamed while it runs
        go.touch()
        assert follower.stdout.readline() == "line 2\n"
        assert follower.wait(timeout=20) == 0  # the stream ends when the container exits
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()


def test_kubelet_api_and_node_endpoint(proc_cs: Clientset, proc_kubelet: KubeletProcess) -> None:
    node = proc_cs.core_v1.nodes().get(PROC_NODE).to_dict()
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    assert port != 10250 and port > 0  # the free port the kubelet listens on (--port 0)
    with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=False) as c:
        assert c.get("/healthz").text == "ok"
        assert c.get("/pods").json()["kind"] == "PodList"
        r = c.get("/containerLogs/default/no-such-pod/main")
        assert r.status_code == 404 and r.text == 'pod "no-such-pod" does not exist'


def test_kubelet_stop_cleans_up(proc_server: TestServer, proc_cs: Clientset, tmp_path: Path) -> None:
    kubelet = KubeletProcess(proc_server.kubeconfig, node_name="proc-stop", fake=False)
    pidfile = tmp_path / "pid"
    try:
        kubelet.start()
        wait_for(lambda: proc_cs.core_v1.nodes().get("proc-stop"), what="node")
        # "$$" is kube's escaped "$": the shell sees "echo $$"
        body = pod("stop-me", ctr(["sh", "-c", f"echo $$$$ > {pidfile}; exec sleep 1000"]), node="proc-stop")
        proc_cs.core_v1.pods("default").create(body)
        pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))
        assert alive(pid)
        kubelet.stop()
        assert not alive(pid)
        pods_dir = kubelet.data_dir / "root" / "pods"
        assert not pods_dir.exists() or not any(pods_dir.iterdir())
    finally:
        kubelet.cleanup()
        proc_cs.core_v1.pods("default").delete("stop-me", grace_period_seconds=0)


@pytest.mark.parametrize("flag", ["--container-log-max-files=1", "--image-command=broken"])
def test_bad_flags_are_refused(proc_server: TestServer, flag: str) -> None:
    kubelet = KubeletProcess(proc_server.kubeconfig, node_name="bad-flags", fake=False, extra_args=[flag])
    try:
        with pytest.raises(RuntimeError, match=r"invalid flag|must be >= 2"):
            kubelet.start()
    finally:
        kubelet.cleanup()


def test_restarted_kubelet_kills_what_a_killed_one_left(
    proc_server: TestServer, proc_cs: Clientset, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    first = KubeletProcess(
        proc_server.kubeconfig, node_name="proc-orphan", fake=False, data_dir=tmp_path / "kl"
    )
    second = KubeletProcess(
        proc_server.kubeconfig, node_name="proc-orphan", fake=False, data_dir=tmp_path / "kl"
    )
    try:
        first.start()
        wait_for(lambda: proc_cs.core_v1.nodes().get("proc-orphan"), what="node")
        # a grandchild of the kubelet: nothing but the next kubelet can find it once this one is killed
        script = f"sleep 1000 & echo $$! > {pidfile}; wait"
        proc_cs.core_v1.pods("default").create(pod("orphan", ctr(["sh", "-c", script]), node="proc-orphan"))
        pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))
        wait_for(lambda: phase_is(proc_cs, "orphan", "Running"), what="Running (the container is recorded)")
        assert first.process is not None
        first.process.kill()
        first.process.wait()
        assert alive(pid)  # survived its kubelet
        second.start()
        wait_for(lambda: not alive(pid), what="the orphan killed by the next kubelet")
    finally:
        first.cleanup()
        second.cleanup()
        proc_cs.core_v1.pods("default").delete("orphan", grace_period_seconds=0)
