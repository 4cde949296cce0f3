"""Errors raised by pyclientgo, all rooted in :class:`PyClientGoError`.

The tree::

    PyClientGoError
    ├── ApiError                      the server answered with a non-2xx status (carries its Status)
    │   ├── BadRequest                400  reason BadRequest
    │   ├── Unauthorized              401  reason Unauthorized
    │   ├── Forbidden                 403  reason Forbidden
    │   ├── NotFound                  404  reason NotFound
    │   ├── MethodNotAllowed          405  reason MethodNotAllowed
    │   ├── NotAcceptable             406  reason NotAcceptable
    │   ├── AlreadyExists             409  reason AlreadyExists   (not a Conflict, as in client-go)
    │   ├── Conflict                  409  reason Conflict
    │   ├── Gone                      410  reason Gone
    │   │   └── ResourceExpired       410  reason Expired          (``Expired`` is an alias)
    │   ├── RequestEntityTooLarge     413  reason RequestEntityTooLarge
    │   ├── UnsupportedMediaType      415  reason UnsupportedMediaType
    │   ├── Invalid                   422  reason Invalid
    │   ├── TooManyRequests           429  reason TooManyRequests
    │   ├── InternalError             500  reason InternalError
    │   ├── ServerTimeout             500  reason ServerTimeout
    │   ├── ServiceUnavailable        503  reason ServiceUnavailable
    │   └── Timeout                   504  reason Timeout
    ├── TransportError                no HTTP answer; the httpx exception is the ``__cause__``
    │   ├── ConnectError              could not connect (refused, DNS, TLS handshake)
    │   ├── ConnectionLost            the connection was reset or closed before a full answer
    │   ├── ProtocolError             the peer broke the HTTP protocol
    │   └── TransportTimeout
    │       ├── ConnectTimeout
    │       ├── ReadTimeout
    │       ├── WriteTimeout
    │       └── PoolTimeout
    ├── DecodeError                   a response or watch stream that is not the JSON expected
    └── ConfigError                   kubeconfig / in-cluster / credential problems
        └── ExecPluginError           an exec credential plugin failed or printed nonsense

The class of an :class:`ApiError` is chosen by the Status *reason* first; a reason this module does
not know (including an empty one) falls back to the HTTP code, so a bare ``404`` from a proxy is still
a :class:`NotFound`. Bodies that are not a Status (plain text, HTML, nothing) give the class of their
HTTP code and a message with the code and an excerpt of the body.

Classes are for ``except``; the ``is_*`` predicates follow client-go's ``errors.IsX`` to the letter.
The two differ in one place on purpose: :class:`ResourceExpired` subclasses :class:`Gone`, so
``except Gone:`` catches every 410 (what a relisting reflector wants), while :func:`is_gone` is true
only for reason ``Gone`` (or an unknown reason with 410) and :func:`is_resource_expired` only for
reason ``Expired``, exactly as in client-go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import orjson

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "ConfigError",
    "Conflict",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLost",
    "DecodeError",
    "ExecPluginError",
    "Expired",
    "Forbidden",
    "Gone",
    "InternalError",
    "Invalid",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PoolTimeout",
    "ProtocolError",
    "PyClientGoError",
    "ReadTimeout",
    "RequestEntityTooLarge",
    "ResourceExpired",
    "ServerTimeout",
    "ServiceUnavailable",
    "StatusCause",
    "Timeout",
    "TooManyRequests",
    "TransportError",
    "TransportTimeout",
    "Unauthorized",
    "UnsupportedMediaType",
    "WriteTimeout",
    "error_for_status",
    "error_from_response",
    "has_status_cause",
    "is_already_exists",
    "is_bad_request",
    "is_conflict",
    "is_forbidden",
    "is_gone",
    "is_internal_error",
    "is_invalid",
    "is_method_not_allowed",
    "is_not_acceptable",
    "is_not_found",
    "is_request_entity_too_large",
    "is_resource_expired",
    "is_server_timeout",
    "is_service_unavailable",
    "is_timeout",
    "is_too_large_resource_version",
    "is_too_many_requests",
    "is_unauthorized",
    "is_unsupported_media_type",
    "reason_for_error",
    "retry_after_header",
]


class PyClientGoError(Exception):
    """Root of every error pyclientgo raises on purpose."""


# -- API errors ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusCause:
    """One entry of ``status.details.causes``: why, and for which field."""

    reason: str
    message: str
    field: str


class ApiError(PyClientGoError):
    """The API server answered with an error; :attr:`status` is its ``Status`` object as a dict.

    The accessors read the Status; ``str(error)`` is its message. Build one by hand with
    ``NotFound.new("pods \\"x\\" not found", name="x", kind="pods")`` (useful in servers and fakes).
    """

    REASON: ClassVar[str] = ""
    CODE: ClassVar[int] = 500

    def __init__(self, status: Mapping[str, Any], *, body: bytes | None = None) -> None:
        self.status: dict[str, Any] = dict(status)
        #: The raw response body when it was not a Status (else None).
        self.body = body
        super().__init__(self.message)

    @classmethod
    def new(
        cls,
        message: str,
        *,
        code: int | None = None,
        reason: str | None = None,
        name: str | None = None,
        group: str | None = None,
        kind: str | None = None,
        causes: list[StatusCause] | None = None,
        retry_after_seconds: int | None = None,
    ) -> Self:
        """A Status-backed error of this class (reason and code default to the class's)."""
        details: dict[str, Any] = {}
        for key, value in (("name", name), ("group", group), ("kind", kind)):
            if value:
                details[key] = value
        if causes:
            details["causes"] = [
                {k: v for k, v in (("reason", c.reason), ("message", c.message), ("field", c.field)) if v}
                for c in causes
            ]
        if retry_after_seconds:
            details["retryAfterSeconds"] = retry_after_seconds
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": cls.REASON if reason is None else reason,
            "code": cls.CODE if code is None else code,
        }
        if details:
            status["details"] = details
        return cls(status)

    @property
    def code(self) -> int:
        """The Status code (the HTTP status code of the answer)."""
        code = self.status.get("code")
        return code if isinstance(code, int) else 0

    @property
    def reason(self) -> str:
        """The Status reason (``NotFound``, ``Conflict``, ...); ``""`` when the server gave none."""
        reason = self.status.get("reason")
        return reason if isinstance(reason, str) else ""

    @property
    def message(self) -> str:
        message = self.status.get("message")
        return message if isinstance(message, str) else ""

    @property
    def details(self) -> dict[str, Any]:
        """``status.details`` (name, group, kind, uid, causes, retryAfterSeconds) or ``{}``."""
        details = self.status.get("details")
        return details if isinstance(details, dict) else {}

    @property
    def causes(self) -> list[StatusCause]:
        out = []
        for cause in self.details.get("causes") or ():
            if isinstance(cause, dict):
                out.append(
                    StatusCause(
                        reason=str(cause.get("reason") or ""),
                        message=str(cause.get("message") or ""),
                        field=str(cause.get("field") or ""),
                    )
                )
        return out

    @property
    def retry_after_seconds(self) -> int | None:
        value = self.details.get("retryAfterSeconds")
        return value if isinstance(value, int) and value > 0 else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, reason={self.reason!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status,), {"body": self.body})


class BadRequest(ApiError):
    REASON, CODE = "BadRequest", 400


class Unauthorized(ApiError):
    REASON, CODE = "Unauthorized", 401


class Forbidden(ApiError):
    REASON, CODE = "Forbidden", 403


class NotFound(ApiError):
    REASON, CODE = "NotFound", 404


class MethodNotAllowed(ApiError):
    REASON, CODE = "MethodNotAllowed", 405


class NotAcceptable(ApiError):
    REASON, CODE = "NotAcceptable", 406


class AlreadyExists(ApiError):
    REASON, CODE = "AlreadyExists", 409


class Conflict(ApiError):
    REASON, CODE = "Conflict", 409


class Gone(ApiError):
    REASON, CODE = "Gone", 410


class ResourceExpired(Gone):
    """410 with reason ``Expired``: the resource version asked for is older than the server keeps."""

    REASON, CODE = "Expired", 410


Expired = ResourceExpired


class RequestEntityTooLarge(ApiError):
    REASON, CODE = "RequestEntityTooLarge", 413


class UnsupportedMediaType(ApiError):
    REASON, CODE = "UnsupportedMediaType", 415


class Invalid(ApiError):
    REASON, CODE = "Invalid", 422


class TooManyRequests(ApiError):
    REASON, CODE = "TooManyRequests", 429


class InternalError(ApiError):
    REASON, CODE = "InternalError", 500


class ServerTimeout(ApiError):
    """Reason ``ServerTimeout`` (code 500): the server could not finish the operation in time."""

    REASON, CODE = "ServerTimeout", 500


class ServiceUnavailable(ApiError):
    REASON, CODE = "ServiceUnavailable", 503


class Timeout(ApiError):
    """Reason ``Timeout`` (code 504): the request timed out; it may still be processed."""

    REASON, CODE = "Timeout", 504


_BY_REASON: dict[str, type[ApiError]] = {
    cls.REASON: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        AlreadyExists,
        Conflict,
        Gone,
        ResourceExpired,
        RequestEntityTooLarge,
        UnsupportedMediaType,
        Invalid,
        TooManyRequests,
        InternalError,
        ServerTimeout,
        ServiceUnavailable,
        Timeout,
    )
}

# client-go's knownReasons: a reason outside this set falls back to the HTTP code.
_KNOWN_REASONS = frozenset(_BY_REASON)

_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: Conflict,
    410: Gone,
    413: RequestEntityTooLarge,
    415: UnsupportedMediaType,
    422: Invalid,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
    504: Timeout,
}

# What client-go says when the body is not a Status (NewGenericServerResponse).
_GENERIC_MESSAGES: dict[int, str] = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    403: "the server does not allow access to the requested resource",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    406: "the server was unable to respond with a content type that the client supports",
    409: "the server reported a conflict",
    410: "the requested resource is gone",
    413: "the server rejected the request because it is too large",
    415: "the server does not support the request's content type",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    500: "an error on the server has prevented the request from succeeding",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


def error_for_status(status: Mapping[str, Any], http_code: int = 0, *, body: bytes | None = None) -> ApiError:
    """The :class:`ApiError` subclass for a Status: by reason, else by code, else :class:`ApiError`.

    ``http_code`` fills in the Status code when the Status has none.
    """
    data = dict(status)
    code = data.get("code")
    if not isinstance(code, int) or code == 0:
        data["code"] = code = http_code
    reason = data.get("reason")
    cls = _BY_REASON.get(reason) if isinstance(reason, str) else None
    if cls is None:
        cls = _BY_CODE.get(code, ApiError)
    return cls(data, body=body)


_EXCERPT = 200
_SPACE = re.compile(rb"\s+")


def _excerpt(body: bytes) -> str:
    text = _SPACE.sub(b" ", body[: _EXCERPT * 4]).strip().decode("utf-8", "replace")
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def retry_after_header(headers: Mapping[str, str]) -> int | None:
    """An integer ``Retry-After`` header (seconds, >= 0), else None (HTTP dates are not honoured)."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        return None
    return int(value)


def error_from_response(
    code: int, headers: Mapping[str, str], body: bytes, *, method: str = "", url: str = ""
) -> ApiError:
    """The error for a non-2xx answer: its Status if the body is one, else a Status made from ``code``."""
    if body[:1024].lstrip()[:1] == b"{":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and data.get("kind") == "Status":
            return error_for_status(data, code)
    message = _GENERIC_MESSAGES.get(code, "the server responded with an unexpected status")
    where = f" ({method} {url})" if method and url else ""
    message = f"{message}{where} (HTTP {code})"
    if body.strip():
        message += f": {_excerpt(body)}"
    cls = _BY_CODE.get(code, ApiError)
    details: dict[str, Any] = {}
    retry_after = retry_after_header(headers)
    if retry_after and (code == 429 or code >= 500):
        details["retryAfterSeconds"] = retry_after
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": cls.REASON,
        "code": code,
    }
    if details:
        status["details"] = details
    return cls(status, body=body)


# -- transport and other errors -----------------------------------------------------------------


class TransportError(PyClientGoError):
    """No HTTP answer was received; the underlying httpx exception is ``__cause__``."""


class ConnectError(TransportError):
    """The connection could not be made (refused, unknown host, TLS handshake failure)."""


class ConnectionLost(TransportError):
    """The connection was reset or closed before the answer was complete."""


class ProtocolError(TransportError):
    """The peer broke the HTTP protocol."""


class TransportTimeout(TransportError):
    """A client-side timeout expired."""


class ConnectTimeout(TransportTimeout):
    pass


class ReadTimeout(TransportTimeout):
    pass


class WriteTimeout(TransportTimeout):
    pass


class PoolTimeout(TransportTimeout):
    pass


class DecodeError(PyClientGoError):
    """The server sent something that is not the JSON expected (a response or a watch event)."""


class ConfigError(PyClientGoError):
    """The client configuration could not be loaded or is inconsistent."""


class ExecPluginError(ConfigError):
    """An exec credential plugin could not be run, failed, or printed an invalid ExecCredential."""


# -- predicates (client-go's errors.IsX) --------------------------------------------------------


def reason_for_error(err: BaseException) -> str:
    """The Status reason of an :class:`ApiError`, ``""`` for anything else."""
    return err.reason if isinstance(err, ApiError) else ""


def _reason_and_code(err: BaseException) -> tuple[str, int]:
    if isinstance(err, ApiError):
        return err.reason, err.code
    return "", 0


def _is(err: BaseException, reason: str, code: int) -> bool:
    r, c = _reason_and_code(err)
    if r == reason:
        return bool(r)
    return r not in _KNOWN_REASONS and c == code


def is_not_found(err: BaseException) -> bool:
    """Reason NotFound, or an unknown reason with code 404."""
    return _is(err, "NotFound", 404)


def is_already_exists(err: BaseException) -> bool:
    """Reason AlreadyExists (the reason only: a bare 409 is a conflict)."""
    return reason_for_error(err) == "AlreadyExists"


def is_conflict(err: BaseException) -> bool:
    """Reason Conflict, or an unknown reason with code 409 (AlreadyExists is not a conflict)."""
    return _is(err, "Conflict", 409)


def is_invalid(err: BaseException) -> bool:
    """Reason Invalid, or an unknown reason with code 422."""
    return _is(err, "Invalid", 422)


def is_gone(err: BaseException) -> bool:
    """Reason Gone, or an unknown reason with code 410 (reason Expired is *not* gone here)."""
    return _is(err, "Gone", 410)


def is_resource_expired(err: BaseException) -> bool:
    """Reason Expired only."""
    return reason_for_error(err) == "Expired"


def is_not_acceptable(err: BaseException) -> bool:
    return _is(err, "NotAcceptable", 406)


def is_unsupported_media_type(err: BaseException) -> bool:
    return _is(err, "UnsupportedMediaType", 415)


def is_method_not_allowed(err: BaseException) -> bool:
    return _is(err, "MethodNotAllowed", 405)


def is_service_unavailable(err: BaseException) -> bool:
    return _is(err, "ServiceUnavailable", 503)


def is_bad_request(err: BaseException) -> bool:
    return _is(err, "BadRequest", 400)


def is_unauthorized(err: BaseException) -> bool:
    return _is(err, "Unauthorized", 401)


def is_forbidden(err: BaseException) -> bool:
    return _is(err, "Forbidden", 403)


def is_timeout(err: BaseException) -> bool:
    """Reason Timeout, or an unknown reason with code 504."""
    return _is(err, "Timeout", 504)


def is_server_timeout(err: BaseException) -> bool:
    """Reason ServerTimeout (the reason only)."""
    return reason_for_error(err) == "ServerTimeout"


def is_internal_error(err: BaseException) -> bool:
    return _is(err, "InternalError", 500)


def is_too_many_requests(err: BaseException) -> bool:
    """Reason TooManyRequests, or code 429 whatever the reason."""
    r, c = _reason_and_code(err)
    return r == "TooManyRequests" or c == 429


def is_request_entity_too_large(err: BaseException) -> bool:
    """Reason RequestEntityTooLarge, or code 413 whatever the reason."""
    r, c = _reason_and_code(err)
    return r == "RequestEntityTooLarge" or c == 413


def has_status_cause(err: BaseException, cause_type: str) -> bool:
    """True when the Status lists a cause with this reason (client-go's cause ``type``)."""
    return isinstance(err, ApiError) and any(c.reason == cause_type for c in err.causes)


def is_too_large_resource_version(err: BaseException) -> bool:
    """A timeout (504) whose causes include ``ResourceVersionTooLarge``."""
    return is_timeout(err) and has_status_cause(err, "ResourceVersionTooLarge")
