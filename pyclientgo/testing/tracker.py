"""An in-memory object tracker: the storage behind the fake clientset (client-go ``testing.ObjectTracker``).

Objects are kept in wire form (dicts) per group/version/resource, namespace and name, with one
resourceVersion counter for everything. Writes follow the API server's rules that unit tests rely
on: AlreadyExists, NotFound, Conflict on a stale resourceVersion, generateName, uid and
creationTimestamp set by the server, generation bumps on spec changes (and when deletion starts),
status kept out of main-resource updates, deletion held by finalizers (deletionTimestamp set; the
object goes once an update leaves no finalizer: MODIFIED then DELETED).
Watchers get ADDED/MODIFIED/DELETED events filtered as the API server's watch cache does: an
object that starts matching a watch's selectors arrives as ADDED, one that stops matching as
DELETED. A short history lets a watch start from the resourceVersion of a previous list without
missing anything (410 Expired when that is too old); ``sendInitialEvents`` (watch-list) is served
with the current objects and the BOOKMARK that ends them. Thread-safe.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as _dt
import queue
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyclientgo.apimachinery import fields as field_selectors
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.apimachinery.model import K8sModel, format_time
from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource, Registry, ResourceInfo
from pyclientgo.errors import ApiError, error_for_status

__all__ = ["ObjectTracker", "TrackerWatch", "status_error"]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_HISTORY = 10_000
INITIAL_EVENTS_ANNOTATION = "k8s.io/initial-events-end"
_SERVER_SET_ON_CREATE = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


def status_error(code: int, reason: str, message: str, **details: Any) -> ApiError:
    """The :class:`ApiError` the API server would answer."""
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        status["details"] = details
    return error_for_status(status)


def _key(info: ResourceInfo) -> GroupVersionResource:
    return info.gvr


@dataclass
class TrackerWatch:
    """One open watch: events are put on a queue (asyncio or thread, whichever the caller uses)."""

    gvr: GroupVersionResource
    namespace: str | None
    label_selector: label_selectors.Selector
    field_selector: field_selectors.Selector
    info: ResourceInfo
    loop: asyncio.AbstractEventLoop | None
    aqueue: asyncio.Queue[dict[str, Any] | None] | None = None
    tqueue: queue.Queue[dict[str, Any] | None] | None = None
    stopped: bool = False

    def put(self, event: dict[str, Any] | None) -> None:
        if self.stopped and event is not None:
            return
        if self.aqueue is not None and self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(self.aqueue.put_nowait, event)
            except RuntimeError:  # loop closed
                self.stopped = True
        elif self.tqueue is not None:
            self.tqueue.put(event)

    def event_for(
        self, event_type: str, obj: dict[str, Any], prev: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """What this watch sees of a change (None: nothing), as the watch cache filters it."""
        if event_type == "ADDED":
            return {"type": "ADDED", "object": obj} if self.matches(obj) else None
        if event_type == "DELETED":
            return {"type": "DELETED", "object": obj} if self.matches(prev or obj) else None
        now, before = self.matches(obj), prev is not None and self.matches(prev)
        if now:
            return {"type": "MODIFIED" if before else "ADDED", "object": obj}
        if before and prev is not None:  # left the selection: its last matching state, new RV
            gone = copy.deepcopy(prev)
            gone.setdefault("metadata", {})["resourceVersion"] = obj["metadata"]["resourceVersion"]
            return {"type": "DELETED", "object": gone}
        return None

    def matches(self, obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        if not self.label_selector.matches(meta.get("labels") or {}):
            return False
        if self.field_selector.empty():
            return True
        fields = field_selectors.object_field_set(self.info.kind, obj, namespaced=self.info.namespaced)
        return self.field_selector.matches(fields)


@dataclass
class _Stored:
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


class ObjectTracker:
    """See the module docstring. ``registry`` maps resources to kinds (the built-ins by default);
    ``history`` is how many changes a watch can be resumed across (older resourceVersions: 410)."""

    def __init__(self, registry: Registry | None = None, *, history: int = _HISTORY) -> None:
        if registry is None:
            from pyclientgo.api import builtin_registry

            registry = builtin_registry()
        self.registry = registry
        self._lock = threading.RLock()
        self._store: dict[GroupVersionResource, _Stored] = {}
        self._rv = 0
        self._watches: list[TrackerWatch] = []
        self._history: deque[tuple[int, GroupVersionResource, str, dict[str, Any], dict[str, Any] | None]] = (
            deque(maxlen=history)
        )
        self.now: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.UTC)

    # -- resolving ----------------------------------------------------------------------------------

    def info(self, gvr: GroupVersionResource) -> ResourceInfo:
        info = self.registry.get(gvr)
        if info is None:
            raise status_error(404, "NotFound", "the server could not find the requested resource")
        return info

    def info_for(self, obj: Mapping[str, Any]) -> ResourceInfo:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        info = self.registry.for_kind(GroupVersionKind.from_api_version(api_version, kind))
        if info is None:
            raise ValueError(f"no resource is registered for {api_version} {kind}")
        return info

    @staticmethod
    def to_wire(obj: K8sModel | Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(obj, K8sModel):
            return dict(obj.to_dict())
        return copy.deepcopy(dict(obj))

    @property
    def lock(self) -> threading.RLock:
        """The tracker's (re-entrant) lock: hold it to make several calls one atomic step."""
        return self._lock

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out."""
        return self._rv

    # -- seeding ------------------------------------------------------------------------------------

    def add(self, *objects: K8sModel | Mapping[str, Any]) -> None:
        """Store objects as they are (no checks besides kind → resource), creating or replacing."""
        for raw in objects:
            obj = self.to_wire(raw)
            info = self.info_for(obj)
            meta = obj.setdefault("metadata", {})
            if not info.namespaced:
                meta.pop("namespace", None)
            elif not meta.get("namespace"):
                meta["namespace"] = "default"
            with self._lock:
                self._fill_server_fields(obj, creating=True)
                stored = self._bucket(info.gvr).objects
                key = (meta.get("namespace", ""), meta.get("name", ""))
                prev = stored.get(key)
                stored[key] = obj
                self._notify(info, "MODIFIED" if prev is not None else "ADDED", obj, prev)

    # -- verbs --------------------------------------------------------------------------------------

    def get(self, gvr: GroupVersionResource, namespace: str | None, name: str) -> dict[str, Any]:
        info = self.info(gvr)
        with self._lock:
            obj = self._bucket(gvr).objects.get((namespace or "", name))
            if obj is None:
                raise self._not_found(info, name)
            return copy.deepcopy(obj)

    def list(
        self,
        gvr: GroupVersionResource,
        namespace: str | None,
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> tuple[list[dict[str, Any]], int]:
        info = self.info(gvr)
        matcher = self._matcher(info, namespace, label_selector, field_selector)
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._bucket(gvr).objects.items())
                if matcher.matches(obj) and (not namespace or ns == namespace)
            ]
            return items, self._rv

    def create(
        self,
        gvr: GroupVersionResource,
        namespace: str | None,
        obj: Mapping[str, Any],
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        info = self.info(gvr)
        new = copy.deepcopy(dict(obj))
        meta = new.setdefault("metadata", {})
        if info.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise status_error(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"][:58] + "".join(random.choices(_NAME_CHARS, k=5))
            else:
                raise status_error(
                    422,
                    "Invalid",
                    f'{info.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
                    kind=info.kind,
                    causes=[
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value",
                            "field": "metadata.name",
                        }
                    ],
                )
        new["apiVersion"], new["kind"] = info.group_version, info.kind
        with self._lock:
            stored = self._bucket(gvr).objects
            key = (meta.get("namespace", ""), meta["name"])
            if key in stored:
                raise status_error(
                    409,
                    "AlreadyExists",
                    f'{self._resource_name(info)} "{meta["name"]}" already exists',
                    name=meta["name"],
                    group=info.group,
                    kind=info.plural,
                )
            meta.pop("resourceVersion", None)
            for server_set in _SERVER_SET_ON_CREATE:
                meta.pop(server_set, None)
            self._fill_server_fields(new, creating=True)
            if dry_run:
                return new
            stored[key] = new
            self._notify(info, "ADDED", new)
            return copy.deepcopy(new)

    def update(
        self,
        gvr: GroupVersionResource,
        namespace: str | None,
        obj: Mapping[str, Any],
        *,
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        info = self.info(gvr)
        new = copy.deepcopy(dict(obj))
        meta = new.setdefault("metadata", {})
        name = meta.get("name", "")
        with self._lock:
            stored = self._bucket(gvr).objects
            key = (namespace or "" if info.namespaced else "", name)
            old = stored.get(key)
            if old is None:
                raise self._not_found(info, name)
            rv = meta.get("resourceVersion")
            if rv and rv != old["metadata"].get("resourceVersion"):
                raise status_error(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {self._resource_name(info)} "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again",
                    name=name,
                    group=info.group,
                    kind=info.plural,
                )
            if subresource == "status":
                merged = copy.deepcopy(old)
                merged["status"] = new.get("status")
                new = merged
            elif ("status" in old or "status" in new) and info.subresource("status") is not None:
                new["status"] = copy.deepcopy(old.get("status"))
                if new["status"] is None:
                    new.pop("status")
            for keep in (
                "uid",
                "creationTimestamp",
                "generation",
                "namespace",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ):
                if keep in old["metadata"]:
                    new["metadata"][keep] = old["metadata"][keep]
                else:
                    new["metadata"].pop(keep, None)
            if _spec_changed(old, new):
                new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
            new["apiVersion"], new["kind"] = info.group_version, info.kind
            if _same_but_version(old, new):
                # the API server writes nothing for a no-op update: same resourceVersion, no event
                return copy.deepcopy(old)
            self._fill_server_fields(new, creating=False)
            if dry_run:
                return new
            stored[key] = new
            self._notify(info, "MODIFIED", new, old)
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                # the last finalizer is gone: the update is stored, then the object is deleted
                del stored[key]
                self._rv += 1
                gone = copy.deepcopy(new)
                gone["metadata"]["resourceVersion"] = str(self._rv)
                self._notify(info, "DELETED", gone, new)
            return copy.deepcopy(new)

    def delete(
        self, gvr: GroupVersionResource, namespace: str | None, name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        info = self.info(gvr)
        with self._lock:
            stored = self._bucket(gvr).objects
            key = (namespace or "" if info.namespaced else "", name)
            old = stored.get(key)
            if old is None:
                raise self._not_found(info, name)
            if dry_run:
                return copy.deepcopy(old)
            if old["metadata"].get("finalizers"):
                if not old["metadata"].get("deletionTimestamp"):
                    pending = copy.deepcopy(old)
                    pending["metadata"]["deletionTimestamp"] = format_time(self.now().replace(microsecond=0))
                    pending["metadata"]["deletionGracePeriodSeconds"] = 0
                    if int(pending["metadata"].get("generation") or 0) > 0:  # deletion is a change of intent
                        pending["metadata"]["generation"] = int(pending["metadata"]["generation"]) + 1
                    self._fill_server_fields(pending, creating=False)
                    stored[key] = pending
                    self._notify(info, "MODIFIED", pending, old)
                    return copy.deepcopy(pending)
                return copy.deepcopy(old)
            del stored[key]
            self._rv += 1
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._notify(info, "DELETED", gone, old)
            return gone

    # -- watching -----------------------------------------------------------------------------------

    def watch(
        self,
        gvr: GroupVersionResource,
        namespace: str | None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        asynchronous: bool = True,
        send_initial_events: bool = False,
    ) -> TrackerWatch:
        """Open a watch; with a resourceVersion, events after it are replayed from the history first
        (410 Expired if it is older than the history); without one (or "0"), existing objects first
        arrive as ADDED. With ``send_initial_events`` (watch-list) the existing objects arrive as
        ADDED whatever the resourceVersion, followed by a BOOKMARK annotated
        ``k8s.io/initial-events-end: "true"`` at the current resourceVersion."""
        info = self.info(gvr)
        matcher = self._matcher(info, namespace, label_selector, field_selector)
        loop = asyncio.get_running_loop() if asynchronous else None
        w = TrackerWatch(
            gvr,
            namespace,
            matcher.label_selector,
            matcher.field_selector,
            info,
            loop,
            aqueue=asyncio.Queue() if asynchronous else None,
            tqueue=None if asynchronous else queue.Queue(),
        )
        with self._lock:
            if send_initial_events or resource_version in ("", "0"):
                items, rv = self.list(
                    gvr, namespace, label_selector=label_selector, field_selector=field_selector
                )
                for obj in items:
                    w.put({"type": "ADDED", "object": obj})
                if send_initial_events:
                    bookmark = {
                        "apiVersion": info.group_version,
                        "kind": info.kind,
                        "metadata": {
                            "resourceVersion": str(rv),
                            "annotations": {INITIAL_EVENTS_ANNOTATION: "true"},
                        },
                    }
                    w.put({"type": "BOOKMARK", "object": bookmark})
            else:
                since = int(resource_version)
                oldest = self._history[0][0] if self._history else self._rv + 1
                if since + 1 < oldest and since < self._rv:
                    raise status_error(410, "Expired", f"too old resource version: {since} ({oldest - 1})")
                for rv, event_gvr, event_type, obj, prev in self._history:
                    if rv > since and event_gvr == gvr:
                        event = w.event_for(event_type, obj, prev)
                        if event is not None:
                            w.put(copy.deepcopy(event))
            self._watches.append(w)
        return w

    def stop_watch(self, w: TrackerWatch) -> None:
        with self._lock:
            w.stopped = True
            if w in self._watches:
                self._watches.remove(w)
        w.put(None)

    def stop_all_watches(self) -> None:
        """End every open watch (clients see the stream close and re-watch)."""
        with self._lock:
            watches, self._watches = self._watches, []
        for w in watches:
            w.stopped = True
            w.put(None)

    # -- internals ----------------------------------------------------------------------------------

    def _bucket(self, gvr: GroupVersionResource) -> _Stored:
        return self._store.setdefault(gvr, _Stored())

    def _fill_server_fields(self, obj: dict[str, Any], *, creating: bool) -> None:
        meta = obj.setdefault("metadata", {})
        if creating:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", format_time(self.now().replace(microsecond=0)))
            meta.setdefault("generation", 1)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)

    def _notify(
        self, info: ResourceInfo, event_type: str, obj: dict[str, Any], prev: dict[str, Any] | None = None
    ) -> None:
        """Record a change in the history and tell the watches (``prev``: the object before it)."""
        rv = int(obj["metadata"]["resourceVersion"])
        snapshot = copy.deepcopy(obj)
        before = copy.deepcopy(prev) if prev is not None else None
        self._history.append((rv, info.gvr, event_type, snapshot, before))
        for w in list(self._watches):
            if w.gvr == info.gvr:
                event = w.event_for(event_type, snapshot, before)
                if event is not None:
                    w.put(copy.deepcopy(event))

    def _matcher(
        self, info: ResourceInfo, namespace: str | None, label_selector: str, field_selector: str
    ) -> TrackerWatch:
        try:
            lsel = label_selectors.parse(label_selector or "")
        except ValueError as err:
            raise status_error(400, "BadRequest", f"unable to parse requirement: {err}") from err
        try:
            fsel = field_selectors.parse(field_selector or "")
        except ValueError as err:
            raise status_error(400, "BadRequest", str(err)) from err
        return TrackerWatch(info.gvr, namespace, lsel, fsel, info, None)

    @staticmethod
    def _resource_name(info: ResourceInfo) -> str:
        return f"{info.plural}.{info.group}" if info.group else info.plural

    def _not_found(self, info: ResourceInfo, name: str) -> ApiError:
        return status_error(
            404,
            "NotFound",
            f'{self._resource_name(info)} "{name}" not found',
            name=name,
            group=info.group,
            kind=info.plural,
        )


def _same_but_version(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    def strip(o: Mapping[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (o.get("metadata") or {}).items() if k != "resourceVersion"}
        return {**o, "metadata": meta}

    return strip(old) == strip(new)


def _spec_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    def body(o: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}

    return body(old) != body(new)
