"""The schema that server-side apply needs: structured-merge-diff's view of a type.

Server-side apply and managed fields only ask a few things of a schema: is a value a struct
(declared fields), a map (``additionalProperties``), a list or a scalar; is a struct/map
*atomic* (``x-kubernetes-map-type: atomic``) or *granular*; is a list ``atomic``, a ``set``
or a ``map`` keyed by ``x-kubernetes-list-map-keys``; and what is the default of a list-map key
(``ContainerPort.protocol`` defaults to ``TCP``). :class:`TypeSchema` answers them.

Two builders return the same type, so built-in kinds and custom resources plug in alike:

* :func:`schema_from_model` reads a generated model class (field annotations plus the
  ``x-kubernetes-*`` extensions codegen puts in each field's ``json_schema_extra``);
* :func:`schema_from_openapi` reads an OpenAPI v3 (structural) schema dict, such as a CRD
  version's ``schema.openAPIV3Schema``; at the root it describes ``metadata`` as ObjectMeta.

Lists without ``x-kubernetes-list-type`` follow kube-openapi's ``schemaconv``: a patch strategy
``merge`` with a merge key makes a map list keyed by it, ``merge`` alone a set, else atomic.
Values a schema does not describe (``x-kubernetes-preserve-unknown-fields``, free-form JSON)
are *deduced*: objects are granular maps, lists are atomic, the rest scalars.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal

from pyclientgo.apimachinery.model import K8sModel

__all__ = [
    "NO_DEFAULT",
    "UNTYPED",
    "TypeSchema",
    "resolve",
    "schema_from_model",
    "schema_from_openapi",
]

Kind = Literal["struct", "map", "list", "scalar", "untyped"]
NO_DEFAULT: Any = object()
"""Marker: the type has no default value."""


class TypeSchema:
    """One type, as structured-merge-diff sees it. Children are built lazily (types recurse).

    * ``kind``: ``"struct"`` (declared fields, maybe extra keys typed by :meth:`elem`), ``"map"``
      (keys typed by :meth:`elem`), ``"list"`` (items typed by :meth:`elem`), ``"scalar"`` or
      ``"untyped"`` (deduced from the value: see :func:`resolve`);
    * ``atomic``: the struct/map/list is replaced and owned as a whole;
    * ``list_type``: ``"atomic"``, ``"set"`` or ``"map"``; ``list_keys`` for ``"map"``;
    * ``default``: the type's default value or :data:`NO_DEFAULT`.
    """

    __slots__ = (
        "_elem",
        "_elem_fn",
        "_fields",
        "_fields_fn",
        "atomic",
        "default",
        "kind",
        "list_keys",
        "list_type",
    )

    def __init__(
        self,
        kind: Kind,
        *,
        atomic: bool = False,
        list_type: str = "",
        list_keys: tuple[str, ...] = (),
        fields: Callable[[], dict[str, TypeSchema]] | None = None,
        elem: Callable[[], TypeSchema | None] | None = None,
        default: Any = NO_DEFAULT,
    ) -> None:
        self.kind: Kind = kind
        self.atomic = atomic or (kind == "list" and list_type not in ("set", "map"))
        self.list_type = list_type if kind == "list" else ""
        if kind == "list" and not self.list_type:
            self.list_type = "atomic"
        self.list_keys = list_keys
        self.default = default
        self._fields_fn = fields
        self._fields: dict[str, TypeSchema] | None = None
        self._elem_fn = elem
        self._elem: TypeSchema | None = None

    def fields(self) -> dict[str, TypeSchema]:
        """The declared fields of a struct (wire names)."""
        if self._fields is None:
            self._fields = self._fields_fn() if self._fields_fn is not None else {}
        return self._fields

    def field(self, name: str) -> TypeSchema | None:
        """The declared field ``name`` of a struct, or ``None``."""
        return self.fields().get(name)

    def elem(self) -> TypeSchema | None:
        """Map values / extra struct keys / list items; ``None`` when undeclared keys are errors."""
        if self._elem is None and self._elem_fn is not None:
            self._elem = self._elem_fn()
            self._elem_fn = None
        return self._elem

    def child(self, name: str) -> tuple[TypeSchema | None, bool]:
        """The type of key ``name`` of a struct/map and whether it is a declared field."""
        if self.kind == "struct":
            f = self.fields().get(name)
            if f is not None:
                return f, True
        return self.elem(), False

    def __repr__(self) -> str:
        extra = f" {self.list_type}{list(self.list_keys) or ''}" if self.kind == "list" else ""
        return f"TypeSchema({self.kind}{' atomic' if self.atomic else ''}{extra})"


UNTYPED = TypeSchema("untyped")
"""A type deduced from each value."""
_SCALAR = TypeSchema("scalar")
_DEDUCED_MAP = TypeSchema("map", elem=lambda: UNTYPED)
_DEDUCED_LIST = TypeSchema("list", list_type="atomic", elem=lambda: UNTYPED)


def resolve(schema: TypeSchema | None, value: Any) -> TypeSchema:
    """The schema to use for ``value``: ``schema``, or one deduced from the value if untyped."""
    if schema is not None and schema.kind != "untyped":
        return schema
    if isinstance(value, dict):
        return _DEDUCED_MAP
    if isinstance(value, list):
        return _DEDUCED_LIST
    return _SCALAR


# -- from generated models --------------------------------------------------------------------


def _strip(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip(args[0])
    return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, K8sModel)


def _list_semantics(extra: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    list_type = str(extra.get("x-kubernetes-list-type") or "")
    if list_type:
        return list_type, tuple(extra.get("x-kubernetes-list-map-keys") or ())
    strategy = str(extra.get("x-kubernetes-patch-strategy") or "")
    if "merge" in strategy.split(","):
        merge_key = extra.get("x-kubernetes-patch-merge-key")
        return ("map", (str(merge_key),)) if merge_key else ("set", ())
    return "atomic", ()


def _class_extra(cls: type[K8sModel]) -> Mapping[str, Any]:
    extra = cls.model_config.get("json_schema_extra")
    return extra if isinstance(extra, dict) else {}


def _from_annotation(ann: Any, extra: Mapping[str, Any]) -> TypeSchema:
    ann = _strip(ann)
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    default = extra.get("default", NO_DEFAULT)
    if _is_model(ann):
        atomic = extra.get("x-kubernetes-map-type") == "atomic"
        base = schema_from_model(ann)
        if not atomic and default is NO_DEFAULT:
            return base
        return TypeSchema(
            "struct",
            atomic=atomic or base.atomic,
            fields=base.fields,
            elem=base.elem,
            default=default,
        )
    if origin is list:
        list_type, keys = _list_semantics(extra)
        item = args[0] if args else Any
        return TypeSchema(
            "list",
            list_type=list_type,
            list_keys=keys,
            elem=lambda: _from_annotation(item, {}),
            default=default,
        )
    if origin is dict:
        value = args[1] if len(args) == 2 else Any
        return TypeSchema(
            "map",
            atomic=extra.get("x-kubernetes-map-type") == "atomic",
            elem=lambda: _from_annotation(value, {}),
            default=default,
        )
    if ann is Any or ann is object or ann is dict or ann is list:
        return UNTYPED
    if default is not NO_DEFAULT:
        return TypeSchema("scalar", default=default)
    return _SCALAR


@cache
def schema_from_model(cls: type[K8sModel]) -> TypeSchema:
    """The schema of a generated model class (cached per class)."""

    def fields() -> dict[str, TypeSchema]:
        if not cls.__pydantic_fields_complete__:
            cls.model_rebuild(raise_errors=False)
        out: dict[str, TypeSchema] = {}
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            out[info.alias or name] = _from_annotation(info.annotation, extra)
        return out

    return TypeSchema(
        "struct", atomic=_class_extra(cls).get("x-kubernetes-map-type") == "atomic", fields=fields
    )


# -- from OpenAPI v3 (structural schemas) ------------------------------------------------------

_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})


def _from_openapi(s: Any) -> TypeSchema:
    if not isinstance(s, Mapping):
        return UNTYPED
    default = s.get("default", NO_DEFAULT)
    if s.get("x-kubernetes-int-or-string") or s.get("type") in _SCALAR_TYPES:
        return TypeSchema("scalar", default=default) if default is not NO_DEFAULT else _SCALAR
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    kind = s.get("type")
    if kind == "array":
        items = s.get("items")
        list_type = str(s.get("x-kubernetes-list-type") or "atomic")
        return TypeSchema(
            "list",
            list_type=list_type,
            list_keys=tuple(s.get("x-kubernetes-list-map-keys") or ()),
            elem=lambda: _from_openapi(items) if isinstance(items, Mapping) else UNTYPED,
            default=default,
        )
    props = s.get("properties")
    addl = s.get("additionalProperties")
    atomic = s.get("x-kubernetes-map-type") == "atomic"
    if kind == "object" or props or addl is not None:
        if isinstance(props, Mapping) and props:

            def elem() -> TypeSchema | None:
                if isinstance(addl, Mapping):
                    return _from_openapi(addl)
                return UNTYPED if preserve or addl is True else None

            return TypeSchema(
                "struct",
                atomic=atomic,
                fields=lambda: {k: _from_openapi(v) for k, v in props.items()},
                elem=elem,
                default=default,
            )
        if isinstance(addl, Mapping):
            return TypeSchema("map", atomic=atomic, elem=lambda: _from_openapi(addl), default=default)
        return TypeSchema("map", atomic=atomic, elem=lambda: UNTYPED, default=default)
    return UNTYPED


def schema_from_openapi(openapi_schema: Mapping[str, Any], *, root: bool = True) -> TypeSchema:
    """The schema of an OpenAPI v3 schema dict (e.g. a CRD's ``openAPIV3Schema``).

    With ``root`` (the default) the schema describes a whole object: ``apiVersion`` and ``kind``
    are scalars and ``metadata`` is ObjectMeta whatever the dict says.
    """
    base = _from_openapi(openapi_schema)
    if not root:
        return base

    def fields() -> dict[str, TypeSchema]:
        from pyclientgo.api.meta.v1 import ObjectMeta

        out = dict(base.fields()) if base.kind == "struct" else {}
        out["apiVersion"] = _SCALAR
        out["kind"] = _SCALAR
        out["metadata"] = schema_from_model(ObjectMeta)
        return out

    def elem() -> TypeSchema | None:
        if base.kind == "struct":
            return base.elem()
        if base.kind in ("map", "untyped"):
            return base.elem() if base.kind == "map" else UNTYPED
        return None

    return TypeSchema("struct", fields=fields, elem=elem)
