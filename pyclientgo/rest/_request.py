"""I/O-free request building shared by the async and sync clients: URL, query, body, headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import orjson

import pyclientgo
from pyclientgo.apimachinery.model import K8sModel, to_wire
from pyclientgo.config import Config

__all__ = ["Body", "QueryParams", "QueryValue", "build_url", "encode_body", "encode_query", "header_list"]

QueryValue: TypeAlias = str | int | float | bool | Sequence[str] | None
"""A query parameter value: None is dropped, bools are ``true``/``false``, a list repeats the key."""

QueryParams: TypeAlias = Mapping[str, QueryValue]

Body: TypeAlias = bytes | bytearray | memoryview | str | Mapping[str, Any] | list[Any] | K8sModel
"""A request body that can be sent again (and so retried): bytes, text, JSON-ready data or a model."""


def _query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_query(params: QueryParams | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters as ``(name, value)`` pairs, in order, following the rules of :data:`QueryValue`."""
    out: list[tuple[str, str | int | float | bool | None]] = []
    if not params:
        return out
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (str, int, float, bool)):
            out.append((key, _query_value(value)))
        else:
            out.extend((key, _query_value(v)) for v in value if v is not None)
    return out


def build_url(host: str, path: str) -> str:
    """``host`` (with any path prefix) joined with an absolute API ``path``."""
    if not path.startswith("/"):
        path = "/" + path
    return host.rstrip("/") + path


def encode_body(body: object) -> tuple[bytes | None, bool]:
    """``(content, replayable)``. Replayable bodies become bytes; anything else (a stream) is
    returned as ``(None, False)`` and must be sent as-is, and is never retried."""
    if body is None:
        return None, True
    if isinstance(body, bytes):
        return body, True
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body), True
    if isinstance(body, str):
        return body.encode("utf-8"), True
    if isinstance(body, K8sModel):
        return body.to_json(), True
    if isinstance(body, (Mapping, list)):
        return orjson.dumps(to_wire(body)), True
    return None, False


def user_agent(config: Config) -> str:
    return config.user_agent or f"pyclientgo/{pyclientgo.__version__}"


def header_list(config: Config) -> list[tuple[str, str]]:
    """Headers on every request: User-Agent, Accept, impersonation (repeatable headers kept)."""
    pairs = [("User-Agent", user_agent(config)), ("Accept", "application/json")]
    imp = config.impersonate
    if imp is not None:
        if imp.user_name:
            pairs.append(("Impersonate-User", imp.user_name))
        if imp.uid:
            pairs.append(("Impersonate-Uid", imp.uid))
        pairs.extend(("Impersonate-Group", g) for g in imp.groups)
        pairs.extend((f"Impersonate-Extra-{k}", v) for k, vs in imp.extra.items() for v in vs)
    return pairs
