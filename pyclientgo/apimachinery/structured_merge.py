"""Operations on objects typed by a :class:`~pyclientgo.apimachinery.structured_schema.TypeSchema`,
as structured-merge-diff's ``typed`` package: the field set of an object, the comparison of two
objects, the apply merge, and removing a set of fields.

Objects are plain JSON-like values (dicts, lists, scalars); inputs are never mutated.

* :func:`to_field_set` — every field an object sets (leaves, list items, map entries, empty
  maps and nulls); with ``strict`` it rejects undeclared fields and bad list keys as
  :class:`SchemaError` (``.spec.foo: field not declared in schema``).
* :func:`compare` — the paths added, modified and removed between two objects.
* :func:`merge` — ``config`` merged into ``live``: scalars and atomic values replaced, granular
  maps merged key by key, associative lists merged item by item (structured-merge-diff's
  ordering: live order, with the config's items in the config's order).
* :func:`remove_items` — the object without the members of a field set.
* :func:`ensure_named_fields_are_members` — declared struct fields with children become members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyclientgo.apimachinery import fieldpath as fp
from pyclientgo.apimachinery.fieldpath import FieldSet, Path
from pyclientgo.apimachinery.json_patch import json_equal
from pyclientgo.apimachinery.structured_schema import NO_DEFAULT, TypeSchema, resolve

__all__ = [
    "Comparison",
    "SchemaError",
    "compare",
    "ensure_named_fields_are_members",
    "item_path_element",
    "merge",
    "remove_items",
    "strip_nulls",
    "to_field_set",
]

_MISSING: Any = object()


class SchemaError(ValueError):
    """An object does not fit its schema (undeclared field, bad list keys, duplicate items)."""


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _fits(schema: TypeSchema, value: Any) -> bool:
    """Whether ``value`` has the shape ``schema`` expects (maps for structs, lists for lists)."""
    if schema.kind in ("struct", "map"):
        return isinstance(value, dict)
    if schema.kind == "list":
        return isinstance(value, list)
    return not isinstance(value, dict | list)


def item_path_element(schema: TypeSchema, item: Any, position: int, *, strict: bool = False) -> str:
    """The path element of ``item`` in the list typed ``schema`` (structured-merge-diff's rules)."""
    if schema.list_type == "map" and schema.list_keys:
        if not isinstance(item, dict):
            if strict:
                raise SchemaError("associative list with keys may not have non-map elements")
            return fp.index(position)
        elem = schema.elem()
        keys: dict[str, Any] = {}
        for k in schema.list_keys:
            if k in item and item[k] is not None:
                keys[k] = item[k]
                continue
            ks = elem.field(k) if elem is not None and elem.kind == "struct" else None
            if ks is not None and ks.default is not NO_DEFAULT:
                keys[k] = ks.default
            elif strict:
                raise SchemaError(
                    f'associative list with keys has an element that omits key field "{k}" '
                    "(and doesn't have default value)"
                )
            else:
                return fp.index(position)
        return fp.key(keys)
    if schema.list_type == "set":
        if isinstance(item, dict | list) and strict:
            raise SchemaError("associative list without keys has an element that's a map type")
        return fp.value(item)
    return fp.index(position)


def _index_items(schema: TypeSchema, items: list[Any], *, strict: bool, where: Path) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            pe = item_path_element(schema, item, i, strict=strict)
        except SchemaError as e:
            raise SchemaError(f"{fp.path_string((*where, fp.index(i)))}: {e}") from None
        if pe in seen and strict:
            raise SchemaError(f"{fp.path_string(where)}: duplicate entries for key {fp.pe_string(pe)}")
        seen.add(pe)
        out.append((pe, item))
    return out


# -- field sets -------------------------------------------------------------------------------


def to_field_set(obj: Any, schema: TypeSchema, *, strict: bool = False) -> FieldSet:
    """The set of fields ``obj`` sets (structured-merge-diff's ``ToFieldSet``)."""
    out = FieldSet()
    _set_walk(obj, schema, (), out, strict)
    return out


def _set_walk(v: Any, schema: TypeSchema | None, path: Path, out: FieldSet, strict: bool) -> None:
    s = resolve(schema, v)
    if v is None or s.kind == "scalar" or not _fits(s, v):
        if path:
            out.insert(path)
        return
    if s.atomic:
        if path:
            out.insert(path)
        return
    if s.kind == "list":
        if not v and path:
            out.insert(path)  # an empty list is owned like an empty map (Go would drop it instead)
        for pe, item in _index_items(s, v, strict=strict, where=path):
            here = (*path, pe)
            _set_walk(item, s.elem(), here, out, strict)
            out.insert(here)
        return
    for k, x in v.items():
        cs, declared = s.child(k)
        here = (*path, fp.field(k))
        if cs is None:
            if strict:
                raise SchemaError(f"{fp.path_string(here)}: field not declared in schema")
            out.insert(here)
            continue
        _set_walk(x, cs, here, out, strict)
        if x is None or (isinstance(x, dict) and not x) or not declared:
            out.insert(here)


def ensure_named_fields_are_members(fset: FieldSet, schema: TypeSchema | None) -> FieldSet:
    """A copy of ``fset`` where every declared struct field that has children is also a member."""
    out = FieldSet()
    out.members = set(fset.members)
    s = schema if schema is not None else None
    for pe, sub in fset.children.items():
        child_schema: TypeSchema | None = None
        if s is not None and pe.startswith("f:") and s.kind == "struct":
            child_schema = s.field(pe[2:])
            if child_schema is not None:
                out.members.add(pe)
        elif (s is not None and s.kind in ("struct", "map") and pe.startswith("f:")) or (
            s is not None and s.kind == "list"
        ):
            child_schema = s.elem()
        out.children[pe] = ensure_named_fields_are_members(sub, child_schema)
    return out


# -- compare ----------------------------------------------------------------------------------


@dataclass
class Comparison:
    """What changed between two objects, as field sets."""

    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)

    def is_same(self) -> bool:
        return self.added.empty() and self.modified.empty() and self.removed.empty()

    def filter(self, keep: Any) -> Comparison:
        """Only the paths for which ``keep(path)`` holds."""
        return Comparison(
            FieldSet(p for p in self.added if keep(p)),
            FieldSet(p for p in self.modified if keep(p)),
            FieldSet(p for p in self.removed if keep(p)),
        )


def compare(lhs: Any, rhs: Any, schema: TypeSchema, *, implicit: frozenset[str] = frozenset()) -> Comparison:
    """The fields added, modified and removed from ``lhs`` to ``rhs`` (``TypedValue.Compare``).

    A struct or map that appears or disappears is itself added/removed (besides its fields),
    except non-empty struct-typed fields named in ``implicit``: Go always serialises those
    (non-pointer structs such as ``spec``), so kube never sees them appear.
    """
    c = Comparison()
    _cmp(lhs, rhs, schema, (), c, implicit)
    return c


def _cmp(
    lhs: Any, rhs: Any, schema: TypeSchema | None, path: Path, c: Comparison, implicit: frozenset[str]
) -> None:
    if lhs is not _MISSING and rhs is not _MISSING and type(lhs) is type(rhs) and lhs == rhs:
        return  # nothing changed below (the common case: cheap C-level equality)
    probe = rhs if rhs is not _MISSING else lhs
    s = resolve(schema, probe)
    leaf = (
        s.kind == "scalar"
        or s.atomic
        or lhs is None
        or rhs is None
        or (lhs is not _MISSING and not _fits(s, lhs))
        or (rhs is not _MISSING and not _fits(s, rhs))
    )
    if leaf:
        if not path:
            return
        if lhs is _MISSING:
            c.added.insert(path)
        elif rhs is _MISSING:
            c.removed.insert(path)
        elif not json_equal(lhs, rhs):
            c.modified.insert(path)
        return
    if s.kind == "list":
        lm = dict(_index_items(s, lhs, strict=False, where=path)) if lhs is not _MISSING else {}
        rm = dict(_index_items(s, rhs, strict=False, where=path)) if rhs is not _MISSING else {}
        for pe in [*lm, *(k for k in rm if k not in lm)]:
            _cmp(lm.get(pe, _MISSING), rm.get(pe, _MISSING), s.elem(), (*path, pe), c, implicit)
    else:
        ld = lhs if lhs is not _MISSING else {}
        rd = rhs if rhs is not _MISSING else {}
        for k in [*ld, *(k for k in rd if k not in ld)]:
            cs, _ = s.child(k)
            _cmp(ld.get(k, _MISSING), rd.get(k, _MISSING), cs, (*path, fp.field(k)), c, implicit)
    if not path:
        return
    if lhs is _MISSING:
        if not (s.kind == "struct" and path[-1][2:] in implicit and rhs):
            c.added.insert(path)
    elif rhs is _MISSING:
        c.removed.insert(path)


# -- merge ------------------------------------------------------------------------------------


def merge(live: Any, config: Any, schema: TypeSchema) -> Any:
    """``config`` merged into ``live`` (``TypedValue.Merge``); returns a new value."""
    return _merge(live, config, schema, ())


def _copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def _merge(lhs: Any, rhs: Any, schema: TypeSchema | None, path: Path) -> Any:
    if rhs is _MISSING:
        return _copy(lhs)
    if lhs is _MISSING or lhs is None or rhs is None:
        return _copy(rhs)
    s = resolve(schema, rhs)
    if s.kind == "scalar" or s.atomic or not _fits(s, lhs) or not _fits(s, rhs):
        return _copy(rhs)
    if s.kind == "list":
        return _merge_list(lhs, rhs, s, path)
    out = {k: _copy(v) for k, v in lhs.items()}
    for k, rv in rhs.items():
        cs, _ = s.child(k)
        out[k] = _merge(lhs.get(k, _MISSING), rv, cs, (*path, fp.field(k)))
    return out


def _merge_list(lhs: list[Any], rhs: list[Any], s: TypeSchema, path: Path) -> list[Any]:
    """structured-merge-diff's ``visitListItems``: keep live order, place config items in order."""
    elem = s.elem()
    rpes = _index_items(s, rhs, strict=False, where=path)
    lpes = _index_items(s, lhs, strict=False, where=path)
    observed_l: dict[str, Any] = {}
    for pe, item in lpes:
        observed_l.setdefault(pe, item)
    observed_r: dict[str, Any] = {}
    for pe, item in rpes:
        observed_r.setdefault(pe, item)
    shared = [pe for pe, _ in rpes if pe in observed_l]
    shared.reverse()
    next_shared = shared.pop() if shared else None
    merged_r: set[str] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(lpes) or ri < len(rpes):
        if li < len(lpes) and ri < len(rpes):
            pe = lpes[li][0]
            if pe == rpes[ri][0]:
                merged_r.add(pe)
                out.append(_merge(observed_l[pe], observed_r[pe], elem, (*path, pe)))
                li += 1
                ri += 1
                next_shared = shared.pop() if shared else None
                continue
            if pe in observed_r and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(lpes):
            pe = lpes[li][0]
            if pe not in observed_r:
                out.append(_copy(lpes[li][1]))
                li += 1
                continue
            if pe in merged_r:
                li += 1
                continue
        if ri < len(rpes):
            pe = rpes[ri][0]
            merged_r.add(pe)
            out.append(_merge(observed_l.get(pe, _MISSING), observed_r[pe], elem, (*path, pe)))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop() if shared else None
    return out


# -- remove -----------------------------------------------------------------------------------


def remove_items(obj: Any, fset: FieldSet, schema: TypeSchema, *, owned: FieldSet | None = None) -> Any:
    """``obj`` without the members of ``fset`` (``TypedValue.RemoveItems``).

    A map or list emptied by the removal disappears from its parent (as a nil Go map does),
    unless its own path is a member of ``owned`` (someone applies it, empty).
    """
    out, _ = _remove(obj, fset, schema, (), owned or FieldSet())
    return out


def _remove(
    v: Any, fset: FieldSet, schema: TypeSchema | None, path: Path, owned: FieldSet
) -> tuple[Any, bool]:
    """(new value, whether it was emptied by the removal and should disappear)."""
    if fset.empty():
        return _copy(v), False
    s = resolve(schema, v)
    if s.kind == "scalar" or s.atomic or not _fits(s, v):
        return _copy(v), False
    if s.kind == "list":
        items = []
        removed = False
        for i, item in enumerate(v):
            pe = item_path_element(s, item, i)
            if pe in fset.members:
                removed = True
                continue
            sub = fset.children.get(pe)
            if sub is not None:
                item, _ = _remove(item, sub, s.elem(), (*path, pe), owned)
            items.append(item if sub is not None else _copy(item))
        return items, removed and not items and not owned.has(path)
    out: dict[str, Any] = {}
    removed = False
    for k, x in v.items():
        pe = fp.field(k)
        if pe in fset.members:
            removed = True
            continue
        sub = fset.children.get(pe)
        if sub is not None:
            cs, _ = s.child(k)
            nx, emptied = _remove(x, sub, cs, (*path, pe), owned)
            if emptied:
                removed = True
                continue
            out[k] = nx
        else:
            out[k] = _copy(x)
    return out, removed and not out and not owned.has(path)


def strip_nulls(v: Any) -> Any:
    """``v`` without ``null`` map values (kube drops them when decoding into typed objects)."""
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v]
    return v
