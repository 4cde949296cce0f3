"""kube-apiserver's ``/healthz``, ``/livez`` and ``/readyz`` (docs/reference/apiserver_behavior.md §15).

Each endpoint runs a list of named checks, as ``staging/src/k8s.io/apiserver/pkg/server/healthz``:

- ``/livez`` and ``/healthz``: ``ping``, ``log``, ``etcd``, then one ``poststarthook/<name>`` per
  start-up step of this server (:data:`POST_START_HOOKS`), failing until the step has finished;
- ``/readyz``: the same plus ``etcd-readiness`` and ``informer-sync`` after ``etcd``, and
  ``shutdown`` last (failing once the server has begun to shut down).

``?verbose`` prints ``[+]<name> ok`` per check and ``<endpoint> check passed``; any failure answers
500 with every line, failed checks as ``[-]<name> failed: reason withheld`` (the reason is logged,
the endpoint being public), ending ``<endpoint> check failed``. ``?exclude=<name>`` (repeatable) skips
a check. ``/<endpoint>/<check>`` runs one check: 200 ``ok`` or 500 ``internal server error: <reason>``.

The ``etcd`` checks read a key from the storage — whichever backend it is — within a timeout, as
kube's etcd health check does (``--etcd-healthcheck-timeout``, ``--etcd-readycheck-timeout``: 2 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from testserver.storage.interface import Storage

__all__ = [
    "ADMISSION_HOOKS",
    "APIEXTENSIONS_HOOKS",
    "BOOTSTRAP_HOOKS",
    "INITIALIZER_HOOKS",
    "POST_START_HOOKS",
    "ApiServerHealth",
    "HealthResponse",
]

log = logging.getLogger("testserver.apiserver.health")

Check = Callable[[], Awaitable[None]]
"""A health check: returns when healthy, raises (any exception, its text the reason) when not."""

HealthResponse = tuple[int, bytes]
"""(HTTP status, text/plain body)."""

INITIALIZER_HOOKS = ("start-apiserver-admission-initializer",)
"""Finished when the request handlers and the admission chain are built."""
BOOTSTRAP_HOOKS = (
    "start-system-namespaces-controller",
    "start-cluster-authentication-info-controller",
    "start-legacy-token-tracking-controller",
)
"""Finished when the system namespaces and the kube-system ConfigMaps exist (``bootstrap.py``)."""
ADMISSION_HOOKS = (
    "generic-apiserver-start-informers",
    "scheduling/bootstrap-system-priority-classes",
    "bootstrap-controller",
)
"""Finished when the server's storage watch has synced, the system PriorityClasses and the
``default/kubernetes`` Service exist (``admission.Admission.start``)."""
APIEXTENSIONS_HOOKS = (
    "start-apiextensions-informers",
    "start-apiextensions-controllers",
    "crd-informer-synced",
)
"""Finished when the stored CustomResourceDefinitions are served and their controller runs."""

POST_START_HOOKS = (
    *INITIALIZER_HOOKS,
    "generic-apiserver-start-informers",
    *APIEXTENSIONS_HOOKS,
    *BOOTSTRAP_HOOKS,
    "scheduling/bootstrap-system-priority-classes",
    "bootstrap-controller",
)
"""Every post-start hook, in the order kube-apiserver lists them."""

_STORAGE_TIMEOUT = 2.0
_HEALTH_KEY = "/registry/health"
_ENDPOINTS = ("healthz", "livez", "readyz")


class ApiServerHealth:
    """The health endpoints of one API server; see the module docstring.

    ``storage`` returns the server's storage (``None`` until it is open); ``informers_synced`` says
    whether the server's own watch-driven state has synced. The server reports its start-up steps
    with :meth:`hooks_finished` and the start of its shutdown with :meth:`shutdown_initiated`.
    """

    def __init__(
        self,
        *,
        storage: Callable[[], Storage | None],
        informers_synced: Callable[[], bool],
        storage_timeout: float = _STORAGE_TIMEOUT,
    ) -> None:
        self._storage = storage
        self._informers_synced = informers_synced
        self._storage_timeout = storage_timeout
        self._finished: set[str] = set()
        self._shutting_down = False
        base: list[tuple[str, Check]] = [("ping", self._ping), ("log", self._log), ("etcd", self._etcd)]
        hooks: list[tuple[str, Check]] = [(f"poststarthook/{h}", self._hook(h)) for h in POST_START_HOOKS]
        live = [*base, *hooks]
        ready = [
            *base,
            ("etcd-readiness", self._etcd),
            ("informer-sync", self._informer_sync),
            *hooks,
            ("shutdown", self._shutdown),
        ]
        self.checks: Mapping[str, Sequence[tuple[str, Check]]] = {
            "healthz": live,
            "livez": live,
            "readyz": ready,
        }
        """The checks of each endpoint, in order."""

    # -- state reported by the server ----------------------------------------------------------

    def hooks_finished(self, *names: str) -> None:
        """Mark post-start hooks (names from :data:`POST_START_HOOKS`) as finished."""
        unknown = set(names) - set(POST_START_HOOKS)
        if unknown:
            raise ValueError(f"unknown post-start hooks: {sorted(unknown)}")
        self._finished.update(names)

    def shutdown_initiated(self) -> None:
        """From now on ``/readyz`` fails its ``shutdown`` check."""
        self._shutting_down = True

    # -- the checks ------------------------------------------------------------------------------

    async def _ping(self) -> None:
        return None

    async def _log(self) -> None:
        """Logging works: every handler on the way to the root logger flushes."""
        logger: logging.Logger | None = log
        while logger is not None:
            for handler in logger.handlers:
                handler.flush()
            logger = logger.parent if logger.propagate else None

    async def _etcd(self) -> None:
        storage = self._storage()
        if storage is None:
            raise RuntimeError("the storage is not open yet")
        async with asyncio.timeout(self._storage_timeout):
            await storage.get(_HEALTH_KEY)

    async def _informer_sync(self) -> None:
        if not self._informers_synced():
            raise RuntimeError("the server's informers have not synced yet")

    async def _shutdown(self) -> None:
        if self._shutting_down:
            raise RuntimeError("process is shutting down")

    def _hook(self, name: str) -> Check:
        async def check() -> None:
            if name not in self._finished:
                raise RuntimeError("not finished")

        return check

    # -- serving -------------------------------------------------------------------------------

    @staticmethod
    def endpoint_of(path: str) -> str | None:
        """``"livez"`` for ``/livez`` or ``/livez/<check>``, etc.; ``None`` for other paths."""
        head = path[1:].split("/", 1)[0]
        return head if head in _ENDPOINTS and path[0] == "/" else None

    async def serve(self, path: str, query: Mapping[str, list[str]]) -> HealthResponse | None:
        """Answer a health path; ``None`` when ``path`` names no endpoint or check (a 404)."""
        endpoint = self.endpoint_of(path)
        if endpoint is None:
            return None
        checks = self.checks[endpoint]
        single = path[len(endpoint) + 2 :]
        if single or path.endswith("/"):
            for name, check in checks:
                if name == single:
                    try:
                        await check()
                    except Exception as err:
                        return 500, f"internal server error: {_reason(err)}\n".encode()
                    return 200, b"ok"
            return None
        excluded = set(query.get("exclude", ()))
        lines: list[str] = []
        failed: list[str] = []
        for name, check in checks:
            if name in excluded:
                excluded.discard(name)
                lines.append(f"[+]{name} excluded: ok")
                continue
            try:
                await check()
            except Exception as err:
                failed.append(name)
                lines.append(f"[-]{name} failed: reason withheld")
                log.info("%s check %s failed: %s", endpoint, name, _reason(err))
            else:
                lines.append(f"[+]{name} ok")
        if excluded:
            quoted = ",".join(f'"{name}"' for name in sorted(excluded))
            lines.append(f"warn: some health checks cannot be excluded: no matches for {quoted}")
        if failed:
            return 500, ("\n".join(lines) + f"\n{endpoint} check failed\n").encode()
        if "verbose" not in query:
            return 200, b"ok"
        return 200, ("\n".join(lines) + f"\n{endpoint} check passed\n").encode()


def _reason(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__
