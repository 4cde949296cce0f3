"""The test-side handle on a running server's fault switches (``TestServer.faults``, ``TestServer.restart``).

::

    with TestServer() as server:
        server.faults.fail_next(2, code=500, verb="list", resource="pods")
        server.faults.cut_next(after_events=3, verb="watch")
        server.faults.latency(0.2)
        server.faults.bookmarks(False)
        server.faults.drop_watches()
        server.restart()                     # same port, same storage

The calls are synchronous (one short HTTPS request each; ``restart`` waits until the server answers
again). From asyncio code that must keep its event loop running meanwhile, use
``await asyncio.to_thread(server.faults.drop_watches)``. The server side is
:mod:`testserver.apiserver.faults`; docs/TESTSERVER_FAULTS.md is the guide.
"""

from __future__ import annotations

import shutil
import ssl
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from testserver.testing import TestServer

__all__ = ["FaultsClient", "FaultsError", "restart"]

_PATH = "/testserver/faults"


class FaultsError(RuntimeError):
    """The server refused a fault request (its Status message is the text)."""


class FaultsClient:
    """Flip the fault switches of the server at ``url`` (token-authenticated)."""

    def __init__(self, url: str, token: str, *, ca_cert: Path | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_cert)) if ca_cert is not None else False
        )
        self._timeout = timeout

    @classmethod
    def for_server(cls, server: TestServer) -> FaultsClient:
        return cls(server.url, server.token, ca_cert=server.ca_cert if server.tls else None)

    # -- transport --------------------------------------------------------------------------------

    def _request(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        # a fresh connection per call: a restart drops pooled connections
        with httpx.Client(verify=self._verify, timeout=self._timeout) as client:
            resp = client.request(
                method,
                self.url + _PATH,
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        data: dict[str, Any] = resp.json()
        if resp.status_code >= 400:
            raise FaultsError(f"{resp.status_code}: {data.get('message', data)}")
        return data

    def _post(self, action: str, **fields: Any) -> dict[str, Any]:
        return self._request("POST", {"action": action, **{k: v for k, v in fields.items() if v is not None}})

    @staticmethod
    def _filters(
        verb: str | None, resource: str | None, namespace: str | None, path_prefix: str | None
    ) -> dict[str, Any]:
        return {"verb": verb, "resource": resource, "namespace": namespace, "pathPrefix": path_prefix}

    # -- switches ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Rules, counters (failed, cut, delayed, droppedWatches, suppressedBookmarks, restarts),
        ``openWatches``, ``bookmarks``, ``generation``."""
        return self._request("GET")

    def fail_next(
        self,
        n: int = 1,
        *,
        code: int = 500,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        path_prefix: str | None = None,
        retry_after: int | None = None,
        message: str | None = None,
        in_stream: bool = False,
    ) -> None:
        """Answer the next ``n`` matching requests with a Status of ``code`` (429 gets ``Retry-After``,
        1 s unless ``retry_after``). ``in_stream=True``: watches get 200 and one ERROR event instead."""
        self._post(
            "fail",
            count=n,
            code=code,
            retryAfter=retry_after,
            message=message,
            inStream=in_stream,
            **self._filters(verb, resource, namespace, path_prefix),
        )

    def cut_next(
        self,
        n: int = 1,
        *,
        after_bytes: int | None = None,
        after_events: int | None = None,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Close the connection of the next ``n`` matching responses after ``after_bytes`` body bytes
        (default 0: right after the headers) or, for watches, after ``after_events`` events."""
        self._post(
            "cut",
            count=n,
            afterBytes=after_bytes,
            afterEvents=after_events,
            **self._filters(verb, resource, namespace, path_prefix),
        )

    def latency(
        self,
        seconds: float,
        *,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Delay matching requests by ``seconds`` (replaces the previous latency; 0 turns it off)."""
        self._post("latency", seconds=seconds, **self._filters(verb, resource, namespace, path_prefix))

    def bookmarks(self, enabled: bool) -> None:
        """Stop (False) or resume (True) the periodic BOOKMARK events of every watch."""
        self._post("bookmarks", enabled=enabled)

    def drop_watches(self, *, abrupt: bool = False) -> int:
        """End every open watch now (cleanly, or ``abrupt``: connection closed mid-stream); returns
        how many were open."""
        return int(self._post("dropWatches", abrupt=abrupt)["dropped"])

    def reset(self) -> None:
        """Clear every rule and turn bookmarks back on."""
        self._post("reset")

    def open_watches(self) -> int:
        return int(self.state()["openWatches"])

    def restart_in_process(self, down_seconds: float = 0.2, *, timeout: float = 30.0) -> int:
        """Stop listening and drop every connection, listen again on the same port after
        ``down_seconds`` with the same storage object. Returns when the server answers again; the
        new generation number."""
        target = int(self._post("restart", downSeconds=down_seconds)["restartingToGeneration"])
        deadline = time.monotonic() + timeout
        while True:
            try:
                state = self.state()
                if state["generation"] >= target and not state["restarting"]:
                    return int(state["generation"])
            except (httpx.TransportError, FaultsError):
                pass  # down: connection refused or reset
            if time.monotonic() > deadline:
                raise TimeoutError(f"server not back after {timeout}s")
            time.sleep(0.01)


def restart(server: TestServer, *, keep_storage: bool = True, down_seconds: float = 0.2) -> None:
    """Restart ``server`` on the same port.

    - memory storage, ``keep_storage=True``: in process (:meth:`FaultsClient.restart_in_process`);
      the storage object, its data and its history survive; so do the fault switches.
    - sqlite storage: a real process restart (SIGTERM, start again with the same data dir and port);
      ``keep_storage=False`` deletes the database first. Fault switches are reset.
    - memory storage, ``keep_storage=False``: a process restart with empty storage.
    """
    if keep_storage and server.storage == "memory":
        FaultsClient.for_server(server).restart_in_process(down_seconds)
        return
    port = httpx.URL(server.url).port
    server.stop()
    if not keep_storage and server.storage.startswith("sqlite"):
        path = Path(server.storage.partition(":")[2] or "state.db")
        if not path.is_absolute():
            path = server.data_dir / path
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.is_dir():  # pragma: no cover - never a directory in practice
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
    time.sleep(down_seconds)
    saved = list(server.extra_args)
    server.extra_args = [*saved, "--port", str(port)]  # the last --port wins
    try:
        server.start()
    finally:
        server.extra_args = saved
