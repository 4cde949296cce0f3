"""The kubelet's API (pkg/kubelet/server/server.go), HTTPS on ``--port`` (10250).

- ``GET /healthz`` → ``ok``;
- ``GET /pods`` → a ``v1 PodList`` of the pods this kubelet runs (as it last saw them);
- ``GET /containerLogs/{namespace}/{pod}/{container}`` with ``follow``, ``tailLines``,
  ``sinceSeconds``/``sinceTime``, ``timestamps``, ``previous``, ``limitBytes``: the container's log,
  chunked (and streamed while the container runs with ``follow``); kube's errors (404 ``pod "x" does
  not exist``, 400 ``container "c" in pod "x" is waiting to start: ContainerCreating``, ...).

The serving certificate comes from the API server's PKI generator
(:func:`testserver.apiserver.certs.ensure_credentials`) under ``<root-dir>/pki``. Like a kubelet
started with ``--anonymous-auth`` and ``--authorization-mode AlwaysAllow``, it does not authenticate
its clients (it listens on the node address only; the API server is its client).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from testserver.kubelet.logs import LogOptions, read_container_logs
from testserver.kubelet.runtime import ContainerState, ContainerStatus

__all__ = [
    "ContainerLogSource",
    "HttpError",
    "KubeletServer",
    "LogTarget",
    "log_options",
    "pick_container_log",
]

log = logging.getLogger("kubelet")

_MAX_HEADER = 64 * 1024


class HttpError(Exception):
    """An error answer: status code and text body (restful's ``WriteError``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class LogTarget(Protocol):
    """What the server needs of a pod worker's container: its current and last runtime status and
    its waiting reason."""

    @property
    def name(self) -> str: ...
    @property
    def current(self) -> ContainerStatus | None: ...
    @property
    def last(self) -> ContainerStatus | None: ...
    @property
    def waiting_reason(self) -> str: ...


class ContainerLogSource(Protocol):
    """The kubelet's side of the API: its pods and their containers."""

    def api_pods(self) -> list[dict[str, Any]]: ...
    def log_target(self, namespace: str, pod: str, container: str) -> LogTarget | None:
        """The container; raises :class:`HttpError` 404 for an unknown pod or container."""
        ...


def _bool(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "yes")


def _int(query: dict[str, str], name: str) -> int | None:
    if name not in query or query[name] == "":
        return None
    try:
        return int(query[name])
    except ValueError as err:
        raise HttpError(400, f"invalid {name} {query[name]!r}") from err


def log_options(query: dict[str, str]) -> LogOptions:
    """PodLogOptions from the query (the API server passes them on as it received them)."""
    since: _dt.datetime | None = None
    seconds = _int(query, "sinceSeconds")
    if seconds is not None:
        since = _dt.datetime.now(_dt.UTC) - _dt.timedelta(seconds=seconds)
    elif query.get("sinceTime"):
        try:
            since = _dt.datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError as err:
            raise HttpError(400, f"invalid sinceTime {query['sinceTime']!r}") from err
    tail = _int(query, "tailLines")
    limit = _int(query, "limitBytes")
    if tail is not None and tail < 0:
        tail = None
    return LogOptions(
        follow=_bool(query.get("follow")),
        tail_lines=tail,
        since=since,
        timestamps=_bool(query.get("timestamps")),
        limit_bytes=limit if limit is not None and limit > 0 else None,
    )


def pick_container_log(target: LogTarget, pod: str, previous: bool) -> ContainerStatus:
    """The runtime container whose log to serve (kubelet_pods.go:validateContainerLogStatus)."""
    name, cur, last = target.name, target.current, target.last
    if previous:
        if last is None:
            raise HttpError(400, f'previous terminated container "{name}" in pod "{pod}" not found')
        return last
    if cur is not None and cur.state in (ContainerState.RUNNING, ContainerState.EXITED):
        return cur  # running, terminated, or in CrashLoopBackOff after it exited
    if last is not None:
        return last
    reason = target.waiting_reason or "ContainerCreating"
    if reason == "ErrImagePull":
        raise HttpError(400, f'container "{name}" in pod "{pod}" is waiting to start: image can\'t be pulled')
    if reason == "ImagePullBackOff":
        raise HttpError(
            400, f'container "{name}" in pod "{pod}" is waiting to start: trying and failing to pull image'
        )
    raise HttpError(400, f'container "{name}" in pod "{pod}" is waiting to start: {reason}')


class KubeletServer:
    """The HTTPS server (module docstring)."""

    def __init__(
        self,
        source: ContainerLogSource,
        *,
        bind: str,
        port: int,
        pki_dir: Path,
        sans: tuple[str, ...] = (),
    ) -> None:
        self.source = source
        self.bind = bind
        self.port = port
        self.pki_dir = pki_dir
        self.sans = sans
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    def _ssl(self) -> ssl.SSLContext:
        from testserver.apiserver.certs import ensure_credentials

        creds = ensure_credentials(self.pki_dir, self.sans)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(creds.serving_cert, creds.serving_key)
        return ctx

    async def start(self) -> int:
        """Listen; the port (``port`` 0 picks a free one)."""
        self._server = await asyncio.start_server(self._serve, self.bind, self.port, ssl=self._ssl())
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("Starting to listen on %s:%d", self.bind, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("kubelet API connection failed")
        finally:
            if task is not None:
                self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; whether the connection may be reused."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return False
        except asyncio.IncompleteReadError:
            return False
        if len(head) > _MAX_HEADER:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rsplit(" ", 1)[0]
        headers = {}
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if sep:
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length") or 0)
        if length:
            await reader.readexactly(length)
        keep = headers.get("connection", "").lower() != "close"
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            if method not in ("GET", "HEAD"):
                raise HttpError(405, f"method {method} not allowed")
            stream = self._route(unquote(url.path), query)
        except HttpError as err:
            await self._send(writer, err.code, b"text/plain; charset=utf-8", str(err).encode(), keep)
            return keep
        if isinstance(stream, tuple):
            ctype, body = stream
            await self._send(writer, 200, ctype, body, keep)
            return keep
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            + (b"" if keep else b"Connection: close\r\n")
            + b"\r\n"
        )
        await writer.drain()
        async for chunk in stream:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return keep

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, code: int, ctype: bytes, body: bytes, keep: bool) -> None:
        reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}.get(
            code, b"Error"
        )
        writer.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (code, reason, ctype, len(body), b"" if keep else b"Connection: close\r\n")
            + body
        )
        await writer.drain()

    def _route(self, path: str, query: dict[str, str]) -> tuple[bytes, bytes] | AsyncIterator[bytes]:
        if path in ("/healthz", "/healthz/ping", "/healthz/syncloop"):
            return b"text/plain; charset=utf-8", b"ok"
        if path == "/pods" or path == "/pods/":
            body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.source.api_pods()}
            return b"application/json", orjson.dumps(body)
        if path.startswith("/containerLogs/"):
            parts = path[len("/containerLogs/") :].strip("/").split("/")
            if len(parts) < 1 or not parts[0]:
                raise HttpError(400, '{"message": "Missing podNamespace."}')
            if len(parts) < 2 or not parts[1]:
                raise HttpError(400, '{"message": "Missing podID."}')
            if len(parts) < 3 or not parts[2]:
                raise HttpError(400, '{"message": "Missing container name."}')
            ns, pod, container = parts[0], parts[1], parts[2]
            stream = query.get("stream")
            if stream and stream != "All":
                raise HttpError(
                    400,
                    f'unable to return the given log stream: "{stream}". Please enable '
                    "PodLogsQuerySplitStreams feature gate in kubelet",
                )
            opts = log_options(query)
            target = self.source.log_target(ns, pod, container)
            if target is None:
                raise HttpError(404, f'container "{container}" not found in pod "{pod}"')
            chosen = pick_container_log(target, pod, _bool(query.get("previous")))
            if not chosen.log_path:
                return b"text/plain", b""

            def running() -> bool:
                return chosen.state == ContainerState.RUNNING

            return read_container_logs(Path(chosen.log_path), opts, running=running)
        raise HttpError(404, "404 page not found")
