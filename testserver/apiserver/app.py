"""The ASGI application: authentication, routing and error handling around :class:`RestHandler`.

Raw ASGI, no framework: the hot path is one dict lookup for the route, the handler, and two
``send`` calls. Every failure becomes a ``metav1.Status`` (never an unhandled 500).
"""

from __future__ import annotations

import hmac
import logging
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from pyclientgo.apimachinery.registry import Registry
from testserver.apiserver import protobuf
from testserver.apiserver import status as st
from testserver.apiserver.authz.attributes import Attributes, is_resource_path, resource_verb
from testserver.apiserver.authz.authorizer import Decision, forbidden
from testserver.apiserver.authz.reviews import REVIEW_KINDS, answer_review
from testserver.apiserver.bootstrap import bootstrap
from testserver.apiserver.crd import hooks as crd_hooks
from testserver.apiserver.discovery import AGGREGATED_CONTENT_TYPE, Discovery
from testserver.apiserver.faults import Faults
from testserver.apiserver.health import (
    ADMISSION_HOOKS,
    APIEXTENSIONS_HOOKS,
    BOOTSTRAP_HOOKS,
    INITIALIZER_HOOKS,
    ApiServerHealth,
)
from testserver.apiserver.impersonation import impersonated_user
from testserver.apiserver.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from testserver.apiserver.metrics import ApiServerMetrics
from testserver.apiserver.request import JSON, Request, Response, StreamResponse, User
from testserver.apiserver.resources import Routes, parse_path
from testserver.apiserver.rest import RestHandler
from testserver.storage.interface import Storage

__all__ = ["ApiServerApp", "GIT_VERSION"]

log = logging.getLogger("testserver.apiserver")

GIT_VERSION = "v1.32.0-pyclientgo"
_ANONYMOUS_PATHS = ("/healthz", "/livez", "/readyz", "/version")
_TEXT = b"text/plain; charset=utf-8"
_ADMIN = User("admin", ("system:masters", "system:authenticated"))


class ApiServerApp:
    """The API server as an ASGI application.

    ``storage_factory`` and ``registry_factory`` run at startup (ASGI lifespan), so importing this
    module stays cheap and a server process is ready as soon as the storage is open.
    """

    def __init__(
        self,
        *,
        storage_factory: Callable[[], Any],
        registry_factory: Callable[[], Registry],
        token: str,
        server_address: str = "127.0.0.1:6443",
        bookmark_interval: float = 60.0,
        admission_options: Any = None,
        on_ready: Callable[[], None] | None = None,
        client_ca: bytes | None = None,
        authorization_mode: str = "AlwaysAllow",
    ) -> None:
        self._storage_factory = storage_factory
        self._registry_factory = registry_factory
        self._token = token.encode()
        self._bearer = b"Bearer " + self._token
        self._server_address = server_address
        self._bookmark_interval = bookmark_interval
        self._admission_options = admission_options  # admission.AdmissionOptions (service ranges)
        self._on_ready = on_ready
        self._client_ca = client_ca  # PEM published in kube-system/extension-apiserver-authentication
        self._authorization_mode = authorization_mode
        self.authorizer: Any = None
        """The --authorization-mode union (testserver.apiserver.authz), set at startup."""
        self._rbac: Any = None
        self.storage: Storage | None = None
        self.routes: Routes | None = None
        self.rest: RestHandler | None = None
        self.custom_resources: Any = None
        """The served CRDs (testserver.apiserver.crd.CustomResources), set at startup."""
        self.discovery: Discovery | None = None
        self.ready = False
        self._openapi: dict[Any, tuple[bytes, bytes]] = {}
        self.faults = Faults()
        """Fault-injection switches (testserver.apiserver.faults, POST /testserver/faults)."""
        self.metrics = ApiServerMetrics()
        """Request and storage metrics served on /metrics (testserver.apiserver.metrics)."""
        self.health = ApiServerHealth(
            storage=lambda: self.storage,
            informers_synced=lambda: self.rest is not None and self.rest.admission.started,
        )
        """/healthz, /livez and /readyz checks (testserver.apiserver.health)."""

    # -- lifecycle -----------------------------------------------------------------------------

    async def startup(self) -> None:
        t0 = time.perf_counter()
        storage = self._storage_factory()
        if hasattr(storage, "__await__"):
            storage = await storage
        self.storage = storage
        registry = self._registry_factory()
        self.routes = Routes(registry)
        self.rest = RestHandler(
            storage,
            self.routes,
            bookmark_interval=self._bookmark_interval,
            admission_options=self._admission_options,
        )
        self.rest.authenticate_token = self._authenticate_token
        self.discovery = Discovery(self.routes, self._server_address)
        self.health.hooks_finished(*INITIALIZER_HOOKS)
        await bootstrap(self.rest.admission.objects, client_ca=self._client_ca)
        self.health.hooks_finished(*BOOTSTRAP_HOOKS)
        await self.rest.admission.start()  # kubernetes Service, system PriorityClasses, default SAs
        from testserver.apiserver.authz.config import build_authorizer

        self.authorizer, self._rbac = await build_authorizer(
            self._authorization_mode, self.rest.admission.objects
        )
        self.health.hooks_finished(*ADMISSION_HOOKS)
        await self._start_custom_resources()
        self.health.hooks_finished(*APIEXTENSIONS_HOOKS)
        self.ready = True
        log.info("apiserver ready in %.3fs", time.perf_counter() - t0)
        if self._on_ready is not None:
            self._on_ready()

    async def _start_custom_resources(self) -> None:
        """Serve the stored CRDs and start the CRD controller (testserver.apiserver.crd)."""
        assert self.rest is not None and self.discovery is not None
        from testserver.apiserver.crd import start_custom_resources

        discovery = self.discovery

        def invalidate() -> None:
            discovery.invalidate()
            self._openapi.clear()

        self.custom_resources, _ = await start_custom_resources(self.rest, invalidate=invalidate)

    def _custom_schemas(self) -> dict[str, Any] | None:
        return self.custom_resources.schemas if self.custom_resources is not None else None

    async def shutdown(self) -> None:
        if self._rbac is not None:
            await self._rbac.stop()
        self.ready = False
        self.health.shutdown_initiated()
        if self.rest is not None:
            for task in list(self.rest.background):
                task.cancel()
            await self.rest.admission.stop()
        if self.storage is not None:
            await self.storage.close()

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.metrics.serve(scope, receive, send, self._http_or_fault, self.routes)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as e:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http_or_fault(self, scope: Any, receive: Any, send: Any) -> None:
        if self.faults.intercepts(scope):  # fault injection hook
            await self.faults.serve(scope, receive, send, self._http)
        else:
            await self._http(scope, receive, send)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        req = Request(scope, receive)
        try:
            resp = await self._dispatch(req)
        except st.StatusError as e:
            resp = Response(e.code, orjson.dumps(e.status), JSON, e.headers or None)
        except Exception as e:  # never let a request crash the server
            log.exception("internal error on %s %s", req.method, req.path)
            err = st.internal_error(f"{type(e).__name__}: {e}")
            resp = Response(500, orjson.dumps(err.status))
        resp = protobuf.negotiate(req, resp)  # protobuf responses when Accept prefers them
        if isinstance(resp, StreamResponse):
            await send(
                {
                    "type": "http.response.start",
                    "status": resp.status,
                    "headers": [
                        (b"content-type", resp.content_type),
                        (b"cache-control", b"no-cache, private"),
                    ],
                }
            )
            try:
                await resp.run(send)
            finally:
                try:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except Exception:
                    pass
            return
        headers = [
            (b"content-type", resp.content_type),
            (b"content-length", str(len(resp.body)).encode()),
            (b"cache-control", b"no-cache, private"),
        ]
        if resp.headers:
            headers.extend(resp.headers)
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body if req.method != "HEAD" else b""})

    def _authenticate_token(self, token: str) -> User | None:
        """The bearer-token authenticator (the admin token), for requests and TokenReviews."""
        if hmac.compare_digest(token.encode(), self._token):
            return _ADMIN
        return None

    def _authenticate(self, req: Request) -> User | None:
        auth = req.headers.get(b"authorization")
        if auth is not None:
            if hmac.compare_digest(auth, self._bearer):
                return _ADMIN
            return None
        tls = (req.scope.get("extensions") or {}).get("tls") or {}
        subject = tls.get("client_subject")
        if subject:
            return User(subject.get("CN", ""), (*tuple(subject.get("O", ())), "system:authenticated"))
        return None

    async def _dispatch(self, req: Request) -> Response | StreamResponse:
        path = req.path
        if path.startswith(_ANONYMOUS_PATHS):
            return await self._non_resource(req, path)
        user = self._authenticate(req)
        if user is None:
            raise st.unauthorized()
        user = impersonated_user(req, user, self._authorize)
        req.user = user
        if not is_resource_path(path):
            self._authorize(Attributes(user, req.method.lower(), False, path=path))
        if path == "/metrics":  # any authenticated user (kube: the system:monitoring role)
            return Response(200, await self.metrics.render(self.storage, self.routes), METRICS_CONTENT_TYPE)
        if path.startswith("/testserver/"):  # fault-injection admin path (not in discovery)
            return await self.faults.admin(req)
        if not self.ready or self.rest is None or self.routes is None or self.discovery is None:
            raise st.service_unavailable("the server is starting up")
        parts = path.strip("/").split("/")
        head = parts[0]
        if head == "api" or head == "apis":
            n = len(parts)
            if (head == "api" and n <= 2) or (head == "apis" and n <= 3):
                return self._discovery(req, parts)
            info = parse_path(parts)
            if info is None:
                raise st.path_not_found()
            return await self._resource(req, info)
        if head == "openapi":
            return self._openapi_route(req, parts)
        raise st.path_not_found()

    # -- non-resource paths ----------------------------------------------------------------------

    async def _non_resource(self, req: Request, path: str) -> Response:
        if path == "/version" or path == "/version/":
            return Response.json(
                200,
                {
                    "major": "1",
                    "minor": "32",
                    "gitVersion": GIT_VERSION,
                    "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean",
                    "buildDate": "2025-01-01T00:00:00Z",
                    "goVersion": f"python{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
                    "compiler": "cpython",
                    "platform": f"{sys.platform}/{platform.machine().replace('x86_64', 'amd64')}",
                },
            )
        answer = await self.health.serve(path, req.query_multi)
        if answer is None:
            raise st.path_not_found()
        status, body = answer
        return Response(status, body, _TEXT, [(b"x-content-type-options", b"nosniff")])

    def _discovery(self, req: Request, parts: list[str]) -> Response:
        assert self.discovery is not None
        d = self.discovery
        if req.method not in ("GET", "HEAD"):
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
        aggregated = "as=APIGroupDiscoveryList" in req.accept and "v=v2" in req.accept
        # aggregated only if v2 (not only v2beta1) is asked for
        if aggregated:
            aggregated = any(
                "apidiscovery.k8s.io" in p and ";v=v2;" in p.replace(" ", "") + ";"
                for p in req.accept.split(",")
            )
        if parts == ["api"]:
            if aggregated:
                return Response(200, d.aggregated_api, AGGREGATED_CONTENT_TYPE)
            return Response(200, d.api_versions)
        if parts == ["apis"]:
            if aggregated:
                return Response(200, d.aggregated_apis, AGGREGATED_CONTENT_TYPE)
            return Response(200, d.api_groups)
        if parts[0] == "api":
            body = d.resource_list("", parts[1])
        elif len(parts) == 2:
            body = d.api_group(parts[1])
        else:
            body = d.resource_list(parts[1], parts[2])
        if body is None:
            raise st.path_not_found()
        return Response(200, body)

    def _openapi_route(self, req: Request, parts: list[str]) -> Response:
        assert self.routes is not None
        try:
            from testserver.apiserver import openapi
        except ImportError:
            raise st.path_not_found() from None
        registry = self.routes.registry
        if parts[1:] == ["v2"]:
            if (v2_proto := protobuf.openapi_v2_protobuf(req)) is not None:
                return v2_proto  # kubectl's gnostic-protobuf request (validation of kind: List)
            key: Any = "v2"
            if key not in self._openapi:
                doc = openapi.v2_document(registry, custom_schemas=self._custom_schemas())
                self._openapi[key] = (doc, b"")
            return Response(200, self._openapi[key][0])
        if len(parts) >= 2 and parts[1] == "v3":
            if len(parts) == 2:
                return Response.json(
                    200, openapi.v3_index(registry, base_url="", custom_schemas=self._custom_schemas())
                )
            sub = "/".join(parts[2:])
            if sub not in self._openapi:
                found = openapi.v3_document_for_path(registry, sub, custom_schemas=self._custom_schemas())
                if found is None:
                    raise st.path_not_found()
                doc, digest = found
                self._openapi[sub] = (doc, b'"' + digest.encode() + b'"')
            doc, etag = self._openapi[sub]
            if req.headers.get(b"if-none-match") == etag:
                return Response(304, b"", JSON, [(b"etag", etag)])
            headers = [(b"etag", etag)]
            if "hash" in req.query:
                headers.append((b"expires", b"Thu, 31 Dec 2099 00:00:00 GMT"))
            return Response(200, doc, JSON, headers)
        raise st.path_not_found()

    # -- resources -----------------------------------------------------------------------------

    async def _resource(self, req: Request, info: Any) -> Response | StreamResponse:
        assert self.routes is not None and self.rest is not None
        route = self.routes.get(info.group, info.version, info.resource)
        if route is None:
            raise st.path_not_found()
        rest = self.rest
        ns, name, sub = info.namespace, info.name, info.subresource
        if not route.namespaced:
            if ns and route.plural != "namespaces":
                raise st.path_not_found()
            if route.plural == "namespaces":
                ns = ""
        if sub and sub not in route.subresources:
            raise st.path_not_found()
        method = req.method
        watching = info.watch_path or req.query.get("watch") in ("true", "1")
        verb = resource_verb(method, name=name, watching=watching)
        assert req.user is not None
        self._authorize(
            Attributes(
                req.user,
                verb,
                True,
                name if route.plural == "namespaces" else ns,
                route.group,
                route.plural,
                sub,
                name,
            )
        )
        accept = req.accept
        protobuf.check_accept(accept, route)  # 406: protobuf only, and the kind has no message
        if method == "GET" or method == "HEAD":
            if watching:
                self._verb(route, "watch")
                if sub:
                    raise st.path_not_found()
                return await rest.watch(req, route, ns, name)
            if not name:
                self._verb(route, "list")
                return await rest.list(req, route, ns)
            if not sub or sub == "status":
                self._verb(route, "get")
                return await rest.get(req, route, ns, name)
            if sub == "scale":
                return await rest.get_scale(req, route, ns, name)
            if sub == "log" and route.kind == "Pod" and route.group == "":
                return await rest.log(req, route, ns, name)
            raise self._not_allowed(route, sub, "get")
        if info.watch_path:
            raise self._not_allowed(route, sub, method)
        if method == "POST":
            if not name and route.group == "authorization.k8s.io" and route.kind in REVIEW_KINDS:
                return await answer_review(req, route.kind, ns, self.authorizer)
            if not name:
                self._verb(route, "create")
                await crd_hooks.check_create(rest, route)  # custom resources: 405 while the CRD terminates
                return await rest.create(req, route, ns)
            if sub == "binding" and route.kind == "Pod" and route.group == "":
                return await rest.bind(req, route, ns, name)
            if sub == "eviction" and route.kind == "Pod" and route.group == "":
                return await rest.evict(req, route, ns, name)
            raise self._not_allowed(route, sub, "create")
        if not name:
            if method == "DELETE":
                self._verb(route, "deletecollection")
                return await rest.delete_collection(req, route, ns)
            raise self._not_allowed(route, sub, method)
        if method == "PUT":
            if not sub:
                self._verb(route, "update")
            elif sub not in ("status", "scale", "finalize"):
                raise self._not_allowed(route, sub, "update")
            return await rest.update(req, route, ns, name, sub)
        if method == "PATCH":
            if not sub:
                self._verb(route, "patch")
            elif sub not in ("status", "scale"):
                raise self._not_allowed(route, sub, "patch")
            return await rest.patch(req, route, ns, name, sub)
        if method == "DELETE":
            if sub:
                raise self._not_allowed(route, sub, "delete")
            self._verb(route, "delete")
            return await rest.delete(req, route, ns, name)
        raise self._not_allowed(route, sub, method)

    def _authorize(self, attrs: Attributes) -> None:
        """403 unless the --authorization-mode authorizers allow the request."""
        if self.authorizer is None:
            return
        decision, reason = self.authorizer.authorize(attrs)
        if decision is not Decision.ALLOW:
            raise forbidden(attrs, reason)

    @staticmethod
    def _verb(route: Any, verb: str) -> None:
        if verb not in route.verbs:
            raise st.method_not_supported(route.plural, verb, route.group)

    @staticmethod
    def _not_allowed(route: Any, sub: str, verb: str) -> st.StatusError:
        return st.method_not_supported(
            f"{route.plural}/{sub}" if sub else route.plural, verb.lower(), route.group
        )
