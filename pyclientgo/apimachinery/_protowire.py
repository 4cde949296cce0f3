"""The protobuf wire format, just what Kubernetes' proto2 messages use: varints (wire type 0),
64-bit (1), length-delimited (2) and 32-bit (5) fields. Groups (3, 4) are rejected.

Decoding works on ``bytes`` with offsets (no copies); every malformed input raises
:class:`ProtobufError` (a ``ValueError``), never ``IndexError`` or a silent truncation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

__all__ = [
    "FIXED32",
    "FIXED64",
    "LENGTH",
    "VARINT",
    "ProtobufError",
    "append_tag",
    "append_varint",
    "iter_fields",
    "read_varint",
    "signed32",
    "signed64",
]

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

_MASK64 = (1 << 64) - 1
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


class ProtobufError(ValueError):
    """Malformed protobuf data, or a value that does not fit its protobuf field."""


def append_varint(buf: bytearray, value: int) -> None:
    """Append ``value`` as a varint (negative numbers as 64-bit two's complement, as Go does)."""
    if value < 0:
        value &= _MASK64
    while value > 0x7F:
        buf.append((value & 0x7F) | 0x80)
        value >>= 7
    buf.append(value)


def append_tag(buf: bytearray, number: int, wire_type: int) -> None:
    append_varint(buf, (number << 3) | wire_type)


def read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, next position); at most 10 bytes, within ``end``."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtobufError("unexpected end of data in a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def iter_fields(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(number, wire_type, a, b)`` per field of the message in ``data[start:end]``.

    Varint: ``a`` is the value. Fixed 64/32: ``a`` is the offset of the 8/4 bytes. Length-delimited:
    ``data[a:b]`` is the payload.
    """
    pos = start
    while pos < end:
        key, pos = read_varint(data, pos, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("invalid field number 0")
        if wire_type == VARINT:
            value, pos = read_varint(data, pos, end)
            yield number, wire_type, value, 0
        elif wire_type == LENGTH:
            size, pos = read_varint(data, pos, end)
            if size > end - pos:
                raise ProtobufError(f"field {number}: length {size} exceeds the remaining {end - pos} bytes")
            yield number, wire_type, pos, pos + size
            pos += size
        elif wire_type == FIXED64:
            if pos + 8 > end:
                raise ProtobufError("unexpected end of data in a 64-bit field")
            yield number, wire_type, pos, pos + 8
            pos += 8
        elif wire_type == FIXED32:
            if pos + 4 > end:
                raise ProtobufError("unexpected end of data in a 32-bit field")
            yield number, wire_type, pos, pos + 4
            pos += 4
        else:
            raise ProtobufError(f"field {number}: unsupported wire type {wire_type}")


def unpack_double(data: bytes, pos: int) -> float:
    value: float = _DOUBLE.unpack_from(data, pos)[0]
    return value


def unpack_float(data: bytes, pos: int) -> float:
    value: float = _FLOAT.unpack_from(data, pos)[0]
    return value


def pack_double(value: float) -> bytes:
    return _DOUBLE.pack(value)


def pack_float(value: float) -> bytes:
    return _FLOAT.pack(value)
