"""Validation of custom resources against a CRD version's structural schema (``openAPIV3Schema``).

Errors are kube's field errors, converted from kube-openapi's messages exactly as the
apiextensions apiserver does, e.g.::

    spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
    spec.color: Unsupported value: "pink": supported values: "red", "blue"
    spec.image: Required value
    spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1

Each cause is ``{"reason", "message", "field"}`` (``FieldValueTypeInvalid``,
``FieldValueNotSupported``, ``FieldValueRequired``, ``FieldValueInvalid``, ``FieldValueTooLong``,
``FieldValueTooMany``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import json
import math
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["go_value", "json_type", "validate"]

Schema = dict[str, Any]
Cause = dict[str, Any]


def json_type(value: Any) -> str:
    """The JSON type name kube-openapi reports for ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_number(value: float | int) -> str:
    """Go's ``%v`` of a number: ``1``, ``1.5``, ``1e+21``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    m = re.match(r"^(-?[\d.]+)e([+-]?)(\d+)$", text)
    if m:
        return f"{m.group(1)}e{m.group(2) or '+'}{int(m.group(3)):02d}"
    return text


def go_value(value: Any) -> str:
    """How kube's field errors print a bad value (``"text"``, ``5``, ``true``)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool | int | float):
        return _go_number(value)
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _cause(reason: str, path: str, message: str) -> Cause:
    return {"reason": reason, "message": message, "field": path}


def _type_invalid(path: str, shown: str, expected: str) -> Cause:
    return _cause(
        "FieldValueTypeInvalid",
        path,
        f"Invalid value: {go_value(shown)}: {path} in body must be of type {expected}: {go_value(shown)}",
    )


def _invalid(path: str, value: Any, detail: str) -> Cause:
    return _cause("FieldValueInvalid", path, f"Invalid value: {go_value(value)}: {path} in body {detail}")


# -- formats (the ones kube accepts in CRD schemas) ----------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HOSTNAME = re.compile(
    r"^(?=.{1,255}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
_DURATION = re.compile(r"^(-?\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$")
_HEXCOLOR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _date_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in text.upper() or " " in text


def _date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _ip(version: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return ipaddress.ip_address(text).version == version
        except ValueError:
            return False

    return check


def _cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _byte(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": _date_time,
    "datetime": _date_time,
    "date": _date,
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "cidr": _cidr,
    "uuid": _uuid,
    "uuid3": _uuid,
    "uuid4": _uuid,
    "uuid5": _uuid,
    "byte": _byte,
    "email": lambda s: bool(_EMAIL.match(s)),
    "hostname": lambda s: bool(_HOSTNAME.match(s)),
    "mac": lambda s: bool(_MAC.match(s)),
    "duration": lambda s: bool(_DURATION.match(s)),
    "hexcolor": lambda s: bool(_HEXCOLOR.match(s)),
}


@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


# -- the walk -------------------------------------------------------------------------------------


def validate(obj: dict[str, Any], schema: Schema | None) -> list[Cause]:
    """Every schema violation of ``obj`` (a whole custom resource; ``metadata`` is not walked)."""
    causes: list[Cause] = []
    if isinstance(schema, dict):
        _node(obj, schema, "", causes, root=True)
    return causes


def _types(schema: Schema) -> tuple[str, ...]:
    if schema.get("x-kubernetes-int-or-string"):
        return ("integer", "string")
    kind = schema.get("type")
    return (kind,) if isinstance(kind, str) and kind else ()


def _node(value: Any, schema: Schema, path: str, causes: list[Cause], *, root: bool = False) -> None:
    types = _types(schema)
    if value is None:
        if types and not schema.get("nullable"):
            causes.append(_type_invalid(path, "null", ",".join(types)))
        return
    actual = json_type(value)
    if types:
        ok = actual in types or (actual == "number" and "integer" in types and float(value).is_integer())
        ok = ok or (actual == "integer" and "number" in types)
        if not ok:
            causes.append(_type_invalid(path, actual, ",".join(types)))
            return
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and not any(_equal(value, e) for e in enum):
        supported = ", ".join(json.dumps(e) if isinstance(e, str) else go_value(e) for e in enum)
        causes.append(
            _cause(
                "FieldValueNotSupported",
                path,
                f"Unsupported value: {go_value(value)}: supported values: {supported}",
            )
        )
    if actual in ("integer", "number"):
        _number(value, schema, path, causes)
    elif actual == "string":
        _string(value, schema, path, causes)
    elif actual == "array":
        _array(value, schema, path, causes)
    elif actual == "object":
        _object(value, schema, path, causes, root=root)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _number(value: float | int, schema: Schema, path: str, causes: list[Cause]) -> None:
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    if isinstance(minimum, int | float) and not isinstance(minimum, bool):
        exclusive = bool(schema.get("exclusiveMinimum"))
        if value < minimum or (exclusive and value == minimum):
            word = "greater than" if exclusive else "greater than or equal to"
            causes.append(_invalid(path, value, f"should be {word} {_go_number(minimum)}"))
    if isinstance(maximum, int | float) and not isinstance(maximum, bool):
        exclusive = bool(schema.get("exclusiveMaximum"))
        if value > maximum or (exclusive and value == maximum):
            word = "less than" if exclusive else "less than or equal to"
            causes.append(_invalid(path, value, f"should be {word} {_go_number(maximum)}"))
    factor = schema.get("multipleOf")
    if isinstance(factor, int | float) and factor > 0:
        quotient = value / factor
        if not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9):
            causes.append(_invalid(path, value, f"should be a multiple of {_go_number(factor)}"))


def _string(value: str, schema: Schema, path: str, causes: list[Cause]) -> None:
    fmt = schema.get("format")
    checker = _FORMATS.get(fmt) if isinstance(fmt, str) and "integer" not in _types(schema) else None
    if checker is not None and not checker(value):
        causes.append(
            _cause(
                "FieldValueTypeInvalid",
                path,
                f"Invalid value: {go_value(value)}: {path} in body must be of type {fmt}: {go_value(value)}",
            )
        )
    max_len, min_len = schema.get("maxLength"), schema.get("minLength")
    if isinstance(max_len, int) and len(value) > max_len:
        unit = "byte" if max_len == 1 else "bytes"
        causes.append(_cause("FieldValueTooLong", path, f"Too long: may not be more than {max_len} {unit}"))
    if isinstance(min_len, int) and len(value) < min_len:
        causes.append(_invalid(path, value, f"should be at least {min_len} chars long"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        compiled = _pattern(pattern)
        if compiled is not None and compiled.search(value) is None:
            causes.append(_invalid(path, value, f"should match '{pattern}'"))


def _array(value: list[Any], schema: Schema, path: str, causes: list[Cause]) -> None:
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _node(item, items, f"{path}[{i}]", causes)
    min_items, max_items = schema.get("minItems"), schema.get("maxItems")
    if isinstance(min_items, int) and len(value) < min_items:
        causes.append(_invalid(path, len(value), f"should have at least {min_items} items"))
    if isinstance(max_items, int) and len(value) > max_items:
        causes.append(
            _cause("FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {max_items} items")
        )
    if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
        seen: list[Any] = []
        for i, item in enumerate(value):
            if any(_equal(item, s) for s in seen):
                causes.append(
                    _cause("FieldValueDuplicate", f"{path}[{i}]", f"Duplicate value: {go_value(item)}")
                )
            else:
                seen.append(item)


def _object(value: dict[str, Any], schema: Schema, path: str, causes: list[Cause], *, root: bool) -> None:
    def join(key: str) -> str:
        return f"{path}.{key}" if path else key

    for key in schema.get("required") or ():
        if isinstance(key, str) and key not in value and not (root and key == "metadata"):
            causes.append(_cause("FieldValueRequired", join(key), "Required value"))
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if root and key == "metadata":
            continue
        prop = props.get(key)
        if isinstance(prop, dict):
            _node(item, prop, join(key), causes)
        elif isinstance(extra, dict):
            _node(item, extra, join(key), causes)
    min_props, max_props = schema.get("minProperties"), schema.get("maxProperties")
    if isinstance(min_props, int) and len(value) < min_props:
        causes.append(_invalid(path, len(value), f"should have at least {min_props} properties"))
    if isinstance(max_props, int) and len(value) > max_props:
        causes.append(
            _cause("FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {max_props} items")
        )
