"""Fault injection: switches a test flips at run time to make the API server misbehave on purpose.

The switches (docs/TESTSERVER_FAULTS.md is the user guide):

- **fail**: answer the next N matching requests with a Status of the given code (410 Expired, 429 with
  ``Retry-After``, 500, 503, 504...) instead of serving them; a watch can instead get ``200`` and an
  ``ERROR`` event (``in_stream``), as kube-apiserver does for a too-old resourceVersion.
- **cut**: serve the next N matching requests but close the connection after K body bytes, or (watches)
  after K events; the client sees an incomplete body, never a clean end.
- **latency**: delay every matching request by S seconds before it is served.
- **bookmarks**: stop (and resume) the periodic BOOKMARK events of every watch (the
  ``k8s.io/initial-events-end`` bookmark of a watch-list is protocol, not progress: it is always sent).
- **drop watches**: end every open watch now, cleanly (the stream ends as if ``timeoutSeconds`` had
  passed) or abruptly (the connection closes mid-stream).
- **restart**: stop listening, drop every connection, wait, listen again on the same port with the same
  storage object (memory storage keeps its data and history). The fault switches survive it.

Matching: every rule may name a ``verb`` (get, list, watch, create, update, patch, delete,
deletecollection), a ``resource`` (``pods``, or ``pods/status`` for a subresource), a ``namespace`` and a
``path_prefix``; unset filters match everything. The admin path itself and the anonymous health paths
are never affected.

Control surface: ``POST /testserver/faults`` with a JSON body ``{"action": ...}`` (authenticated users
only; not part of discovery or OpenAPI), ``GET /testserver/faults`` for the current state and counters.
:class:`testserver.faults_client.FaultsClient` wraps it for tests (``TestServer.faults``).

Hooks: :meth:`Faults.intercepts`/:meth:`Faults.serve` wrap the ASGI call in ``app.py``,
:meth:`Faults.admin` serves the admin path, :meth:`Faults.attach_uvicorn` (``server.py``) lets
restart reach the listening sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from testserver.apiserver import status as st
from testserver.apiserver.request import JSON, Request, Response
from testserver.apiserver.resources import parse_path

__all__ = ["ADMIN_PATH", "CutRule", "FailRule", "Faults", "LatencyRule", "Match", "RequestFacts"]

log = logging.getLogger("testserver.apiserver.faults")

ADMIN_PATH = "/testserver/faults"
_ADMIN_PREFIX = "/testserver/"
_UNAFFECTED = ("/healthz", "/livez", "/readyz", "/version", _ADMIN_PREFIX)
_VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"})
_BOOKMARK = b'{"type":"BOOKMARK"'
_INITIAL_END = b"k8s.io/initial-events-end"
_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class _Cut(Exception):
    """Raised through the ASGI app to end a response without completing it."""


# -- matching ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What rules match on, computed once per intercepted request."""

    method: str
    path: str
    verb: str
    resource: str
    namespace: str
    watch: bool
    resource_version: str

    @classmethod
    def of(cls, scope: dict[str, Any]) -> RequestFacts:
        method: str = scope["method"]
        path: str = scope["path"]
        query = dict(parse_qsl((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True))
        parts = path.strip("/").split("/")
        info = None
        if parts[0] in ("api", "apis") and len(parts) > (2 if parts[0] == "api" else 3):
            info = parse_path(parts)
        watch = query.get("watch") in ("true", "1") or (info is not None and info.watch_path)
        if info is None:
            return cls(method, path, method.lower(), "", "", watch, query.get("resourceVersion", ""))
        name = info.name
        if method in ("GET", "HEAD"):
            verb = "watch" if watch else ("get" if name else "list")
        elif method == "POST":
            verb = "create"
        elif method == "PUT":
            verb = "update"
        elif method == "PATCH":
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            verb = method.lower()
        resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
        return cls(method, path, verb, resource, info.namespace, watch, query.get("resourceVersion", ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """Which requests a rule applies to (``None`` = any)."""

    verb: str | None = None
    resource: str | None = None
    namespace: str | None = None
    path_prefix: str | None = None

    def __call__(self, facts: RequestFacts) -> bool:
        return (
            (self.verb is None or self.verb == facts.verb)
            and (self.resource is None or self.resource == facts.resource)
            and (self.namespace is None or self.namespace == facts.namespace)
            and (self.path_prefix is None or facts.path.startswith(self.path_prefix))
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "verb": self.verb,
            "resource": self.resource,
            "namespace": self.namespace,
            "pathPrefix": self.path_prefix,
        }


@dataclass(kw_only=True, slots=True)
class FailRule:
    """Answer ``remaining`` more matching requests with a Status of ``code``."""

    remaining: int
    code: int
    match: Match
    retry_after: int | None = None
    message: str = ""
    in_stream: bool = False
    """Watches only: answer 200 and one ERROR event carrying the Status (kube's way for a 410)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "code": self.code,
            "retryAfter": self.retry_after,
            "message": self.message,
            "inStream": self.in_stream,
            **self.match.to_json(),
        }


@dataclass(kw_only=True, slots=True)
class CutRule:
    """Close the connection of ``remaining`` more matching responses part-way."""

    remaining: int
    match: Match
    after_bytes: int | None = None
    after_events: int | None = None
    """Watches only: cut after this many ADDED/MODIFIED/DELETED/ERROR events (bookmarks not counted)."""

    def applies(self, facts: RequestFacts) -> bool:
        return (self.after_events is None or facts.watch) and self.match(facts)

    def to_json(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "afterBytes": self.after_bytes,
            "afterEvents": self.after_events,
            **self.match.to_json(),
        }


@dataclass(kw_only=True, slots=True)
class LatencyRule:
    seconds: float
    match: Match

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, **self.match.to_json()}


@dataclass(slots=True)
class _Counters:
    failed: int = 0
    cut: int = 0
    delayed: int = 0
    dropped_watches: int = 0
    suppressed_bookmarks: int = 0
    restarts: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "failed": self.failed,
            "cut": self.cut,
            "delayed": self.delayed,
            "droppedWatches": self.dropped_watches,
            "suppressedBookmarks": self.suppressed_bookmarks,
            "restarts": self.restarts,
        }


# -- one intercepted response ---------------------------------------------------------------------


class _Guard:
    """Wraps the ASGI ``send`` of one response: bookmark filter, byte/event cut, drop on demand."""

    __slots__ = ("_faults", "_send", "bytes_sent", "cut", "events", "rule", "stop", "stop_abrupt")

    def __init__(self, faults: Faults, send: Any, rule: CutRule | None) -> None:
        self._faults = faults
        self._send = send
        self.rule = rule
        self.bytes_sent = 0
        self.events = 0
        self.cut = False
        self.stop = asyncio.Event()
        self.stop_abrupt = False

    def drop(self, *, abrupt: bool) -> None:
        self.stop_abrupt = abrupt
        self.stop.set()

    def _trip(self) -> None:
        self.cut = True
        self.stop_abrupt = True
        self.stop.set()

    async def send(self, message: dict[str, Any]) -> None:
        if self.cut:
            raise _Cut
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        if body.startswith(_BOOKMARK) and not self._faults.bookmarks_enabled and _INITIAL_END not in body:
            self._faults.counters.suppressed_bookmarks += 1
            return
        rule = self.rule
        if rule is None or not body:
            await self._send(message)
            return
        if rule.after_bytes is not None and self.bytes_sent + len(body) >= rule.after_bytes:
            keep = rule.after_bytes - self.bytes_sent
            if keep > 0 or not message.get("more_body", False):
                await self._send({"type": "http.response.body", "body": body[:keep], "more_body": True})
            self.bytes_sent += max(keep, 0)
            self._trip()
            raise _Cut
        await self._send(message)
        self.bytes_sent += len(body)
        if rule.after_events is not None and not body.startswith(_BOOKMARK):
            self.events += 1
            if self.events >= rule.after_events:
                self._trip()


# -- the switches ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Faults:
    """The fault switches of one API server process (see the module docstring)."""

    bookmarks_enabled: bool = True
    fail_rules: list[FailRule] = field(default_factory=list)
    cut_rules: list[CutRule] = field(default_factory=list)
    latency_rules: list[LatencyRule] = field(default_factory=list)
    counters: _Counters = field(default_factory=_Counters)
    generation: int = 0
    """Incremented by every completed in-process restart."""
    restarting: bool = False
    _watches: set[_Guard] = field(default_factory=set)
    _uvicorn: Any = None
    _pending_restart: float | None = None
    _latency_changed: asyncio.Event | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    # -- state ------------------------------------------------------------------------------------

    @property
    def armed(self) -> bool:
        """Whether any switch is set (requests that are not watches skip the interception otherwise)."""
        return bool(self.fail_rules or self.cut_rules or self.latency_rules)

    @property
    def open_watches(self) -> int:
        return len(self._watches)

    def reset(self) -> None:
        """Clear every rule and turn bookmarks back on (counters and generation are kept)."""
        self.fail_rules.clear()
        self.cut_rules.clear()
        self.set_latency(0)
        self.bookmarks_enabled = True

    def to_json(self) -> dict[str, Any]:
        return {
            "bookmarks": self.bookmarks_enabled,
            "fail": [r.to_json() for r in self.fail_rules],
            "cut": [r.to_json() for r in self.cut_rules],
            "latency": [r.to_json() for r in self.latency_rules],
            "openWatches": self.open_watches,
            "generation": self.generation,
            "restarting": self.restarting,
            "counters": self.counters.to_json(),
        }

    # -- switches (Python API used by the admin path) ---------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        code: int = 500,
        match: Match | None = None,
        retry_after: int | None = None,
        message: str = "",
        in_stream: bool = False,
    ) -> None:
        if code == 429 and retry_after is None:
            retry_after = 1
        self.fail_rules.append(
            FailRule(
                remaining=n,
                code=code,
                match=match or Match(),
                retry_after=retry_after,
                message=message,
                in_stream=in_stream,
            )
        )

    def cut_next(
        self,
        n: int = 1,
        *,
        after_bytes: int | None = None,
        after_events: int | None = None,
        match: Match | None = None,
    ) -> None:
        if after_bytes is None and after_events is None:
            after_bytes = 0
        self.cut_rules.append(
            CutRule(remaining=n, match=match or Match(), after_bytes=after_bytes, after_events=after_events)
        )

    def set_latency(self, seconds: float, *, match: Match | None = None) -> None:
        """Delay matching requests by ``seconds`` (replaces any earlier latency; 0 turns it off).
        Requests being delayed are released at once."""
        self.latency_rules.clear()
        if self._latency_changed is not None:
            self._latency_changed.set()
            self._latency_changed = None
        if seconds > 0:
            self.latency_rules.append(LatencyRule(seconds=seconds, match=match or Match()))

    def drop_watches(self, *, abrupt: bool = False) -> int:
        """End every open watch now; returns how many."""
        guards = list(self._watches)
        for g in guards:
            g.drop(abrupt=abrupt)
        self.counters.dropped_watches += len(guards)
        return len(guards)

    def attach_uvicorn(self, server: Any) -> None:
        """Give restart access to the uvicorn server (its listeners and connections)."""
        self._uvicorn = server

    async def restart(self, down_seconds: float = 0.2) -> None:
        """Stop listening, drop every connection, wait ``down_seconds``, listen again on the same port."""
        server = self._uvicorn
        if server is None:
            raise RuntimeError("restart needs the uvicorn server (attach_uvicorn)")
        self.restarting = True
        try:
            config = server.config
            port = config.port
            for srv in server.servers:
                for sock in srv.sockets or ():
                    port = sock.getsockname()[1]
                srv.close()
            self.drop_watches(abrupt=True)
            for conn in list(server.server_state.connections):
                transport = getattr(conn, "transport", None)
                if transport is not None:
                    transport.abort()
            await asyncio.sleep(down_seconds)

            def create_protocol(_loop: Any = None) -> Any:
                return config.http_protocol_class(
                    config=config,
                    server_state=server.server_state,
                    app_state=server.lifespan.state,
                    _loop=_loop,
                )

            loop = asyncio.get_running_loop()
            while True:
                try:
                    new = await loop.create_server(
                        create_protocol, host=config.host, port=port, ssl=config.ssl, backlog=config.backlog
                    )
                    break
                except OSError:  # pragma: no cover - the port is still being released
                    log.warning("restart: port %s busy, retrying", port)
                    await asyncio.sleep(0.05)
            server.servers = [new]
            self.generation += 1
            self.counters.restarts += 1
        finally:
            self.restarting = False

    # -- the ASGI hook ----------------------------------------------------------------------------

    def intercepts(self, scope: dict[str, Any]) -> bool:
        """Cheap test on the hot path: does this request need :meth:`serve`?"""
        if self.fail_rules or self.cut_rules or self.latency_rules:
            return True
        path: str = scope["path"]
        return (
            "/watch/" in path
            or b"watch=" in (scope.get("query_string") or b"")
            or path.startswith(_ADMIN_PREFIX)
        )

    async def serve(self, scope: dict[str, Any], receive: Any, send: Any, app: App) -> None:
        """Serve one request through the switches (``app`` is the undecorated ASGI handler)."""
        path: str = scope["path"]
        if path.startswith(_UNAFFECTED):
            await app(scope, receive, send)
            if self._pending_restart is not None:
                down, self._pending_restart = self._pending_restart, None
                self._spawn(self.restart(down))
            return
        facts = RequestFacts.of(scope)
        for lat in self.latency_rules:
            if lat.match(facts):
                self.counters.delayed += 1
                await self._delay(lat.seconds)
                break
        for rule in self.fail_rules:
            if rule.match(facts):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.fail_rules.remove(rule)
                self.counters.failed += 1
                await self._fail(rule, facts, send)
                return
        cut: CutRule | None = None
        for crule in self.cut_rules:
            if crule.applies(facts):
                crule.remaining -= 1
                if crule.remaining <= 0:
                    self.cut_rules.remove(crule)
                cut = crule
                break
        guard = _Guard(self, send, cut)
        if not facts.watch and cut is None:
            await app(scope, receive, send)
            return
        if facts.watch:
            self._watches.add(guard)
        task = asyncio.ensure_future(app(scope, receive, guard.send))
        stopper = asyncio.ensure_future(guard.stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                if guard.stop_abrupt:
                    guard.cut = True  # the final (terminating) chunk will not be sent
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, _Cut):
                await task
        finally:
            stopper.cancel()
            self._watches.discard(guard)
            if not task.done():  # we were cancelled ourselves (connection gone, server stopping)
                task.cancel()
        if guard.cut and cut is not None:
            self.counters.cut += 1
        # after a cut, returning without completing the response makes uvicorn close the connection

    async def _fail(self, rule: FailRule, facts: RequestFacts, send: Any) -> None:
        status = self._status(rule, facts)
        body = orjson.dumps(status)
        if rule.in_stream and facts.watch:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", JSON), (b"cache-control", b"no-cache, private")],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b'{"type":"ERROR","object":' + body + b"}\n",
                    "more_body": False,
                }
            )
            return
        headers = [
            (b"content-type", JSON),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-cache, private"),
        ]
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(rule.retry_after).encode()))
        await send({"type": "http.response.start", "status": rule.code, "headers": headers})
        await send({"type": "http.response.body", "body": body if facts.method != "HEAD" else b""})

    @staticmethod
    def _status(rule: FailRule, facts: RequestFacts) -> dict[str, Any]:
        code = rule.code
        reason = _REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
        message = rule.message
        details: dict[str, Any] = {}
        if not message:
            if code == 410:
                rv = facts.resource_version or "0"
                message = f"too old resource version: {rv} ({rv})"
            elif code == 429:
                message = "Too many requests, please try again later."
            elif code == 500:
                message = "Internal error occurred: injected fault"
            else:
                message = f"injected fault ({code})"
        if code == 500:
            details["causes"] = [{"message": "injected fault"}]
        if rule.retry_after:  # kube omits a zero
            details["retryAfterSeconds"] = rule.retry_after
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
        }
        if details:
            status["details"] = details
        status["code"] = code
        return status

    async def _delay(self, seconds: float) -> None:
        if self._latency_changed is None:
            self._latency_changed = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._latency_changed.wait(), seconds)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the admin path ---------------------------------------------------------------------------

    async def admin(self, req: Request) -> Response:
        """``GET``/``POST /testserver/faults`` (the caller has authenticated the user)."""
        if req.path.rstrip("/") != ADMIN_PATH:
            raise st.path_not_found()
        if req.method in ("GET", "HEAD"):
            return Response.json(200, self.to_json())
        if req.method != "POST":
            raise st.StatusError(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": "the server does not allow this method on the requested resource",
                    "reason": "MethodNotAllowed",
                    "details": {},
                    "code": 405,
                }
            )
        raw = await req.body()
        try:
            spec = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError as e:
            raise st.bad_request(f"invalid JSON body: {e}") from None
        if not isinstance(spec, dict):
            raise st.bad_request("the body must be a JSON object")
        return self._apply(spec)

    def _apply(self, spec: dict[str, Any]) -> Response:
        action = spec.get("action")
        result: dict[str, Any] = {}
        if action == "fail":
            code = _int(spec, "code", 500, low=400, high=599)
            self.fail_next(
                _int(spec, "count", 1, low=1),
                code=code,
                match=_match(spec),
                retry_after=_opt_int(spec, "retryAfter", low=0),
                message=_str(spec, "message") or "",
                in_stream=_bool(spec, "inStream", False),
            )
        elif action == "cut":
            self.cut_next(
                _int(spec, "count", 1, low=1),
                after_bytes=_opt_int(spec, "afterBytes", low=0),
                after_events=_opt_int(spec, "afterEvents", low=0),
                match=_match(spec),
            )
        elif action == "latency":
            seconds = spec.get("seconds", 0)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
                raise st.bad_request("seconds must be a number in [0, 3600]")
            self.set_latency(float(seconds), match=_match(spec))
        elif action == "bookmarks":
            self.bookmarks_enabled = _bool(spec, "enabled", True)
        elif action == "dropWatches":
            result["dropped"] = self.drop_watches(abrupt=_bool(spec, "abrupt", False))
        elif action == "restart":
            if self._uvicorn is None:
                raise st.bad_request("this server cannot restart in process")
            if self.restarting or self._pending_restart is not None:
                raise st.bad_request("a restart is already in progress")
            down = spec.get("downSeconds", 0.2)
            if isinstance(down, bool) or not isinstance(down, int | float) or not 0 <= down <= 60:
                raise st.bad_request("downSeconds must be a number in [0, 60]")
            self._pending_restart = float(down)  # starts once this response is sent
            state = self.to_json()
            state["generation"] = self.generation
            return Response.json(202, {**state, "restartingToGeneration": self.generation + 1})
        elif action == "reset":
            self.reset()
        else:
            raise st.bad_request(
                f"unknown action {action!r}: one of fail, cut, latency, bookmarks, dropWatches, restart, reset"
            )
        return Response.json(200, {**self.to_json(), **result})


# -- admin body helpers -----------------------------------------------------------------------------


def _str(spec: dict[str, Any], key: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise st.bad_request(f"{key} must be a string")
    return value


def _bool(spec: dict[str, Any], key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise st.bad_request(f"{key} must be a boolean")
    return value


def _opt_int(spec: dict[str, Any], key: str, *, low: int = 0, high: int | None = None) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise st.bad_request(f"{key} must be an integer {bounds}")
    return value


def _int(spec: dict[str, Any], key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    value = _opt_int(spec, key, low=low, high=high)
    return default if value is None else value


def _match(spec: dict[str, Any]) -> Match:
    verb = _str(spec, "verb")
    if verb is not None and verb not in _VERBS:
        raise st.bad_request(f"verb must be one of {', '.join(sorted(_VERBS))}")
    return Match(
        verb=verb,
        resource=_str(spec, "resource"),
        namespace=_str(spec, "namespace"),
        path_prefix=_str(spec, "pathPrefix"),
    )
