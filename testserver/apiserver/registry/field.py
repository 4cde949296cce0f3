"""Field errors as kube's ``k8s.io/apimachinery/pkg/util/validation/field`` reports them.

A :class:`FieldError` renders its message exactly as Go does (``ErrorBody``), and
:func:`invalid_error` turns a list of them into the 422 ``Invalid`` Status kube-apiserver sends:
message ``Kind.group "name" is invalid: [a, b]`` and one cause per error
``{reason: FieldValueRequired|..., message, field}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from testserver.apiserver import status as st

__all__ = [
    "ErrorList",
    "FieldError",
    "duplicate",
    "forbidden",
    "format_value",
    "internal",
    "invalid",
    "invalid_error",
    "not_found",
    "not_supported",
    "required",
    "too_long",
    "too_many",
]

_TYPES = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "InternalError": "Internal error",
    "FieldValueTypeInvalid": "Invalid value",
    "FieldValueNotFound": "Not found",
}
_NO_VALUE = frozenset({"FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError"})


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def format_value(value: Any) -> str:
    """A value as Go's ``%v``/``%q``/``%#v`` prints it in field errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(format_value(v) for v in value) + "}"
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            inner = ", ".join(f"{_go_quote(k)}:{_go_quote(v)}" for k, v in sorted(value.items()))
            return "map[string]string{" + inner + "}"
        inner = ", ".join(f"{_go_quote(k)}:{format_value(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    return str(value)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem at one field path (``spec.containers[0].image``)."""

    reason: str
    """The cause type: ``FieldValueRequired``, ``FieldValueInvalid``, ..."""
    field: str
    """The field path."""
    value: Any = None
    """The bad value (printed for the value-carrying types)."""
    detail: str = ""
    """Why it is bad."""

    def body(self) -> str:
        """Go's ``ErrorBody``: the message without the field path."""
        head = _TYPES.get(self.reason, self.reason)
        text = head if self.reason in _NO_VALUE else f"{head}: {format_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def cause(self) -> dict[str, Any]:
        return {"reason": self.reason, "message": self.body(), "field": self.field}


ErrorList = list[FieldError]


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", path, None, detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, value, detail)


def not_supported(path: str, value: Any, supported: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(_go_quote(s) for s in supported) if supported else ""
    return FieldError("FieldValueNotSupported", path, value, detail)


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", path, value, "")


def not_found(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", path, value, "")


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", path, None, detail)


def too_long(path: str, max_length: int, *, legacy: bool = False) -> FieldError:
    """``legacy`` gives the annotations wording (``must have at most N bytes``)."""
    if legacy:
        return FieldError("FieldValueTooLong", path, None, f"must have at most {max_length} bytes")
    unit = "byte" if max_length == 1 else "bytes"
    return FieldError("FieldValueTooLong", path, None, f"may not be more than {max_length} {unit}")


def too_many(path: str, actual: int, limit: int) -> FieldError:
    return FieldError("FieldValueTooMany", path, actual, f"must have at most {limit} items")


def internal(path: str, detail: str) -> FieldError:
    return FieldError("InternalError", path, None, detail)


def invalid_error(kind: str, group: str, name: str, errors: ErrorList) -> st.StatusError:
    """The 422 Invalid Status for ``errors`` (kube's ``errors.NewInvalid``)."""
    qualified = f"{kind}.{group}" if group else kind
    texts: list[str] = []
    for e in errors:
        text = str(e)
        if text not in texts:
            texts.append(text)
    if not texts:
        message = f'{qualified} "{name}" is invalid'
    elif len(texts) == 1:
        message = f'{qualified} "{name}" is invalid: {texts[0]}'
    else:
        message = f'{qualified} "{name}" is invalid: [{", ".join(texts)}]'
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [e.cause() for e in errors]
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Invalid",
            "details": details,
            "code": 422,
        }
    )
