"""OpenAPI schema → Python annotation.

Kubernetes' scalar-like definitions (Quantity, IntOrString, Time, RawExtension, ...) become plain
Python types; every other ``$ref`` names a generated model class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SCALAR_DEFINITIONS", "Annotation", "ScalarType", "map_schema"]


@dataclass(frozen=True, slots=True)
class ScalarType:
    expr: str
    """The Python annotation."""
    format: str | None
    """What the field's ``json_schema_extra["format"]`` records."""


_ANY = ScalarType("Any", None)
_OBJECT = ScalarType("dict[str, Any]", None)

SCALAR_DEFINITIONS: dict[str, ScalarType] = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": ScalarType("str", "quantity"),
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ScalarType("int | str", "int-or-string"),
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": ScalarType("datetime.datetime", "date-time"),
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": ScalarType("datetime.datetime", "date-time"),
    "io.k8s.apimachinery.pkg.runtime.RawExtension": _OBJECT,
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": _OBJECT,
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": _ANY,
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": _ANY,
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": _ANY,
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": _ANY,
}

_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


@dataclass(slots=True)
class Annotation:
    """A field's Python type, with what it needs."""

    expr: str
    refs: set[str] = field(default_factory=set)
    """Model definitions the annotation names (for import and ordering)."""
    format: str | None = None
    scalar_ref: str | None = None
    """The definition a scalar-mapped value stands for (Quantity, Time, MicroTime, ...)."""
    item_ref: str | None = None
    """The same for the items of a list or the values of a map."""


def ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if ref is None:
        all_of = schema.get("allOf")  # OpenAPI v3 wraps refs: {"allOf": [{"$ref": ...}]}
        if isinstance(all_of, list) and len(all_of) == 1:
            ref = all_of[0].get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[-1]


def map_schema(schema: dict[str, Any], class_expr: Any) -> Annotation:
    """The annotation for ``schema``; ``class_expr(definition)`` spells a model reference."""
    ref = ref_name(schema)
    if ref is not None:
        scalar = SCALAR_DEFINITIONS.get(ref)
        if scalar is not None:
            return Annotation(scalar.expr, format=scalar.format, scalar_ref=ref)
        return Annotation(str(class_expr(ref)), {ref})
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "string" and fmt == "date-time":
        return Annotation("datetime.datetime", format=fmt)
    if kind in _PRIMITIVES:
        return Annotation(_PRIMITIVES[kind], format=fmt)
    if kind == "array":
        inner = map_schema(schema.get("items", {}), class_expr)
        return Annotation(f"list[{inner.expr}]", inner.refs, item_ref=inner.scalar_ref)
    if kind == "object" or "additionalProperties" in schema:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            inner = map_schema(extra, class_expr)
            return Annotation(f"dict[str, {inner.expr}]", inner.refs, item_ref=inner.scalar_ref)
        return Annotation(_OBJECT.expr)
    return Annotation(_ANY.expr)
