"""JSON Merge Patch (RFC 7386): apply a merge patch and create one from two documents.

A merge patch is a partial document: objects merge recursively, ``null`` deletes a key, and
anything else (including arrays) replaces the target value. Inputs are never mutated.
A merge patch cannot set a value to ``null``; :func:`create_merge_patch` therefore assumes the
documents it compares hold no ``null`` inside objects.
"""

from __future__ import annotations

from typing import Any

from pyclientgo.apimachinery.json_patch import deep_copy, json_equal

__all__ = [
    "apply_merge_patch",
    "create_merge_patch",
]


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return deep_copy(value)


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` (RFC 7386 ``MergePatch``) and return the result."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            result[k] = apply_merge_patch(result.get(k), v)
        else:
            result[k] = deep_copy(v)
    # values taken unchanged from target are still shared; copy them so callers own the result
    for k in result.keys() - patch.keys():
        result[k] = deep_copy(result[k])
    return result


def create_merge_patch(original: Any, modified: Any) -> Any:
    """A merge patch ``p`` with ``apply_merge_patch(original, p) == modified``.

    ``{}`` means no change. When either side is not an object, the patch is ``modified``.
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return _strip_nulls(modified) if isinstance(modified, dict) else deep_copy(modified)
    patch: dict[str, Any] = {}
    for k in original:
        if k not in modified:
            patch[k] = None
    for k, v in modified.items():
        if k not in original:
            patch[k] = _strip_nulls(v)
        elif isinstance(v, dict) and isinstance(original[k], dict):
            sub = create_merge_patch(original[k], v)
            if sub:
                patch[k] = sub
        elif not json_equal(original[k], v):
            patch[k] = _strip_nulls(v)
    return patch
