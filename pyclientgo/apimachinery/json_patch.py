"""JSON Patch (RFC 6902) with JSON Pointer (RFC 6901), on plain JSON-like Python values.

:func:`apply_json_patch` applies the operations ``add``, ``remove``, ``replace``, ``move``,
``copy`` and ``test`` in order and returns a new document; the input is never mutated.
:func:`create_json_patch` produces a patch that turns one document into another.

Errors form a small tree rooted in :class:`PatchError` (a ``ValueError``), which the
strategic-merge and merge-patch modules share::

    PatchError
    ├── InvalidPatchError        the patch document itself is malformed (→ 400)
    └── PatchApplyError          a well-formed operation cannot be applied (→ 422)
        └── PatchTestFailedError a "test" operation did not hold
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "InvalidPatchError",
    "PatchApplyError",
    "PatchError",
    "PatchTestFailedError",
    "apply_json_patch",
    "create_json_patch",
    "deep_copy",
    "escape_pointer_token",
    "format_pointer",
    "json_equal",
    "parse_pointer",
]


class PatchError(ValueError):
    """A patch could not be decoded or applied."""


class InvalidPatchError(PatchError):
    """The patch document is malformed."""


class PatchApplyError(PatchError):
    """A well-formed patch does not apply to the document."""


class PatchTestFailedError(PatchApplyError):
    """A ``test`` operation failed."""


def deep_copy(value: Any) -> Any:
    """A copy of a JSON-like value (dicts and lists are copied, scalars shared)."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: like ``==`` but ``True`` is not ``1`` and ``1 == 1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict | list):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, int | float) or isinstance(b, int | float):
        return False
    return bool(a == b)


# ---------------------------------------------------------------------------------------------
# JSON Pointer


def escape_pointer_token(token: str) -> str:
    """Escape ``~`` and ``/`` in one reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def format_pointer(tokens: Sequence[str | int]) -> str:
    """Build a pointer from reference tokens (``[]`` is the whole document, ``""``)."""
    return "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON Pointer into unescaped reference tokens."""
    if not isinstance(pointer, str):
        raise InvalidPatchError(f"JSON pointer must be a string, got {type(pointer).__name__}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise InvalidPatchError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    tokens = []
    for raw in pointer[1:].split("/"):
        i = raw.find("~")
        while i != -1:
            if i + 1 >= len(raw) or raw[i + 1] not in "01":
                raise InvalidPatchError(f"JSON pointer {pointer!r} has an invalid '~' escape")
            i = raw.find("~", i + 2)
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _array_index(token: str, length: int, pointer: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token[0] == "0"):
        raise PatchApplyError(f"invalid array index {token!r} in path {pointer!r}")
    index = int(token)
    limit = length if allow_end else length - 1
    if index > limit:
        raise PatchApplyError(f"array index {index} out of bounds in path {pointer!r}")
    return index


def _resolve(doc: Any, tokens: list[str], pointer: str) -> Any:
    cur = doc
    for t in tokens:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchApplyError(f"path {pointer!r} does not exist")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_array_index(t, len(cur), pointer, allow_end=False)]
        else:
            raise PatchApplyError(f"path {pointer!r} does not exist")
    return cur


# ---------------------------------------------------------------------------------------------
# operations (all mutate ``doc`` in place, on the private copy made by apply_json_patch)


def _add(doc: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_array_index(last, len(parent), pointer, allow_end=True), value)
    else:
        raise PatchApplyError(f"path {pointer!r}: parent is not an object or array")
    return doc


def _remove(doc: Any, tokens: list[str], pointer: str) -> tuple[Any, Any]:
    if not tokens:
        raise PatchApplyError("cannot remove the whole document")
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchApplyError(f"path {pointer!r} does not exist")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_array_index(last, len(parent), pointer, allow_end=False))
    raise PatchApplyError(f"path {pointer!r} does not exist")


def _replace(doc: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchApplyError(f"path {pointer!r} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_array_index(last, len(parent), pointer, allow_end=False)] = value
    else:
        raise PatchApplyError(f"path {pointer!r} does not exist")
    return doc


def _field(op: Mapping[str, Any], name: str, index: int) -> Any:
    if name not in op:
        raise InvalidPatchError(f"operation {index} ({op.get('op')!r}) is missing {name!r}")
    return op[name]


def apply_json_patch(document: Any, patch: Any) -> Any:
    """Apply an RFC 6902 patch (a list of operation objects) and return the new document."""
    if not isinstance(patch, list):
        raise InvalidPatchError("a JSON patch must be a JSON array of operations")
    doc = deep_copy(document)
    for i, op in enumerate(patch):
        if not isinstance(op, Mapping):
            raise InvalidPatchError(f"operation {i} is not a JSON object")
        kind = op.get("op")
        path = _field(op, "path", i)
        tokens = parse_pointer(path)
        if kind == "add":
            doc = _add(doc, tokens, deep_copy(_field(op, "value", i)), path)
        elif kind == "remove":
            doc, _ = _remove(doc, tokens, path)
        elif kind == "replace":
            doc = _replace(doc, tokens, deep_copy(_field(op, "value", i)), path)
        elif kind in ("move", "copy"):
            source = _field(op, "from", i)
            from_tokens = parse_pointer(source)
            if kind == "move":
                if from_tokens == tokens:
                    _resolve(doc, tokens, source)
                    continue
                if tokens[: len(from_tokens)] == from_tokens:
                    raise PatchApplyError(f"cannot move {source!r} into its own child {path!r}")
                doc, value = _remove(doc, from_tokens, source)
            else:
                value = deep_copy(_resolve(doc, from_tokens, source))
            doc = _add(doc, tokens, value, path)
        elif kind == "test":
            expected = _field(op, "value", i)
            actual = _resolve(doc, tokens, path)
            if not json_equal(actual, expected):
                raise PatchTestFailedError(f"test operation for path {path!r} failed: value differs")
        else:
            raise InvalidPatchError(f"operation {i} has unknown op {kind!r}")
    return doc


# ---------------------------------------------------------------------------------------------
# diff


def _diff(original: Any, modified: Any, path: list[str | int], out: list[dict[str, Any]]) -> None:
    if json_equal(original, modified):
        return
    if isinstance(original, dict) and isinstance(modified, dict):
        for k in original:
            if k not in modified:
                out.append({"op": "remove", "path": format_pointer([*path, k])})
        for k, v in modified.items():
            if k in original:
                _diff(original[k], v, [*path, k], out)
            else:
                out.append({"op": "add", "path": format_pointer([*path, k]), "value": deep_copy(v)})
        return
    if isinstance(original, list) and isinstance(modified, list):
        common = min(len(original), len(modified))
        for i in range(common):
            _diff(original[i], modified[i], [*path, i], out)
        for i in range(len(original) - 1, common - 1, -1):
            out.append({"op": "remove", "path": format_pointer([*path, i])})
        for i in range(common, len(modified)):
            out.append({"op": "add", "path": format_pointer([*path, "-"]), "value": deep_copy(modified[i])})
        return
    out.append({"op": "replace", "path": format_pointer(path), "value": deep_copy(modified)})


def create_json_patch(original: Any, modified: Any) -> list[dict[str, Any]]:
    """A JSON patch that turns ``original`` into ``modified`` (not necessarily the shortest)."""
    out: list[dict[str, Any]] = []
    _diff(original, modified, [], out)
    return out
