"""The supervisor with small real child processes (Python one-liners that write ready files)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testserver.cluster.supervisor import (
    ComponentSpec,
    ComponentState,
    ComponentStatus,
    Supervisor,
    SupervisorOptions,
)

FAST = SupervisorOptions(backoff_initial=0.05, backoff_max=0.2, stop_timeout=5.0, poll_interval=0.01)


def eventually(probe: Callable[[], object], *, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def child(tmp: Path, name: str, code: str, **kwargs: object) -> ComponentSpec:
    """A component running ``code`` with READY (its ready file) and MARK (a file per start) set."""
    ready = tmp / f"{name}.ready"
    mark = tmp / f"{name}.starts"
    prelude = (
        "import os, sys, time, json, pathlib; "
        f"READY = pathlib.Path({str(ready)!r}); "
        f"open({str(mark)!r}, 'a').write(str(os.getpid()) + chr(10)); "
    )
    return ComponentSpec(
        name=name,
        argv=lambda: [sys.executable, "-c", prelude + code],
        ready_file=ready,
        log_file=tmp / "logs" / f"{name}.log",
        **kwargs,  # type: ignore[arg-type]
    )


SERVE = "READY.write_text(json.dumps({'pid': os.getpid(), 'url': 'http://x'})); time.sleep(600)"


def starts(tmp: Path, name: str) -> list[int]:
    path = tmp / f"{name}.starts"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def status(sup: Supervisor, name: str) -> ComponentStatus:
    return next(c for c in sup.snapshot() if c.name == name)


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    made: list[Supervisor] = []
    yield made
    for sup in made:
        sup.stop()
        assert sup.wait_stopped(30)


def test_readiness_gate_orders_the_starts(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    events: list[tuple[str, str]] = []
    gate = tmp_path / "open-gate"
    first = child(
        tmp_path,
        "first",
        f"""
while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.01)
{SERVE}""",
    )
    second = child(tmp_path, "second", SERVE, needs=("first",))
    sup = Supervisor([first, second], options=FAST, on_event=lambda c, m: events.append((c, m)))
    supervisors.append(sup)
    sup.start()
    eventually(lambda: status(sup, "first").state is ComponentState.STARTING, what="first starting")
    assert status(sup, "second").state is ComponentState.PENDING  # gated on first's readiness
    assert starts(tmp_path, "second") == []
    gate.touch()
    eventually(sup.all_ready, what="both ready")
    assert status(sup, "first").url == "http://x"
    names = [c for c, m in events if m.startswith("started")]
    assert names == ["first", "second"]


def test_a_gated_child_is_spawned_early_and_released_once_its_needs_are_ready(
    tmp_path: Path, supervisors: list[Supervisor]
) -> None:
    gate, release = tmp_path / "second.gate", tmp_path / "open-first"
    before: list[bool] = []
    first = child(
        tmp_path,
        "first",
        f"""
while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.01)
{SERVE}""",
    )
    second = child(
        tmp_path,
        "second",
        f"""
while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.01)
{SERVE}""",
        needs=("first",),
        gate_file=gate,
        before_start=lambda: before.append(gate.exists()),
    )
    sup = Supervisor([first, second], options=FAST)
    supervisors.append(sup)
    sup.start()
    eventually(lambda: starts(tmp_path, "second"), what="second spawned before first is ready")
    assert status(sup, "second").state is ComponentState.WAITING
    assert status(sup, "first").state is ComponentState.STARTING
    assert not gate.exists() and before == []
    release.touch()
    eventually(sup.all_ready, what="both ready")
    assert before == [False]  # before_start ran once, right before the gate opened
    assert len(starts(tmp_path, "second")) == 1


def test_a_dead_child_is_restarted_with_backoff(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    events: list[str] = []
    sup = Supervisor([child(tmp_path, "svc", SERVE)], options=FAST, on_event=lambda c, m: events.append(m))
    supervisors.append(sup)
    sup.start()
    eventually(sup.all_ready, what="ready")
    first_pid = status(sup, "svc").pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    eventually(lambda: len(starts(tmp_path, "svc")) == 2 and sup.all_ready(), what="restarted and ready")
    after = status(sup, "svc")
    assert after.pid not in (None, first_pid)
    assert after.restarts == 1
    assert after.last_exit == -signal.SIGKILL
    assert any("exited with -9; restarting in" in m for m in events)


def test_crash_loop_backoff_doubles(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    events: list[str] = []
    options = SupervisorOptions(backoff_initial=0.05, backoff_max=0.2, poll_interval=0.01)
    sup = Supervisor(
        [child(tmp_path, "crash", "sys.exit(3)")], options=options, on_event=lambda c, m: events.append(m)
    )
    supervisors.append(sup)
    sup.start()
    eventually(lambda: status(sup, "crash").restarts >= 4, what="four restarts")
    delays = [m.split("restarting in ")[1].split("s")[0] for m in events if "restarting in" in m][:4]
    assert delays == ["0.05", "0.1", "0.2", "0.2"]  # doubled, capped at backoff_max
    assert status(sup, "crash").last_exit == 3
    assert not status(sup, "crash").ever_ready


def test_fallback_args_after_a_first_start_that_exits(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    events: list[str] = []
    code = f"""
if '--fake' not in sys.argv:
    print('only the fake runtime (--fake) is available in this build', flush=True); sys.exit(1)
{SERVE}"""
    spec = child(tmp_path, "kubelet", code, fallback_args=["--fake"], fallback_reason="using --fake")
    sup = Supervisor([spec], options=FAST, on_event=lambda c, m: events.append(m))
    supervisors.append(sup)
    sup.start()
    eventually(sup.all_ready, what="ready with the fallback")
    s = status(sup, "kubelet")
    assert s.fallback and s.restarts == 0
    assert any("only the fake runtime" in m and "using --fake" in m for m in events)


def test_stop_is_reverse_order_and_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    stubborn = child(
        tmp_path,
        "stubborn",
        "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + SERVE,
    )
    later = child(tmp_path, "later", SERVE, needs=("stubborn",))
    options = SupervisorOptions(stop_timeout=0.5, poll_interval=0.01)
    sup = Supervisor([stubborn, later], options=options, on_event=lambda c, m: events.append((c, m)))
    sup.start()
    eventually(sup.all_ready, what="ready")
    pids = [status(sup, n).pid for n in ("stubborn", "later")]
    sup.stop()
    assert sup.wait_stopped(30)
    stopped = [c for c, m in events if m.startswith("stopped")]
    assert stopped == ["later", "stubborn"]
    assert ("stubborn", "did not stop within 0.5s; killing it") in events
    for pid in pids:
        assert pid is not None
        assert not Path(f"/proc/{pid}").exists()
    assert all(c.state is ComponentState.STOPPED for c in sup.snapshot())


def test_a_start_that_never_gets_ready_is_killed_and_retried(
    tmp_path: Path, supervisors: list[Supervisor]
) -> None:
    spec = child(tmp_path, "slow", "time.sleep(600)", startup_timeout=0.3, fallback_args=["--fake"])
    sup = Supervisor([spec], options=FAST)
    supervisors.append(sup)
    sup.start()
    eventually(lambda: len(starts(tmp_path, "slow")) >= 2, what="a second start")
    assert status(sup, "slow").restarts >= 1
    assert status(sup, "slow").last_exit == -signal.SIGKILL
    assert not status(sup, "slow").fallback  # slow is not refused: no fallback


def test_bad_specs_are_refused(tmp_path: Path) -> None:
    a = child(tmp_path, "a", SERVE)
    with pytest.raises(ValueError, match="unique"):
        Supervisor([a, child(tmp_path, "a", SERVE)])
    with pytest.raises(ValueError, match="needs unknown components"):
        Supervisor([child(tmp_path, "b", SERVE, needs=("nope",))])


def test_children_die_with_the_supervisor_process(tmp_path: Path) -> None:
    """A supervisor killed with SIGKILL leaves no child behind (PR_SET_PDEATHSIG)."""
    import subprocess

    script = f"""
import sys, time, pathlib
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_supervisor import child, SERVE, FAST
from testserver.cluster.supervisor import Supervisor
sup = Supervisor([child(pathlib.Path({str(tmp_path)!r}), "orphan", SERVE)], options=FAST)
sup.start()
time.sleep(600)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        eventually(lambda: (tmp_path / "orphan.ready").exists(), what="child ready")
        (pid,) = starts(tmp_path, "orphan")
        proc.kill()
        proc.wait()
        eventually(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), what="child gone")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_component_that_cannot_run_here_is_left_out(tmp_path: Path, supervisors: list[Supervisor]) -> None:
    events: list[str] = []
    broken = child(
        tmp_path,
        "broken",
        "print('cannot import testserver.x: boom', flush=True); sys.exit(69)",
        unavailable_exit_code=69,
    )
    sup = Supervisor(
        [child(tmp_path, "ok", SERVE), broken], options=FAST, on_event=lambda c, m: events.append(m)
    )
    supervisors.append(sup)
    sup.start()
    eventually(sup.all_ready, what="ready without the broken one")
    assert status(sup, "broken").state is ComponentState.UNAVAILABLE
    assert "cannot run here, left out: cannot import testserver.x: boom" in events
    # not restarted
    eventually(lambda: status(sup, "ok").state is ComponentState.READY, what="ok ready")
    assert len(starts(tmp_path, "broken")) == 1 and status(sup, "broken").restarts == 0
