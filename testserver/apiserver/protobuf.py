"""``application/vnd.kubernetes.protobuf`` for the API server: request bodies, content negotiation of
responses (objects, lists, Status errors) and protobuf watch streams.

Handlers keep working on JSON: a protobuf request body is turned into JSON before the handler's
usual decoding (:func:`body_as_json`), and a JSON response is re-encoded at the edge when the client's
``Accept`` prefers protobuf (:func:`negotiate`). Kinds without a protobuf message (custom resources,
Tables) are answered in JSON when the client also accepts JSON, as kube-apiserver does.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from pyclientgo.apimachinery import protobuf as pb
from testserver.apiserver import status as st
from testserver.apiserver.request import JSON, Request, Response, StreamResponse

__all__ = [
    "CONTENT_TYPE",
    "body_as_json",
    "check_accept",
    "negotiate",
    "openapi_v2_protobuf",
    "wants_protobuf",
]

log = logging.getLogger("testserver.apiserver.protobuf")

CONTENT_TYPE = pb.CONTENT_TYPE
_PROTOBUF = pb.CONTENT_TYPE.encode()
_WATCH = pb.WATCH_CONTENT_TYPE.encode()
_OTHERS = frozenset({"application/json", "application/yaml", "*/*", "application/*"})


def _clauses(accept: str) -> list[tuple[float, str, dict[str, str]]]:
    out: list[tuple[float, str, dict[str, str]]] = []
    for clause in accept.split(","):
        media, *raw_params = (part.strip() for part in clause.split(";"))
        params: dict[str, str] = {}
        for p in raw_params:
            key, _, value = p.partition("=")
            params[key.strip().lower()] = value.strip()
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        if media:
            out.append((q, media.lower(), params))
    out.sort(key=lambda c: -c[0])  # stable: equal weights keep the client's order
    return out


_PROTOBUF_AS = frozenset({"PartialObjectMetadata", "PartialObjectMetadataList"})
"""``as=`` conversions served in protobuf too (metadata-only clients such as the garbage collector)."""


def wants_protobuf(accept: str) -> bool:
    """Whether protobuf is the client's most preferred media type this server can produce."""
    if "protobuf" not in accept:
        return False
    for q, media, params in _clauses(accept):
        if q <= 0:
            continue
        if media == CONTENT_TYPE:
            if "as" in params and params["as"] not in _PROTOBUF_AS:
                continue  # protobuf Tables: not served (JSON is)
            return True
        if media in _OTHERS:
            return False
    return False


def _protobuf_only(accept: str) -> bool:
    return (
        bool(accept)
        and "protobuf" in accept
        and "json" not in accept
        and "*/*" not in accept
        and "yaml" not in accept
    )


def _meta_conversions_only(accept: str) -> bool:
    """Every media type ``accept`` names asks for a meta.k8s.io conversion (``as=Table``, ...)."""
    clauses = [c for c in (part.strip() for part in accept.split(",")) if c]
    return bool(clauses) and all("as=" in c for c in clauses)


def check_accept(accept: str, route: Any) -> None:
    """406 when no media type the client accepts can carry the answer: protobuf only for a kind
    without a protobuf message, or only Table/PartialObjectMetadata for a create-only virtual kind
    (access and token reviews: kube installs them without a TableConvertor)."""
    if _protobuf_only(accept) and pb.message_for(route.api_version, route.kind) is None:
        raise st.not_acceptable(accept)
    if route.verbs == {"create"} and _meta_conversions_only(accept):
        raise st.not_acceptable(accept)


def body_as_json(raw: bytes, kind: str, api_version: str) -> bytes:
    """A protobuf request body for ``kind`` as JSON bytes (415 when the kind has no message, 400 if bad)."""
    if pb.message_for(api_version, kind) is None:
        raise st.unsupported_media_type(CONTENT_TYPE)
    if not raw:
        return raw
    try:
        obj = pb.decode_object(raw)
    except pb.UnknownKindError as e:
        raise st.bad_request(f"the object provided is unrecognized (must be of type {kind}): {e}") from None
    except pb.ProtobufError as e:
        raise st.bad_request(
            f"the object provided is unrecognized (must be of type {kind}): {e} (protobuf body)"
        ) from None
    return orjson.dumps(obj)


def _encode(body: bytes) -> bytes | None:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if (
        not isinstance(obj, dict)
        or pb.message_for(obj.get("apiVersion") or "", obj.get("kind") or "") is None
    ):
        return None
    try:
        return pb.encode_object(obj)
    except pb.ProtobufError as e:
        log.warning("cannot encode %s as protobuf: %s", obj.get("kind"), e)
        return None


def negotiate(req: Request, resp: Response | StreamResponse) -> Response | StreamResponse:
    """Re-encode a JSON response as protobuf when the client prefers it (else ``resp`` unchanged)."""
    accept = req.headers.get(b"accept")
    if accept is None or b"protobuf" not in accept or resp.content_type != JSON:
        return resp
    if not wants_protobuf(accept.decode("latin-1")):
        return resp
    if isinstance(resp, StreamResponse):
        return _watch(resp)
    if not resp.body or resp.status == 304:
        return resp
    encoded = _encode(resp.body)
    if encoded is None:
        if _protobuf_only(accept.decode("latin-1")):
            return Response(406, orjson.dumps(st.not_acceptable(accept.decode("latin-1")).status))
        return resp
    return Response(resp.status, encoded, _PROTOBUF, resp.headers)


def _frame(line: bytes) -> bytes:
    event = orjson.loads(line)
    obj = event.get("object")
    try:
        return pb.encode_watch_frame(str(event.get("type", "")), obj)
    except pb.ProtobufError as e:
        log.warning("cannot encode a %s watch event as protobuf: %s", event.get("type"), e)
        status = st.internal_error(f"cannot encode the object as protobuf: {e}").status
        return pb.encode_watch_frame("ERROR", status)


def _watch(resp: StreamResponse) -> StreamResponse:
    """A JSON-lines watch stream re-framed as length-prefixed protobuf ``WatchEvent``s."""
    inner = resp.run

    async def run(send: Any) -> None:
        pending = bytearray()

        async def framed(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.body" and message.get("body"):
                pending.extend(message["body"])
                out = bytearray()
                while (end := pending.find(b"\n")) >= 0:
                    line = bytes(pending[:end])
                    del pending[: end + 1]
                    if line.strip():
                        out += _frame(line)
                if not out and message.get("more_body"):
                    return
                message = {**message, "body": bytes(out)}
            await send(message)

        await inner(framed)

    return StreamResponse(resp.status, _WATCH, run)


_OPENAPI_V2_PROTO = "application/com.github.proto-openapi.spec.v2"
_OPENAPI_V2_PROTO_TYPE = b"application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def openapi_v2_protobuf(req: Request) -> Response | None:
    """``/openapi/v2`` asked as gnostic protobuf (kubectl validating ``kind: List`` manifests).

    Answered with an empty ``openapi_v2.Document`` (a valid zero-length message): kubectl then finds
    no schema for the items and skips its client-side v2 validation (the server still validates).
    Encoding the whole v2 document needs the gnostic schema, which is not among our inputs.
    ``None`` when the client asked for JSON.
    """
    for q, media, _ in _clauses(req.accept):
        if q <= 0:
            continue
        if media.startswith(_OPENAPI_V2_PROTO):
            return Response(200, b"", _OPENAPI_V2_PROTO_TYPE)
        if media in _OTHERS:
            return None
    return None
