from __future__ import annotations

import pickle

import pytest

from pyclientgo import errors
from pyclientgo.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PyClientGoError,
    RequestEntityTooLarge,
    ResourceExpired,
    ServerTimeout,
    ServiceUnavailable,
    StatusCause,
    Timeout,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    error_for_status,
    error_from_response,
)


def status(reason: str, code: int, message: str = "m", **details: object) -> dict[str, object]:
    out: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
        "message": message,
    }
    if details:
        out["details"] = details
    return out


BY_REASON = [
    ("BadRequest", 400, BadRequest),
    ("Unauthorized", 401, Unauthorized),
    ("Forbidden", 403, Forbidden),
    ("NotFound", 404, NotFound),
    ("MethodNotAllowed", 405, MethodNotAllowed),
    ("NotAcceptable", 406, NotAcceptable),
    ("AlreadyExists", 409, AlreadyExists),
    ("Conflict", 409, Conflict),
    ("Gone", 410, Gone),
    ("Expired", 410, ResourceExpired),
    ("RequestEntityTooLarge", 413, RequestEntityTooLarge),
    ("UnsupportedMediaType", 415, UnsupportedMediaType),
    ("Invalid", 422, Invalid),
    ("TooManyRequests", 429, TooManyRequests),
    ("InternalError", 500, InternalError),
    ("ServerTimeout", 500, ServerTimeout),
    ("ServiceUnavailable", 503, ServiceUnavailable),
    ("Timeout", 504, Timeout),
]


@pytest.mark.parametrize(("reason", "code", "cls"), BY_REASON)
def test_reason_selects_class(reason: str, code: int, cls: type[ApiError]) -> None:
    err = error_for_status(status(reason, code))
    assert type(err) is cls
    assert err.reason == reason and err.code == code and str(err) == "m"
    # Reason wins over the code.
    assert type(error_for_status(status(reason, 418))) is cls


BY_CODE = [
    (400, BadRequest),
    (401, Unauthorized),
    (403, Forbidden),
    (404, NotFound),
    (405, MethodNotAllowed),
    (406, NotAcceptable),
    (409, Conflict),
    (410, Gone),
    (413, RequestEntityTooLarge),
    (415, UnsupportedMediaType),
    (422, Invalid),
    (429, TooManyRequests),
    (500, InternalError),
    (503, ServiceUnavailable),
    (504, Timeout),
    (418, ApiError),
    (502, ApiError),
]


@pytest.mark.parametrize(("code", "cls"), BY_CODE)
def test_unknown_reason_falls_back_to_code(code: int, cls: type[ApiError]) -> None:
    for reason in ("", "SomethingNew"):
        assert type(error_for_status(status(reason, code))) is cls
    # A Status without a code takes the HTTP code.
    assert type(error_for_status({"kind": "Status"}, code)) is cls


@pytest.mark.parametrize(("code", "cls"), BY_CODE)
def test_non_status_bodies(code: int, cls: type[ApiError]) -> None:
    for body in (
        b"",
        b"plain text failure",
        b"<html><body>Bad gateway</body></html>",
        b'{"not": "a status"}',
    ):
        err = error_from_response(code, {}, body)
        assert type(err) is cls
        assert err.code == code
        assert f"HTTP {code}" in str(err)
        if body:
            assert body.decode()[:10] in str(err)
            assert err.body == body


def test_plain_text_429_keeps_retry_after() -> None:
    err = error_from_response(429, {"Retry-After": "3"}, b"slow down")
    assert isinstance(err, TooManyRequests)
    assert err.retry_after_seconds == 3
    assert "slow down" in str(err) and "too many requests" in str(err)


def test_status_body_is_used() -> None:
    body = (
        b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \\"x\\" not found",'
        b'"reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}'
    )
    err = error_from_response(404, {}, body, method="GET", url="http://h/api/v1/pods/x")
    assert isinstance(err, NotFound)
    assert str(err) == 'pods "x" not found'
    assert err.details == {"name": "x", "kind": "pods"}
    assert err.body is None


def test_long_bodies_are_excerpted() -> None:
    err = error_from_response(500, {}, b"x" * 100_000)
    assert len(str(err)) < 400


def test_accessors_and_causes() -> None:
    err = error_for_status(
        status(
            "Invalid",
            422,
            details_name="x",
            causes=[{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.x"}],
            retryAfterSeconds=2,
        )
    )
    assert err.causes == [StatusCause("FieldValueRequired", "Required value", "spec.x")]
    assert err.retry_after_seconds == 2


def test_new_and_pickle() -> None:
    err = NotFound.new('pods "x" not found', name="x", kind="pods")
    assert isinstance(err, NotFound) and err.code == 404 and err.reason == "NotFound"
    assert err.details == {"name": "x", "kind": "pods"}
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is NotFound and again.status == err.status
    assert isinstance(err, PyClientGoError) and not isinstance(err, OSError)
    assert "NotFound" in repr(err)


def test_gone_catches_both_410_reasons() -> None:
    with pytest.raises(Gone):
        raise error_for_status(status("Expired", 410))
    with pytest.raises(Gone):
        raise error_for_status(status("Gone", 410))
    assert errors.Expired is ResourceExpired


PREDICATES = [
    # (predicate, reason, code, expected)
    (errors.is_not_found, "NotFound", 404, True),
    (errors.is_not_found, "", 404, True),
    (errors.is_not_found, "Weird", 404, True),
    (errors.is_not_found, "Conflict", 404, False),
    (errors.is_conflict, "Conflict", 409, True),
    (errors.is_conflict, "", 409, True),
    (errors.is_conflict, "AlreadyExists", 409, False),
    (errors.is_already_exists, "AlreadyExists", 409, True),
    (errors.is_already_exists, "", 409, False),
    (errors.is_gone, "Gone", 410, True),
    (errors.is_gone, "", 410, True),
    (errors.is_gone, "Expired", 410, False),
    (errors.is_resource_expired, "Expired", 410, True),
    (errors.is_resource_expired, "", 410, False),
    (errors.is_resource_expired, "Gone", 410, False),
    (errors.is_too_many_requests, "TooManyRequests", 429, True),
    (errors.is_too_many_requests, "NotFound", 429, True),
    (errors.is_too_many_requests, "", 500, False),
    (errors.is_invalid, "Invalid", 422, True),
    (errors.is_invalid, "", 422, True),
    (errors.is_invalid, "BadRequest", 422, False),
    (errors.is_forbidden, "Forbidden", 403, True),
    (errors.is_forbidden, "", 403, True),
    (errors.is_unauthorized, "Unauthorized", 401, True),
    (errors.is_unauthorized, "", 401, True),
    (errors.is_timeout, "Timeout", 504, True),
    (errors.is_timeout, "", 504, True),
    (errors.is_timeout, "ServerTimeout", 500, False),
    (errors.is_server_timeout, "ServerTimeout", 500, True),
    (errors.is_server_timeout, "", 500, False),
    (errors.is_bad_request, "BadRequest", 400, True),
    (errors.is_bad_request, "", 400, True),
    (errors.is_method_not_allowed, "", 405, True),
    (errors.is_not_acceptable, "", 406, True),
    (errors.is_unsupported_media_type, "", 415, True),
    (errors.is_service_unavailable, "", 503, True),
    (errors.is_internal_error, "", 500, True),
    (errors.is_request_entity_too_large, "Other", 413, True),
]


@pytest.mark.parametrize(("pred", "reason", "code", "expected"), PREDICATES)
def test_predicates(pred: object, reason: str, code: int, expected: bool) -> None:
    assert callable(pred)
    assert pred(error_for_status(status(reason, code))) is expected
    assert pred(ValueError("x")) is False


def test_too_large_resource_version() -> None:
    cause = {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
    assert errors.is_too_large_resource_version(error_for_status(status("Timeout", 504, causes=[cause])))
    assert not errors.is_too_large_resource_version(error_for_status(status("Timeout", 504)))
    assert not errors.is_too_large_resource_version(
        error_for_status(status("InternalError", 500, causes=[cause]))
    )


def test_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    for name in errors.__all__:
        assert hasattr(errors, name)
