"""Decoding a watch stream: newline-delimited JSON events, fed in arbitrary chunks.

The API server writes one ``{"type": ..., "object": ...}`` JSON document per line. The decoder keeps
the bytes of an unfinished line, scans only new bytes for the line end (a 10 MB object arriving in
64 KB chunks costs linear time), splits each event with msgspec without decoding the object, and
hands the object's raw bytes to the caller's ``decode`` (a lazy model's ``from_json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from pyclientgo.errors import DecodeError, error_for_status

__all__ = ["EVENT_TYPES", "WatchDecoder", "WatchEvent"]

T = TypeVar("T")

EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK"})


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    """One watch event: ``type`` is ADDED, MODIFIED, DELETED or BOOKMARK."""

    type: str
    object: T


class _RawEvent(msgspec.Struct):
    type: str
    object: msgspec.Raw = msgspec.Raw(b"null")


_event_decoder = msgspec.json.Decoder(_RawEvent)
_any_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


class WatchDecoder(Generic[T]):
    """Feed it chunks, iterate the events; an ERROR event raises its :class:`ApiError`."""

    def __init__(self, decode: Callable[[bytes], T]) -> None:
        self._decode = decode
        self._buf = bytearray()
        self._scanned = 0

    def feed(self, chunk: bytes) -> Iterator[WatchEvent[T]]:
        """The events completed by ``chunk`` (consume the iterator fully)."""
        buf = self._buf
        buf += chunk
        lines: list[bytes] = []
        start = 0
        pos = self._scanned
        while True:
            end = buf.find(b"\n", pos)
            if end < 0:
                break
            lines.append(bytes(buf[start:end]))
            start = pos = end + 1
        if start:
            del buf[:start]
        self._scanned = len(buf)
        for line in lines:
            event = self._event(line)
            if event is not None:
                yield event

    def close(self) -> Iterator[WatchEvent[T]]:
        """At the end of the stream: the last event, if it was not followed by a newline. A truncated
        last event (the connection ended mid-event) is dropped, as client-go treats an unexpected EOF
        as the normal end of a watch."""
        rest = bytes(self._buf)
        self._buf.clear()
        self._scanned = 0
        try:
            _event_decoder.decode(rest)
        except msgspec.DecodeError:
            return
        event = self._event(rest)
        if event is not None:
            yield event

    @property
    def pending(self) -> int:
        """Bytes of an unfinished event held in the buffer."""
        return len(self._buf)

    def _event(self, line: bytes) -> WatchEvent[T] | None:
        if not line.strip():
            return None
        try:
            raw = _event_decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"invalid watch event: {exc}: {line[:200]!r}") from exc
        if raw.type == "ERROR":
            try:
                status = _any_decoder.decode(raw.object)
            except msgspec.DecodeError as exc:
                raise DecodeError(f"invalid watch ERROR event: {line[:200]!r}") from exc
            if not isinstance(status, dict):
                raise DecodeError(f"watch ERROR event without a Status: {line[:200]!r}")
            code = status.get("code")
            raise error_for_status(status, code if isinstance(code, int) else 500)
        if raw.type not in EVENT_TYPES:
            raise DecodeError(f"got invalid watch event type: {raw.type!r}")
        return WatchEvent(raw.type, self._decode(bytes(raw.object)))
