"""``fieldValidation`` (Strict / Warn / Ignore) for create, update and patch bodies of built-in kinds.

Kube decodes request bodies into typed objects: fields the type does not declare are dropped
(always), and with ``Strict`` they fail the request, with ``Warn`` (the default) each becomes a
``Warning: 299 - "unknown field \\"spec.foo\\""`` header. Duplicate keys in a JSON or YAML body
are reported the same way (``duplicate field "spec.replicas"``, for YAML
``line 12: key "replicas" already set in map``). A JSON body's problems come in document order (kube
decodes it in one pass); a YAML body's duplicates come first (found converting it to JSON).

Custom resources are pruned by their CRD's schema (``testserver.apiserver.crd``); this module only
adds the duplicate-key check for them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.apimachinery.structured_schema import TypeSchema, resolve, schema_from_model
from testserver.apiserver import status as st
from testserver.apiserver.request import Request

__all__ = [
    "check_body",
    "duplicate_fields",
    "mode",
    "prune_unknown",
    "strict_message",
    "strict_problems",
    "unknown_message",
    "warning_headers",
]

_MODES = ("Ignore", "Warn", "Strict")
_YAML_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "application/apply-patch+yaml"}
)
_KEY = re.compile(rb'"\s*:')


def mode(req: Request) -> str:
    """The request's ``fieldValidation`` (default ``Warn``); an unknown value is a 400."""
    value = req.query.get("fieldValidation", "") or "Warn"
    if value not in _MODES:
        raise st.bad_request(f"invalid fieldValidation directive: {value}")
    return value


# -- unknown fields ---------------------------------------------------------------------------


def prune_unknown(obj: Any, schema: TypeSchema) -> list[str]:
    """Remove from ``obj`` (in place) the fields ``schema`` does not declare; their paths, in the
    object's (the body's) order as kube's strict decoder meets them."""
    out: list[str] = []
    _prune(obj, schema, "", out)
    return out


def _prune(obj: Any, schema: TypeSchema | None, path: str, out: list[str]) -> None:
    s = resolve(schema, obj)
    if isinstance(obj, dict) and s.kind in ("struct", "map"):
        for k in list(obj):
            cs, _ = s.child(k)
            where = f"{path}.{k}" if path else k
            if cs is None:
                out.append(where)
                del obj[k]
            else:
                _prune(obj[k], cs, where, out)
    elif isinstance(obj, list) and s.kind == "list":
        elem = s.elem()
        for i, item in enumerate(obj):
            _prune(item, elem, f"{path}[{i}]", out)


# -- duplicate keys ---------------------------------------------------------------------------


def _count_keys(v: Any) -> int:
    if isinstance(v, dict):
        return len(v) + sum(_count_keys(x) for x in v.values())
    if isinstance(v, list):
        return sum(_count_keys(x) for x in v)
    return 0


Mark = tuple[int, int]
"""A key's position in a body: (line, column), both from the start of the document."""


def _key_marks(raw: bytes) -> tuple[list[tuple[Mark, str, str]], dict[str, Mark]]:
    """The duplicate keys of a JSON or YAML body as (position, key, field path), in document order,
    and the position of each field path's first key (paths as kube's strict decoder writes them:
    ``spec.template.spec.containers[0].name``)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(raw, Loader=loader)
    except yaml.YAMLError:
        return [], {}
    dups: list[tuple[Mark, str, str]] = []
    first: dict[str, Mark] = {}
    stack: list[tuple[Any, str]] = [(root, "")] if root is not None else []
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                name = str(k.value)
                where = f"{path}.{name}" if path else name
                mark = (k.start_mark.line + 1, k.start_mark.column)
                if name in seen:
                    dups.append((mark, name, where))
                else:
                    first[where] = mark
                seen.add(name)
                stack.append((v, where))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    dups.sort()
    return dups, first


def _json_duplicate_count(raw: bytes, parsed: Any) -> int:
    """How many duplicate keys a JSON body has (0 also for a body that is not JSON)."""
    if parsed is not None and len(_KEY.findall(raw)) <= _count_keys(parsed):
        return 0  # as many key tokens as decoded keys: no duplicate (the common case, cheap)
    found = 0

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        d: dict[str, Any] = {}
        for k, v in pairs:
            if k in d:
                found += 1
            d[k] = v
        return d

    try:
        json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return 0
    return found


def _is_json(content_type: str) -> bool:
    return content_type in ("", "application/json", "*/*") or content_type.endswith("+json")


def duplicate_fields(raw: bytes, content_type: str, parsed: Any = None) -> list[str]:
    """kube's strict-decoding messages for duplicate keys in a JSON or YAML body (document order):
    ``duplicate field "spec.replicas"`` (the field's path) for JSON, ``line 12: key "replicas"
    already set in map`` for YAML."""
    if not raw:
        return []
    if content_type in _YAML_TYPES:
        return [f'line {line}: key "{name}" already set in map' for (line, _), name, _ in _key_marks(raw)[0]]
    if not _is_json(content_type) or not _json_duplicate_count(raw, parsed):
        return []
    return [f'duplicate field "{path}"' for _, _, path in _key_marks(raw)[0]]


def strict_problems(raw: bytes | None, content_type: str, parsed: Any, unknown: list[str]) -> list[str]:
    """Every strict-decoding problem of a body, ordered as kube reports them: for JSON one pass in
    document order (``unknown field "spec.unknownField", duplicate field "spec.replicas"``), for
    YAML the duplicate keys (found converting YAML to JSON) before the unknown fields.
    ``unknown`` are the unknown fields' paths in the decoded object's order."""
    unknown_messages = [unknown_message(u) for u in unknown]
    if not raw:
        return unknown_messages
    if content_type in _YAML_TYPES or not _is_json(content_type):
        return duplicate_fields(raw, content_type, parsed) + unknown_messages
    count = _json_duplicate_count(raw, parsed)
    if not count:
        return unknown_messages
    dups, first = _key_marks(raw)
    if len(dups) != count:  # the YAML view disagrees (e.g. odd escapes): duplicates first
        return [f'duplicate field "{path}"' for _, _, path in dups] + unknown_messages
    last = (1 << 62, 0)
    ordered = [(mark, f'duplicate field "{path}"') for mark, _, path in dups]
    ordered.extend((first.get(u, last), m) for u, m in zip(unknown, unknown_messages, strict=True))
    ordered.sort(key=lambda item: item[0])
    return [m for _, m in ordered]


# -- results ----------------------------------------------------------------------------------


def unknown_message(path: str) -> str:
    """``unknown field "spec.foo"`` (the path quoted like Go's %q: control characters escaped)."""
    return f"unknown field {json.dumps(path)}"


def strict_message(problems: list[str]) -> str:
    """``runtime.NewStrictDecodingError(...).Error()``."""
    return "strict decoding error: " + ", ".join(problems)


def warning_headers(problems: list[str]) -> list[tuple[bytes, bytes]]:
    """One ``Warning: 299 - "..."`` header per problem (quoted like Go's %q, printable ASCII only)."""
    return [(b"warning", f"299 - {json.dumps(p)}".encode()) for p in problems]


def check_body(
    req: Request,
    validation: str,
    cls: type[K8sModel] | None,
    obj: dict[str, Any],
    *,
    raw: bytes | None,
    content_type: str,
    custom_unknown: list[str] | None = None,
    decode_prefix: str = "",
) -> list[tuple[bytes, bytes]]:
    """Check (and prune) ``obj``: ``Strict`` raises 400, ``Warn`` returns Warning headers.

    ``raw``/``content_type`` are the body as sent (for duplicate keys); ``custom_unknown`` the
    fields a custom resource's schema prunes; ``decode_prefix`` is put before the strict
    decoding error (create and update say ``Kind in version "v" cannot be handled as a Kind: ``).
    """
    if custom_unknown is not None:
        unknown = sorted(custom_unknown)
    elif cls is not None:
        unknown = prune_unknown(obj, schema_from_model(cls))
    else:
        unknown = []
    if validation == "Ignore":
        return []
    problems = strict_problems(raw, content_type, obj, unknown)
    if not problems:
        return []
    if validation == "Strict":
        raise st.bad_request(decode_prefix + strict_message(problems))
    return warning_headers(problems)
