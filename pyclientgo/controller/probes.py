"""Health, readiness and metrics over HTTP (controller-runtime's ``healthz`` and metrics server).

:class:`ProbeServer` answers, on one loopback port:

- ``GET /healthz`` and ``GET /readyz`` (``/livez`` is ``/healthz``): 200 ``ok`` when every check of the
  set passes, else 500 listing ``[-]name failed: reason``; ``?verbose`` lists every check
  (``[+]name ok``); ``/healthz/<name>`` runs one check (404 if unknown);
- ``GET /metrics``: the Prometheus registry in the text exposition format.

A check is a function (sync or async) that raises when unhealthy. The server is a small HTTP/1.1
implementation on asyncio streams (one request per connection), so it needs no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["Checker", "ProbeServer", "ping"]

log = logging.getLogger("pyclientgo.controller")

Checker = Callable[[], Awaitable[None] | None]
"""A health or readiness check: returns when healthy, raises (any exception) when not."""

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


def ping() -> None:
    """The check that always passes (the process answers)."""


class ProbeServer:
    """Serves ``/healthz``, ``/readyz`` and ``/metrics``; see the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        registry: CollectorRegistry | None = None,
        check_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        """The configured port; after :meth:`start`, the bound one (also when 0 was asked)."""
        self.registry = REGISTRY if registry is None else registry
        self.check_timeout = check_timeout
        self.healthz: dict[str, Checker] = {}
        self.readyz: dict[str, Checker] = {}
        self._server: asyncio.Server | None = None

    def add_healthz_check(self, name: str, check: Checker) -> None:
        self.healthz[name] = check

    def add_readyz_check(self, name: str, check: Checker) -> None:
        self.readyz[name] = check

    @property
    def serving(self) -> bool:
        """True between :meth:`start` and :meth:`stop` (the port is bound)."""
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve in the background."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("serving /healthz /readyz /metrics on %s", self.url)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5.0):
                    await server.wait_closed()

    async def run_checks(self, checks: dict[str, Checker], only: str | None = None) -> tuple[bool, list[str]]:
        """Run the checks (or just ``only``): (all passed, one ``[+]``/``[-]`` line per check)."""
        lines: list[str] = []
        ok = True
        for name, check in list(checks.items()):
            if only is not None and name != only:
                continue
            try:
                value = check()
                if inspect.isawaitable(value):
                    async with asyncio.timeout(self.check_timeout):
                        await value
            except Exception as err:
                ok = False
                lines.append(f"[-]{name} failed: {err or type(err).__name__}")
            else:
                lines.append(f"[+]{name} ok")
        return ok, lines

    async def handle(self, method: str, target: str) -> tuple[int, str, bytes]:
        """Answer one request: (status, content type, body)."""
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"method not allowed\n"
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
        kind, _, only = path.lstrip("/").partition("/")
        if kind == "livez":
            kind = "healthz"
        if kind not in ("healthz", "readyz"):
            return 404, "text/plain; charset=utf-8", b"404 page not found\n"
        checks = self.healthz if kind == "healthz" else self.readyz
        if only and only not in checks:
            return 404, "text/plain; charset=utf-8", f"no check named {only!r}\n".encode()
        ok, lines = await self.run_checks(checks, only or None)
        verbose = "verbose" in url.query
        if ok and not verbose:
            body = "ok"
        else:
            body = "\n".join([*lines, f"{kind} check {'passed' if ok else 'failed'}"])
        return (200 if ok else 500), "text/plain; charset=utf-8", (body + "\n").encode()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10.0):  # the whole request head
                request_line = await reader.readline()
                while True:  # skip the headers
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
            parts = request_line.decode("latin-1").split()
            if len(parts) < 2:
                return
            method, target = parts[0], parts[1]
            status, ctype, body = await self.handle(method, target)
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("probe server: request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
