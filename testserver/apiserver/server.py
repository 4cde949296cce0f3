"""Running the API server: storage and PKI set-up, uvicorn over TLS, readiness, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ServerOptions", "run_apiserver", "serve"]

log = logging.getLogger("testserver.apiserver")


@dataclass(kw_only=True)
class ServerOptions:
    """How to run the API server (the ``testserver apiserver`` flags)."""

    bind: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 6443
    """TCP port; 0 picks a free one (the kubeconfig and the ready line carry the real one)."""
    data_dir: Path = field(default_factory=lambda: Path(".testserver"))
    """Where the PKI (and by default the kubeconfig) live."""
    storage: str = "memory"
    """``memory``, ``sqlite:PATH`` (a relative PATH is inside ``data_dir``) or ``etcd://HOST:PORT[,...]``."""
    kubeconfig: Path | None = None
    """Where to write the admin kubeconfig (default ``data_dir/kubeconfig``)."""
    tls: bool = True
    """Serve HTTPS (default) or plain HTTP."""
    exit_with_parent: bool = False
    """Stop when the parent process dies (used by test fixtures)."""
    bookmark_interval: float = 60.0
    """Seconds between watch BOOKMARK events."""
    ready_file: Path | None = None
    """Written (with the server URL) once the server accepts requests."""
    log_level: str = "warning"
    """uvicorn / server log level."""
    history_window: int | None = None
    """About how many recent revisions the storage keeps readable (older resourceVersions and
    continue tokens get 410 Expired); None = the storage default. Small values are for tests."""
    etcd_cafile: Path | None = None
    """etcd storage: CA bundle to verify etcd's certificate (enables TLS to etcd)."""
    etcd_certfile: Path | None = None
    """etcd storage: client certificate for etcd."""
    etcd_keyfile: Path | None = None
    """etcd storage: client key for etcd."""
    etcd_compaction_interval: float = 300.0
    """etcd storage: seconds between compactions of etcd's history (kube's default 5 min; 0 = never)."""
    service_cluster_ip_range: str = "10.96.0.0/12"
    """CIDR that Service cluster IPs are allocated from (the first address is the kubernetes Service's)."""
    service_node_port_range: str = "30000-32767"
    """Inclusive range that Service NodePorts are allocated from."""
    standin_controllers: bool = False
    """Do the controllers' work the server alone would leave undone (default ServiceAccounts,
    namespace deletion, ResourceQuota status, PDB allowance at eviction); off = kube-apiserver alone."""
    authorization_mode: str = "AlwaysAllow"
    """``--authorization-mode``: comma-separated authorizers in order (AlwaysAllow, AlwaysDeny, RBAC)."""


def _storage_factory(
    spec: str, data_dir: Path, history_window: int | None = None, opts: ServerOptions | None = None
) -> Any:
    kwargs: dict[str, Any] = {} if history_window is None else {"history_window": history_window}
    if spec.startswith("etcd://"):
        from testserver.storage.etcd import storage_factory

        return storage_factory(spec, opts or ServerOptions(), **kwargs)
    if spec == "memory":
        from testserver.storage import MemoryStorage

        return functools.partial(MemoryStorage, **kwargs)
    if spec.startswith("sqlite:") or spec == "sqlite":
        path = Path(spec.partition(":")[2] or "state.db")
        if not path.is_absolute():
            path = data_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)

        async def open_sqlite() -> Any:
            from testserver.storage import SqliteStorage

            return await SqliteStorage.open(path, **kwargs)

        return open_sqlite
    raise SystemExit(f"unknown --storage {spec!r}: use memory, sqlite:PATH or etcd://HOST:PORT")


def _registry() -> Any:
    from pyclientgo.api import builtin_registry

    return builtin_registry()


def _tls_protocol() -> Any:
    """uvicorn's httptools protocol, exposing the verified client certificate's subject as the
    ``tls`` ASGI extension (``scope["extensions"]["tls"]["client_subject"]``)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class TLSHttpToolsProtocol(HttpToolsProtocol):
        _client_subject: dict[str, Any] | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._client_subject = None
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                with contextlib.suppress(Exception):
                    cert = ssl_object.getpeercert()
                    if cert:
                        subject: dict[str, Any] = {"O": []}
                        for rdn in cert.get("subject", ()):
                            for key, value in rdn:
                                if key == "commonName":
                                    subject["CN"] = value
                                elif key == "organizationName":
                                    subject["O"].append(value)
                        self._client_subject = subject

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._client_subject is not None:
                self.scope["extensions"] = {"tls": {"client_subject": self._client_subject}}

    return TLSHttpToolsProtocol


def _watch_parent(server: Any) -> None:
    parent = os.getppid()
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        server.should_exit = True

    async def poll() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            await asyncio.sleep(0.5)

    asyncio.get_running_loop().create_task(poll())


async def serve(opts: ServerOptions) -> int:
    t0 = time.perf_counter()
    import uvicorn

    from testserver.apiserver.app import ApiServerApp
    from testserver.apiserver.certs import ensure_credentials
    from testserver.apiserver.kubeconfig import write_kubeconfig

    data_dir = Path(opts.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    creds = ensure_credentials(data_dir) if opts.tls else None
    token = creds.admin_token if creds else _plain_token(data_dir)
    host_for_url = "127.0.0.1" if opts.bind in ("0.0.0.0", "") else opts.bind
    if ":" in host_for_url:
        host_for_url = f"[{host_for_url}]"
    app = ApiServerApp(
        storage_factory=_storage_factory(opts.storage, data_dir, opts.history_window, opts),
        registry_factory=_registry,
        token=token,
        server_address=f"{host_for_url}:{opts.port}",
        bookmark_interval=opts.bookmark_interval,
        admission_options=_admission_options(opts),
        client_ca=creds.ca_cert.read_bytes() if creds is not None else None,
        authorization_mode=opts.authorization_mode,
    )
    kwargs: dict[str, Any] = {}
    if creds is not None:
        kwargs.update(
            ssl_certfile=str(creds.serving_cert),
            ssl_keyfile=str(creds.serving_key),
            ssl_ca_certs=str(creds.ca_cert),
            ssl_cert_reqs=ssl.CERT_OPTIONAL,
        )
    config = uvicorn.Config(
        app,
        host=opts.bind,
        port=opts.port,
        http=_tls_protocol(),
        loop="none",
        lifespan="on",
        log_level=opts.log_level,
        access_log=False,
        timeout_keep_alive=120,
        timeout_graceful_shutdown=2,
        server_header=False,
        date_header=False,
        **kwargs,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            if app.rest is not None:
                app.rest.stop_watches()

    server = Server(config)
    app.faults.attach_uvicorn(server)  # lets POST /testserver/faults restart the listener
    # uvicorn re-raises the signal it caught once shut down; a no-op "original" handler makes a
    # SIGTERM-initiated shutdown end with exit status 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    if opts.exit_with_parent:
        _watch_parent(server)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            return 1
        await asyncio.sleep(0.002)
    port = opts.port
    for srv in server.servers:
        for sock in srv.sockets:
            port = sock.getsockname()[1]
            break
    app.discovery.server_address = f"{host_for_url}:{port}"  # type: ignore[union-attr]
    await _reconcile_kubernetes_endpoints(app, opts.bind, port)
    url = f"{'https' if creds else 'http'}://{host_for_url}:{port}"
    kubeconfig = Path(opts.kubeconfig) if opts.kubeconfig else data_dir / "kubeconfig"
    write_kubeconfig(kubeconfig, url, creds, token=token)
    elapsed = time.perf_counter() - t0
    if opts.ready_file:
        tmp = Path(str(opts.ready_file) + ".tmp")
        tmp.write_text(f"{url}\n{kubeconfig}\n{elapsed:.3f}\n")
        os.replace(tmp, opts.ready_file)
    print(f"testserver apiserver ready at {url} in {elapsed:.3f}s; kubeconfig {kubeconfig}", flush=True)
    await task
    return 0


async def _reconcile_kubernetes_endpoints(app: Any, bind: str, port: int) -> None:
    """The ``kubernetes`` Service's Endpoints/EndpointSlice at this server's address and port."""
    import ipaddress

    from testserver.apiserver.endpoint_reconciler import reconcile_kubernetes_endpoints

    try:
        ip = str(ipaddress.ip_address(bind))
    except ValueError:
        ip = "127.0.0.1"
    if ipaddress.ip_address(ip).is_unspecified:
        ip = "127.0.0.1"
    if app.rest is not None:
        await reconcile_kubernetes_endpoints(app.rest.admission.objects, ip, port)


def _admission_options(opts: ServerOptions) -> Any:
    from testserver.apiserver.admission import AdmissionOptions

    return AdmissionOptions(
        service_cluster_ip_range=opts.service_cluster_ip_range,
        service_node_port_range=opts.service_node_port_range,
        standin_controllers=opts.standin_controllers,
    )


def _plain_token(data_dir: Path) -> str:
    import secrets

    path = data_dir / "pki" / "admin.token"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path.write_text(token)
    return token


def run_apiserver(opts: ServerOptions) -> int:
    logging.basicConfig(
        level=getattr(logging, opts.log_level.upper(), logging.WARNING),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        import uvloop  # type: ignore[import-not-found]

        return uvloop.run(serve(opts))  # type: ignore[no-any-return]
    except ImportError:
        return asyncio.run(serve(opts))
