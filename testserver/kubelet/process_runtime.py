"""The process runtime: every container a real process on this machine (the kubelet's default).

- A sandbox is a directory ``<root>/pods/<pod uid>/`` (a container's cwd unless it sets
  ``workingDir``); pods share the host network (their IP is the node's).
- A container is ``command + args`` (or what :mod:`.images` gives for its image) started in its own
  session, so its process group is the container: stopping it sends SIGTERM to the group, waits the
  grace period, then SIGKILLs the group; when the main process exits, what is left of its group is
  killed, as a container's PID namespace would be. The direct child also gets ``PR_SET_PDEATHSIG``
  so a kubelet killed with SIGKILL does not leave it running.
- stdout and stderr go to ``<root>/logs/<ns>_<pod>_<uid>/<container>/<attempt>.log`` in CRI's log
  format with rotation (:mod:`.logs`).
- Volume mounts: a container with mounts runs in its own mount namespace (``unshare(CLONE_NEWNS)``,
  ``/`` made private) where each volume's host directory is bind-mounted at its ``mountPath``
  (read-only when asked); mount points missing on the host are created and removed with the
  container. ``exec_sync`` (exec probes) joins that namespace.
- Exit codes are CRI's: the process's own, or 128 + the signal that killed it; reason ``Completed``
  for 0, else ``Error``; a command that cannot be executed is ``StartError`` with exit code 128.
- A kubelet that was killed cannot adopt the processes it started: each container's process group
  is recorded under ``<root>/containers``, and the next start kills what is left of them and removes
  the old sandbox and log directories (the pods' containers are then started again).
- Resource limits go to a cgroup v2 per container (``memory.max``, ``cpu.max``) when
  ``/sys/fs/cgroup`` is a writable cgroup v2 hierarchy with those controllers; otherwise they are
  not enforced, which is logged once and reported by :attr:`ProcessRuntime.cgroup_status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as _dt
import itertools
import logging
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pyclientgo.apimachinery.quantity import Quantity
from testserver.kubelet.images import ImageTable
from testserver.kubelet.logs import ContainerLogWriter
from testserver.kubelet.runtime import (
    ContainerConfig,
    ContainerEventHandler,
    ContainerState,
    ContainerStatus,
    Mount,
    PodSandboxConfig,
)

__all__ = ["ProcessRuntime"]

log = logging.getLogger("kubelet")

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


# libc and its functions are looked up here, in the parent: a child between fork and exec must not
# dlopen/dlsym (a lock another thread held at fork time would never be released in the child)
_LIBC = ctypes.CDLL(None, use_errno=True)
_prctl, _unshare, _mount, _setns = _LIBC.prctl, _LIBC.unshare, _LIBC.mount, _LIBC.setns


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enter_mounts(mounts: list[Mount]) -> None:
    """In the child: a private mount namespace with each mount bound at its container path."""
    _check(_unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    for m in mounts:
        src, dst = m.host_path.encode(), m.container_path.encode()
        _check(_mount(src, dst, None, _MS_BIND | _MS_REC, None), f"bind {m.host_path} at {m.container_path}")
        if m.readonly:
            flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
            _check(_mount(None, dst, None, flags, None), f"read-only {m.container_path}")


def _enter_namespace_of(fd: int) -> None:
    _check(_setns(fd, _CLONE_NEWNS), "setns")


@dataclass
class _Sandbox:
    config: PodSandboxConfig
    dir: Path
    log_dir: Path
    ready: bool = True


@dataclass
class _Container:
    status: ContainerStatus
    config: ContainerConfig
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    writer: ContainerLogWriter | None = None
    process: asyncio.subprocess.Process | None = None
    waiter: asyncio.Task[None] | None = None
    cgroup: Path | None = None
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    created_mount_points: list[Path] = field(default_factory=list)


class ProcessRuntime:
    """Containers as host processes (module docstring); CRI-named like :class:`~.runtime.FakeRuntime`."""

    def __init__(
        self,
        root_dir: Path,
        *,
        images: ImageTable | None = None,
        log_max_size: int = 10 * 1024 * 1024,
        log_max_files: int = 5,
        cgroup_root: Path = _CGROUP_ROOT,
    ) -> None:
        self.root_dir = Path(root_dir).absolute()
        self.images = images or ImageTable()
        self.log_max_size = log_max_size
        self.log_max_files = log_max_files
        self._ids = itertools.count(1)
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._handler: ContainerEventHandler = lambda _sid: None
        self._cgroup_parent = self._init_cgroups(cgroup_root)
        self._state_dir = self.root_dir / "containers"
        self.remove_orphans()

    # -- what a previous kubelet left behind -------------------------------------------------------

    @staticmethod
    def _start_time(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            return ""

    def _record(self, c: _Container) -> None:
        """Note the container's process group, so a kubelet that died without stopping it can
        kill it at its next start."""
        assert c.process is not None
        self._state_dir.mkdir(parents=True, exist_ok=True)
        pid = c.process.pid
        (self._state_dir / c.status.id).write_text(f"{pid} {self._start_time(pid)}")

    def _forget(self, c: _Container) -> None:
        (self._state_dir / c.status.id).unlink(missing_ok=True)

    @staticmethod
    def _kill_session(leader: int, start: int) -> bool:
        """SIGKILL every process of the session ``leader`` started (its leader may be gone: the
        others were reparented), started no earlier than it; whether there were any."""
        found = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == leader and int(fields[3]) == leader and int(fields[19]) >= start:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
        return found

    def remove_orphans(self) -> int:
        """Kill the process groups of containers a previous run left (the kubelet was killed) and
        remove their sandbox and log directories; how many groups were killed."""
        killed = 0
        if self._state_dir.is_dir():
            for f in self._state_dir.iterdir():
                try:
                    pid_text, start = [*f.read_text().split(), ""][:2]
                    pid = int(pid_text)
                except (OSError, ValueError):
                    f.unlink(missing_ok=True)
                    continue
                if start and self._kill_session(pid, int(start)):
                    killed += 1
                f.unlink(missing_ok=True)
        pods = str(self.root_dir / "pods") + "/"
        with contextlib.suppress(OSError), open("/proc/mounts") as mounts:
            for line in mounts:  # tmpfs emptyDirs of those pods
                where = line.split()[1] if len(line.split()) > 1 else ""
                if where.startswith(pods):
                    subprocess.run(["umount", "-l", where], capture_output=True, check=False)
        for leftover in ("pods", "logs"):
            for d in (self.root_dir / leftover).glob("*"):
                shutil.rmtree(d, ignore_errors=True)
        if killed:
            log.warning("killed %d container process group(s) left by a previous kubelet", killed)
        return killed

    # -- cgroups -----------------------------------------------------------------------------------

    def _init_cgroups(self, root: Path) -> Path | None:
        controllers = root / "cgroup.controllers"
        reason = ""
        if not controllers.exists():
            reason = f"{root} is not a cgroup v2 hierarchy"
        else:
            have = set(controllers.read_text().split())
            if not {"cpu", "memory"} <= have:
                reason = f"cgroup v2 controllers cpu and memory not available at {root} (have {sorted(have)})"
        parent = root / f"testserver-kubelet-{os.getpid()}"
        if not reason:
            try:
                parent.mkdir(exist_ok=True)
                (parent / "cgroup.subtree_control").write_text("+cpu +memory")
            except OSError as err:
                reason = f"cannot create cgroups under {root}: {err}"
        if reason:
            self.cgroup_status = f"resource limits are not enforced: {reason}"
            log.warning("%s", self.cgroup_status)
            return None
        self.cgroup_status = f"resource limits enforced through cgroup v2 at {parent}"
        log.info("%s", self.cgroup_status)
        return parent

    def _make_cgroup(self, cid: str, limits: dict[str, str]) -> Path | None:
        if self._cgroup_parent is None or not limits:
            return None
        path = self._cgroup_parent / cid
        try:
            path.mkdir(exist_ok=True)
            if "memory" in limits:
                (path / "memory.max").write_text(str(Quantity.parse(limits["memory"]).value()))
            if "cpu" in limits:
                quota = max(1000, Quantity.parse(limits["cpu"]).milli_value() * 100)  # per 100 ms
                (path / "cpu.max").write_text(f"{quota} 100000")
        except (OSError, ValueError) as err:
            log.warning("cannot apply limits %s to container %s: %s", limits, cid, err)
            return None
        return path

    @staticmethod
    def _remove_cgroup(path: Path | None) -> None:
        if path is None:
            return
        with contextlib.suppress(OSError):
            procs = (path / "cgroup.procs").read_text().split()
            for pid in procs:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        with contextlib.suppress(OSError):
            path.rmdir()

    # -- sandboxes ---------------------------------------------------------------------------------

    def set_event_handler(self, handler: ContainerEventHandler) -> None:
        self._handler = handler

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sid = f"sandbox-{config.uid or next(self._ids)}"
        sdir = self.root_dir / "pods" / (config.uid or sid)
        ldir = self.root_dir / "logs" / f"{config.namespace}_{config.name}_{config.uid}"
        sdir.mkdir(parents=True, exist_ok=True)
        ldir.mkdir(parents=True, exist_ok=True)
        self._sandboxes[sid] = _Sandbox(config, sdir, ldir)
        return sid

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        running = [
            c.status.id
            for c in self._containers.values()
            if c.status.sandbox_id == sandbox_id and c.status.state == ContainerState.RUNNING
        ]
        await asyncio.gather(*(self.stop_container(cid, 0) for cid in running))
        sb = self._sandboxes.get(sandbox_id)
        if sb is not None:
            sb.ready = False

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        for cid in [c.status.id for c in self._containers.values() if c.status.sandbox_id == sandbox_id]:
            await self.remove_container(cid)
        sb = self._sandboxes.pop(sandbox_id, None)
        if sb is not None:
            shutil.rmtree(sb.dir, ignore_errors=True)
            shutil.rmtree(sb.log_dir, ignore_errors=True)

    def sandbox_dir(self, sandbox_id: str) -> Path:
        """The sandbox's directory (where volumes would be mounted)."""
        return self._sandboxes[sandbox_id].dir

    # -- containers --------------------------------------------------------------------------------

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sb = self._sandboxes.get(sandbox_id)
        if sb is None:
            raise KeyError(f"sandbox {sandbox_id} not found")
        argv = self.images.resolve(config.image, config.command, config.args, config.ports)
        cid = f"{next(self._ids):04d}{os.urandom(6).hex()}"
        cwd = Path(config.working_dir) if config.working_dir else sb.dir
        log_path = sb.log_dir / config.name / f"{config.attempt}.log"
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOSTNAME": sb.config.name,
            "HOME": "/root",
            **config.env,
        }
        status = ContainerStatus(
            id=cid,
            name=config.name,
            sandbox_id=sandbox_id,
            attempt=config.attempt,
            image=config.image,
            image_ref=f"process://{config.image}",
            created_at=_now(),
            log_path=str(log_path),
        )
        self._containers[cid] = _Container(status, config, argv, cwd, env)
        return cid

    async def start_container(self, container_id: str) -> None:
        c = self._containers[container_id]
        c.writer = ContainerLogWriter(
            Path(c.status.log_path), max_size=self.log_max_size, max_files=self.log_max_files
        )
        c.cgroup = self._make_cgroup(container_id, c.config.limits)
        cgroup = c.cgroup
        mounts = list(c.config.mounts)

        def preexec() -> None:
            _die_with_parent()
            if cgroup is not None:
                with contextlib.suppress(OSError):
                    (cgroup / "cgroup.procs").write_text("0")
            if mounts:
                _enter_mounts(mounts)

        try:
            self._mount_points(c)
            if not c.cwd.is_dir():
                raise FileNotFoundError(f'chdir to cwd ("{c.cwd}") set in config.json failed: no such file')
            c.process = await asyncio.create_subprocess_exec(
                *c.argv,
                cwd=c.cwd,
                env=c.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except (OSError, subprocess.SubprocessError) as err:
            message = (
                f'exec: "{c.argv[0]}": executable file not found in $PATH'
                if isinstance(err, FileNotFoundError) and not str(err).startswith("chdir")
                else str(err)
            )
            if isinstance(err, subprocess.SubprocessError):
                message = f"error mounting volumes: {err}"
            now = _now()
            s = c.status
            s.state, s.started_at, s.finished_at = ContainerState.EXITED, now, now
            s.exit_code, s.reason = 128, "StartError"
            s.message = f"failed to start container process: {message}"
            c.writer.close()
            c.exited.set()
            raise RuntimeError(s.message) from err
        c.status.state, c.status.started_at = ContainerState.RUNNING, _now()
        self._record(c)
        c.waiter = asyncio.create_task(self._wait(c), name=f"container-{container_id}")

    async def _pump(self, c: _Container, stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None or c.writer is None:
            return
        while True:
            data = await stream.read(65536)
            if not data:
                break
            c.writer.write(name, data)
        c.writer.flush_stream(name)

    async def _wait(self, c: _Container) -> None:
        assert c.process is not None
        pumps = asyncio.gather(
            self._pump(c, c.process.stdout, "stdout"), self._pump(c, c.process.stderr, "stderr")
        )
        code = await c.process.wait()
        self._kill_group(c, signal.SIGKILL)  # the rest of the container goes with its main process
        try:
            async with asyncio.timeout(2.0):
                await pumps
        except TimeoutError:
            pumps.cancel()
        except Exception as err:
            log.warning("log copy of container %s failed: %s", c.status.id, err)
        if c.writer is not None:
            c.writer.close()
        self._remove_cgroup(c.cgroup)
        self._forget(c)
        s = c.status
        s.exit_code = code if code >= 0 else 128 - code
        s.reason = "Completed" if s.exit_code == 0 else "Error"
        s.state, s.finished_at = ContainerState.EXITED, _now()
        c.exited.set()
        self._handler(s.sandbox_id)

    @staticmethod
    def _mount_points(c: _Container) -> None:
        """Create the mount points that do not exist on the host (removed with the container)."""
        for m in c.config.mounts:
            dst = Path(m.container_path)
            if dst.exists():
                continue
            missing = [p for p in [dst, *dst.parents] if not p.exists()]
            is_dir = Path(m.host_path).is_dir()
            for p in reversed(missing):
                if p == dst and not is_dir:
                    p.touch()
                else:
                    p.mkdir()
                c.created_mount_points.append(p)

    @staticmethod
    def _kill_group(c: _Container, sig: int) -> None:
        if c.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(c.process.pid, sig)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        c = self._containers.get(container_id)
        if c is None or c.process is None or c.status.state != ContainerState.RUNNING:
            return
        self._kill_group(c, signal.SIGTERM)
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await c.exited.wait()
            return
        except TimeoutError:
            pass
        self._kill_group(c, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await c.exited.wait()

    async def remove_container(self, container_id: str) -> None:
        c = self._containers.get(container_id)
        if c is None:
            return
        if c.status.state == ContainerState.RUNNING:
            await self.stop_container(container_id, 0)
        if c.waiter is not None and not c.waiter.done():
            c.waiter.cancel()
        self._containers.pop(container_id, None)
        for p in reversed(c.created_mount_points):
            with contextlib.suppress(OSError):
                p.rmdir() if p.is_dir() else p.unlink()
        with contextlib.suppress(OSError):
            path = Path(c.status.log_path)
            for f in [path, *path.parent.glob(path.name + ".*")]:
                f.unlink(missing_ok=True)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [
            c.status
            for c in self._containers.values()
            if sandbox_id is None or c.status.sandbox_id == sandbox_id
        ]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._containers[container_id].status

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float) -> tuple[int, bytes, bytes]:
        """Run ``cmd`` in the container's cwd and environment; exit code 126 if it is not running,
        and ``-1`` with ``command ... timed out`` on stderr after ``timeout`` seconds."""
        c = self._containers[container_id]
        if c.status.state != ContainerState.RUNNING:
            return 126, b"", b"container not running"
        ns_fd = -1
        if c.config.mounts and c.process is not None:
            with contextlib.suppress(OSError):
                ns_fd = os.open(f"/proc/{c.process.pid}/ns/mnt", os.O_RDONLY)

        cwd = str(c.cwd)

        def preexec() -> None:
            _die_with_parent()
            if ns_fd >= 0:
                _enter_namespace_of(ns_fd)  # see the container's volumes
                os.chdir(cwd)  # setns to a mount namespace moves the cwd to its root

        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=c.cwd,
                env=c.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except (OSError, subprocess.SubprocessError) as err:
            return (
                126,
                b"",
                f'exec: "{cmd[0] if cmd else ""}": {getattr(err, "strerror", None) or err}'.encode(),
            )
        finally:
            if ns_fd >= 0:
                os.close(ns_fd)
        try:
            async with asyncio.timeout(timeout if timeout > 0 else None):
                out, err_out = await proc.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return -1, b"", f"command {' '.join(cmd)!r} timed out".encode()
        code = proc.returncode if proc.returncode is not None else -1
        return (code if code >= 0 else 128 - code), out, err_out

    async def pull_image(self, image: str) -> str:
        # nothing to pull; whether the image can supply a command is decided at create_container
        return f"process://{image}"

    async def list_images(self) -> list[str]:
        return sorted(self.images.images)

    async def shutdown(self) -> None:
        for sid in list(self._sandboxes):
            await self.stop_pod_sandbox(sid)
            await self.remove_pod_sandbox(sid)
        for cid in list(self._containers):
            await self.remove_container(cid)
        if self._cgroup_parent is not None:
            with contextlib.suppress(OSError):
                self._cgroup_parent.rmdir()
