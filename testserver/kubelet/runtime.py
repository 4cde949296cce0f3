"""The container runtime interface (named after CRI's RuntimeService/ImageService) and the fake runtime.

The fake runtime is kwok-like: sandboxes and containers exist only in memory, a started container is
running at once and runs until it is stopped, unless the pod asks it to exit with the annotations
:data:`FAKE_EXIT_AFTER_ANNOTATION` (seconds after start) and :data:`FAKE_EXIT_CODE_ANNOTATION`.
Init containers that are not sidecars exit 0 at once. One fake runtime can serve many nodes.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "FAKE_EXIT_AFTER_ANNOTATION",
    "FAKE_EXIT_CODE_ANNOTATION",
    "ContainerConfig",
    "ContainerState",
    "ContainerStatus",
    "FakeRuntime",
    "Mount",
    "PodSandboxConfig",
    "RuntimeService",
]

FAKE_EXIT_AFTER_ANNOTATION = "kubelet.testserver.io/fake-exit-after"
"""Pod annotation (fake runtime): seconds after start at which regular containers exit."""
FAKE_EXIT_CODE_ANNOTATION = "kubelet.testserver.io/fake-exit-code"
"""Pod annotation (fake runtime): the exit code they exit with (default 0)."""


class ContainerState(enum.StrEnum):
    """CRI's ContainerState."""

    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


@dataclass(kw_only=True)
class PodSandboxConfig:
    """CRI's PodSandboxConfig, the part used here."""

    name: str
    namespace: str
    uid: str
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Mount:
    """CRI's Mount: a host path the container sees at ``container_path``."""

    host_path: str
    container_path: str
    readonly: bool = False


@dataclass(kw_only=True)
class ContainerConfig:
    """CRI's ContainerConfig, the part used here."""

    name: str
    image: str
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    attempt: int = 0
    init: bool = False
    """A (non-sidecar) init container: it is expected to run to completion."""
    working_dir: str = ""
    """The process's cwd (``workingDir``; empty: the sandbox directory)."""
    ports: list[int] = field(default_factory=list)
    """The container's ``containerPort``s (the image table's ``{port}``)."""
    limits: dict[str, str] = field(default_factory=dict)
    """``resources.limits`` (cpu, memory), applied through cgroups where the runtime can."""
    mounts: list[Mount] = field(default_factory=list)
    """The container's volume mounts."""


@dataclass(kw_only=True)
class ContainerStatus:
    """CRI's ContainerStatus."""

    id: str
    name: str
    sandbox_id: str
    attempt: int
    image: str
    image_ref: str
    state: ContainerState = ContainerState.CREATED
    created_at: _dt.datetime
    started_at: _dt.datetime | None = None
    finished_at: _dt.datetime | None = None
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    log_path: str = ""
    """The container's CRI log file (empty: the runtime keeps no logs)."""


ContainerEventHandler = Callable[[str], None]
"""Called with the sandbox id when one of its containers changes state (CRI's GetContainerEvents)."""


class RuntimeService(Protocol):
    """CRI's RuntimeService and ImageService, async and in snake_case."""

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str: ...
    async def stop_pod_sandbox(self, sandbox_id: str) -> None: ...
    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...
    async def start_container(self, container_id: str) -> None: ...
    async def stop_container(self, container_id: str, timeout: float) -> None: ...
    async def remove_container(self, container_id: str) -> None: ...
    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]: ...
    async def container_status(self, container_id: str) -> ContainerStatus: ...
    async def exec_sync(
        self, container_id: str, cmd: list[str], timeout: float
    ) -> tuple[int, bytes, bytes]: ...
    async def pull_image(self, image: str) -> str: ...
    async def list_images(self) -> list[str]: ...
    def set_event_handler(self, handler: ContainerEventHandler) -> None: ...
    async def shutdown(self) -> None:
        """Stop every container and remove every sandbox (the kubelet is stopping)."""
        ...


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass
class _Sandbox:
    config: PodSandboxConfig
    ready: bool = True


class FakeRuntime:
    """The kwok-like in-memory runtime (module docstring)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, ContainerStatus] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._images: set[str] = set()
        self._configs: dict[str, ContainerConfig] = {}
        self._handler: ContainerEventHandler = lambda _sid: None

    def set_event_handler(self, handler: ContainerEventHandler) -> None:
        self._handler = handler

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sid = f"fake-sandbox-{next(self._ids)}"
        self._sandboxes[sid] = _Sandbox(config)
        return sid

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        for c in list(self._containers.values()):
            if c.sandbox_id == sandbox_id and c.state == ContainerState.RUNNING:
                self._exit(c.id, 0, "Completed", notify=False)
        sb = self._sandboxes.get(sandbox_id)
        if sb is not None:
            sb.ready = False

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        for cid in [c.id for c in self._containers.values() if c.sandbox_id == sandbox_id]:
            await self.remove_container(cid)
        self._sandboxes.pop(sandbox_id, None)

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        if sandbox_id not in self._sandboxes:
            raise KeyError(f"sandbox {sandbox_id} not found")
        cid = f"fake-{next(self._ids):012d}"
        self._containers[cid] = ContainerStatus(
            id=cid,
            name=config.name,
            sandbox_id=sandbox_id,
            attempt=config.attempt,
            image=config.image,
            image_ref=f"fake://{config.image}",
            created_at=_now(),
        )
        self._configs[cid] = config
        return cid

    async def start_container(self, container_id: str) -> None:
        c = self._containers[container_id]
        config = self._configs[container_id]
        c.state, c.started_at = ContainerState.RUNNING, _now()
        annotations = self._sandboxes[c.sandbox_id].config.annotations
        loop = asyncio.get_running_loop()
        if config.init:
            loop.call_soon(self._exit, container_id, 0, "Completed")
            return
        after = annotations.get(FAKE_EXIT_AFTER_ANNOTATION)
        if after is not None:
            try:
                delay, code = float(after), int(annotations.get(FAKE_EXIT_CODE_ANNOTATION, "0"))
            except ValueError:
                return
            reason = "Completed" if code == 0 else "Error"
            self._timers[container_id] = loop.call_later(delay, self._exit, container_id, code, reason)

    def _exit(self, container_id: str, code: int, reason: str, notify: bool = True) -> None:
        c = self._containers.get(container_id)
        timer = self._timers.pop(container_id, None)
        if timer is not None:
            timer.cancel()
        if c is None or c.state != ContainerState.RUNNING:
            return
        c.state, c.finished_at, c.exit_code, c.reason = ContainerState.EXITED, _now(), code, reason
        if notify:
            self._handler(c.sandbox_id)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        # a fake process honours SIGTERM at once and exits 0 (as a well-behaved server would)
        self._exit(container_id, 0, "Completed", notify=False)

    async def remove_container(self, container_id: str) -> None:
        timer = self._timers.pop(container_id, None)
        if timer is not None:
            timer.cancel()
        self._containers.pop(container_id, None)
        self._configs.pop(container_id, None)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [c for c in self._containers.values() if sandbox_id is None or c.sandbox_id == sandbox_id]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._containers[container_id]

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float) -> tuple[int, bytes, bytes]:
        if self._containers[container_id].state != ContainerState.RUNNING:
            return 126, b"", b"container not running"
        return 0, b"", b""

    async def pull_image(self, image: str) -> str:
        self._images.add(image)
        return f"fake://{image}"

    async def list_images(self) -> list[str]:
        return sorted(self._images)

    async def shutdown(self) -> None:
        for sid in list(self._sandboxes):
            await self.remove_pod_sandbox(sid)
