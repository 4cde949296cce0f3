"""Container probes (pkg/kubelet/prober: worker.go, prober.go; pkg/probe/{exec,http,tcp}).

A :class:`ContainerProber` runs one container's startup, liveness and readiness probes, each every
``periodSeconds`` once ``initialDelaySeconds`` have passed since the container started, with
``timeoutSeconds`` per attempt, and turns consecutive results into the container's state as kube
does: until the startup probe succeeds the container is not ``started`` and the other probes do not
run; readiness starts False and flips after ``successThreshold`` successes / ``failureThreshold``
failures; ``failureThreshold`` liveness (or startup) failures kill the container through
``on_kill`` (the pod worker restarts it per ``restartPolicy``). Every failed attempt records the
``Unhealthy`` event ``<Kind> probe failed: <output>``. Handlers: exec (through the runtime's
``exec_sync``), httpGet (2xx/3xx succeed; ``HTTP probe failed with statuscode: N``), tcpSocket.
grpc probes are not implemented: such a container is reported with a ``Warning`` event and its
grpc probe is treated as always succeeding (the kubelet does not block the pod on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import httpx

from testserver.kubelet.runtime import RuntimeService

__all__ = ["ContainerProber", "run_probe"]

log = logging.getLogger("kubelet")

_KINDS = ("startup", "liveness", "readiness")


def _port(value: Any, container: dict[str, Any]) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    for p in container.get("ports") or []:
        if p.get("name") == text:
            return int(p.get("containerPort", 0))
    raise ValueError(f"couldn't find port: {text} in {container.get('name')}")


def _connect_reason(err: BaseException) -> str:
    """Go's wording for why a connect failed (the OS error somewhere in the exception chain)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    return str(err)


async def run_probe(
    probe: dict[str, Any],
    *,
    runtime: RuntimeService,
    container_id: str,
    container: dict[str, Any],
    pod_ip: str,
    http: httpx.AsyncClient,
) -> tuple[bool, str]:
    """One probe attempt: (succeeded, output)."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    if probe.get("exec") is not None:
        cmd = list((probe["exec"] or {}).get("command") or [])
        code, out, err = await runtime.exec_sync(container_id, cmd, timeout)
        output = (out + err).decode("utf-8", "replace")
        return code == 0, output
    if probe.get("httpGet") is not None:
        g = probe["httpGet"]
        try:
            port = _port(g.get("port"), container)
        except ValueError as err:
            return False, str(err)
        host = g.get("host") or pod_ip
        scheme = str(g.get("scheme") or "HTTP").lower()
        path = g.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{host}:{port}{path}"
        headers = {"User-Agent": "kube-probe/1.32", "Accept": "*/*"}
        for h in g.get("httpHeaders") or []:
            headers[h.get("name", "")] = h.get("value", "")
        try:
            resp = await http.get(url, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return (
                False,
                f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            )
        except httpx.ConnectError as err:
            return False, f'Get "{url}": dial tcp {host}:{port}: connect: {_connect_reason(err)}'
        except httpx.HTTPError as err:
            return False, f'Get "{url}": {err}'
        if 200 <= resp.status_code < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {resp.status_code}"
    if probe.get("tcpSocket") is not None:
        t = probe["tcpSocket"]
        try:
            port = _port(t.get("port"), container)
        except ValueError as err:
            return False, str(err)
        host = t.get("host") or pod_ip
        try:
            async with asyncio.timeout(timeout):
                _reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            return False, f"dial tcp {host}:{port}: i/o timeout"
        except OSError as err:
            reason = "connection refused" if isinstance(err, ConnectionRefusedError) else str(err)
            return False, f"dial tcp {host}:{port}: connect: {reason}"
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        return True, ""
    return True, ""


class ContainerProber:
    """The probes of one running container (module docstring)."""

    def __init__(
        self,
        *,
        runtime: RuntimeService,
        container: dict[str, Any],
        container_id: str,
        pod_ip: str,
        http: httpx.AsyncClient,
        event: Callable[[str, str, str], None],
        on_change: Callable[[], None],
        on_kill: Callable[[str, str], None],
    ) -> None:
        self.runtime = runtime
        self.container = container
        self.container_id = container_id
        self.pod_ip = pod_ip
        self.http = http
        self._event = event
        self._on_change = on_change
        self._on_kill = on_kill
        self.probes: dict[str, dict[str, Any]] = {
            k: container[f"{k}Probe"] for k in _KINDS if container.get(f"{k}Probe")
        }
        self.started = "startup" not in self.probes
        """The startup probe succeeded (or there is none)."""
        self.ready = "readiness" not in self.probes
        """The readiness probe's result (True when there is none)."""
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def has_probes(self) -> bool:
        return bool(self.probes)

    def start(self) -> None:
        for kind, probe in self.probes.items():
            if probe.get("grpc") is not None:
                self._event(
                    "Warning",
                    "ProbeWarning",
                    f"{kind.capitalize()} probe warning: grpc probes are not supported by this kubelet",
                )
                if kind == "startup":
                    self.started = True
                elif kind == "readiness":
                    self.ready = True
                continue
            self._tasks.append(asyncio.create_task(self._loop(kind, probe), name=f"probe-{kind}"))

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()

    async def _loop(self, kind: str, probe: dict[str, Any]) -> None:
        try:
            await self._run(kind, probe)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s probe of %s failed", kind, self.container.get("name"))

    async def _run(self, kind: str, probe: dict[str, Any]) -> None:
        period = float(probe.get("periodSeconds") or 10)
        success_threshold = int(probe.get("successThreshold") or 1)
        failure_threshold = int(probe.get("failureThreshold") or 3)
        await asyncio.sleep(float(probe.get("initialDelaySeconds") or 0))
        successes = failures = 0
        title = kind.capitalize()
        while True:
            if kind != "startup" and not self.started:
                await asyncio.sleep(min(period, 0.1))
                continue
            ok, output = await run_probe(
                probe,
                runtime=self.runtime,
                container_id=self.container_id,
                container=self.container,
                pod_ip=self.pod_ip,
                http=self.http,
            )
            if ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
                self._event("Warning", "Unhealthy", f"{title} probe failed: {output}")
            if kind == "startup":
                if ok:
                    self.started = True
                    self._on_change()
                    return
                if failures >= failure_threshold:
                    self._on_kill("startup", output)
                    return
            elif kind == "liveness":
                if failures >= failure_threshold:
                    self._on_kill("liveness", output)
                    return
            else:
                if ok and successes >= success_threshold and not self.ready:
                    self.ready = True
                    self._on_change()
                elif not ok and failures >= failure_threshold and self.ready:
                    self.ready = False
                    self._on_change()
            await asyncio.sleep(period)
