"""The supervisor of a local cluster's processes: :class:`Supervisor`.

Each component is a child process described by a :class:`ComponentSpec`. The supervisor starts them in
the order given, each once every component it ``needs`` is ready (its readiness gate); a component is
ready when its ready file appears. A child that dies is restarted after a backoff that doubles on each
failure (1 s up to 30 s, as a process supervisor would; reset once the child has run for a while), and a
child not ready within its startup timeout is killed and restarted the same way. A component may
declare ``fallback_args``: if its first start exits before it is ready, it is started again with them
(the kubelet falls back to ``--fake`` while the real runtime is not available).

Children run in their own sessions (Ctrl-C in the terminal reaches the supervisor only, which then
stops them in reverse order: SIGTERM, SIGKILL after a deadline) and get SIGTERM from the kernel when the
supervisor dies (``PR_SET_PDEATHSIG``), so none outlives it. Their output is appended to
``<log_file>``; every change of state is reported to an ``on_event`` callback and the whole state can be
read with :meth:`Supervisor.snapshot` from any thread.

One thread owns the children: it spawns, polls and stops them (the parent-death signal is tied to the
thread that forked the child, so that thread lives until every child is gone).
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import json
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ComponentSpec",
    "ComponentState",
    "ComponentStatus",
    "Supervisor",
    "SupervisorOptions",
]


class ComponentState(enum.StrEnum):
    """Where a supervised component is in its life."""

    PENDING = "Pending"
    """Not started yet: waiting for the components it needs."""
    WAITING = "Waiting"
    """Spawned early (interpreter start and imports under way) but held at its gate until the
    components it needs are ready (only components with a ``gate_file``)."""
    STARTING = "Starting"
    """Running, its ready file not written yet."""
    READY = "Ready"
    """Running and ready."""
    BACKOFF = "BackOff"
    """Exited; waiting out the backoff before the next start."""
    STOPPED = "Stopped"
    """Stopped by the supervisor."""
    UNAVAILABLE = "Unavailable"
    """Its first start exited with its ``unavailable_exit_code`` (it cannot run in this installation,
    e.g. its module does not import): left out, not restarted, not waited for."""


@dataclass(kw_only=True)
class ComponentSpec:
    """How to run one component."""

    name: str
    """The component's name in the status, the state file and its log file's name."""
    argv: Callable[[], list[str]]
    """The command line, computed at each start (a restart may reuse what an earlier start found)."""
    ready_file: Path
    """Written by the component once it is ready; removed by the supervisor before each start."""
    log_file: Path
    """stdout and stderr of the component, appended across restarts."""
    needs: tuple[str, ...] = ()
    """Components that must be ready before this one first starts."""
    before_start: Callable[[], None] | None = None
    """Called right before each start (e.g. to write the component's kubeconfig)."""
    fallback_args: list[str] | None = None
    """Appended to ``argv()`` from the next start on if the first start exits before it is ready."""
    fallback_reason: str = ""
    """What the event says when switching to ``fallback_args``."""
    startup_timeout: float = 60.0
    """Seconds a start may take to get ready (from its gate opening) before it is killed and restarted."""
    unavailable_exit_code: int | None = None
    """An exit status that, from a start that was never ready, means "cannot run here" (see
    :data:`ComponentState.UNAVAILABLE`); None: every exit is restarted."""
    gate_file: Path | None = None
    """If set, the process is spawned at once and this file is created (after ``before_start``) once
    every component in ``needs`` is ready; the process waits for it before it runs (see
    :mod:`testserver.cluster.launch`). None: the process is spawned only then."""


@dataclass(kw_only=True)
class ComponentStatus:
    """A copy of one component's supervised state (from :meth:`Supervisor.snapshot`)."""

    name: str
    """The component's name."""
    state: ComponentState
    """Where it is in its life."""
    pid: int | None
    """The PID of the current process, None when none runs."""
    url: str
    """What its ready file named (health URL for the components, API URL for the API server)."""
    restarts: int
    """How many times it was started again after it exited."""
    last_exit: int | None
    """The exit status of the previous process (negative: killed by that signal)."""
    fallback: bool
    """Whether it runs with its ``fallback_args``."""
    ever_ready: bool
    """Whether it was ready at least once."""


@dataclass(kw_only=True)
class SupervisorOptions:
    """Tuning of :class:`Supervisor`; seconds."""

    backoff_initial: float = 1.0
    """The wait before the first restart; doubles after each failure."""
    backoff_max: float = 30.0
    """The longest wait between restarts."""
    backoff_reset_after: float = 60.0
    """A child that has run this long resets the backoff to ``backoff_initial``."""
    stop_timeout: float = 10.0
    """How long each child gets after SIGTERM before SIGKILL."""
    poll_interval: float = 0.02
    """How often the children are polled."""


@dataclass(kw_only=True)
class _Child:
    spec: ComponentSpec
    state: ComponentState = ComponentState.PENDING
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    restarts: int = 0
    failures: int = 0
    last_exit: int | None = None
    started_at: float = 0.0
    next_start: float = 0.0
    use_fallback: bool = False
    ever_ready: bool = False


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when its parent thread dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


class Supervisor:
    """Starts, watches, restarts and stops the components (module docstring)."""

    def __init__(
        self,
        specs: Sequence[ComponentSpec],
        *,
        options: SupervisorOptions | None = None,
        on_event: Callable[[str, str], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"component names must be unique: {names}")
        for spec in specs:
            unknown = [n for n in spec.needs if n not in names]
            if unknown:
                raise ValueError(f"{spec.name} needs unknown components {unknown}")
        self.options = options or SupervisorOptions()
        self._children = [_Child(spec=s) for s in specs]
        self._on_event = on_event or (lambda component, message: None)
        self._on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._preexec = _parent_death_signal()

    # -- public ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervising thread (components start from there, in order)."""
        if self._thread is not None:
            raise RuntimeError("supervisor already started")
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the supervisor to stop every component (returns at once; see :meth:`wait_stopped`)."""
        self._stop.set()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Wait until every component is stopped; whether they are."""
        if self._thread is None:
            return True
        return self._stopped.wait(timeout)

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def snapshot(self) -> list[ComponentStatus]:
        """The state of every component, in start order."""
        with self._lock:
            return [
                ComponentStatus(
                    name=c.spec.name,
                    state=c.state,
                    pid=c.process.pid if c.process is not None and c.process.poll() is None else None,
                    url=c.url,
                    restarts=c.restarts,
                    last_exit=c.last_exit,
                    fallback=c.use_fallback,
                    ever_ready=c.ever_ready,
                )
                for c in self._children
            ]

    def all_ready(self) -> bool:
        """Whether every component is ready (or unavailable, so left out)."""
        with self._lock:
            return all(c.state in (ComponentState.READY, ComponentState.UNAVAILABLE) for c in self._children)

    def url_of(self, name: str) -> str:
        """What the ready file of ``name`` named (empty until it was ready once)."""
        with self._lock:
            for c in self._children:
                if c.spec.name == name:
                    return c.url
        raise KeyError(name)

    # -- the supervising thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._step(time.monotonic())
                self._stop.wait(self.options.poll_interval)
        finally:
            self._stop_all()
            self._stopped.set()

    def _needs_ready(self, child: _Child) -> bool:
        ready = {c.spec.name for c in self._children if c.ever_ready}
        return all(n in ready for n in child.spec.needs)

    def _step(self, now: float) -> None:
        for child in self._children:
            if self._stop.is_set():
                return
            if child.state is ComponentState.PENDING:
                if child.spec.gate_file is not None or self._needs_ready(child):
                    self._spawn(child, now)
            elif child.state is ComponentState.BACKOFF:
                if now >= child.next_start:
                    self._spawn(child, now)
            elif child.process is not None:
                code = child.process.poll()
                if code is not None:
                    self._exited(child, code, now)
                elif child.state is ComponentState.WAITING:
                    if self._needs_ready(child):
                        self._release(child, now)
                elif child.state is ComponentState.STARTING:
                    if child.spec.ready_file.exists():
                        self._became_ready(child)
                    elif now - child.started_at > child.spec.startup_timeout:
                        self._on_event(
                            child.spec.name,
                            f"not ready after {child.spec.startup_timeout:g}s; killing it",
                        )
                        child.process.kill()
                        code = child.process.wait()
                        with self._lock:  # slow, not refused: no fallback, just a restart
                            child.last_exit = code
                            child.process = None
                        self._back_off(child, now, code)
                elif (
                    child.failures
                    and now - child.started_at > self.options.backoff_reset_after
                    and child.state is ComponentState.READY
                ):
                    child.failures = 0

    def _spawn(self, child: _Child, now: float) -> None:
        spec = child.spec
        gated = spec.gate_file is not None
        try:
            if spec.gate_file is not None:
                spec.gate_file.unlink(missing_ok=True)
            elif spec.before_start is not None:
                spec.before_start()
            argv = spec.argv() + ((spec.fallback_args or []) if child.use_fallback else [])
            spec.ready_file.parent.mkdir(parents=True, exist_ok=True)
            spec.ready_file.unlink(missing_ok=True)
            spec.log_file.parent.mkdir(parents=True, exist_ok=True)
            with spec.log_file.open("ab") as log:
                log.write(f"--- testserver up: starting {spec.name}: {shlex.join(argv)}\n".encode())
                log.flush()
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=self._preexec,  # one prctl call, resolved before the fork
                )
        except Exception as err:
            self._on_event(spec.name, f"failed to start: {err}")
            self._back_off(child, now, None)
            return
        with self._lock:
            child.process = process
            child.state = ComponentState.WAITING if gated else ComponentState.STARTING
            child.started_at = now
        self._on_event(spec.name, f"started (pid {process.pid})")
        self._on_change()
        if gated and self._needs_ready(child):
            self._release(child, now)

    def _release(self, child: _Child, now: float) -> None:
        """Open the gate of a waiting child (its ``before_start`` first)."""
        spec = child.spec
        assert spec.gate_file is not None and child.process is not None
        try:
            if spec.before_start is not None:
                spec.before_start()
            spec.gate_file.touch()
        except Exception as err:
            self._on_event(spec.name, f"failed to start: {err}")
            child.process.kill()
            child.process.wait()
            with self._lock:
                child.process = None
            self._back_off(child, now, None)
            return
        with self._lock:
            child.state = ComponentState.STARTING
            child.started_at = now
        self._on_change()

    def _became_ready(self, child: _Child) -> None:
        url = ""
        try:
            text = child.spec.ready_file.read_text()
        except OSError:
            return
        try:
            data = json.loads(text)
            if isinstance(data, dict):
                url = str(data.get("url", ""))
        except ValueError:  # the API server's ready file: URL, kubeconfig, seconds on lines
            url = text.split("\n", 1)[0].strip()
        with self._lock:
            child.url = url
            child.state = ComponentState.READY
            child.ever_ready = True
        self._on_event(child.spec.name, f"ready{' at ' + url if url else ''}")
        self._on_change()

    def _exited(self, child: _Child, code: int, now: float) -> None:
        spec = child.spec
        with self._lock:
            child.last_exit = code
            child.process = None
        if (
            spec.unavailable_exit_code is not None
            and code == spec.unavailable_exit_code
            and not child.ever_ready
        ):
            with self._lock:
                child.state = ComponentState.UNAVAILABLE
            self._on_event(spec.name, f"cannot run here, left out: {_last_line(spec.log_file)}")
            self._on_change()
            return
        if (
            child.state in (ComponentState.STARTING, ComponentState.WAITING)
            and spec.fallback_args
            and not child.ever_ready
            and not child.use_fallback
            and child.restarts == 0
        ):
            with self._lock:
                child.use_fallback = True
                child.state = ComponentState.PENDING
            tail = _last_line(spec.log_file)
            self._on_event(
                spec.name,
                f"exited with {code} before it was ready ({tail}); {spec.fallback_reason}".rstrip("; "),
            )
            self._on_change()
            return
        self._back_off(child, now, code)

    def _back_off(self, child: _Child, now: float, code: int | None) -> None:
        opts = self.options
        delay = min(opts.backoff_initial * 2**child.failures, opts.backoff_max)
        with self._lock:
            child.failures += 1
            child.restarts += 1
            child.state = ComponentState.BACKOFF
            child.next_start = now + delay
        status = f"exited with {code}" if code is not None else "could not start"
        self._on_event(child.spec.name, f"{status}; restarting in {delay:g}s (restart {child.restarts})")
        self._on_change()

    def _stop_all(self) -> None:
        """SIGTERM each running child, last started first; SIGKILL those still alive after the timeout."""
        for child in reversed(self._children):
            process = child.process
            if process is None or process.poll() is not None:
                with self._lock:
                    child.state = ComponentState.STOPPED
                    child.process = None
                continue
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(self.options.stop_timeout)
            except subprocess.TimeoutExpired:
                self._on_event(
                    child.spec.name, f"did not stop within {self.options.stop_timeout:g}s; killing it"
                )
                process.kill()
                code = process.wait()
            with self._lock:
                child.last_exit = code
                child.state = ComponentState.STOPPED
                child.process = None
            child.spec.ready_file.unlink(missing_ok=True)
            self._on_event(child.spec.name, f"stopped (exit {code})")
        self._on_change()


def _last_line(path: Path, limit: int = 200) -> str:
    """The last non-empty line of a log file, shortened to ``limit`` characters."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:limit] if lines else ""
