"""``fieldValidation`` (Strict / Warn / Ignore) for create, update and patch bodies of built-in kinds.

Kube decodes request bodies into typed objects: fields the type does not declare are dropped
(always), and with ``Strict`` they fail the request, with ``Warn`` (the default) each becomes a
``Warning: 299 - "unknown field \\"spec.foo\\""`` header. Duplicate keys in a JSON or YAML body
are reported the same way (``duplicate field "replicas"``, for YAML
``line 12: key "replicas" already set in map``); duplicates come first, then unknown fields in
sorted order, as kube lists them.

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
    """Remove from ``obj`` (in place) the fields ``schema`` does not declare; their paths, sorted."""
    out: list[str] = []
    _prune(obj, schema, "", out)
    out.sort()
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


def _yaml_duplicates(raw: bytes) -> list[tuple[int, int, str]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(raw, Loader=loader)
    except yaml.YAMLError:
        return []
    out: list[tuple[int, int, str]] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                name = str(k.value)
                if name in seen:
                    out.append((k.start_mark.line + 1, k.start_mark.column, name))
                seen.add(name)
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    out.sort()
    return out


def duplicate_fields(raw: bytes, content_type: str, parsed: Any = None) -> list[str]:
    """kube's strict-decoding messages for duplicate keys in a JSON or YAML body (document order)."""
    if not raw:
        return []
    if content_type in _YAML_TYPES:
        return [f'line {line}: key "{name}" already set in map' for line, _, name in _yaml_duplicates(raw)]
    if content_type not in ("", "application/json", "*/*") and not content_type.endswith("+json"):
        return []
    if parsed is not None and len(_KEY.findall(raw)) <= _count_keys(parsed):
        return []  # as many key tokens as decoded keys: no duplicate (the common case, cheap)
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k, v in pairs:
            if k in d:
                found.append(k)
            d[k] = v
        return d

    try:
        json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return []
    if not found:
        return []
    ordered = _yaml_duplicates(raw)  # JSON is YAML: the positions give kube's document order
    names = [name for _, _, name in ordered] if len(ordered) == len(found) else found
    return [f'duplicate field "{n}"' for n in names]


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
    problems = duplicate_fields(raw, content_type, obj) if raw else []
    problems.extend(unknown_message(u) for u in unknown)
    if not problems:
        return []
    if validation == "Strict":
        raise st.bad_request(decode_prefix + strict_message(problems))
    return warning_headers(problems)
