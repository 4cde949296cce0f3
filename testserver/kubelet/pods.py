"""Pod workers and pod status (pod_workers.go, kubelet_pods.go:generateAPIPodStatus/getPhase,
kuberuntime_manager.go:SyncPod, status/status_manager.go).

A :class:`PodWorker` owns one pod: it admits it (``OutOfcpu``/``OutOfmemory``/``OutOfpods`` Failed
statuses), runs its sandbox, init containers in order (sidecars, init containers with
``restartPolicy: Always``, keep running), then its containers; restarts exited containers per
``restartPolicy`` with kube's CrashLoopBackOff (10 s doubling to 300 s, reset after 600 s); on
deletion stops every container (grace from ``deletionGracePeriodSeconds``), writes the terminal status
and deletes the pod with grace 0. Status is PATCHed (``pods/status``) only when it changed.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from pyclientgo.apimachinery.quantity import Quantity
from pyclientgo.errors import NotFound
from pyclientgo.kubernetes import AsyncClientset
from testserver.kubelet.env import (
    CreateContainerConfigError,
    EnvSources,
    expand,
    make_environment_variables,
)
from testserver.kubelet.images import ErrImagePull
from testserver.kubelet.probes import ContainerProber
from testserver.kubelet.runtime import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    PodSandboxConfig,
    RuntimeService,
)
from testserver.kubelet.volumes import FailedMount, PodVolumes

__all__ = ["BackOff", "PodWorker", "generate_pod_status", "pod_requests"]

log = logging.getLogger("kubelet")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _time(t: _dt.datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


@dataclass
class BackOff:
    """The kubelet's crash-loop back-off: ``initial`` doubling to ``maximum``, forgotten after
    ``reset`` seconds without a restart (kubelet.go ``flowcontrol.NewBackOff`` + ``HasExpiredFunc``)."""

    initial: float = 10.0
    maximum: float = 300.0
    reset: float = 600.0
    _entries: dict[str, tuple[float, float]] = field(default_factory=dict)

    def next(self, key: str, now: float) -> float:
        """Record a restart of ``key`` at ``now``; the delay before it may start."""
        delay, last = self._entries.get(key, (0.0, 0.0))
        delay = self.initial if delay == 0.0 or now - last > self.reset else min(delay * 2, self.maximum)
        self._entries[key] = (delay, now)
        return delay

    def current(self, key: str) -> float:
        return self._entries.get(key, (self.initial, 0.0))[0]

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """Whether ``key``, which failed at ``event_time``, must still wait (``IsInBackOffSince``)."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        delay, last = entry
        if event_time - last > self.reset:
            return False
        return now - event_time < delay


def pod_requests(pod: dict[str, Any]) -> dict[str, Quantity]:
    """cpu and memory requests as kube counts them: max(sum of containers + sidecars, each init)."""
    spec = pod.get("spec") or {}
    total: dict[str, Quantity] = {}
    for c in spec.get("containers") or []:
        for k, v in ((c.get("resources") or {}).get("requests") or {}).items():
            total[k] = total.get(k, Quantity.parse("0")) + Quantity.parse(str(v))
    sidecars: dict[str, Quantity] = {}
    for c in spec.get("initContainers") or []:
        req = {
            k: Quantity.parse(str(v)) for k, v in ((c.get("resources") or {}).get("requests") or {}).items()
        }
        if c.get("restartPolicy") == "Always":
            for k, v in req.items():
                sidecars[k] = sidecars.get(k, Quantity.parse("0")) + v
            continue
        for k, v in req.items():
            with_sidecars = v + sidecars.get(k, Quantity.parse("0"))
            if with_sidecars.as_fraction() > total.get(k, Quantity.parse("0")).as_fraction():
                total[k] = with_sidecars
    for k, v in sidecars.items():
        total[k] = total.get(k, Quantity.parse("0")) + v
    for k, v in (spec.get("overhead") or {}).items():
        total[k] = total.get(k, Quantity.parse("0")) + Quantity.parse(str(v))
    return total


def _qos(pod: dict[str, Any]) -> str:
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and Quantity.parse(str(req[r])) != Quantity.parse(str(lim[r]))):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


@dataclass
class _Ctr:
    """What the worker knows of one container of the pod."""

    spec: dict[str, Any]
    init: bool
    sidecar: bool
    restart_count: int = 0
    current: ContainerStatus | None = None
    last: ContainerStatus | None = None
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    backoff_until: float = 0.0
    image_backoff_until: float = 0.0
    prober: ContainerProber | None = None
    image_error: str = ""
    """The last ErrImagePull message (shown again while in ImagePullBackOff)."""

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.state == ContainerState.RUNNING

    @property
    def started(self) -> bool:
        """Running and past its startup probe."""
        return self.running and (self.prober is None or self.prober.started)

    @property
    def ready(self) -> bool:
        """Running, started and passing its readiness probe."""
        return self.started and (self.prober is None or self.prober.ready)


def _state(c: _Ctr) -> dict[str, Any]:
    cur = c.current
    if cur is not None and cur.state == ContainerState.RUNNING and c.waiting_reason != "CrashLoopBackOff":
        return {"running": {"startedAt": _time(cur.started_at)}}
    if cur is not None and cur.state == ContainerState.EXITED and c.waiting_reason != "CrashLoopBackOff":
        return {"terminated": _terminated(cur)}
    waiting: dict[str, Any] = {"reason": c.waiting_reason}
    if c.waiting_message:
        waiting["message"] = c.waiting_message
    return {"waiting": waiting}


def _terminated(s: ContainerStatus) -> dict[str, Any]:
    out: dict[str, Any] = {
        "exitCode": s.exit_code,
        "reason": s.reason or ("Completed" if s.exit_code == 0 else "Error"),
        "startedAt": _time(s.started_at),
        "finishedAt": _time(s.finished_at),
        "containerID": f"pyclientgo://{s.id}",
    }
    if s.message:
        out["message"] = s.message
    return out


def _container_status(c: _Ctr, ready: bool) -> dict[str, Any]:
    state = _state(c)
    running = "running" in state
    out: dict[str, Any] = {
        "name": c.name,
        "state": state,
        "lastState": {"terminated": _terminated(c.last)} if c.last is not None else {},
        "ready": ready and running and c.ready,
        "restartCount": c.restart_count,
        "image": c.spec.get("image", ""),
        "imageID": c.current.image_ref if c.current is not None else "",
        "started": running and c.started,
    }
    if c.current is not None:
        out["containerID"] = f"pyclientgo://{c.current.id}"
    return out


def _cond(
    type_: str, status: bool, prev: dict[str, dict[str, Any]], now: str, reason: str = "", message: str = ""
) -> dict[str, Any]:
    s = "True" if status else "False"
    old = prev.get(type_)
    out: dict[str, Any] = {
        "type": type_,
        "status": s,
        "lastProbeTime": None,
        "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == s else now,
    }
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def generate_pod_status(
    pod: dict[str, Any],
    inits: list[_Ctr],
    ctrs: list[_Ctr],
    *,
    sandbox_ready: bool,
    host_ip: str,
    pod_ip: str,
) -> dict[str, Any]:
    """The pod status as ``generateAPIPodStatus`` writes it (phase, conditions in kube's order,
    container statuses, IPs, qosClass)."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    prev = {c["type"]: c for c in old.get("conditions") or [] if c.get("type")}
    now = _time(_now()) or ""
    policy = spec.get("restartPolicy", "Always")
    # phase (getPhase)
    init_failed = (
        any(
            c.current is not None and c.current.state == ContainerState.EXITED and c.current.exit_code != 0
            for c in inits
            if not c.sidecar
        )
        and policy == "Never"
    )
    inits_done = all(
        c.sidecar
        or (c.current is not None and c.current.state == ContainerState.EXITED and c.current.exit_code == 0)
        for c in inits
    )
    sidecars_started = all(c.started for c in inits if c.sidecar)
    initialized = inits_done and sidecars_started
    running = sum(1 for c in ctrs if c.current is not None and c.current.state == ContainerState.RUNNING)
    waiting = sum(1 for c in ctrs if c.current is None or "waiting" in _state(c))
    stopped = sum(1 for c in ctrs if c.current is not None and c.current.state == ContainerState.EXITED)
    succeeded = sum(
        1
        for c in ctrs
        if c.current is not None and c.current.state == ContainerState.EXITED and c.current.exit_code == 0
    )
    if init_failed:
        phase = "Failed"
    elif not initialized or (
        waiting > 0
        and not any(c.last is not None for c in ctrs if "waiting" in _state(c))
        and running == 0
        and stopped == 0
    ):
        phase = "Pending"
    elif running > 0:
        phase = "Running"
    elif stopped == len(ctrs) and ctrs:
        if policy == "Always":
            phase = "Running"
        elif succeeded == len(ctrs):
            phase = "Succeeded"
        elif policy == "Never":
            phase = "Failed"
        else:
            phase = "Running"
    elif waiting > 0 and any(c.last is not None for c in ctrs):
        phase = "Running"
    else:
        phase = "Pending"
    if phase in ("Succeeded", "Failed") or old.get("phase") in ("Succeeded", "Failed"):
        old_phase = old.get("phase")
        phase = old_phase if isinstance(old_phase, str) and old_phase in ("Succeeded", "Failed") else phase
    # conditions
    not_ready = [c.name for c in ctrs if not (c.ready and "running" in _state(c))]
    not_ready += [c.name for c in inits if c.sidecar and not c.ready]
    terminal = phase in ("Succeeded", "Failed")
    conditions = [
        _cond(
            "PodReadyToStartContainers",
            (sandbox_ready and not terminal) or (sandbox_ready and phase == "Running"),
            prev,
            now,
        )
    ]
    if initialized:
        conditions.append(_cond("Initialized", True, prev, now))
    else:
        pending = [
            c.name
            for c in inits
            if not (c.sidecar and c.current is not None and c.current.state == ContainerState.RUNNING)
            and not (
                c.current is not None
                and c.current.state == ContainerState.EXITED
                and c.current.exit_code == 0
            )
        ]
        conditions.append(
            _cond(
                "Initialized",
                False,
                prev,
                now,
                "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(pending)}]",
            )
        )
    if phase == "Succeeded":
        ready_c = _cond("Ready", False, prev, now, "PodCompleted")
        cready = _cond("ContainersReady", False, prev, now, "PodCompleted")
    elif not_ready or terminal:
        msg = f"containers with unready status: [{' '.join(not_ready)}]"
        ready_c = _cond("Ready", False, prev, now, "ContainersNotReady", msg)
        cready = _cond("ContainersReady", False, prev, now, "ContainersNotReady", msg)
    else:
        ready_c = _cond("Ready", True, prev, now)
        cready = _cond("ContainersReady", True, prev, now)
    conditions += [ready_c, cready]
    if "PodScheduled" in prev:
        conditions.append(prev["PodScheduled"])
    else:
        conditions.append(_cond("PodScheduled", True, prev, now))
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": old.get("startTime") or now,
        "qosClass": _qos(pod),
        "containerStatuses": [_container_status(c, ready=True) for c in ctrs],
    }
    if inits:
        status["initContainerStatuses"] = [_container_status(c, ready=c.sidecar) for c in inits]
    return status


class PodWorker:
    """The worker of one pod (module docstring)."""

    def __init__(
        self,
        *,
        pod: dict[str, Any],
        clientset: AsyncClientset,
        runtime: RuntimeService,
        recorder: Any,
        node_ip: str,
        backoff: BackOff,
        on_done: Any,
        env_sources: EnvSources | None = None,
        http: httpx.AsyncClient | None = None,
        volumes: PodVolumes | None = None,
        sync_frequency: float = 60.0,
    ) -> None:
        self.pod = pod
        self.cs = clientset
        self.runtime = runtime
        self.recorder = recorder
        self.node_ip = node_ip
        self.backoff = backoff
        self.on_done = on_done
        self.env_sources = env_sources
        self.http = http
        self.volumes = volumes
        self.sync_frequency = sync_frequency
        self._volumes_ok = volumes is None
        self._volumes_synced_at = float("-inf")
        self._mount_error = ""
        self.wake = asyncio.Event()
        self.sandbox_id: str | None = None
        spec = pod.get("spec") or {}
        self.inits = [
            _Ctr(
                c,
                True,
                c.get("restartPolicy") == "Always",
                waiting_reason="PodInitializing" if False else "ContainerCreating",
            )
            for c in spec.get("initContainers") or []
        ]
        self.ctrs = [
            _Ctr(
                c,
                False,
                False,
                waiting_reason="PodInitializing" if spec.get("initContainers") else "ContainerCreating",
            )
            for c in spec.get("containers") or []
        ]
        self._last_status: dict[str, Any] | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def key(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace')}/{meta.get('name')}"

    def update(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        self.wake.set()

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"pod-worker-{self.key}")

    async def _run(self) -> None:
        try:
            await self._loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod worker %s failed", self.key)
        finally:
            self.on_done(self)

    def _deleting(self) -> bool:
        return bool(self.pod["metadata"].get("deletionTimestamp"))

    def _event(self, type_: str, reason: str, message: str) -> None:
        self.recorder.event(self.pod, type_, reason, message)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._deleting() and (self.pod.get("status") or {}).get("phase") not in (
            "Succeeded",
            "Failed",
        ):
            sandbox_meta = self.pod["metadata"]
            self.sandbox_id = await self.runtime.run_pod_sandbox(
                PodSandboxConfig(
                    name=sandbox_meta["name"],
                    namespace=sandbox_meta.get("namespace", "default"),
                    uid=sandbox_meta.get("uid", ""),
                    annotations=dict(sandbox_meta.get("annotations") or {}),
                )
            )
        while True:
            if self._deleting():
                await self._terminate()
                return
            if self.sandbox_id is None:
                return
            delay = await self._sync(loop.time())
            await self._write_status()
            phase = (self._last_status or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                await self._stop_all(0)  # a terminal pod's sidecars go too
                await self.runtime.stop_pod_sandbox(self.sandbox_id)
                await self._write_status()
                # wait for deletion
                while not self._deleting():
                    self.wake.clear()
                    await self.wake.wait()
                await self._terminate()
                return
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _refresh(self) -> None:
        for c in self.inits + self.ctrs:
            if c.current is not None:
                try:
                    c.current = await self.runtime.container_status(c.current.id)
                except KeyError:
                    pass
                if c.current.state != ContainerState.RUNNING and c.prober is not None:
                    c.prober.stop()

    async def _environment(self, c: _Ctr) -> dict[str, str]:
        if self.env_sources is None:
            return _env(self.pod, c.spec, self.node_ip)
        return await make_environment_variables(
            self.pod, c.spec, self.env_sources, pod_ip=self.node_ip, host_ip=self.node_ip
        )

    def _start_probes(self, c: _Ctr) -> None:
        if c.current is None or self.http is None:
            return
        if c.prober is not None:
            c.prober.stop()
        prober = ContainerProber(
            runtime=self.runtime,
            container=c.spec,
            container_id=c.current.id,
            pod_ip=self.node_ip,
            http=self.http,
            event=self._event,
            on_change=self.wake.set,
            on_kill=lambda kind, _output: self._kill_unhealthy(c, kind),
        )
        c.prober = prober if prober.has_probes else None
        if c.prober is not None:
            c.prober.start()

    def _kill_unhealthy(self, c: _Ctr, kind: str) -> None:
        """A failed liveness/startup probe: kill the container (computePodActions), the sync
        restarts it per restartPolicy."""
        if c.current is None or c.current.state != ContainerState.RUNNING:
            return
        policy = "Always" if c.sidecar else (self.pod.get("spec") or {}).get("restartPolicy", "Always")
        message = f"Container {c.name} failed {kind} probe"
        if policy != "Never":
            message += ", will be restarted"
        self._event("Normal", "Killing", message)
        grace = (c.spec.get(f"{kind}Probe") or {}).get("terminationGracePeriodSeconds")
        if grace is None:
            grace = (self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        cid = c.current.id

        async def kill() -> None:
            await self.runtime.stop_container(cid, float(grace))
            self.wake.set()

        asyncio.get_running_loop().create_task(kill())

    async def _start(self, c: _Ctr) -> None:
        assert self.sandbox_id is not None
        image = c.spec.get("image", "")
        now = asyncio.get_running_loop().time()
        if now < c.image_backoff_until:
            if c.waiting_reason in ("ErrImagePull", "ImagePullBackOff"):
                c.waiting_reason = "ImagePullBackOff"
                c.waiting_message = f'Back-off pulling image "{image}": ErrImagePull: {c.image_error}'
            return
        try:
            await self.runtime.pull_image(image)
        except Exception as err:
            self._image_failed(c, image, str(err), now)
            return
        try:
            env = await self._environment(c)
        except CreateContainerConfigError as err:
            if c.waiting_reason != "CreateContainerConfigError" or c.waiting_message != str(err):
                self._event("Warning", "Failed", f"Error: {err}")
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", str(err)
            return
        except Exception as err:
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", str(err)
            self._event("Warning", "Failed", f"Error: {err}")
            return
        limits = (c.spec.get("resources") or {}).get("limits") or {}
        try:
            mounts = self.volumes.mounts(c.spec) if self.volumes is not None else []
        except FailedMount as err:
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", str(err)
            self._event("Warning", "Failed", f"Error: {err}")
            return
        config = ContainerConfig(
            name=c.name,
            image=image,
            command=[expand(str(a), env) for a in c.spec.get("command") or []],
            args=[expand(str(a), env) for a in c.spec.get("args") or []],
            env=env,
            attempt=c.restart_count + (1 if c.current is not None else 0),
            init=c.init and not c.sidecar,
            working_dir=str(c.spec.get("workingDir") or ""),
            ports=[int(p["containerPort"]) for p in c.spec.get("ports") or [] if p.get("containerPort")],
            limits={k: str(v) for k, v in limits.items() if k in ("cpu", "memory")},
            mounts=mounts,
        )
        try:
            cid = await self.runtime.create_container(self.sandbox_id, config)
        except ErrImagePull as err:
            self._image_failed(c, image, str(err), now)
            return
        except Exception as err:
            c.waiting_reason, c.waiting_message = "CreateContainerError", str(err)
            self._event("Warning", "Failed", f"Error: {err}")
            return
        c.image_backoff_until, c.image_error = 0.0, ""
        self._event("Normal", "Pulled", f'Container image "{image}" already present on machine')
        if c.current is not None:
            if c.last is not None:  # keep one dead container per container (the GC's MaxPerPodContainer)
                await self.runtime.remove_container(c.last.id)
            c.last = c.current
            c.restart_count += 1
        self._event("Normal", "Created", f"Created container: {c.name}")
        try:
            await self.runtime.start_container(cid)
        except Exception as err:
            c.current = await self.runtime.container_status(cid)
            c.waiting_reason, c.waiting_message = "RunContainerError", str(err)
            self._event("Warning", "Failed", f"Error: {err}")
            return
        c.current = await self.runtime.container_status(cid)
        c.waiting_reason, c.waiting_message = "", ""
        self._event("Normal", "Started", f"Started container {c.name}")
        self._start_probes(c)

    def _image_failed(self, c: _Ctr, image: str, message: str, now: float) -> None:
        """ErrImagePull, retried after the image back-off (ImagePullBackOff meanwhile)."""
        key = f"{self.pod['metadata'].get('uid')}/{c.name}/image"
        c.image_backoff_until = now + self.backoff.next(key, now)
        c.waiting_reason, c.waiting_message, c.image_error = "ErrImagePull", message, message
        self._event("Normal", "Pulling", f'Pulling image "{image}"')
        self._event("Warning", "Failed", f'Failed to pull image "{image}": {message}')
        self._event("Warning", "Failed", "Error: ErrImagePull")

    def _should_restart(self, c: _Ctr) -> bool:
        assert c.current is not None
        policy = "Always" if c.sidecar else (self.pod.get("spec") or {}).get("restartPolicy", "Always")
        if policy == "Always":
            return True
        if policy == "OnFailure":
            return c.current.exit_code != 0
        return False

    async def _start_or_backoff(self, c: _Ctr, now: float) -> float | None:
        """(Re)start ``c`` now, or set CrashLoopBackOff; the seconds to wait, if any."""
        if c.current is None:
            await self._start(c)
            return None
        key = f"{self.pod['metadata'].get('uid')}/{c.name}"
        # kube's doBackOff: measured from when the latest container finished; the first restart
        # is immediate, each later one waits the (doubling) back-off
        finished = c.current.finished_at
        ts = now - (_now() - finished).total_seconds() if finished is not None else now
        if c.backoff_until == 0.0 and self.backoff.in_backoff_since(key, ts, now):
            c.backoff_until = ts + self.backoff.current(key)
        if now < c.backoff_until:
            if c.waiting_reason != "CrashLoopBackOff":
                c.waiting_reason = "CrashLoopBackOff"
                c.waiting_message = (
                    f"back-off {_dur(self.backoff.current(key))} restarting failed container={c.name} "
                    f"pod={self.pod['metadata']['name']}_{self.pod['metadata'].get('namespace')}"
                    f"({self.pod['metadata'].get('uid')})"
                )
                self._event(
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {c.name} in pod {self.pod['metadata']['name']}_{self.pod['metadata'].get('namespace')}({self.pod['metadata'].get('uid')})",
                )
            return c.backoff_until - now
        c.backoff_until = 0.0
        self.backoff.next(key, ts)
        await self._start(c)
        return None

    async def _sync_volumes(self, now: float) -> bool:
        """Set up the pod's volumes, and refresh them every ``sync_frequency`` (configMap/secret
        updates); whether the containers may start."""
        if self.volumes is None:
            return True
        period = self.sync_frequency if self._volumes_ok else 2.0
        if now - self._volumes_synced_at < period:
            return self._volumes_ok
        self._volumes_synced_at = now
        try:
            await self.volumes.sync()
        except FailedMount as err:
            if str(err) != self._mount_error:
                self._event("Warning", "FailedMount", str(err))
            self._mount_error = str(err)
            return self._volumes_ok  # once set up, a failed refresh keeps the old content
        self._volumes_ok, self._mount_error = True, ""
        return True

    async def _sync(self, now: float) -> float:
        """One SyncPod: start what should run; the seconds until the next look."""
        await self._refresh()
        wait = 1.0
        if not await self._sync_volumes(now):
            return 2.0
        for c in self.inits:
            if c.current is not None and c.current.state == ContainerState.RUNNING:
                if c.sidecar:
                    if not c.started:
                        return wait  # a sidecar's startup probe gates the next init container
                    continue
                return wait  # an init container runs: wait for it
            if c.current is not None and c.current.state == ContainerState.EXITED:
                if not c.sidecar and c.current.exit_code == 0:
                    continue
                if not self._should_restart(c):
                    return wait  # failed init with Never: the pod fails
                d = await self._start_or_backoff(c, now)
                return min(wait, d) if d is not None else 0.05
            if c.current is None:
                await self._start(c)
                if not c.sidecar:
                    return 0.05 if c.current is not None else wait
        for c in self.ctrs:
            if c.current is None:
                await self._start(c)
            elif c.current.state == ContainerState.EXITED and self._should_restart(c):
                d = await self._start_or_backoff(c, now)
                if d is not None:
                    wait = min(wait, d)
        return wait

    async def _stop_all(self, grace: float) -> None:
        ordered = self.ctrs + list(reversed([c for c in self.inits if c.sidecar]))
        for c in self.inits + self.ctrs:
            if c.prober is not None:
                c.prober.stop()

        async def stop(c: _Ctr) -> None:
            if c.current is not None and c.current.state == ContainerState.RUNNING:
                self._event("Normal", "Killing", f"Stopping container {c.name}")
                await self.runtime.stop_container(c.current.id, grace)

        await asyncio.gather(*(stop(c) for c in ordered if not c.sidecar))
        for c in ordered:
            if c.sidecar:
                await stop(c)
        await self._refresh()

    async def _terminate(self) -> None:
        meta = self.pod["metadata"]
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        if self.sandbox_id is not None:
            await self._stop_all(max(grace, 2.0) if grace else 0.0)
            for c in self.ctrs:
                if c.waiting_reason == "CrashLoopBackOff":
                    c.waiting_reason = ""
            await self._write_status(terminating=True)
            await self.runtime.stop_pod_sandbox(self.sandbox_id)
            if self.volumes is not None:
                self.volumes.teardown()
            await self.runtime.remove_pod_sandbox(self.sandbox_id)
        try:
            await self.cs.core_v1.pods(meta.get("namespace")).delete(
                meta["name"], grace_period_seconds=0, preconditions={"uid": meta.get("uid")}
            )
        except NotFound:
            pass
        except Exception as err:
            log.error("failed to delete pod %s: %s", self.key, err)

    async def _write_status(self, terminating: bool = False) -> None:
        status = generate_pod_status(
            self.pod,
            self.inits,
            self.ctrs,
            sandbox_ready=self.sandbox_id is not None and not terminating,
            host_ip=self.node_ip,
            pod_ip=self.node_ip,
        )
        if terminating and status["phase"] not in ("Succeeded", "Failed"):
            codes = [c.current.exit_code for c in self.ctrs if c.current is not None]
            status["phase"] = "Succeeded" if codes and all(x == 0 for x in codes) else "Failed"
        if _comparable(status) == _comparable(self._last_status):
            return
        meta = self.pod["metadata"]
        try:
            await self.cs.core_v1.pods(meta.get("namespace")).patch(
                meta["name"],
                {"metadata": {"uid": meta.get("uid")}, "status": status},
                patch_type="strategic",
                subresource="status",
            )
            self._last_status = status
        except NotFound:
            self._last_status = status
        except Exception as err:
            log.error("Failed to update status for pod %s: %s", self.key, err)


def _comparable(status: dict[str, Any] | None) -> Any:
    if status is None:
        return None
    out = dict(status)
    out["conditions"] = [
        {k: v for k, v in c.items() if k not in ("lastProbeTime", "lastTransitionTime")}
        for c in status["conditions"]
    ]
    out.pop("startTime", None)
    return out


def _dur(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}m{s % 60}s" if s >= 60 else f"{s}s"


def _env(pod: dict[str, Any], spec: dict[str, Any], node_ip: str) -> dict[str, str]:
    """The container's environment: plain values and the downward API's fieldRef."""
    meta = pod["metadata"]
    fields = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", ""),
        "status.hostIP": node_ip,
        "status.podIP": node_ip,
    }
    env: dict[str, str] = {}
    for e in spec.get("env") or []:
        if "value" in e:
            env[e["name"]] = _expand(str(e.get("value") or ""), env)
        elif (e.get("valueFrom") or {}).get("fieldRef"):
            path = e["valueFrom"]["fieldRef"].get("fieldPath", "")
            env[e["name"]] = fields.get(path, "")
    return env


def _expand(value: str, env: dict[str, str]) -> str:
    for k, v in env.items():
        value = value.replace(f"$({k})", v)
    return value


def admit(
    pod: dict[str, Any], allocatable: dict[str, str], others: list[dict[str, Any]], max_pods: int
) -> tuple[str, str] | None:
    """Node admission (lifecycle/predicate.go): (reason, message) when the pod does not fit."""
    if len(others) + 1 > max_pods:
        return "OutOfpods", (
            f"Node didn't have enough resource: pods, requested: 1, used: {len(others)}, capacity: {max_pods}"
        )
    req = pod_requests(pod)
    for r in ("cpu", "memory"):
        if r not in req or r not in allocatable:
            continue
        used = Quantity.parse("0")
        for o in others:
            used = used + pod_requests(o).get(r, Quantity.parse("0"))
        cap = Quantity.parse(allocatable[r])
        if (used + req[r]).as_fraction() > cap.as_fraction():
            if r == "cpu":
                return (
                    "OutOfcpu",
                    f"Pod Node didn't have enough resource: cpu, requested: {req[r].milli_value()}, used: {used.milli_value()}, capacity: {cap.milli_value()}",
                )
            return (
                "OutOfmemory",
                f"Pod Node didn't have enough resource: memory, requested: {req[r].value()}, used: {used.value()}, capacity: {cap.value()}",
            )
    return None
