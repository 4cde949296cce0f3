"""``testserver up``: a whole local cluster in one command.

::

    testserver up [--port 6443] [--data-dir .testserver] [--storage memory|sqlite:PATH|etcd://...]
                  [--components controller-manager,scheduler,kubelet,proxy] [--nodes 1] [--fake-nodes 0]
                  [--component-arg controller-manager=--controllers=*,-podgc] [--detach] [--quiet]
                  [--ready-file PATH] [the other flags of testserver apiserver]

Starts the API server, then every reference component that exists (each once the API server is
ready): the controller-manager, the scheduler, one kubelet per real node (``--nodes``), one fake
kubelet for ``--fake-nodes`` simulated nodes, and the proxy (once the first kubelet is ready). They
are supervised (:mod:`testserver.cluster.supervisor`): restarted with backoff when they die, logs in
``DATA_DIR/logs/<component>.log``. The cluster is ready once every component answers its health check
and every node is Ready; then ``--ready-file`` is written (the API server's URL, the kubeconfig and the
seconds it took, on three lines, as ``testserver apiserver`` writes it).

In a terminal a live status is drawn (components, nodes, pods, warning events); otherwise plain
progress lines are printed; ``--quiet`` prints only problems. Ctrl-C (or SIGTERM) stops everything.
``--detach`` returns once the cluster is ready, leaving it running; ``testserver down`` stops it.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from testserver.cluster.components import (
    COMPONENTS,
    ClusterOptions,
    ClusterPlan,
    apiserver_args_from,
    available_components,
)
from testserver.cluster.state import (
    STATE_FILE,
    ClusterState,
    ComponentRecord,
    pid_alive,
    read_state,
    write_state,
)
from testserver.cluster.status import ClusterObserver, ClusterView, ProgressLog, event_sink, render
from testserver.cluster.supervisor import ComponentState, ComponentStatus, Supervisor

__all__ = ["configure_parser", "run"]

_API_START_ATTEMPTS = 3
"""How many times the API server may fail to get ready before ``up`` gives up."""


def _apiserver_flags_parser() -> argparse.ArgumentParser:
    from testserver.cli import add_apiserver_flags  # the one definition of the API server's flags

    parser = argparse.ArgumentParser(add_help=False)
    add_apiserver_flags(parser)
    return parser


def _non_negative(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {n}")
    return n


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The API server's flags (passed on to it) and ``up``'s own."""
    from testserver.cli import add_apiserver_flags

    add_apiserver_flags(parser)
    g = parser.add_argument_group("cluster")
    g.add_argument(
        "--components",
        default=None,
        help="components to start besides the API server, comma-separated (default: every one that "
        f"exists of {','.join(COMPONENTS)}; '' for the API server alone)",
    )
    g.add_argument("--nodes", type=_non_negative, default=1, help="real nodes, one kubelet each (default 1)")
    g.add_argument(
        "--fake-nodes",
        type=_non_negative,
        default=0,
        help="simulated nodes, in one `testserver kubelet --fake --nodes M` process (default 0)",
    )
    g.add_argument(
        "--component-arg",
        action="append",
        default=[],
        metavar="COMPONENT=FLAG",
        help="an extra flag for a component, e.g. controller-manager=--controllers=*,-podgc (repeatable)",
    )
    g.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds a component may take to become ready before it is restarted (default 60)",
    )
    g.add_argument(
        "--detach",
        action="store_true",
        help="return once the cluster is ready; stop it with `testserver down`",
    )
    g.add_argument("--quiet", action="store_true", help="print only problems")
    parser.set_defaults(_up_parser=parser)


def _components(value: str | None) -> list[str]:
    if value is None:
        return available_components()
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in COMPONENTS and n != "apiserver"]
    if unknown:
        raise ValueError(f"unknown components {unknown}: choose from {', '.join(COMPONENTS)}")
    present = set(available_components())
    missing = [n for n in names if n in COMPONENTS and n not in present]
    if missing:
        raise ValueError(f"components not available in this installation: {', '.join(missing)}")
    return [n for n in COMPONENTS if n in names]


def _component_args(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        name, sep, flag = value.partition("=")
        if not sep or name not in COMPONENTS or not flag:
            raise ValueError(
                f"--component-arg {value!r}: use COMPONENT=FLAG with one of {', '.join(COMPONENTS)}"
            )
        out.setdefault(name, []).append(flag)
    return out


def options_from_args(args: argparse.Namespace) -> ClusterOptions:
    """The :class:`ClusterOptions` of ``up``'s parsed flags (``ValueError`` for bad ones)."""
    data_dir = Path(args.data_dir).resolve()
    components = _components(args.components)
    if args.nodes == 0 and args.fake_nodes == 0 and "kubelet" in components and args.components is not None:
        raise ValueError(
            "--nodes 0 and --fake-nodes 0: no kubelet to start (leave kubelet out of --components)"
        )
    return ClusterOptions(
        data_dir=data_dir,
        kubeconfig=Path(args.kubeconfig).resolve() if args.kubeconfig else data_dir / "kubeconfig",
        apiserver_args=apiserver_args_from(args, _apiserver_flags_parser()),
        port=args.port,
        tls=not args.insecure,
        components=components
        if (args.nodes or args.fake_nodes)
        else [c for c in components if c != "kubelet"],
        nodes=args.nodes,
        fake_nodes=args.fake_nodes,
        component_args=_component_args(args.component_arg),
        startup_timeout=args.startup_timeout,
    )


def run(args: argparse.Namespace) -> int:
    """Run (or, with ``--detach``, start) the cluster; the exit code."""
    try:
        options = options_from_args(args)
    except ValueError as err:
        print(f"testserver up: error: {err}", file=sys.stderr, flush=True)
        return 2
    state_path = options.data_dir / STATE_FILE
    running = read_state(state_path)
    if running is not None and pid_alive(running.pid):
        print(
            f"testserver up: a cluster is already running in {options.data_dir} (pid {running.pid}); "
            f"stop it with: testserver down --data-dir {options.data_dir}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    if args.detach:
        return _detach(args, options)
    return _Foreground(args, options).run()


# -- --detach ------------------------------------------------------------------------------------------


def _argv_of(args: argparse.Namespace, *, drop: set[str]) -> list[str]:
    """The flags that parse into ``args`` (those that differ from their defaults), minus ``drop``."""
    parser: argparse.ArgumentParser = args._up_parser
    out: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in drop or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default:
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            out.append(flag)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                out.append(f"{flag}={item}")
        else:
            out += [flag, str(value)]
    return out


def _detach(args: argparse.Namespace, options: ClusterOptions) -> int:
    """Start the supervisor in its own session and wait until the cluster is ready."""
    options.logs_dir.mkdir(parents=True, exist_ok=True)
    (options.data_dir / STATE_FILE).unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "testserver.cli",
        "up",
        *_argv_of(args, drop={"detach", "data_dir", "exit_with_parent"}),
        "--data-dir",
        str(options.data_dir),
    ]
    log_path = options.logs_dir / "up.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        state = _wait_detached(process, options, log_path)
    except KeyboardInterrupt:  # Ctrl-C while waiting: the user no longer wants that cluster
        print("testserver up: interrupted; stopping the cluster", file=sys.stderr, flush=True)
        process.terminate()
        process.wait()
        return 130
    if state is None:
        return 1
    if not args.quiet:
        print(
            f"testserver up: cluster ready (pid {process.pid}) in {state.startup_seconds or 0:.1f}s; "
            f"logs in {options.logs_dir}\n"
            f"    export KUBECONFIG={options.kubeconfig}\n"
            "    kubectl get nodes\n"
            f"Stop it with: testserver down --data-dir {options.data_dir}",
            flush=True,
        )
    return 0


def _wait_detached(
    process: subprocess.Popen[bytes], options: ClusterOptions, log_path: Path
) -> ClusterState | None:
    """The state once the detached supervisor says the cluster is ready; None (said why) if it exits
    first or is not ready in time."""
    state_path = options.data_dir / STATE_FILE
    deadline = time.monotonic() + options.startup_timeout * 2 + 30
    while True:
        state = read_state(state_path)
        if state is not None and state.pid == process.pid and state.ready:
            return state
        if process.poll() is not None:
            print(
                f"testserver up: the cluster exited with {process.returncode} before it was ready; "
                f"see {log_path}:\n{_tail(log_path)}",
                file=sys.stderr,
                flush=True,
            )
            return None
        if time.monotonic() > deadline:
            print(
                f"testserver up: the cluster is not ready yet (pid {process.pid}); see {log_path} and "
                f"stop it with: testserver down --data-dir {options.data_dir}",
                file=sys.stderr,
                flush=True,
            )
            return None
        time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the foreground supervisor ---------------------------------------------------------------------


class _Foreground:
    """``testserver up`` in the foreground: supervise, show the status, stop on a signal."""

    def __init__(self, args: argparse.Namespace, options: ClusterOptions) -> None:
        self.args = args
        self.options = options
        self.state_path = options.data_dir / STATE_FILE
        self.ready_file: Path | None = args.ready_file
        self.live = sys.stdout.isatty() and not args.quiet
        self.progress = ProgressLog(sys.stdout, quiet=args.quiet or self.live)
        self.recent: collections.deque[str] = collections.deque(maxlen=6)
        self.changed = threading.Event()
        self.plan = ClusterPlan(options)
        self.supervisor = Supervisor(
            self.plan.specs(),
            on_event=event_sink(self.progress.component_event, self._remember),
            on_change=self.changed.set,
        )
        self.observer = ClusterObserver(options.kubeconfig)
        self.t0 = time.monotonic()
        self.ready_seconds: float | None = None
        self.last_view = ClusterView(components=[])
        self.failed = ""

    def _remember(self, component: str, message: str) -> None:
        self.recent.append(f"{time.strftime('%H:%M:%S')} {component}: {message}")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.supervisor.stop()

    def run(self) -> int:
        options = self.options
        options.data_dir.mkdir(parents=True, exist_ok=True)
        if self.ready_file is not None:
            self.ready_file.unlink(missing_ok=True)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        parent = os.getppid()
        names = ", ".join(s.name for s in self.plan.specs())
        self.progress.line(f"starting {names} in {options.data_dir}")
        try:
            self.supervisor.start()
            if self.live:
                self._run_live(parent)
            else:
                self._run_plain(parent)
        finally:
            self.supervisor.stop()
            self.supervisor.wait_stopped()
            self.observer.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
            self.state_path.unlink(missing_ok=True)
            if self.ready_file is not None:
                self.ready_file.unlink(missing_ok=True)
        if self.failed:
            print(f"testserver up: {self.failed}", file=sys.stderr, flush=True)
            return 1
        self.progress.line("stopped", important=not self.args.quiet)
        return 0

    def _tick(self, parent: int) -> ClusterView:
        """One round: observe, check readiness and failure, write the state file.

        Until every component is ready only the supervisor's state is read (no requests that would
        slow the starting processes down); from then on health checks and the API too."""
        snapshot = self.supervisor.snapshot()
        if self.ready_seconds is not None or all(
            c.state in (ComponentState.READY, ComponentState.UNAVAILABLE) for c in snapshot
        ):
            view = self.last_view = self.observer.observe(snapshot)
        else:
            view = dataclasses.replace(self.last_view, components=snapshot)
        view.recent = list(self.recent)
        if self.args.exit_with_parent and os.getppid() != parent:
            self.supervisor.stop()
        api = snapshot[0]
        if not api.ever_ready and api.restarts >= _API_START_ATTEMPTS:
            log = self.options.logs_dir / "apiserver.log"
            self.failed = (  # its log's end first, the summary last (the line a reader sees)
                f"the end of {log}:\n{_tail(log, 12)}\n"
                f"testserver up: the API server did not start ({api.restarts} attempts); see {log}"
            )
            self.supervisor.stop()
        if self.ready_seconds is None and view.healthy() and view.nodes_ready(self.options.expected_nodes):
            self.ready_seconds = time.monotonic() - self.t0
            self._write_state(snapshot, view)
            self._cluster_ready(snapshot)
        elif self.changed.is_set():
            self.changed.clear()
            self._write_state(snapshot, view)
        return view

    def _write_state(self, snapshot: list[ComponentStatus], view: ClusterView) -> None:
        state = ClusterState(
            pid=os.getpid(),
            data_dir=str(self.options.data_dir),
            kubeconfig=str(self.options.kubeconfig),
            url=snapshot[0].url,
            ready=self.ready_seconds is not None,
            startup_seconds=self.ready_seconds,
            components={
                c.name: ComponentRecord(pid=c.pid, url=c.url, state=c.state.value, restarts=c.restarts)
                for c in snapshot
            },
        )
        write_state(self.state_path, state)

    def _cluster_ready(self, snapshot: list[ComponentStatus]) -> None:
        assert self.ready_seconds is not None
        url = snapshot[0].url
        if self.ready_file is not None:
            tmp = self.ready_file.with_name(self.ready_file.name + ".tmp")
            tmp.write_text(f"{url}\n{self.options.kubeconfig}\n{self.ready_seconds:.3f}\n")
            os.replace(tmp, self.ready_file)
        nodes = len(self.options.expected_nodes)
        self.progress.line(
            f"cluster ready in {self.ready_seconds:.1f}s: API server {url}, {len(snapshot) - 1} components, "
            f"{nodes} node{'s' if nodes != 1 else ''} Ready; logs in {self.options.logs_dir}\n"
            f"    export KUBECONFIG={self.options.kubeconfig}\n"
            "    kubectl get nodes\n"
            "Stop it with Ctrl-C.",
            important=not self.args.detach and not self.args.quiet,
        )

    def _interval(self) -> float:
        return 0.1 if self.ready_seconds is None else 1.0

    def _run_plain(self, parent: int) -> None:
        while not self.supervisor.stopping:
            view = self._tick(parent)
            self.progress.nodes(view)
            self.supervisor.wait_stopped(self._interval())

    def _run_live(self, parent: int) -> None:
        from rich.console import Console
        from rich.live import Live

        console = Console()
        footer = f"KUBECONFIG={self.options.kubeconfig}    Ctrl-C stops the cluster"
        view = ClusterView(components=self.supervisor.snapshot())
        with Live(render(view, footer=footer), console=console, auto_refresh=False, transient=False) as live:
            while not self.supervisor.stopping:
                view = self._tick(parent)
                title = "testserver up" + (
                    f" — ready in {self.ready_seconds:.1f}s"
                    if self.ready_seconds is not None
                    else " — starting"
                )
                live.update(render(view, title=title, footer=footer), refresh=True)
                self.supervisor.wait_stopped(self._interval())
