"""Structural-schema defaulting of custom resources (kube's ``structuraldefaulting``).

A property's ``default`` is applied when the property is missing, or ``null`` while the schema
does not allow ``null`` (``nullable: false``); a ``null`` that is not allowed and has no default is
removed. Defaulting runs on create and update (after pruning) and on every read from storage, so
objects stored before a default was added to the schema get it too.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["apply_defaults", "has_defaults"]

Schema = dict[str, Any]


def has_defaults(schema: Schema | None) -> bool:
    """Whether any node of ``schema`` declares a ``default`` (reads skip defaulting otherwise)."""
    if not isinstance(schema, dict):
        return False
    if "default" in schema:
        return True
    for prop in (schema.get("properties") or {}).values():
        if has_defaults(prop):
            return True
    extra = schema.get("additionalProperties")
    return has_defaults(extra) or has_defaults(schema.get("items"))


def apply_defaults(obj: dict[str, Any], schema: Schema | None) -> None:
    """Default ``obj`` (a whole custom resource) in place; ``metadata`` is left alone."""
    if not isinstance(schema, dict):
        return
    _object(obj, schema, root=True)


def _value(value: Any, schema: Schema) -> None:
    if isinstance(value, dict):
        _object(value, schema, root=False)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                if item is None and "default" in items and not items.get("nullable"):
                    value[i] = copy.deepcopy(items["default"])
                _value(value[i], items)


def _object(obj: dict[str, Any], schema: Schema, *, root: bool) -> None:
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, prop in props.items():
            if not isinstance(prop, dict) or (root and key == "metadata"):
                continue
            if key not in obj or (obj[key] is None and not prop.get("nullable")):
                if "default" in prop:
                    obj[key] = copy.deepcopy(prop["default"])
                elif key in obj:
                    del obj[key]  # a null the schema does not allow, and no default for it
                    continue
                else:
                    continue
            _value(obj[key], prop)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        known = props if isinstance(props, dict) else {}
        for key in list(obj):
            if key in known:
                continue
            if obj[key] is None and not extra.get("nullable") and "default" in extra:
                obj[key] = copy.deepcopy(extra["default"])
            _value(obj[key], extra)
