from __future__ import annotations

from typing import Any

import pytest

from codegen.typemap import map_schema


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


@pytest.mark.parametrize(
    ("schema", "expr", "fmt"),
    [
        ({"type": "string"}, "str", None),
        ({"type": "string", "format": "byte"}, "str", "byte"),
        ({"type": "integer", "format": "int32"}, "int", "int32"),
        ({"type": "number", "format": "double"}, "float", "double"),
        ({"type": "boolean"}, "bool", None),
        ({"type": "array", "items": {"type": "string"}}, "list[str]", None),
        ({"type": "object", "additionalProperties": {"type": "string"}}, "dict[str, str]", None),
        ({"type": "object"}, "dict[str, Any]", None),
        ({}, "Any", None),
        (_ref("io.k8s.apimachinery.pkg.api.resource.Quantity"), "str", "quantity"),
        (_ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"), "int | str", "int-or-string"),
        (_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Time"), "datetime.datetime", "date-time"),
        (_ref("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"), "datetime.datetime", "date-time"),
        (_ref("io.k8s.apimachinery.pkg.runtime.RawExtension"), "dict[str, Any]", None),
        (_ref("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"), "dict[str, Any]", None),
        (_ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"), "Any", None),
        (
            _ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool"),
            "Any",
            None,
        ),
    ],
)
def test_scalars(schema: dict[str, Any], expr: str, fmt: str | None) -> None:
    ann = map_schema(schema, lambda d: "X")
    assert (ann.expr, ann.format, ann.refs) == (expr, fmt, set())


def test_model_refs() -> None:
    pod = "io.k8s.api.core.v1.Pod"
    ann = map_schema(
        {"type": "object", "additionalProperties": {"type": "array", "items": _ref(pod)}},
        lambda d: "core_v1." + d.rsplit(".", 1)[1],
    )
    assert ann.expr == "dict[str, list[core_v1.Pod]]"
    assert ann.refs == {pod}


def test_v3_allof_ref() -> None:
    ann = map_schema({"allOf": [_ref("io.k8s.api.core.v1.PodSpec")]}, lambda d: "PodSpec")
    assert ann.expr == "PodSpec"
