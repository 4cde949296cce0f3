"""Pruning of fields a custom resource's structural schema does not declare (kube's ``pruning``).

Fields not in ``properties`` are dropped unless the schema (or an ancestor's, up to the next
``properties``) sets ``x-kubernetes-preserve-unknown-fields: true``; ``additionalProperties``
schemas apply to every key; ``x-kubernetes-embedded-resource`` objects keep ``apiVersion``,
``kind`` and ``metadata``. At the root, ``apiVersion``, ``kind`` and ``metadata`` are always kept
and ``metadata`` is cut down to ``ObjectMeta``'s fields.

:func:`prune` returns the dropped paths (``spec.foo``, ``spec.items[0].bar``, ``metadata.foo``):
the API server reports them as unknown fields (``fieldValidation`` Warn/Strict).
"""

from __future__ import annotations

from typing import Any

from testserver.apiserver.objects import META_FIELD_ORDER

__all__ = ["OBJECT_META_FIELDS", "prune"]

Schema = dict[str, Any]

OBJECT_META_FIELDS = frozenset((*META_FIELD_ORDER, "selfLink"))
"""``ObjectMeta``'s fields: what a custom resource's ``metadata`` keeps."""
_EMBEDDED_KEEP = ("apiVersion", "kind", "metadata")


def prune(obj: dict[str, Any], schema: Schema | None) -> list[str]:
    """Drop undeclared fields of ``obj`` (a whole custom resource) in place; the dropped paths."""
    dropped: list[str] = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        _prune_meta(meta, "metadata", dropped)
    if not isinstance(schema, dict):
        return dropped
    _object(obj, schema, "", dropped, root=True)
    return dropped


def _prune_meta(meta: dict[str, Any], path: str, dropped: list[str]) -> None:
    for key in list(meta):
        if key not in OBJECT_META_FIELDS:
            del meta[key]
            dropped.append(f"{path}.{key}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _value(value: Any, schema: Schema, path: str, dropped: list[str]) -> None:
    if isinstance(value, dict):
        if schema.get("type") in (None, "object") or schema.get("x-kubernetes-preserve-unknown-fields"):
            _object(value, schema, path, dropped, root=False)
    elif isinstance(value, list) and schema.get("type") in (None, "array"):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _value(item, items, f"{path}[{i}]", dropped)


def _object(obj: dict[str, Any], schema: Schema, path: str, dropped: list[str], *, root: bool) -> None:
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    extra = schema.get("additionalProperties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(schema.get("x-kubernetes-embedded-resource"))
    for key in list(obj):
        if root and key in _EMBEDDED_KEEP:
            continue
        if embedded and key in _EMBEDDED_KEEP:
            if key == "metadata" and isinstance(obj[key], dict):
                _prune_meta(obj[key], _join(path, key), dropped)
            continue
        prop = props.get(key)
        if isinstance(prop, dict):
            _value(obj[key], prop, _join(path, key), dropped)
        elif isinstance(extra, dict):
            _value(obj[key], extra, _join(path, key), dropped)
        elif extra is True or preserve:
            continue
        else:
            del obj[key]
            dropped.append(_join(path, key))
