"""The codec of the dynamic client: objects are plain JSON dicts (``Unstructured``); I/O-free."""

from __future__ import annotations

from typing import Any, TypeAlias

import orjson

from pyclientgo.kubernetes.codec import Codec
from pyclientgo.kubernetes.options import encode_body

__all__ = ["Unstructured", "UnstructuredCodec"]

Unstructured: TypeAlias = dict[str, Any]
"""An object as JSON data: ``{"apiVersion": ..., "kind": ..., "metadata": {...}, ...}``."""


class UnstructuredCodec(Codec[Unstructured, Unstructured, Unstructured, Unstructured]):
    """Objects, lists, scales and statuses are all dicts decoded with orjson."""

    def _load(self, data: bytes) -> Unstructured:
        value = orjson.loads(data)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object from the server, got {type(value).__name__}")
        return value

    def decode(self, data: bytes) -> Unstructured:
        return self._load(data)

    def decode_list(self, data: bytes) -> Unstructured:
        return self._load(data)

    def decode_scale(self, data: bytes) -> Unstructured:
        return self._load(data)

    def decode_status(self, data: bytes) -> Unstructured:
        return self._load(data)

    def decode_deleted(self, data: bytes) -> Unstructured:
        return self._load(data)

    def encode(self, obj: Any) -> bytes:
        return encode_body(obj)

    def encode_scale(self, scale: Any) -> bytes:
        return encode_body(scale)

    def identity(self, obj: Unstructured) -> tuple[str | None, str | None]:
        metadata = obj.get("metadata") or {}
        return metadata.get("name"), metadata.get("namespace")


UNSTRUCTURED = UnstructuredCodec()
"""The one shared instance (the codec holds no state)."""
