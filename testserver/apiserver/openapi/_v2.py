"""OpenAPI v3 documents → one Swagger 2.0 document (``/openapi/v2``), in kube-apiserver's v2 shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["to_swagger"]

_V3_REF = "#/components/schemas/"
_V2_REF = "#/definitions/"

# v2 has no oneOf: kube writes these scalars as plain strings there.
_V2_SCALARS: dict[str, dict[str, Any]] = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
}


def _schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        out["$ref"] = _schema(all_of[0])["$ref"]
        for key, value in schema.items():
            if key == "allOf" or (key == "default" and value == {}):
                continue
            out[key] = _schema(value)
        return out
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = _V2_REF + value[len(_V3_REF) :] if value.startswith(_V3_REF) else value
        else:
            out[key] = _schema(value)
    return out


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in param.items() if k != "schema"}
    out.update(param.get("schema", {}))
    return out


def _operation(op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    params = [_parameter(p) for p in op.get("parameters", [])]
    body = op.get("requestBody")
    if isinstance(body, dict):
        content: dict[str, Any] = body.get("content", {})
        out["consumes"] = sorted(content)
        first: dict[str, Any] = next(iter(content.values()), {})
        schema = first.get("schema", {})
        params.insert(
            0,
            {"in": "body", "name": "body", "required": bool(body.get("required")), "schema": _schema(schema)},
        )
    produces: set[str] = set()
    responses: dict[str, Any] = {}
    for code, response in op.get("responses", {}).items():
        entry: dict[str, Any] = {"description": response.get("description", "")}
        content = response.get("content") or {}
        produces.update(content)
        if content:
            entry["schema"] = _schema(next(iter(content.values())).get("schema", {}))
        responses[code] = entry
    for key in ("description", "operationId", "tags"):
        if key in op:
            out[key] = op[key]
    if params:
        out["parameters"] = params
    if produces:
        out["produces"] = sorted(produces)
    out["responses"] = responses
    out["schemes"] = ["https"]
    for key, value in op.items():
        if key.startswith("x-kubernetes-"):
            out[key] = value
    return out


def to_swagger(documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Merge OpenAPI v3 documents (as this package builds them) into one Swagger 2.0 document."""
    definitions: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for doc in documents:
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            definitions[name] = _V2_SCALARS.get(name, {}) | _schema(
                {k: v for k, v in schema.items() if not (name in _V2_SCALARS and k == "oneOf")}
            )
        for path, item in doc.get("paths", {}).items():
            converted: dict[str, Any] = {}
            for method, op in item.items():
                if method == "parameters":
                    converted[method] = [_parameter(p) for p in op]
                else:
                    converted[method] = _operation(op)
            paths[path] = converted
    return {
        "definitions": dict(sorted(definitions.items())),
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": dict(sorted(paths.items())),
        "security": [{"BearerToken": []}],
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "in": "header",
                "name": "authorization",
                "type": "apiKey",
            }
        },
        "swagger": "2.0",
    }
