"""``testserver up`` / ``down`` as a user runs them: real processes on loopback and the real kubectl.

Each test starts its own cluster (a free port, a temporary data directory) and stops it in a
``finally``; the PIDs in the state file are checked to be gone afterwards.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from testserver.cluster.state import pid_alive, read_state
from testserver.testing import Cluster

KUBECTL = shutil.which("kubectl")
STARTUP = 180.0  # a shared 2-core machine: a cold start can take tens of seconds

pytestmark = pytest.mark.timeout(600)


def eventually(probe: Callable[[], Any], *, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as err:  # not there yet
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(0.1)


def kubectl(kubeconfig: Path, home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None, "kubectl must be on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(kubeconfig), HOME=str(home))
    result = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result


def up_argv(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "testserver.cli", "up", "--port", "0", "--data-dir", str(data_dir), *args]


def all_pids(data_dir: Path) -> list[int]:
    state = read_state(data_dir / "cluster.json")
    return state.pids() if state is not None else []


def kill_leftovers(pids: list[int]) -> None:
    for pid in pids:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def assert_all_gone(pids: list[int]) -> None:
    assert pids, "no PIDs recorded"
    eventually(lambda: not any(pid_alive(p) for p in pids), timeout=30, what=f"processes {pids} gone")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def ready_state(data_dir: Path, process: subprocess.Popen[Any] | None = None) -> Any:
    def probe() -> Any:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"testserver up exited with {process.returncode}")
        state = read_state(data_dir / "cluster.json")
        return state if state is not None and state.ready else None

    return eventually(probe, timeout=STARTUP, what="the cluster ready")


def test_up_in_the_foreground_with_kubectl_then_ctrl_c(tmp_path: Path, home: Path) -> None:
    data_dir = tmp_path / "cluster"
    ready_file = tmp_path / "ready"
    out = (tmp_path / "out.txt").open("w")
    process = subprocess.Popen(
        up_argv(
            data_dir, "--ready-file", str(ready_file), "--components", "controller-manager,scheduler,kubelet"
        ),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    pids: list[int] = []
    try:
        state = ready_state(data_dir, process)
        pids = state.pids()
        assert set(state.components) == {"apiserver", "controller-manager", "scheduler", "kubelet"}
        url, kubeconfig, seconds = ready_file.read_text().split("\n")[:3]
        assert url == state.url and Path(kubeconfig) == data_dir / "kubeconfig" and float(seconds) > 0

        nodes = json.loads(kubectl(data_dir / "kubeconfig", home, "get", "nodes", "-o", "json").stdout)
        ready = {
            n["metadata"]["name"]: next(
                c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"
            )
            for n in nodes["items"]
        }
        assert ready == {"node-0": "True"}
        table = kubectl(data_dir / "kubeconfig", home, "get", "nodes").stdout
        assert "node-0" in table and " Ready " in table
        assert kubectl(data_dir / "kubeconfig", home, "get", "--raw", "/readyz").stdout.strip() == "ok"

        for name in ("apiserver", "controller-manager", "scheduler", "kubelet"):
            assert (data_dir / "logs" / f"{name}.log").stat().st_size > 0
        # every component has its own kubeconfig and identity (a client certificate, no admin token)
        cm = yaml.safe_load((data_dir / "kubeconfigs" / "controller-manager.kubeconfig").read_text())
        assert cm["users"][0]["name"] == "system:kube-controller-manager"
        assert "token" not in cm["users"][0]["user"] and "client-certificate-data" in cm["users"][0]["user"]
        # the kubelet registered as system:node:node-0 (the API server read the certificate's subject)
        lease = json.loads(
            kubectl(
                data_dir / "kubeconfig", home, "get", "lease", "-n", "kube-node-lease", "node-0", "-o", "json"
            ).stdout
        )
        assert lease["spec"]["holderIdentity"] == "node-0"
        leader = json.loads(
            kubectl(
                data_dir / "kubeconfig",
                home,
                "get",
                "lease",
                "-n",
                "kube-system",
                "kube-controller-manager",
                "-o",
                "json",
            ).stdout
        )
        assert leader["spec"]["holderIdentity"]

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(60) == 0
        assert_all_gone(pids)
        assert list(_processes_under(data_dir)) == []
        assert not (data_dir / "cluster.json").exists()
        assert not ready_file.exists()
        text = (tmp_path / "out.txt").read_text()
        assert "cluster ready in" in text and "testserver up: stopped" in text
        assert "node node-0: Ready=True" in text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        kill_leftovers(pids or all_pids(data_dir))
        out.close()


def test_detach_then_down_leaves_no_process(tmp_path: Path, home: Path) -> None:
    data_dir = tmp_path / "cluster"
    pids: list[int] = []
    try:
        result = subprocess.run(
            up_argv(
                data_dir,
                "--detach",
                "--components",
                "controller-manager,kubelet",
                "--nodes",
                "0",
                "--fake-nodes",
                "2",
            ),
            capture_output=True,
            text=True,
            timeout=STARTUP + 60,
        )
        pids = all_pids(data_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "cluster ready" in result.stdout and f"KUBECONFIG={data_dir / 'kubeconfig'}" in result.stdout
        state = read_state(data_dir / "cluster.json")
        assert state is not None and state.ready
        assert all(pid_alive(p) for p in pids) and len(pids) == 4  # supervisor, apiserver, cm, fake kubelet
        names = kubectl(data_dir / "kubeconfig", home, "get", "nodes", "-o", "name").stdout.split()
        assert sorted(names) == ["node/fake-node-0", "node/fake-node-1"]

        again = subprocess.run(up_argv(data_dir, "--detach"), capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "already running" in again.stderr

        down = subprocess.run(
            [sys.executable, "-m", "testserver.cli", "down", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert down.returncode == 0, down.stderr
        assert "stopped the cluster" in down.stdout
        for pid in pids:
            assert not pid_alive(pid), f"pid {pid} still running after down"
        assert list(_processes_under(data_dir)) == []
        assert not (data_dir / "cluster.json").exists()

        none = subprocess.run(
            [sys.executable, "-m", "testserver.cli", "down", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert none.returncode == 0 and "no cluster is running" in none.stderr
    finally:
        kill_leftovers(pids)


def test_crash_restart_of_the_controller_manager(home: Path) -> None:
    with Cluster(components=["controller-manager", "kubelet"], nodes=0, fake_nodes=1) as cluster:
        pids = [p for p in cluster.component_pids().values() if p]
        try:
            before = cluster.component_pids()["controller-manager"]
            assert before is not None
            os.kill(before, signal.SIGKILL)

            def restarted() -> Any:
                record = cluster.state()["components"]["controller-manager"]  # type: ignore[index]
                return (
                    record
                    if record["restarts"] == 1 and record["state"] == "Ready" and record["pid"]
                    else None
                )

            record = eventually(restarted, timeout=STARTUP, what="the controller-manager restarted")
            assert record["pid"] != before
            log = cluster.log_of("controller-manager").read_text()
            assert log.count("--- testserver up: starting controller-manager") == 2
            up_log = cluster.log_path.read_text()
            assert "controller-manager: exited with -9; restarting in 1s (restart 1)" in up_log
            assert "started (pid" not in up_log  # --quiet: only problems
            # the new instance works: it takes the Lease over once the dead one's expires (15 s) and
            # creates the default ServiceAccount in a new namespace
            kubectl(cluster.kubeconfig, home, "create", "namespace", "after-crash")
            eventually(
                lambda: (
                    kubectl(
                        cluster.kubeconfig, home, "get", "sa", "default", "-n", "after-crash", check=False
                    ).returncode
                    == 0
                ),
                timeout=90,
                what="the default ServiceAccount from the restarted controller-manager",
            )
            pids.append(record["pid"])
        finally:
            pids.append(cluster.pid)
        cluster.cleanup()
        assert_all_gone(pids)


def test_cluster_fixture_with_fake_nodes(home: Path) -> None:
    with Cluster(components=["kubelet"], nodes=0, fake_nodes=3) as cluster:
        assert cluster.url.startswith("https://127.0.0.1:")
        assert set(cluster.component_pids()) == {"apiserver", "kubelet-fake"}
        result = kubectl(cluster.kubeconfig, home, "get", "nodes", "--no-headers")
        rows = [line.split() for line in result.stdout.splitlines()]
        assert sorted((r[0], r[1]) for r in rows) == [
            ("fake-node-0", "Ready"),
            ("fake-node-1", "Ready"),
            ("fake-node-2", "Ready"),
        ]
        pids = [p for p in cluster.component_pids().values() if p] + [cluster.pid]
    assert_all_gone(pids)


def test_bad_flags_are_clear_errors(tmp_path: Path) -> None:
    bad = subprocess.run(
        up_argv(tmp_path, "--components", "controller-manager,bogus"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown components ['bogus']" in bad.stderr
    arg = subprocess.run(
        up_argv(tmp_path, "--component-arg", "nothing"), capture_output=True, text=True, timeout=60
    )
    assert arg.returncode == 2 and "use COMPONENT=FLAG" in arg.stderr
    assert not (tmp_path / "cluster.json").exists()


def _read_pty(fd: int, until: Callable[[str], bool], timeout: float) -> str:
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            buf += chunk
            if until(buf.decode(errors="replace")):
                break
    return buf.decode(errors="replace")


def test_status_view_in_a_terminal_and_ctrl_c(tmp_path: Path) -> None:
    data_dir = tmp_path / "cluster"
    pid, fd = pty.fork()
    if pid == 0:  # the child: testserver up on the pseudo-terminal
        os.environ["COLUMNS"], os.environ["LINES"] = "160", "50"
        os.environ.pop("NO_COLOR", None)
        os.execv(
            sys.executable,
            up_argv(
                data_dir, "--components", "controller-manager,kubelet", "--nodes", "0", "--fake-nodes", "2"
            ),
        )
    pids: list[int] = []
    try:
        text = _read_pty(fd, lambda t: "ready in" in t and "fake-node-1" in t, STARTUP)
        pids = all_pids(data_dir)
        assert "ready in" in text, text[-3000:]
        for expected in (
            "Components",
            "apiserver",
            "controller-manager",
            "kubelet-fake",
            "Nodes",
            "fake-node-0",
            "fake-node-1",
            "Pods",
        ):
            assert expected in text, f"{expected!r} not in the view:\n{text[-3000:]}"
        assert "\x1b[" in text  # drawn with terminal escapes (rich), not plain lines
        assert "testserver up: apiserver: started" not in text
        # a crash shows in the view: the supervisor's message, then the component Ready again
        state = read_state(data_dir / "cluster.json")
        assert state is not None
        cm = state.components["controller-manager"].pid
        assert cm is not None
        os.kill(cm, signal.SIGKILL)

        def restarted(t: str) -> bool:
            now = read_state(data_dir / "cluster.json")
            record = now.components["controller-manager"] if now is not None else None
            return (
                "(restart 1)" in t and record is not None and record.restarts == 1 and record.state == "Ready"
            )

        text = _read_pty(fd, restarted, STARTUP)
        assert "controller-manager: exited with -9; restarting in 1s (restart 1)" in text, text[-3000:]
        pids += all_pids(data_dir)
        os.write(fd, b"\x03")  # Ctrl-C typed in the terminal
        _read_pty(fd, lambda t: False, 60)  # until the child closes the terminal
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert_all_gone(pids)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
        kill_leftovers(pids or all_pids(data_dir))


def test_a_pod_is_scheduled_run_and_logged(home: Path) -> None:
    """End to end through the scheduler and the kubelet: ``kubectl run`` → Running → ``kubectl logs``."""
    with Cluster(components=["controller-manager", "scheduler", "kubelet"]) as cluster:
        kc = cluster.kubeconfig
        eventually(
            lambda: kubectl(kc, home, "get", "sa", "default", check=False).returncode == 0,
            what="the default ServiceAccount",
        )
        kubectl(kc, home, "run", "hello", "--image=busybox", "--restart=Never", "--",
                "sh", "-c", "echo hello from testserver up; sleep 300")  # fmt: skip

        def running() -> Any:
            pod = json.loads(kubectl(kc, home, "get", "pod", "hello", "-o", "json").stdout)
            return pod if pod.get("status", {}).get("phase") == "Running" else None

        pod = eventually(running, timeout=120, what="the pod Running")
        assert pod["spec"]["nodeName"] == "node-0"
        logs = eventually(
            lambda: kubectl(kc, home, "logs", "hello").stdout, timeout=60, what="the pod's logs"
        )
        assert "hello from testserver up" in logs
        kubectl(kc, home, "run", "left-running", "--image=busybox", "--restart=Never", "--",
                "sh", "-c", "sleep 600")  # fmt: skip
        eventually(
            lambda: (
                kubectl(kc, home, "get", "pod", "left-running", "-o", "jsonpath={.status.phase}").stdout
                == "Running"
            ),
            timeout=120,
            what="a second pod Running",
        )
        kubectl(kc, home, "delete", "pod", "hello", "--grace-period=1")
        data_dir = cluster.data_dir
    # stopping the cluster stopped the pod still running too (its process ran in a sandbox under DATA_DIR)
    eventually(lambda: list(_processes_under(data_dir)) == [], timeout=30, what="no process left")


def _processes_under(data_dir: Path) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                cwd = ""
            # the components name the data directory; pods' processes run in sandboxes under it
            if (str(data_dir).encode() in cmd or cwd.startswith(str(data_dir))) and pid_alive(
                int(entry.name), command_contains=""
            ):
                yield int(entry.name)


def test_detach_reports_an_api_server_that_cannot_start(tmp_path: Path) -> None:
    """Its port is taken: the API server fails three times, up gives up and says why; nothing is left."""
    import socket

    data_dir = tmp_path / "cluster"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = up_argv(data_dir, "--detach", "--components", "controller-manager")
        argv[argv.index("--port") + 1] = str(port)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=STARTUP)
    assert result.returncode == 1
    assert "the cluster exited with 1 before it was ready" in result.stderr
    assert "the API server did not start (3 attempts)" in result.stderr
    assert "apiserver: exited with" in (data_dir / "logs" / "up.log").read_text()
    assert list(_processes_under(data_dir)) == []


def test_cluster_dns_answers_for_the_kubernetes_service(home: Path) -> None:
    import dns.message
    import dns.query
    import dns.rdatatype

    with Cluster(components=["dns"]) as cluster:
        port = int(
            eventually(lambda: (cluster.data_dir / "run" / "dns.port").read_text().strip(), what="dns port")
        )

        def answer() -> list[str]:
            query = dns.message.make_query("kubernetes.default.svc.cluster.local.", dns.rdatatype.A)
            reply = dns.query.udp(query, "127.0.0.1", port=port, timeout=2)
            return [item.to_text() for rrset in reply.answer for item in rrset]

        assert eventually(answer, what="an A record of the kubernetes Service") == ["10.96.0.1"]
