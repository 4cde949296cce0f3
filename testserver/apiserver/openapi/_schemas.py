"""Model classes → OpenAPI v3 ``components.schemas``, in kube-apiserver's shape.

Walks the generated pydantic models through ``model_fields`` (annotation, alias, description,
``json_schema_extra``) and the ClassVars codegen records (``REQUIRED``, ``model_config``'s
``json_schema_extra`` with the definition's ``x-kubernetes-*`` extensions). Never calls pydantic's
``model_json_schema`` (slow, and not kube's shape).

Kubernetes' scalar-like definitions (Quantity, IntOrString, Time, MicroTime, RawExtension, FieldsV1,
apiextensions' JSON family) are plain Python types in the models; they come back here as ``$ref``\\ s
to definitions written as kube-apiserver writes them.
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
import types
import typing
from collections.abc import Iterable
from typing import Any, ForwardRef

__all__ = ["SchemaSet", "definition_name", "ref"]

_REF_PREFIX = "#/components/schemas/"

_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
_MICRO_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
_RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
_FIELDS_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"
_APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
_JSON = _APIEXT + "JSON"
_OR_ARRAY = _APIEXT + "JSONSchemaPropsOrArray"
_OR_BOOL = _APIEXT + "JSONSchemaPropsOrBool"
_OR_STRING_ARRAY = _APIEXT + "JSONSchemaPropsOrStringArray"

SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    _QUANTITY: {
        "description": "Quantity is a fixed-point representation of a number. It provides convenient "
        "marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.",
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
    _INT_OR_STRING: {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in JSON or "
        "YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you "
        "to have, for example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
    _TIME: {
        "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML "
        "and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
        "format": "date-time",
        "type": "string",
    },
    _MICRO_TIME: {
        "description": "MicroTime is version of Time with microsecond level precision.",
        "format": "date-time",
        "type": "string",
    },
    _RAW_EXTENSION: {
        "description": "RawExtension is used to hold extensions in external versions.",
        "type": "object",
    },
    _FIELDS_V1: {
        "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.",
        "type": "object",
    },
    _JSON: {
        "description": "JSON represents any valid JSON value. These types are supported: bool, int64, "
        "float64, string, []interface{}, map[string]interface{} and nil.",
    },
    _OR_ARRAY: {
        "description": "JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps "
        "or an array of JSONSchemaProps. Mainly here for serialization purposes.",
    },
    _OR_BOOL: {
        "description": "JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. Defaults "
        "to true for the boolean property.",
    },
    _OR_STRING_ARRAY: {
        "description": "JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array.",
    },
}
"""The scalar-like definitions, as kube-apiserver's v3 documents write them."""

_PRIMITIVES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}

_PREFIXES = {
    "meta": "io.k8s.apimachinery.pkg.apis.meta.",
    "apiextensions": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.",
    "apiregistration": "io.k8s.kube-aggregator.pkg.apis.apiregistration.",
}


def definition_name(cls: type[Any]) -> str:
    """The OpenAPI definition name of a generated model class, as kube names it.

    ``pyclientgo.api.core.v1.Pod`` → ``io.k8s.api.core.v1.Pod``; ``pyclientgo.api.meta.v1.X`` →
    ``io.k8s.apimachinery.pkg.apis.meta.v1.X``; ``apiextensions`` → ``io.k8s.apiextensions-apiserver.
    pkg.apis.apiextensions.v1.X``; ``apiregistration`` → ``io.k8s.kube-aggregator.pkg.apis.
    apiregistration.v1.X``; ``pyclientgo.api.version.Info`` → ``io.k8s.apimachinery.pkg.version.Info``.
    A class attribute ``OPENAPI_NAME`` (if codegen records one) wins.
    """
    recorded = getattr(cls, "OPENAPI_NAME", None)
    if isinstance(recorded, str) and recorded:
        return recorded
    parts = cls.__module__.split(".")
    if parts[:2] == ["pyclientgo", "api"] and len(parts) == 4:
        package, version = parts[2], parts[3]
        return f"{_PREFIXES.get(package, f'io.k8s.api.{package}.')}{version}.{cls.__name__}"
    if parts == ["pyclientgo", "api", "version"]:
        return f"io.k8s.apimachinery.pkg.version.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"  # not a generated model: still unique


def ref(name: str) -> str:
    return _REF_PREFIX + name


def _is_model(tp: Any) -> bool:
    from pyclientgo.apimachinery.model import K8sModel  # pydantic: imported on first build only

    return isinstance(tp, type) and issubclass(tp, K8sModel)


def _resolve(annotation: Any, owner: type[Any]) -> Any:
    """Resolve string/ForwardRef annotations (recursive definitions) in the owner's module."""
    if isinstance(annotation, str | ForwardRef):
        text = annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else annotation
        namespace = dict(vars(sys.modules[owner.__module__]))
        return eval(text, namespace)  # generated code's own annotation text
    return annotation


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        return typing.Union[tuple(args)]  # noqa: UP007 - rebuilding a union from its parts
    return annotation


class _Converter:
    """Turns one field's annotation into a schema, noting the model classes it refers to."""

    def __init__(self, owner: type[Any], owner_name: str) -> None:
        self.owner = owner
        self.owner_name = owner_name
        self.models: list[type[Any]] = []

    def scalar_ref(self, annotation: Any, wire: str, extra: dict[str, Any]) -> str | None:
        recorded = extra.get("x-openapi-ref")
        if isinstance(recorded, str):
            return recorded.rsplit("/", 1)[-1]
        fmt = extra.get("format")
        if annotation is _dt.datetime:
            return _TIME
        if annotation is str and fmt == "quantity":
            return _QUANTITY
        if fmt == "int-or-string" or set(typing.get_args(annotation)) == {int, str}:
            return _INT_OR_STRING
        if typing.get_origin(annotation) is dict and typing.get_args(annotation)[1:] == (Any,):
            return _RAW_EXTENSION
        return None

    def inner(self, annotation: Any, wire: str, extra: dict[str, Any], top: bool) -> dict[str, Any]:
        """Schema of a value; ``top`` when it is the property itself (refs wrapped in allOf)."""
        annotation = _strip_optional(_resolve(annotation, self.owner))
        if _is_model(annotation):
            self.models.append(annotation)
            wrapped: dict[str, Any] = {"allOf": [{"$ref": ref(definition_name(annotation))}]}
            if not top:
                wrapped["default"] = {}
            return wrapped
        origin = typing.get_origin(annotation)
        # codegen records which definition a list's items or a map's values stand for
        items_ref = extra.get("x-openapi-items-ref") if top else None
        if isinstance(items_ref, str) and origin in (list, dict):
            items = {"$ref": ref(items_ref)}
            if origin is list:
                return {"type": "array", "items": items}
            return {"type": "object", "additionalProperties": items}
        if origin is list:
            (item,) = typing.get_args(annotation) or (Any,)
            return {"type": "array", "items": self.inner(item, "", {}, top=False)}
        scalar = self.scalar_ref(annotation, wire, extra) if top else self.scalar_ref(annotation, "", {})
        if scalar is not None:
            return {"allOf": [{"$ref": ref(scalar)}]} if top else {"$ref": ref(scalar)}
        if origin is dict:
            items_ref = extra.get("x-openapi-items-ref") if top else None
            if isinstance(items_ref, str):
                return {"type": "object", "additionalProperties": {"$ref": ref(items_ref)}}
            value = typing.get_args(annotation)[1] if typing.get_args(annotation) else Any
            return {"type": "object", "additionalProperties": self.inner(value, "", {}, top=False)}
        if annotation in _PRIMITIVES:
            out: dict[str, Any] = {"type": _PRIMITIVES[annotation]}
            fmt = extra.get("format")
            if isinstance(fmt, str) and fmt:
                out["format"] = fmt
            return out
        return {}  # Any with no known definition: any JSON value

    def field(self, wire: str, info: Any) -> dict[str, Any]:
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        schema = self.inner(info.annotation, wire, extra, top=True)
        if info.description:
            schema["description"] = info.description
        for key, value in extra.items():
            if key.startswith("x-kubernetes-") or key == "default":
                schema[key] = value
        if list(schema) == ["allOf"]:  # kube wraps a $ref in allOf only to give it siblings
            return dict(schema["allOf"][0])
        return dict(sorted(schema.items()))


def _class_schema(cls: type[Any], name: str) -> tuple[dict[str, Any], list[type[Any]]]:
    doc = cls.__dict__.get("__doc__")
    converter = _Converter(cls, name)
    properties: dict[str, Any] = {}
    for field_name, info in cls.model_fields.items():
        wire = info.alias or field_name
        properties[wire] = converter.field(wire, info)
    schema: dict[str, Any] = {}
    if isinstance(doc, str) and doc.strip() and doc.strip() != cls.__name__:
        schema["description"] = doc.strip()
    if properties:
        schema["properties"] = dict(sorted(properties.items()))
    required = getattr(cls, "REQUIRED", None)
    if required:
        schema["required"] = sorted(required)
    schema["type"] = "object"
    config_extra = cls.model_config.get("json_schema_extra")
    if isinstance(config_extra, dict):
        for key, value in config_extra.items():
            if key.startswith("x-kubernetes-"):
                schema[key] = value
    return schema, converter.models


_cache_lock = threading.Lock()
_class_cache: dict[type[Any], tuple[str, dict[str, Any], tuple[type[Any], ...]]] = {}


def _schema_of(cls: type[Any]) -> tuple[str, dict[str, Any], tuple[type[Any], ...]]:
    cached = _class_cache.get(cls)
    if cached is None:
        name = definition_name(cls)
        schema, models = _class_schema(cls, name)
        cached = (name, schema, tuple(dict.fromkeys(models)))
        with _cache_lock:
            _class_cache[cls] = cached
    return cached


class SchemaSet:
    """The definitions a document needs: every model reachable from the ones added, plus scalars."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self._seen: set[type[Any]] = set()

    def add_model(self, cls: type[Any]) -> str:
        """Add ``cls`` and everything it refers to; returns its definition name."""
        stack = [cls]
        while stack:
            current = stack.pop()
            if current in self._seen:
                continue
            self._seen.add(current)
            name, schema, models = _schema_of(current)
            self.schemas[name] = schema
            self._add_scalars(schema)
            stack.extend(m for m in models if m not in self._seen)
        return definition_name(cls)

    def add_models(self, classes: Iterable[type[Any]]) -> None:
        for cls in classes:
            self.add_model(cls)

    def add_schema(self, name: str, schema: dict[str, Any]) -> None:
        """A definition not backed by a model (custom resources)."""
        self.schemas[name] = schema
        self._add_scalars(schema)

    def _add_scalars(self, schema: Any) -> None:
        if isinstance(schema, dict):
            target = schema.get("$ref")
            if isinstance(target, str) and target.startswith(_REF_PREFIX):
                scalar = target[len(_REF_PREFIX) :]
                if scalar in SCALAR_SCHEMAS and scalar not in self.schemas:
                    self.schemas[scalar] = SCALAR_SCHEMAS[scalar]
            for value in schema.values():
                if isinstance(value, dict | list):
                    self._add_scalars(value)
        elif isinstance(schema, list):
            for item in schema:
                self._add_scalars(item)
