"""metav1.Status values for every failure the server reports, with kube-apiserver's exact messages.

Handlers raise :class:`StatusError`; the application turns it into a JSON response (or, once a watch
is streaming, an ``ERROR`` event). The builders mirror ``k8s.io/apimachinery/pkg/api/errors``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "StatusError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "invalid",
    "method_not_supported",
    "not_acceptable",
    "not_found",
    "status_success",
    "too_large_resource_version",
    "unauthorized",
    "unsupported_media_type",
]


class StatusError(Exception):
    """A failure carrying the Status body to send."""

    def __init__(self, status: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(status.get("message", ""))
        self.status = status
        self.headers = headers or []

    @property
    def code(self) -> int:
        return int(self.status["code"])


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


def _details(resource: str, name: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = resource
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def status_success(details: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        status["details"] = details
    return status


def not_found(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        _status(
            404,
            "NotFound",
            f'{_qualified(resource, group)} "{name}" not found',
            _details(resource, name, group),
        )
    )


def path_not_found() -> StatusError:
    return StatusError(_status(404, "NotFound", "the server could not find the requested resource", {}))


def already_exists(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        _status(
            409,
            "AlreadyExists",
            f'{_qualified(resource, group)} "{name}" already exists',
            _details(resource, name, group),
        )
    )


def conflict(resource: str, name: str, message: str, group: str = "") -> StatusError:
    return StatusError(
        _status(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {message}',
            _details(resource, name, group),
        )
    )


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def expired(message: str) -> StatusError:
    return StatusError(_status(410, "Expired", message))


def gone(message: str) -> StatusError:
    return StatusError(_status(410, "Gone", message))


def invalid(kind: str, name: str, causes: list[dict[str, Any]], group: str = "") -> StatusError:
    """422 Invalid; each cause is ``{"reason", "message", "field"}``."""
    parts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details: dict[str, Any] = {"name": name, "group": group, "kind": kind, "causes": causes}
    if not group:
        del details["group"]
    if not name:
        del details["name"]
    return StatusError(_status(422, "Invalid", f'{kind} "{name}" is invalid: {text}', details))


def invalid_plain(message: str) -> StatusError:
    return StatusError(_status(422, "Invalid", message))


def bad_request(message: str) -> StatusError:
    return StatusError(_status(400, "BadRequest", message))


def forbidden(
    resource: str, name: str, message: str, group: str = "", causes: list[dict[str, Any]] | None = None
) -> StatusError:
    details = _details(resource, name, group)
    if causes:
        details["causes"] = causes
    target = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    return StatusError(_status(403, "Forbidden", f"{target} is forbidden: {message}", details))


def unauthorized() -> StatusError:
    return StatusError(_status(401, "Unauthorized", "Unauthorized"))


def method_not_supported(resource: str, verb: str, group: str = "") -> StatusError:
    return StatusError(
        _status(
            405,
            "MethodNotAllowed",
            f'{verb} is not supported on resources of kind "{_qualified(resource, group)}"',
            {"group": group, "kind": resource} if group else {"kind": resource},
        )
    )


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(
        _status(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
            {"causes": [{"reason": "UnsupportedMediaType", "message": content_type}]}
            if content_type
            else None,
        )
    )


def not_acceptable(accept: str) -> StatusError:
    return StatusError(
        _status(
            406,
            "NotAcceptable",
            f"only the following media types are accepted: application/json, application/yaml, "
            f"application/json;as=Table;v=v1;g=meta.k8s.io (asked: {accept})",
        )
    )


def too_large_resource_version(requested: int, current: int) -> StatusError:
    status = _status(
        504,
        "Timeout",
        f"Too large resource version: {requested}, current: {current}",
        {
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        },
    )
    return StatusError(status, [(b"retry-after", b"1")])


def internal_error(message: str) -> StatusError:
    return StatusError(
        _status(
            500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
        )
    )


def service_unavailable(message: str) -> StatusError:
    return StatusError(_status(503, "ServiceUnavailable", message))
