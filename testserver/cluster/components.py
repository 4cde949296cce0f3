"""What ``testserver up`` runs: :class:`ClusterOptions` and :class:`ClusterPlan`.

The plan turns the options into the supervised :class:`~testserver.cluster.supervisor.ComponentSpec`
list, in dependency order:

========================  ==========================================================  ============
name                      command                                                     needs
========================  ==========================================================  ============
``apiserver``             ``testserver apiserver`` (``--data-dir DATA_DIR``, the      —
                          flags of ``up`` passed on; the admin kubeconfig)
``controller-manager``    ``testserver controller-manager``                           apiserver
``scheduler``             ``testserver scheduler``                                    apiserver
``kubelet`` (one per      ``testserver kubelet --hostname-override node-<i>``; falls  apiserver
real node)                back to ``--fake`` while the real runtime is not there
``kubelet-fake``          ``testserver kubelet --fake --nodes M`` (``fake-node-…``)    apiserver
``proxy``                 ``testserver proxy --hostname-override node-0               kubelet
                          --proxy-mode userspace`` (health on a free loopback port)
``dns``                   ``testserver dns --port 0`` (cluster.local on a free        apiserver
                          loopback port, written to ``DATA_DIR/run/dns.port``)
========================  ==========================================================  ============

A component whose package does not exist (yet) is left out. Every component but the API server gets
its own kubeconfig with its own client certificate (:mod:`testserver.cluster.credentials`), a free
health port (``--secure-port 0``) and a ready file under ``DATA_DIR/run``; logs go to
``DATA_DIR/logs/<name>.log``. Each runs through :mod:`testserver.cluster.launch` (the same code as the
command shown); all but the API server are spawned at once and held at a gate file until what they
need is ready, and their kubeconfig is written right before the gate opens.
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from testserver.cluster.credentials import ComponentIdentity, write_component_kubeconfig
from testserver.cluster.supervisor import ComponentSpec

__all__ = [
    "COMPONENTS",
    "UNAVAILABLE_EXIT",
    "ClusterOptions",
    "ClusterPlan",
    "available_components",
    "real_node_names",
]

COMPONENTS: dict[str, str] = {
    "controller-manager": "testserver.controllers.cli",
    "scheduler": "testserver.scheduler.cli",
    "kubelet": "testserver.kubelet.cli",
    "proxy": "testserver.proxy.cli",
    "dns": "testserver.dns.cli",
}
"""The components ``up`` can start besides the API server, in start order, and their CLI modules."""

_IDENTITIES: dict[str, ComponentIdentity] = {
    "controller-manager": ComponentIdentity(user="system:kube-controller-manager"),
    "scheduler": ComponentIdentity(user="system:kube-scheduler"),
    "proxy": ComponentIdentity(user="system:kube-proxy"),
    # CoreDNS runs as the kube-system/coredns ServiceAccount on a real cluster
    "dns": ComponentIdentity(
        user="system:serviceaccount:kube-system:coredns",
        groups=("system:serviceaccounts", "system:serviceaccounts:kube-system"),
    ),
}

UNAVAILABLE_EXIT = 69
"""What :mod:`testserver.cluster.launch` exits with when a component's module does not import
(sysexits' EX_UNAVAILABLE): the supervisor then leaves the component out instead of restarting it."""

_FAKE_KUBELET_REASON = (
    "the real kubelet runtime is not available here: running its node with the fake runtime (--fake)"
)


def available_components() -> list[str]:
    """The components of :data:`COMPONENTS` whose CLI module exists in this installation."""
    found = []
    for name, module in COMPONENTS.items():
        try:
            if importlib.util.find_spec(module) is not None:
                found.append(name)
        except ModuleNotFoundError:
            continue
    return found


def real_node_names(count: int) -> list[str]:
    """The names of ``count`` real nodes: ``node-0``, ``node-1``, ..."""
    return [f"node-{i}" for i in range(count)]


def fake_node_names(count: int) -> list[str]:
    """The names ``testserver kubelet --fake --nodes M --hostname-override fake-node`` registers."""
    return ["fake-node"] if count == 1 else [f"fake-node-{i}" for i in range(count)]


@dataclass(kw_only=True)
class ClusterOptions:
    """The settings of one ``testserver up``."""

    data_dir: Path
    """Everything of the cluster: PKI, kubeconfigs, logs, ready files, the state file, kubelet dirs."""
    kubeconfig: Path
    """Where the admin kubeconfig is written."""
    apiserver_args: list[str] = field(default_factory=list)
    """Flags passed on to ``testserver apiserver`` (``--storage``, ``--bind``, ...; not ``--port``)."""
    port: int = 6443
    """The API server's port (0: a free one, kept across its restarts)."""
    tls: bool = True
    """Whether the API server serves HTTPS (components then authenticate with client certificates)."""
    components: list[str] = field(default_factory=list)
    """The components to start besides the API server (names of :data:`COMPONENTS`)."""
    nodes: int = 1
    """Real nodes: one kubelet process each."""
    fake_nodes: int = 0
    """Simulated nodes, all in one ``testserver kubelet --fake`` process."""
    component_args: dict[str, list[str]] = field(default_factory=dict)
    """Extra flags per component (``controller-manager``, ``scheduler``, ``kubelet``, ``proxy``)."""
    startup_timeout: float = 60.0
    """Seconds each component may take to become ready before it is restarted."""

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def kubeconfigs_dir(self) -> Path:
        return self.data_dir / "kubeconfigs"

    @property
    def expected_nodes(self) -> list[str]:
        """The names of every node the cluster should register."""
        names = real_node_names(self.nodes) if "kubelet" in self.components else []
        if "kubelet" in self.components and self.fake_nodes:
            names += fake_node_names(self.fake_nodes)
        return names


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ClusterPlan:
    """The specs of one cluster, and what they learn from each other at start (the API server's URL)."""

    def __init__(self, options: ClusterOptions) -> None:
        self.options = options
        self.api_url = ""
        """The API server's URL once it was ready (its restarts keep the port)."""
        self._api_ready_file = options.run_dir / "apiserver.ready"

    def _launch(self, component: str, gate: Path | None = None) -> list[str]:
        """The command that runs ``testserver <component>`` (:mod:`testserver.cluster.launch`)."""
        gate_args = ["--gate", str(gate)] if gate is not None else []
        return [sys.executable, "-m", "testserver.cluster.launch", *gate_args, component]

    def _read_api_url(self) -> str:
        if self._api_ready_file.exists():
            url = self._api_ready_file.read_text().split("\n", 1)[0].strip()
            if url:
                self.api_url = url
        if not self.api_url:
            raise RuntimeError("the API server's URL is not known yet")
        return self.api_url

    def _apiserver_argv(self) -> list[str]:
        opts = self.options
        port = opts.port
        if self.api_url:  # a restart: the port it found the first time (kubeconfigs name it)
            port = int(self.api_url.rsplit(":", 1)[1])
        return [
            *self._launch("apiserver"),
            *opts.apiserver_args,
            "--port",
            str(port),
            "--data-dir",
            str(opts.data_dir),
            "--kubeconfig",
            str(opts.kubeconfig),
            "--ready-file",
            str(self._api_ready_file),
            "--exit-with-parent",
        ]

    def _kubeconfig_writer(self, name: str, identity: ComponentIdentity) -> tuple[Path, Callable[[], None]]:
        path = self.options.kubeconfigs_dir / f"{name}.kubeconfig"

        def write() -> None:
            write_component_kubeconfig(
                path,
                server=self._read_api_url(),
                data_dir=self.options.data_dir,
                identity=identity,
                tls=self.options.tls,
            )

        return path, write

    def _component(
        self,
        name: str,
        component: str,
        identity: ComponentIdentity,
        args: list[str],
        *,
        needs: tuple[str, ...] = ("apiserver",),
        fallback_args: list[str] | None = None,
        fallback_reason: str = "",
        fresh_port_flag: str | None = None,
    ) -> ComponentSpec:
        opts = self.options
        kubeconfig, write = self._kubeconfig_writer(name, identity)
        ready = opts.run_dir / f"{name}.ready"
        gate = opts.run_dir / f"{name}.gate"
        extra = opts.component_args.get(component, [])

        def argv() -> list[str]:
            port_args = [fresh_port_flag, str(_free_port())] if fresh_port_flag else []
            return [
                *self._launch(component, gate),
                "--kubeconfig",
                str(kubeconfig),
                "--secure-port",
                "0",
                "--ready-file",
                str(ready),
                *args,
                *port_args,
                *extra,
            ]

        return ComponentSpec(
            name=name,
            argv=argv,
            ready_file=ready,
            log_file=opts.logs_dir / f"{name}.log",
            needs=needs,
            before_start=write,
            fallback_args=fallback_args,
            fallback_reason=fallback_reason,
            startup_timeout=opts.startup_timeout,
            gate_file=gate,
            unavailable_exit_code=UNAVAILABLE_EXIT,
        )

    def specs(self) -> list[ComponentSpec]:
        """The components to supervise, in start order."""
        opts = self.options
        specs = [
            ComponentSpec(
                name="apiserver",
                argv=self._apiserver_argv,
                ready_file=self._api_ready_file,
                log_file=opts.logs_dir / "apiserver.log",
                startup_timeout=opts.startup_timeout,
            )
        ]
        wanted = set(opts.components)
        if "controller-manager" in wanted:
            specs.append(
                self._component(
                    "controller-manager",
                    "controller-manager",
                    _IDENTITIES["controller-manager"],
                    ["--exit-with-parent"],
                )
            )
        if "scheduler" in wanted:
            specs.append(self._component("scheduler", "scheduler", _IDENTITIES["scheduler"], []))
        kubelets: list[str] = []
        if "kubelet" in wanted:
            nodes = real_node_names(opts.nodes)
            for node in nodes:
                name = "kubelet" if len(nodes) == 1 else f"kubelet-{node}"
                kubelets.append(name)
                specs.append(
                    self._component(
                        name,
                        "kubelet",
                        ComponentIdentity.for_node(node),
                        ["--hostname-override", node, "--root-dir", str(opts.data_dir / "kubelet" / node)],
                        fallback_args=["--fake"],
                        fallback_reason=_FAKE_KUBELET_REASON,
                        fresh_port_flag="--port",
                    )
                )
            if opts.fake_nodes:
                kubelets.append("kubelet-fake")
                specs.append(
                    self._component(
                        "kubelet-fake",
                        "kubelet",
                        ComponentIdentity(user="system:node:fake-node", groups=("system:nodes",)),
                        [
                            "--fake",
                            "--nodes",
                            str(opts.fake_nodes),
                            "--hostname-override",
                            "fake-node",
                            "--root-dir",
                            str(opts.data_dir / "kubelet" / "fake"),
                        ],
                    )
                )
        if "proxy" in wanted:
            node = real_node_names(1)[0]
            specs.append(
                self._component(
                    "proxy",
                    "proxy",
                    _IDENTITIES["proxy"],
                    [
                        "--hostname-override",
                        node,
                        # userspace: a local cluster does not rewrite this machine's nftables unless
                        # asked (--component-arg proxy=--proxy-mode=nftables); loopback, free ports
                        "--proxy-mode",
                        "userspace",
                        "--healthz-bind-address",
                        "127.0.0.1:0",
                        "--metrics-bind-address",
                        "",
                        "--exit-with-parent",
                    ],
                    needs=("apiserver", *kubelets[:1]),
                )
            )
        if "dns" in wanted:
            specs.append(
                self._component(
                    "dns",
                    "dns",
                    _IDENTITIES["dns"],
                    [
                        "--port",
                        "0",
                        "--dns-bind-address",
                        "127.0.0.1",
                        "--bind-address",
                        "127.0.0.1",
                        "--dns-port-file",
                        str(opts.run_dir / "dns.port"),
                        "--exit-with-parent",
                    ],
                )
            )
        return specs


def apiserver_args_from(args: argparse.Namespace, parser_flags: argparse.ArgumentParser) -> list[str]:
    """The ``testserver apiserver`` flags among ``args`` that differ from their defaults, as argv.

    ``parser_flags`` is a parser with only the API server's flags (their defaults and spellings);
    ``--port``, ``--data-dir``, ``--kubeconfig``, ``--ready-file`` and ``--exit-with-parent`` are
    ``up``'s own and left out.
    """
    own = {"port", "data_dir", "kubeconfig", "ready_file", "exit_with_parent", "help"}
    out: list[str] = []
    for action in parser_flags._actions:
        if action.dest in own or not action.option_strings:
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default:
            continue
        flag = (
            action.option_strings[-1]
            if action.option_strings[-1].startswith("--")
            else action.option_strings[0]
        )
        if isinstance(action, argparse._StoreTrueAction):
            if value:
                out.append(flag)
            continue
        out += [flag, str(value)]
    return out
