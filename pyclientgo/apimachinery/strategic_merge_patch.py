"""Kubernetes strategic merge patch: apply it, and create it from two or three documents.

A strategic merge patch is a JSON merge patch whose lists may merge instead of being replaced,
field by field as the schema says (see :mod:`pyclientgo.apimachinery.patch_meta`):

* strategy ``merge`` on a list of maps merges items by the field's merge key (containers by
  ``name``, ports by ``containerPort``); on a list of scalars it is a set union (finalizers);
* strategy ``replace`` (and the default for lists) replaces the whole value;
* strategy ``retainKeys`` makes the patcher emit / honour ``$retainKeys``, which clears the
  keys of the original map that the list does not name (volume sources, deployment strategy).

Directives inside a patch:

* ``"$patch": "replace"`` in a map replaces the map; in a list (as ``{"$patch": "replace"}``)
  replaces the list with the other items; ``"$patch": "delete"`` deletes a map, or the list
  item with the same merge key (``{"name": "x", "$patch": "delete"}``);
* ``"$setElementOrder/<field>": [...]`` gives the order of the merged list;
* ``"$deleteFromPrimitiveList/<field>": [...]`` removes values from a merged list of scalars;
* ``"$retainKeys": [...]`` keeps only the listed keys of the original map.

:func:`strategic_merge` applies a patch as the API server does (``null`` deletes a key and is
dropped elsewhere). :func:`create_two_way_merge_patch` diffs two documents (what
``kubectl edit``/``patch`` send) and :func:`create_three_way_merge_patch` builds the patch
``kubectl apply`` sends from the last-applied configuration, the new configuration and the live
object. Inputs are never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pyclientgo.apimachinery.json_patch import InvalidPatchError, deep_copy, json_equal
from pyclientgo.apimachinery.patch_meta import EMPTY_LOOKUP, LookupPatchMeta, PatchMeta

__all__ = [
    "DELETE_FROM_PRIMITIVE_LIST_PREFIX",
    "DIRECTIVE_MARKER",
    "RETAIN_KEYS_DIRECTIVE",
    "SET_ELEMENT_ORDER_PREFIX",
    "create_three_way_merge_patch",
    "create_two_way_merge_patch",
    "strategic_merge",
]

DIRECTIVE_MARKER = "$patch"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList/"
_REPLACE = "replace"
_MERGE = "merge"
_DELETE = "delete"
# apimachinery's mergepatch errors (the API server answers 400 with these messages)
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


def _is_directive_key(key: str) -> bool:
    return (
        key in (DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE)
        or key.startswith(SET_ELEMENT_ORDER_PREFIX)
        or key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
    )


def _scalar_key(value: Any) -> tuple[str, Any]:
    """A hashable identity for a scalar with JSON equality (``True`` is not ``1``)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, dict | list):
        return ("x", repr(value))
    return ("s", value)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _element_kind(*lists: list[Any]) -> str:
    """``"map"``, ``"scalar"`` or ``""`` (no elements); mixed or nested lists are errors."""
    kinds = {_kind(v) for lst in lists for v in lst}
    if not kinds:
        return ""
    if "list" in kinds:
        raise InvalidPatchError("lists of lists are not supported")
    if len(kinds) > 1:
        raise InvalidPatchError("cannot merge a list whose elements have different types")
    return kinds.pop()


def _merge_key_value(item: Any, merge_key: str) -> tuple[str, Any]:
    if not isinstance(item, dict) or merge_key not in item:
        raise InvalidPatchError(f"map: {item!r} does not contain declared merge key: {merge_key}")
    return _scalar_key(item[merge_key])


def _identity(item: Any, merge_key: str) -> tuple[str, Any]:
    return _merge_key_value(item, merge_key) if merge_key else _scalar_key(item)


# ---------------------------------------------------------------------------------------------
# apply


def _clean(value: Any) -> tuple[Any, bool]:
    """A patch value for a place with nothing to merge into: drop directives and nulls.

    Returns ``(value, keep)``; ``keep`` is false for a map carrying ``$patch: delete``.
    """
    if isinstance(value, dict):
        if value.get(DIRECTIVE_MARKER) == _DELETE:
            return None, False
        out: dict[str, Any] = {}
        for k, v in value.items():
            if v is None or _is_directive_key(k):
                continue
            cleaned, keep = _clean(v)
            if keep:
                out[k] = cleaned
        return out, True
    if isinstance(value, list):
        items: list[Any] = []
        for v in value:
            if isinstance(v, dict) and DIRECTIVE_MARKER in v and len(v) == 1:
                continue
            cleaned, keep = _clean(v)
            if keep:
                items.append(cleaned)
        return items, True
    return value, True


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise InvalidPatchError(_BAD_RETAIN_KEYS)
    keep = {k for k in retain if isinstance(k, str)}
    for k, v in patch.items():
        if v is None or _is_directive_key(k):
            continue
        if k not in keep:
            raise InvalidPatchError(_BAD_RETAIN_KEYS)
    for k in list(original):
        if k not in keep:
            del original[k]


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: LookupPatchMeta) -> dict[str, Any]:
    if DIRECTIVE_MARKER in patch:
        directive = patch[DIRECTIVE_MARKER]
        if directive == _REPLACE:
            cleaned, _ = _clean({k: v for k, v in patch.items() if k != DIRECTIVE_MARKER})
            result: dict[str, Any] = cleaned
            return result
        if directive == _DELETE:
            return {}
        raise InvalidPatchError(f"unknown patch type: {directive} in map: {patch!r}")
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, schema)
    for key, patch_value in patch.items():
        if key.startswith(SET_ELEMENT_ORDER_PREFIX):
            continue
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        if is_delete_list:
            key = key[len(DELETE_FROM_PRIMITIVE_LIST_PREFIX) :]
            if not isinstance(patch_value, list):
                raise InvalidPatchError(_BAD_PRIMITIVE_LIST)
        if patch_value is None:
            original.pop(key, None)
            continue
        if key not in original or _kind(original[key]) != _kind(patch_value):
            if not is_delete_list:
                value, keep = _clean(patch_value)
                if keep:
                    original[key] = value
                else:
                    original.pop(key, None)
            continue
        current = original[key]
        if isinstance(current, dict):
            sub, meta = schema.lookup_for_struct(key)
            if meta.strategy == _REPLACE:
                original[key] = _clean(patch_value)[0]
            else:
                original[key] = _merge_map(current, patch_value, sub)
        elif isinstance(current, list):
            sub, meta = schema.lookup_for_slice(key)
            if is_delete_list:
                drop = {_scalar_key(v) for v in patch_value}
                original[key] = [v for v in current if _scalar_key(v) not in drop]
            elif meta.strategy == _MERGE:
                original[key] = _merge_slice(current, patch_value, sub, meta.merge_key)
            else:
                original[key] = _clean(patch_value)[0]
        else:
            original[key] = patch_value
    return original


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], schema: LookupPatchMeta) -> None:
    """Merge the lists that have a ``$setElementOrder`` and order them by it."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER_PREFIX)]:
        order = patch[key]
        if not isinstance(order, list):
            raise InvalidPatchError(_BAD_SET_ELEMENT_ORDER)
        field = key[len(SET_ELEMENT_ORDER_PREFIX) :]
        original_list = original.get(field)
        patch_list = patch.get(field)
        if original_list is not None and not isinstance(original_list, list):
            raise InvalidPatchError(_BAD_SET_ELEMENT_ORDER)
        if patch_list is not None and not isinstance(patch_list, list):
            raise InvalidPatchError(_BAD_SET_ELEMENT_ORDER)
        sub, meta = schema.lookup_for_slice(field)
        merge_key = meta.merge_key
        if patch_list is not None:
            _validate_order(patch_list, order, merge_key)
        if original_list is not None and patch_list is not None:
            if meta.strategy == _MERGE:
                merged = _merge_slice(original_list, patch_list, sub, merge_key)
            else:
                merged = _clean(patch_list)[0]
        elif patch_list is not None:
            merged = _clean(patch_list)[0]
        elif original_list is not None:
            merged = original_list
        else:
            continue
        in_order = {_identity(v, merge_key) for v in order}
        patch_items = [v for v in merged if _identity(v, merge_key) in in_order]
        server_only = [v for v in merged if _identity(v, merge_key) not in in_order]
        original[field] = _normalize_element_order(
            patch_items, server_only, order, original_list or [], merge_key
        )
        patch.pop(field, None)


def _validate_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    items = [v for v in patch_list if not (isinstance(v, dict) and DIRECTIVE_MARKER in v)]
    i = j = 0
    while i < len(items) and j < len(order):
        if _identity(items[i], merge_key) == _identity(order[j], merge_key):
            i += 1
        j += 1
    if i < len(items):
        raise InvalidPatchError(
            f"the order in patch list {patch_list!r} doesn't match {SET_ELEMENT_ORDER_PREFIX} list {order!r}"
        )


def _merge_slice(original: list[Any], patch: list[Any], schema: LookupPatchMeta, merge_key: str) -> list[Any]:
    if not original and not patch:
        return original
    if any(isinstance(v, dict) and v.get(DIRECTIVE_MARKER) == _REPLACE for v in patch):
        rest = [v for v in patch if not (isinstance(v, dict) and v.get(DIRECTIVE_MARKER) == _REPLACE)]
        result: list[Any] = _clean(rest)[0]
        return result
    kind = _element_kind(original, patch)
    if kind == "scalar":
        merged: list[Any] = []
        seen: set[tuple[str, Any]] = set()
        for v in (*original, *patch):
            ident = _scalar_key(v)
            if ident not in seen:
                seen.add(ident)
                merged.append(v)
        return _normalize_element_order(*_partition(merged, patch, ""), patch, original, "")
    if not merge_key:
        raise InvalidPatchError("cannot merge lists of maps without a merge key")
    plain: list[Any] = []
    for item in patch:
        directive = item.get(DIRECTIVE_MARKER)
        if directive is None:
            plain.append(item)
        elif directive == _DELETE:
            ident = _merge_key_value(item, merge_key)
            original = [v for v in original if _merge_key_value(v, merge_key) != ident]
        elif directive == _MERGE:
            raise InvalidPatchError("merging lists cannot yet be specified in the patch")
        else:
            raise InvalidPatchError(f"unknown patch type: {directive} in list item: {item!r}")
    merged = list(original)
    index = {_merge_key_value(v, merge_key): i for i, v in enumerate(merged)}
    for item in plain:
        ident = _merge_key_value(item, merge_key)
        if ident in index:
            merged[index[ident]] = _merge_map(merged[index[ident]], item, schema)
        else:
            value, keep = _clean(item)
            if keep:
                index[ident] = len(merged)
                merged.append(value)
    return _normalize_element_order(*_partition(merged, plain, merge_key), plain, original, merge_key)


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    present = {_identity(v, merge_key) for v in by}
    return (
        [v for v in merged if _identity(v, merge_key) in present],
        [v for v in merged if _identity(v, merge_key) not in present],
    )


def _sort_by(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    position: dict[tuple[str, Any], int] = {}
    for i, v in enumerate(order):
        position.setdefault(_identity(v, merge_key), i)
    known = [v for v in items if _identity(v, merge_key) in position]
    unknown = [v for v in items if _identity(v, merge_key) not in position]
    known.sort(key=lambda v: position[_identity(v, merge_key)])
    return known + unknown


def _normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
) -> list[Any]:
    """Order patch items by ``patch_order`` and server-only items by ``server_order``, then interleave.

    A server-only item goes before a patch item when both appear in ``server_order`` and the
    server-only item comes first there; otherwise patch items go first.
    """
    right = _sort_by(patch_items, patch_order, merge_key)
    left = _sort_by(server_only, server_order, merge_key)
    position: dict[tuple[str, Any], int] = {}
    for i, v in enumerate(server_order):
        position.setdefault(_identity(v, merge_key), i)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            li = position.get(_identity(left[i], merge_key))
            ri = position.get(_identity(right[j], merge_key))
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def strategic_merge(
    original: Mapping[str, Any] | None, patch: Mapping[str, Any], meta: LookupPatchMeta | None = None
) -> dict[str, Any]:
    """Apply a strategic merge ``patch`` to ``original`` as the API server does; return a new dict.

    ``meta`` describes the top-level type (``None`` knows nothing: JSON-merge semantics).
    Malformed patches raise :class:`~pyclientgo.apimachinery.json_patch.InvalidPatchError`.
    """
    if original is not None and not isinstance(original, Mapping):
        raise InvalidPatchError("the original document of a strategic merge patch must be an object")
    if not isinstance(patch, Mapping):
        raise InvalidPatchError("a strategic merge patch must be a JSON object")
    return _merge_map(deep_copy(dict(original or {})), deep_copy(dict(patch)), meta or EMPTY_LOOKUP)


# ---------------------------------------------------------------------------------------------
# create


@dataclass(frozen=True, slots=True)
class _DiffOptions:
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    set_element_order: bool = True
    build_retain_keys: bool = False


def _diff_maps(
    original: dict[str, Any], modified: dict[str, Any], schema: LookupPatchMeta, opts: _DiffOptions
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    additions = not opts.ignore_changes_and_additions
    for key, mod in modified.items():
        if key not in original:
            if additions:
                patch[key] = deep_copy(mod)
            continue
        orig = original[key]
        if _kind(orig) != _kind(mod) or (orig is None) != (mod is None):
            if additions:
                patch[key] = deep_copy(mod)
        elif isinstance(orig, dict):
            sub, meta = schema.lookup_for_struct(key)
            if meta.strategy == _REPLACE:
                if additions and not json_equal(orig, mod):
                    patch[key] = deep_copy(mod)
            else:
                sub_patch = _diff_maps(orig, mod, sub, replace(opts, build_retain_keys=meta.retain_keys))
                if sub_patch:
                    patch[key] = sub_patch
        elif isinstance(orig, list):
            sub, meta = schema.lookup_for_slice(key)
            if meta.strategy == _MERGE:
                item_opts = replace(opts, build_retain_keys=meta.retain_keys)
                add, delete, order = _diff_lists(orig, mod, sub, meta.merge_key, item_opts)
                if add:
                    patch[key] = add
                if delete:
                    patch[DELETE_FROM_PRIMITIVE_LIST_PREFIX + key] = delete
                if order:
                    patch[SET_ELEMENT_ORDER_PREFIX + key] = order
            elif additions and not json_equal(orig, mod):
                patch[key] = deep_copy(mod)
        elif additions and not json_equal(orig, mod):
            patch[key] = mod
    if not opts.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    if opts.build_retain_keys:
        retain = sorted(k for k, v in modified.items() if v is not None)
        extra = any(v is not None and k not in modified for k, v in original.items())
        if retain and (patch or extra):
            patch[RETAIN_KEYS_DIRECTIVE] = retain
    return patch


def _diff_lists(
    original: list[Any], modified: list[Any], schema: LookupPatchMeta, merge_key: str, opts: _DiffOptions
) -> tuple[list[Any], list[Any], list[Any]]:
    kind = _element_kind(original, modified)
    if not kind:
        return [], [], []
    additions = not opts.ignore_changes_and_additions
    deletions = not opts.ignore_deletions
    if kind == "scalar":
        have = {_scalar_key(v) for v in original}
        want = {_scalar_key(v) for v in modified}
        add = _dedupe([v for v in modified if _scalar_key(v) not in have]) if additions else []
        delete = _dedupe([v for v in original if _scalar_key(v) not in want]) if deletions else []
        order: list[Any] = []
        if opts.set_element_order and (
            (deletions and delete) or (additions and not json_equal(original, modified))
        ):
            order = deep_copy(modified)
        return add, delete, order
    if not merge_key:
        raise InvalidPatchError("cannot diff lists of maps without a merge key")
    by_key = {_merge_key_value(v, merge_key): v for v in original}
    wanted = {_merge_key_value(v, merge_key) for v in modified}
    patch_list: list[Any] = []
    for item in modified:
        ident = _merge_key_value(item, merge_key)
        if ident in by_key:
            sub_patch = _diff_maps(by_key[ident], item, schema, opts)
            if sub_patch:
                sub_patch[merge_key] = item[merge_key]
                patch_list.append(sub_patch)
        elif additions:
            patch_list.append(deep_copy(item))
    if deletions:
        for item in original:
            if _merge_key_value(item, merge_key) not in wanted:
                patch_list.append({merge_key: item[merge_key], DIRECTIVE_MARKER: _DELETE})
    order_same = len(original) == len(modified) and all(
        _merge_key_value(a, merge_key) == _merge_key_value(b, merge_key)
        for a, b in zip(original, modified, strict=True)
    )
    order = []
    if opts.set_element_order and (
        (additions and (patch_list or not order_same)) or (deletions and patch_list)
    ):
        order = [{merge_key: v[merge_key]} for v in modified]
    return patch_list, [], order


def _dedupe(values: list[Any]) -> list[Any]:
    seen: set[tuple[str, Any]] = set()
    out = []
    for v in values:
        if _scalar_key(v) not in seen:
            seen.add(_scalar_key(v))
            out.append(v)
    return out


def _require_maps(**docs: Any) -> None:
    for name, doc in docs.items():
        if doc is not None and not isinstance(doc, Mapping):
            raise InvalidPatchError(f"{name} must be a JSON object to create a strategic merge patch")


def create_two_way_merge_patch(
    original: Mapping[str, Any], modified: Mapping[str, Any], meta: LookupPatchMeta | None = None
) -> dict[str, Any]:
    """The strategic merge patch that turns ``original`` into ``modified``.

    ``strategic_merge(original, patch, meta) == modified`` for documents without ``null`` values
    and without duplicates in merged lists of scalars.
    """
    _require_maps(original=original, modified=modified)
    return _diff_maps(dict(original), dict(modified), meta or EMPTY_LOOKUP, _DiffOptions())


def create_three_way_merge_patch(
    original: Mapping[str, Any] | None,
    modified: Mapping[str, Any],
    current: Mapping[str, Any],
    meta: LookupPatchMeta | None = None,
) -> dict[str, Any]:
    """The patch ``kubectl apply`` sends: ``original`` is the last-applied configuration
    (``None`` when there is none), ``modified`` the new configuration, ``current`` the live object.

    Fields that ``modified`` sets are made to match it (changes computed against ``current``);
    fields that were in ``original`` but are gone from ``modified`` are deleted; fields only the
    live object has (set by other actors) are left alone. Always overwrites: no conflict check.
    """
    _require_maps(original=original, modified=modified, current=current)
    schema = meta or EMPTY_LOOKUP
    delta = _diff_maps(dict(current), dict(modified), schema, _DiffOptions(ignore_deletions=True))
    deletions = _diff_maps(
        dict(original or {}), dict(modified), schema, _DiffOptions(ignore_changes_and_additions=True)
    )
    return _merge_patches(deletions, delta, schema)


def _merge_patches(first: dict[str, Any], second: dict[str, Any], schema: LookupPatchMeta) -> dict[str, Any]:
    """Combine two patches computed from the same ``modified`` document into one."""
    out = dict(first)
    for key, value in second.items():
        if key not in out:
            out[key] = value
            continue
        prev = out[key]
        if (
            key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            and isinstance(prev, list)
            and isinstance(value, list)
        ):
            out[key] = _dedupe([*prev, *value])
        elif _is_directive_key(key):
            out[key] = value
        elif isinstance(prev, dict) and isinstance(value, dict):
            sub, meta = schema.lookup_for_struct(key)
            out[key] = value if meta.strategy == _REPLACE else _merge_patches(prev, value, sub)
        elif isinstance(prev, list) and isinstance(value, list):
            sub, meta = schema.lookup_for_slice(key)
            if meta.strategy == _MERGE:
                order = second.get(SET_ELEMENT_ORDER_PREFIX + key, first.get(SET_ELEMENT_ORDER_PREFIX + key))
                out[key] = _merge_patch_lists(
                    prev, value, sub, meta, order if isinstance(order, list) else None
                )
            else:
                out[key] = value
        else:
            out[key] = value
    return out


def _merge_patch_lists(
    first: list[Any], second: list[Any], schema: LookupPatchMeta, meta: PatchMeta, order: list[Any] | None
) -> list[Any]:
    if _element_kind(first, second) != "map" or not meta.merge_key:
        return _dedupe([*first, *second])
    merged = list(first)
    index = {_merge_key_value(v, meta.merge_key): i for i, v in enumerate(merged)}
    for item in second:
        ident = _merge_key_value(item, meta.merge_key)
        if ident in index:
            merged[index[ident]] = _merge_patches(merged[index[ident]], item, schema)
        else:
            index[ident] = len(merged)
            merged.append(item)
    if order is None:
        return merged
    # Keep the items in $setElementOrder order (deletions last) so the patch stays consistent.
    deletes = [v for v in merged if v.get(DIRECTIVE_MARKER) == _DELETE]
    rest = [v for v in merged if v.get(DIRECTIVE_MARKER) != _DELETE]
    return _sort_by(rest, order, meta.merge_key) + deletes
