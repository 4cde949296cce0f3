"""An httpx transport that answers the Kubernetes REST API from an :class:`ObjectTracker`.

The fake clientset is the real typed clientset over this transport, so tests exercise the same
request building and decoding as production code. It serves get, list (label and field selectors),
watch (a streamed JSON-lines response, replaying from a resourceVersion), create, update (also
``/status``), patch (json, merge, strategic with the models' merge keys, apply as a merge), delete,
deletecollection, ``pods/binding`` and ``pods/eviction``, and legacy discovery (``/api``, ``/apis``,
``/api/v1``, ``/apis/<group>/<version>``) from the registry. It records every request as an
:class:`Action`, and reactors (:meth:`FakeApiTransport.prepend_reactor`) can answer requests instead
of the tracker, e.g. to inject errors.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import yaml

from pyclientgo.apimachinery.json_patch import PatchError, apply_json_patch
from pyclientgo.apimachinery.merge_patch import apply_merge_patch
from pyclientgo.apimachinery.model_patch_meta import ModelPatchMeta
from pyclientgo.apimachinery.registry import GroupVersionResource, ResourceInfo
from pyclientgo.apimachinery.strategic_merge_patch import strategic_merge
from pyclientgo.errors import ApiError, NotFound
from pyclientgo.testing.tracker import ObjectTracker, TrackerWatch, status_error

__all__ = ["Action", "FakeApiTransport", "Reactor"]


@dataclass
class Action:
    """One request the fake saw (client-go's ``testing.Action``)."""

    verb: str
    """get, list, watch, create, update, patch, delete, deletecollection."""
    resource: GroupVersionResource
    namespace: str
    name: str = ""
    subresource: str = ""
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)


Reactor = Callable[[Action], "tuple[bool, Any]"]
"""``reactor(action) -> (handled, result)``: when handled, ``result`` is the object (dict or model)
to answer with, or an :class:`ApiError` to raise."""


@dataclass
class _Route:
    info: ResourceInfo
    namespace: str
    name: str
    subresource: str


class _WatchStream(httpx.AsyncByteStream, httpx.SyncByteStream):
    def __init__(self, tracker: ObjectTracker, watch: TrackerWatch, timeout: float | None) -> None:
        self._tracker = tracker
        self._watch = watch
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert self._watch.aqueue is not None
        loop = asyncio.get_running_loop()
        deadline = None if self._timeout is None else loop.time() + self._timeout
        try:
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return
                try:
                    async with asyncio.timeout(remaining):  # not wait_for: it can swallow a cancel
                        event = await self._watch.aqueue.get()
                except TimeoutError:
                    return
                if event is None:
                    return
                yield orjson.dumps(event) + b"\n"
        finally:
            self._tracker.stop_watch(self._watch)

    def __iter__(self) -> Iterator[bytes]:
        assert self._watch.tqueue is not None
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return  # timeoutSeconds bounds the whole watch, not the gap between events
                try:
                    event = self._watch.tqueue.get(timeout=remaining)
                except queue.Empty:
                    return
                if event is None:
                    return
                yield orjson.dumps(event) + b"\n"
        finally:
            self._tracker.stop_watch(self._watch)

    async def aclose(self) -> None:
        self._tracker.stop_watch(self._watch)

    def close(self) -> None:
        self._tracker.stop_watch(self._watch)


def _json(code: int, body: Any) -> httpx.Response:
    return httpx.Response(code, content=orjson.dumps(body), headers={"Content-Type": "application/json"})


def _error(err: ApiError) -> httpx.Response:
    return _json(err.code or 500, err.status)


class FakeApiTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """See the module docstring."""

    def __init__(self, tracker: ObjectTracker) -> None:
        self.tracker = tracker
        self.actions: list[Action] = []
        self._reactors: list[tuple[str, str, Reactor]] = []

    def prepend_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        """Run ``reactor`` first for requests matching ``verb`` and ``resource`` ("*" matches any)."""
        self._reactors.insert(0, (verb, resource, reactor))

    def clear_actions(self) -> None:
        self.actions.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return self._handle(request, body, asynchronous=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._handle(request, request.read(), asynchronous=False)

    # -- dispatch -----------------------------------------------------------------------------------

    def _handle(self, request: httpx.Request, body: bytes, *, asynchronous: bool) -> httpx.Response:
        parts = [p for p in request.url.path.split("/") if p]
        params = dict(request.url.params)
        discovery = self._discovery(parts)
        if discovery is not None:
            return discovery
        try:
            route = self._route(parts)
            if route is None:
                raise status_error(404, "NotFound", "the server could not find the requested resource")
            return self._serve(request.method, route, params, body, request, asynchronous=asynchronous)
        except ApiError as err:
            return _error(err)
        except (ValueError, PatchError, yaml.YAMLError, orjson.JSONDecodeError) as err:
            return _error(status_error(400, "BadRequest", str(err)))

    def _route(self, parts: list[str]) -> _Route | None:
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        registry = self.tracker.registry
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            info = registry.get(GroupVersionResource(group, version, rest[2]))
            if info is not None and info.namespaced:
                namespace, rest = rest[1], rest[2:]
        if not rest:
            return None
        info = registry.get(GroupVersionResource(group, version, rest[0]))
        if info is None:
            return None
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        return _Route(info, namespace, name, sub)

    def _react(self, action: Action) -> tuple[bool, Any]:
        self.actions.append(action)
        for verb, resource, reactor in self._reactors:
            if verb in ("*", action.verb) and resource in ("*", action.resource.resource):
                handled, result = reactor(action)
                if handled:
                    if isinstance(result, ApiError):
                        raise result
                    return True, self.tracker.to_wire(result) if result is not None else None
        return False, None

    def _serve(
        self,
        method: str,
        route: _Route,
        params: dict[str, str],
        body: bytes,
        request: httpx.Request,
        *,
        asynchronous: bool,
    ) -> httpx.Response:
        t, info, gvr = self.tracker, route.info, route.info.gvr
        ns = route.namespace or None
        dry_run = params.get("dryRun") == "All"
        if method == "GET" and not route.name:
            verb = "watch" if params.get("watch") in ("true", "1") else "list"
            handled, result = self._react(Action(verb, gvr, route.namespace, params=params))
            if handled:
                return _json(200, result)
            if verb == "watch":
                timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
                send_initial_events = params.get("sendInitialEvents") == "true"
                if send_initial_events and (
                    params.get("resourceVersionMatch") != "NotOlderThan"
                    or params.get("allowWatchBookmarks") != "true"
                ):
                    raise status_error(
                        422,
                        "Invalid",
                        "sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true",
                    )
                watch = t.watch(
                    gvr,
                    ns,
                    resource_version=params.get("resourceVersion", ""),
                    label_selector=params.get("labelSelector", ""),
                    field_selector=params.get("fieldSelector", ""),
                    asynchronous=asynchronous,
                    send_initial_events=send_initial_events,
                )
                return httpx.Response(
                    200, headers={"Content-Type": "application/json"}, stream=_WatchStream(t, watch, timeout)
                )
            items, rv = t.list(
                gvr,
                ns,
                label_selector=params.get("labelSelector", ""),
                field_selector=params.get("fieldSelector", ""),
            )
            return _json(
                200,
                {
                    "kind": info.list_kind or f"{info.kind}List",
                    "apiVersion": info.group_version,
                    "metadata": {"resourceVersion": str(rv)},
                    "items": items,
                },
            )
        if method == "GET":
            handled, result = self._react(Action("get", gvr, route.namespace, route.name, route.subresource))
            return _json(200, result if handled else t.get(gvr, ns, route.name))
        if method == "POST":
            obj = orjson.loads(body) if body else {}
            if route.name and route.subresource in ("binding", "eviction"):
                return self._pod_subresource(route, obj)
            handled, result = self._react(Action("create", gvr, route.namespace, body=obj))
            return _json(201, result if handled else t.create(gvr, ns, obj, dry_run=dry_run))
        if method == "PUT":
            obj = orjson.loads(body)
            handled, result = self._react(
                Action("update", gvr, route.namespace, route.name, route.subresource, obj)
            )
            if handled:
                return _json(200, result)
            if (obj.get("metadata") or {}).get("name") != route.name:
                raise status_error(
                    400, "BadRequest", "the name of the object does not match the name on the URL"
                )
            return _json(200, t.update(gvr, ns, obj, subresource=route.subresource, dry_run=dry_run))
        if method == "PATCH":
            ctype = request.headers.get("content-type", "").split(";")[0].strip()
            handled, result = self._react(
                Action("patch", gvr, route.namespace, route.name, route.subresource, body)
            )
            if handled:
                return _json(200, result)
            return self._patch(route, ctype, body, dry_run)
        if method == "DELETE" and route.name:
            handled, result = self._react(Action("delete", gvr, route.namespace, route.name))
            return _json(200, result if handled else t.delete(gvr, ns, route.name, dry_run=dry_run))
        if method == "DELETE":
            handled, result = self._react(Action("deletecollection", gvr, route.namespace, params=params))
            if not handled:
                items, _ = t.list(
                    gvr,
                    ns,
                    label_selector=params.get("labelSelector", ""),
                    field_selector=params.get("fieldSelector", ""),
                )
                for item in items:
                    meta = item["metadata"]
                    t.delete(gvr, meta.get("namespace"), meta["name"], dry_run=dry_run)
            return _json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        raise status_error(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )

    def _patch(self, route: _Route, ctype: str, body: bytes, dry_run: bool) -> httpx.Response:
        with self.tracker.lock:  # read-modify-write as one step, as the API server does
            return self._patch_locked(route, ctype, body, dry_run)

    def _patch_locked(self, route: _Route, ctype: str, body: bytes, dry_run: bool) -> httpx.Response:
        t, info = self.tracker, route.info
        ns = route.namespace or None
        try:
            current: dict[str, Any] | None = t.get(info.gvr, ns, route.name)
        except NotFound:
            if ctype != "application/apply-patch+yaml":
                raise
            current = None
        if ctype == "application/json-patch+json":
            new = apply_json_patch(current, orjson.loads(body))
        elif ctype == "application/merge-patch+json":
            new = apply_merge_patch(current, orjson.loads(body))
        elif ctype == "application/strategic-merge-patch+json":
            new = strategic_merge(current, orjson.loads(body), ModelPatchMeta(info.load_model()))
        elif ctype == "application/apply-patch+yaml":
            applied = yaml.safe_load(body)
            if current is None:
                return _json(201, t.create(info.gvr, ns, applied, dry_run=dry_run))
            new = apply_merge_patch(current, applied)
        else:
            raise status_error(
                415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}"
            )
        assert current is not None
        new.setdefault("metadata", {})["name"] = route.name
        if "resourceVersion" not in (new["metadata"] or {}):
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return _json(200, t.update(info.gvr, ns, new, subresource=route.subresource, dry_run=dry_run))

    def _pod_subresource(self, route: _Route, body: dict[str, Any]) -> httpx.Response:
        t, gvr, ns = self.tracker, route.info.gvr, route.namespace or None
        pod = t.get(gvr, ns, route.name)
        if route.subresource == "binding":
            self._react(Action("create", gvr, route.namespace, route.name, "binding", body))
            if (pod.get("spec") or {}).get("nodeName"):
                raise status_error(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{route.name}": pod {route.name} is already '
                    f'assigned to node "{pod["spec"]["nodeName"]}"',
                )
            pod.setdefault("spec", {})["nodeName"] = (body.get("target") or {}).get("name", "")
            t.update(gvr, ns, pod)
        else:
            self._react(Action("create", gvr, route.namespace, route.name, "eviction", body))
            t.delete(gvr, ns, route.name)
        return _json(
            201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        )

    # -- discovery ----------------------------------------------------------------------------------

    def _discovery(self, parts: list[str]) -> httpx.Response | None:
        registry = self.tracker.registry
        if parts == ["api"]:
            return _json(200, {"kind": "APIVersions", "versions": ["v1"]})
        if parts == ["apis"]:
            groups: dict[str, list[str]] = {}
            for info in registry:
                if info.group and info.version not in groups.setdefault(info.group, []):
                    groups[info.group].append(info.version)
            return _json(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [
                        {
                            "name": g,
                            "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                            "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                        }
                        for g, vs in sorted(groups.items())
                    ],
                },
            )
        if parts[:1] == ["api"] and len(parts) == 2:
            group, version = "", parts[1]
        elif parts[:1] == ["apis"] and len(parts) == 3:
            group, version = parts[1], parts[2]
        else:
            return None
        resources: list[dict[str, Any]] = []
        for info in registry:
            if info.group != group or info.version != version:
                continue
            resources.append(
                {
                    "name": info.plural,
                    "singularName": info.singular,
                    "namespaced": info.namespaced,
                    "kind": info.kind,
                    "verbs": list(info.verbs),
                    **({"shortNames": list(info.short_names)} if info.short_names else {}),
                }
            )
            for sub in info.subresources:
                resources.append(
                    {
                        "name": f"{info.plural}/{sub.name}",
                        "singularName": "",
                        "namespaced": info.namespaced,
                        "kind": sub.kind,
                        "verbs": list(sub.verbs),
                    }
                )
        if not resources:
            return None
        gv = f"{group}/{version}" if group else version
        return _json(
            200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
        )
