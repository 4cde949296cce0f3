"""Field paths and field sets, as structured-merge-diff's ``fieldpath`` package, and FieldsV1.

A *path element* names one step into an object. It is kept as its FieldsV1 key string:

* ``f:<name>`` — a field of a struct or a key of a map (``f:spec``, ``f:app``);
* ``k:<json>`` — an item of an associative list by its keys (``k:{"name":"nginx"}``,
  ``k:{"containerPort":80,"protocol":"TCP"}``; keys sorted by name);
* ``v:<json>`` — an item of a set by its value (``v:"example.com/finalizer"``);
* ``i:<n>`` — an item of a list by index (not produced for associative lists).

A *path* is a tuple of path elements. A :class:`FieldSet` is a set of paths stored as a tree:
each node has *members* (paths ending here) and *children* (paths going further). Its wire form
is ``FieldsV1`` (``metadata.managedFields[].fieldsV1``)::

    {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}

where ``"."`` marks that the node itself is a member while it also has children. Serialisation
orders elements as structured-merge-diff does (fields, then keys, then values, then indexes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "FieldSet",
    "FieldsV1Error",
    "Path",
    "field",
    "index",
    "key",
    "path_string",
    "pe_string",
    "value",
]

Path = tuple[str, ...]
"""A field path: a tuple of path elements (``("f:spec", "f:replicas")``)."""


class FieldsV1Error(ValueError):
    """A FieldsV1 document is malformed."""


def _canonical(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def field(name: str) -> str:
    """The path element of a struct field or a map key."""
    return "f:" + name


def key(fields: Mapping[str, Any]) -> str:
    """The path element of an associative-list item with these key fields."""
    return "k:" + _canonical(dict(sorted(fields.items())))


def value(v: Any) -> str:
    """The path element of a set item."""
    return "v:" + _canonical(v)


def index(i: int) -> str:
    """The path element of a list item by position."""
    return f"i:{i}"


def _go_string(v: Any) -> str:
    """structured-merge-diff's ``value.ToString``: strings quoted, the rest as JSON."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ",".join(_go_string(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}={_go_string(x)}" for k, x in sorted(v.items())) + "}"
    return str(v)


def pe_string(pe: str) -> str:
    """A path element as structured-merge-diff prints it (``.spec``, ``[name="x"]``, ``[="v"]``)."""
    tag, rest = pe[:2], pe[2:]
    if tag == "f:":
        return "." + rest
    if tag == "k:":
        fields = json.loads(rest)
        return "[" + ",".join(f"{k}={_go_string(v)}" for k, v in fields.items()) + "]"
    if tag == "v:":
        return "[=" + _go_string(json.loads(rest)) + "]"
    if tag == "i:":
        return "[" + rest + "]"
    return "{{invalid path element}}"


def path_string(path: Path) -> str:
    """A path as structured-merge-diff prints it: ``.spec.containers[name="nginx"].image``."""
    return "".join(pe_string(pe) for pe in path)


_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _value_order(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, int | float):
        return (2, v)
    if isinstance(v, str):
        return (3, v)
    if isinstance(v, list):
        return (4, tuple(_value_order(x) for x in v))
    if isinstance(v, dict):
        return (5, tuple((k, _value_order(x)) for k, x in sorted(v.items())))
    return (6, str(v))


@lru_cache(maxsize=8192)
def _order(pe: str) -> tuple[Any, ...]:
    tag, rest = pe[:1], pe[2:]
    rank = _RANK.get(tag, 4)
    if tag == "f":
        return (rank, rest)
    try:
        if tag == "k":
            parsed = json.loads(rest)
            return (rank, tuple((k, _value_order(v)) for k, v in parsed.items()))
        if tag == "v":
            return (rank, _value_order(json.loads(rest)))
        if tag == "i":
            return (rank, int(rest))
    except (ValueError, TypeError):
        pass
    return (rank, rest)


def _check_pe(pe: str) -> None:
    tag = pe[:2]
    if tag == "f:":
        return
    try:
        if tag == "k:":
            if not isinstance(json.loads(pe[2:]), dict):
                raise FieldsV1Error(f"invalid key path element {pe!r}")
            return
        if tag == "v:":
            json.loads(pe[2:])
            return
        if tag == "i:":
            int(pe[2:])
            return
    except ValueError:
        raise FieldsV1Error(f"invalid path element {pe!r}") from None
    raise FieldsV1Error(f"unknown path element type in {pe!r}")


class FieldSet:
    """A set of field paths (structured-merge-diff's ``fieldpath.Set``).

    Operations return new sets unless their name says ``insert``; inputs are not modified.
    """

    __slots__ = ("children", "members")

    def __init__(self, paths: Iterator[Path] | list[Path] | tuple[Path, ...] = ()) -> None:
        self.members: set[str] = set()
        self.children: dict[str, FieldSet] = {}
        for p in paths:
            self.insert(p)

    # -- building -------------------------------------------------------------------------------

    def insert(self, path: Path) -> None:
        """Add ``path`` (an empty path adds nothing)."""
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        node.members.add(path[-1])

    def child(self, pe: str) -> FieldSet:
        """The children under ``pe`` (created if missing)."""
        node = self.children.get(pe)
        if node is None:
            node = self.children[pe] = FieldSet()
        return node

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {k: v.copy() for k, v in self.children.items()}
        return out

    # -- queries --------------------------------------------------------------------------------

    def empty(self) -> bool:
        """Whether the set has no member anywhere."""
        return not self.members and all(c.empty() for c in self.children.values())

    def has(self, path: Path) -> bool:
        """Whether ``path`` is a member."""
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
            if node is None:
                return False
        return node is not None and path[-1] in node.members

    def has_prefix(self, path: Path) -> bool:
        """Whether some member starts with ``path`` (or is it)."""
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
            if node is None:
                return False
        if node is None or not path:
            return not self.empty()
        last = path[-1]
        return last in node.members or (last in node.children and not node.children[last].empty())

    def walk(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path, in structured-merge-diff's order."""
        for pe in sorted(self.members | self.children.keys(), key=_order):
            here = (*prefix, pe)
            if pe in self.members:
                yield here
            sub = self.children.get(pe)
            if sub is not None:
                yield from sub.walk(here)

    def __iter__(self) -> Iterator[Path]:
        return self.walk()

    def __len__(self) -> int:
        return len(self.members) + sum(len(c) for c in self.children.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return set(self.walk()) == set(other.walk())

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.walk()]!r})"

    # -- algebra --------------------------------------------------------------------------------

    def union(self, other: FieldSet) -> FieldSet:
        out = self.copy()
        out._union_into(other)
        return out

    def _union_into(self, other: FieldSet) -> None:
        self.members |= other.members
        for pe, sub in other.children.items():
            mine = self.children.get(pe)
            if mine is None:
                self.children[pe] = sub.copy()
            else:
                mine._union_into(sub)

    def difference(self, other: FieldSet) -> FieldSet:
        """Members of ``self`` that are not members of ``other`` (path by path)."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, sub in self.children.items():
            theirs = other.children.get(pe)
            d = sub.copy() if theirs is None else sub.difference(theirs)
            if not d.empty():
                out.children[pe] = d
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe, sub in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None:
                i = sub.intersection(theirs)
                if not i.empty():
                    out.children[pe] = i
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Like :meth:`difference`, but a member of ``other`` also removes everything under it."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, sub in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            d = sub.copy() if theirs is None else sub.recursive_difference(theirs)
            if not d.empty():
                out.children[pe] = d
        return out

    def prune_empty(self) -> FieldSet:
        """The same set without empty child nodes."""
        out = FieldSet()
        out.members = set(self.members)
        for pe, sub in self.children.items():
            if not sub.empty():
                out.children[pe] = sub.prune_empty()
        return out

    # -- FieldsV1 -------------------------------------------------------------------------------

    def to_fields_v1(self) -> dict[str, Any]:
        """The FieldsV1 document of this set."""
        return self._emit(include_self=False)

    def _emit(self, *, include_self: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if include_self and (self.members or self.children):
            out["."] = {}
        for pe in sorted(self.members | self.children.keys(), key=_order):
            sub = self.children.get(pe)
            if sub is None or sub.empty():
                if pe in self.members:
                    out[pe] = {}
                continue
            out[pe] = sub._emit(include_self=pe in self.members)
        return out

    @classmethod
    def from_fields_v1(cls, doc: Any) -> FieldSet:
        """Decode a FieldsV1 document; raise :class:`FieldsV1Error` when it is malformed."""
        if not isinstance(doc, Mapping):
            raise FieldsV1Error("FieldsV1 must be a JSON object")
        out = cls()
        out._read(doc)
        return out

    def _read(self, doc: Mapping[str, Any]) -> None:
        for pe, sub in doc.items():
            if pe == ".":
                continue
            if not isinstance(pe, str):
                raise FieldsV1Error(f"invalid path element {pe!r}")
            _check_pe(pe)
            if not isinstance(sub, Mapping):
                raise FieldsV1Error(f"the value of {pe!r} must be an object")
            if not sub or "." in sub:
                self.members.add(pe)
            if any(k != "." for k in sub):
                self.child(pe)._read(sub)
