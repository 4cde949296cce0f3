"""Watch streams: JSON lines of ``{"type":…,"object":…}``, flushed per event (docs/reference/apiserver_behavior.md §5).

One task copies storage events to the connection; bookmarks come from a timer and the stream ends
at ``timeoutSeconds`` (default: a random 30-60 min, like kube-apiserver) or when the client goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import TYPE_CHECKING, Any

import orjson

from pyclientgo.apimachinery import fields as field_selectors
from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.request import JSON, Request, StreamResponse
from testserver.apiserver.resources import ResourceRoute
from testserver.storage import revision_covering
from testserver.storage.errors import Compacted, FutureRevision, StorageError, WatcherTooSlow
from testserver.storage.model import EventType

if TYPE_CHECKING:
    from testserver.apiserver.rest import RestHandler

__all__ = ["start_watch"]

_TYPES = {EventType.ADDED: b"ADDED", EventType.MODIFIED: b"MODIFIED", EventType.DELETED: b"DELETED"}


def _invalid(field: str, message: str) -> st.StatusError:
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f'ListOptions.meta.k8s.io "" is invalid: {field}: {message}',
            "reason": "Invalid",
            "details": {
                "group": "meta.k8s.io",
                "kind": "ListOptions",
                "causes": [{"reason": "FieldValueForbidden", "message": message, "field": field}],
            },
            "code": 422,
        }
    )


async def start_watch(
    h: RestHandler, req: Request, route: ResourceRoute, namespace: str, name: str
) -> StreamResponse:
    from testserver.apiserver.rest import _as_table, _int_param, _parse_rv

    q = req.query
    rv = q.get("resourceVersion", "")
    rvm = q.get("resourceVersionMatch", "")
    send_initial_raw = q.get("sendInitialEvents")
    send_initial = send_initial_raw in ("true", "1")
    if send_initial_raw is not None and rvm != "NotOlderThan":
        raise _invalid(
            "resourceVersionMatch",
            "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        )
    if rvm and send_initial_raw is None:
        raise _invalid(
            "resourceVersionMatch",
            "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        )
    if rvm and rvm != "NotOlderThan":
        raise _invalid(
            "resourceVersionMatch", f'Unsupported value: "{rvm}": supported values: "NotOlderThan"'
        )
    bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
    timeout = _int_param(req, "timeoutSeconds")
    if timeout is None or timeout <= 0:
        timeout = random.randint(1800, 3600)
    lsel, fsel = h._selectors(req, route)
    if name:
        extra = field_selectors.one_term_equal("metadata.name", name)
        fsel = extra if fsel is None else field_selectors.Selector(terms=fsel.terms + extra.terms)
    matches = h._matcher(route, lsel, fsel)
    table = _as_table(req.accept)
    partial = not table and "as=PartialObjectMetadata" in req.accept
    include = q.get("includeObject") or "Metadata"
    prefix = route.prefix(namespace or None)
    storage = h.storage
    current = storage.current_revision()

    initial: list[Any] = []
    if send_initial or (rv in ("", "0") and not send_initial_raw):
        if rv and rv != "0":
            want = _parse_rv(rv)
            current = await revision_covering(storage, want)
            if want > current:
                raise st.too_large_resource_version(want, current)
        try:
            page = await storage.list(prefix)
        except StorageError as e:  # pragma: no cover - a latest read never compacts
            raise st.internal_error(str(e)) from None
        from_rev = page.revision
        for kv in page.items:
            if matches is None or matches(ob.decode(kv.value, kv.mod_revision)):
                initial.append(kv)
    elif send_initial_raw is not None and not send_initial:
        from_rev = _parse_rv(rv) if rv and rv != "0" else current
        current = await revision_covering(storage, from_rev)
        if from_rev > current:
            raise st.too_large_resource_version(from_rev, current)
    else:
        from_rev = _parse_rv(rv)
    try:
        w = await storage.watch(prefix, from_rev)
    except Compacted as e:
        raise st.expired(f"too old resource version: {e.revision} ({e.compact_revision})") from None
    except FutureRevision as e:
        raise st.too_large_resource_version(e.revision, e.current_revision) from None

    kind, api_version = route.kind, route.api_version

    def encode(etype: bytes, value: bytes, revision: int) -> bytes:
        if route.reader is not None:  # custom resources, Events: version conversion (and defaults) on read
            value = route.reader.read_bytes(value)
        if table:
            obj = ob.decode(value, revision)
            t = h.to_table(route, [obj], include, {"resourceVersion": str(revision)})
            return b'{"type":"' + etype + b'","object":' + orjson.dumps(t) + b"}\n"
        if partial:  # Accept: ...;as=PartialObjectMetadata;g=meta.k8s.io;v=v1 (metadata informers)
            meta = ob.decode(value, revision).get("metadata") or {}
            pom = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
            return b'{"type":"' + etype + b'","object":' + orjson.dumps(pom) + b"}\n"
        return b'{"type":"' + etype + b'","object":' + ob.with_rv(value, revision) + b"}\n"

    def bookmark(revision: int, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(revision), "creationTimestamp": None}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version, "metadata": meta}
        if partial:  # a metadata-only watch gets PartialObjectMetadata bookmarks, as every other event
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        if table:
            obj = {
                "kind": "Table",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": str(revision)},
                "columnDefinitions": [],
                "rows": [],
            }
            if initial_end:
                obj["metadata"]["annotations"] = meta["annotations"]
        return b'{"type":"BOOKMARK","object":' + orjson.dumps(obj) + b"}\n"

    async def run(send: Any) -> None:
        lock = asyncio.Lock()
        last_sent = from_rev

        async def emit(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def pump() -> None:
            nonlocal last_sent
            async with lock:
                for kv in initial:
                    await emit(encode(b"ADDED", kv.value, kv.mod_revision))
                if send_initial:
                    await emit(bookmark(from_rev, initial_end=True))
            try:
                async for ev in w:
                    etype = _TYPES[ev.type]
                    if matches is not None:
                        new_ok = matches(ob.decode(ev.kv.value, ev.kv.mod_revision))
                        old_ok = ev.prev_kv is not None and matches(
                            ob.decode(ev.prev_kv.value, ev.prev_kv.mod_revision)
                        )
                        if ev.type is EventType.DELETED:
                            if not old_ok:
                                continue
                        elif ev.type is EventType.MODIFIED:
                            if new_ok and not old_ok:
                                etype = b"ADDED"
                            elif old_ok and not new_ok:
                                etype = b"DELETED"
                            elif not new_ok:
                                continue
                        elif not new_ok:
                            continue
                    chunk = encode(etype, ev.kv.value, ev.kv.mod_revision)
                    async with lock:
                        await emit(chunk)
                        last_sent = ev.kv.mod_revision
            except WatcherTooSlow:
                return  # the client re-watches from its last resourceVersion
            except Compacted as e:
                err = st.expired(f"too old resource version: {e.revision} ({e.compact_revision})")
                async with lock:
                    await emit(b'{"type":"ERROR","object":' + orjson.dumps(err.status) + b"}\n")

        async def ticker() -> None:
            while True:
                await asyncio.sleep(h.bookmark_interval)
                async with lock:
                    rev = max(w.progress_revision, last_sent)
                    await emit(bookmark(rev))

        async def disconnected() -> None:
            while True:
                message = await req.receive()
                if message["type"] == "http.disconnect":
                    return

        if h.stopping is None:
            h.stopping = asyncio.Event()
        tasks = [
            asyncio.ensure_future(pump()),
            asyncio.ensure_future(disconnected()),
            asyncio.ensure_future(h.stopping.wait()),
        ]
        if bookmarks:
            tasks.append(asyncio.ensure_future(ticker()))
        try:
            await asyncio.wait(tasks[:3], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            await w.aclose()

    return StreamResponse(200, JSON, run)
