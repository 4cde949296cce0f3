"""The base of every generated Kubernetes model: pydantic v2, decoded lazily from the wire.

A model built in Python (``Pod(metadata=...)``) is an ordinary pydantic model, validated at once.
A model decoded from the wire with :meth:`K8sModel.from_json` is *lazy*: it keeps the object's raw
JSON bytes and decodes a field only when it is first read (nested objects become lazy models in
turn). Lists are split into raw item slices without building Python objects for them. This is what
makes a 5000-pod list decode faster than ``json.loads`` and keep a pod in a few KB.

The laziness is invisible: reading fields gives typed values; anything that needs the whole object
(``model_dump``, ``==``, ``repr``, assignment, validation into another model, pickling) first
*materialises* it by full pydantic validation of the raw bytes, keeping every value already read —
including values the caller changed in place — so nothing read or written is lost. A value of the
wrong type raises pydantic's ``ValidationError`` on first access, just as eager validation would.

Serialising for the wire (:meth:`K8sModel.to_json`, :meth:`K8sModel.to_dict`) never emits a field that
was not set, and writes a lazy object from its raw bytes plus whatever was read from it, without
validating the rest.
"""

from __future__ import annotations

import copy
import datetime as _dt
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import msgspec
import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

__all__ = ["K8sModel", "K8sObject", "format_time", "is_lazy", "to_wire"]

_UNSET = msgspec.UNSET
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_raw_dict = msgspec.json.Decoder(dict[str, msgspec.Raw])
_any = msgspec.json.Decoder()

# Items of a list larger than this are copied out of it, so that one kept item does not keep a whole
# list response alive; smaller lists are slices of an object that is kept anyway.
_COPY_ITEMS_OVER = 64 * 1024

# Fields of these kinds are decoded by a converter picked once per class.
_MODEL, _MODEL_LIST, _MODEL_DICT, _VALUE = range(4)


def format_time(value: _dt.datetime) -> str:
    """RFC 3339 as Kubernetes writes it: UTC with ``Z``; fractions only when present."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    value = value.astimezone(_dt.UTC)
    text = f"{value.year:04d}-{value:%m-%dT%H:%M:%S}"  # strftime's %Y does not pad years before 1000
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


@dataclass(slots=True)
class _FieldPlan:
    name: str
    alias: str
    bit: int  # this field's bit in a lazy object's mask of fields present in its raw JSON
    kind: int
    target: Any  # model class for _MODEL*, a msgspec decoder for _VALUE
    annotation: Any
    default: Callable[[], Any]


@dataclass(slots=True)
class _ClassPlan:
    decoder: msgspec.json.Decoder[Any]
    fields: dict[str, _FieldPlan]
    by_alias: dict[str, _FieldPlan]


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, K8sModel)


def _value_decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    try:
        return msgspec.json.Decoder(annotation)
    except TypeError:  # a type msgspec does not know: decode untyped, pydantic checks it
        return _any


def _field_plan(cls: type[K8sModel], name: str, bit: int) -> _FieldPlan:
    info = cls.model_fields[name]
    ann = _strip_optional(info.annotation)
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    kind, target = _VALUE, None
    if _is_model(ann):
        kind, target = _MODEL, ann
    elif origin is list and args and _is_model(args[0]):
        kind, target = _MODEL_LIST, args[0]
    elif origin is dict and len(args) == 2 and _is_model(args[1]):
        kind, target = _MODEL_DICT, args[1]
    else:
        target = _value_decoder(info.annotation)

    default: Callable[[], Any]
    constant = info.default
    if info.default_factory is None and isinstance(constant, (type(None), bool, int, float, str)):
        # An immutable default (nearly every optional field: None) is returned as it is.
        def default() -> Any:
            return constant
    else:

        def default() -> Any:
            return info.get_default(call_default_factory=True)

    return _FieldPlan(name, info.alias or name, bit, kind, target, info.annotation, default)


_plans: dict[type[Any], _ClassPlan] = {}


def _plan(cls: type[K8sModel]) -> _ClassPlan:
    plan = _plans.get(cls)
    if plan is None:
        if not cls.__pydantic_fields_complete__:
            cls.model_rebuild(raise_errors=True)
        fields = {name: _field_plan(cls, name, 1 << i) for i, name in enumerate(cls.model_fields)}
        struct = msgspec.defstruct(
            f"_Raw{cls.__name__}",
            [(f.name, msgspec.Raw | msgspec.UnsetType, _UNSET) for f in fields.values()],
            rename={f.name: f.alias for f in fields.values()},
        )
        plan = _ClassPlan(msgspec.json.Decoder(struct), fields, {f.alias: f for f in fields.values()})
        _plans[cls] = plan
    return plan


def _lazy(cls: type[K8sModel], raw: msgspec.Raw | bytes) -> Any:
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__k8s_raw__", raw)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _present_mask(plan: _ClassPlan, raw: msgspec.Raw | bytes) -> int:
    """The bits of the fields that ``raw`` carries (decodes the object's header once)."""
    head = plan.decoder.decode(raw)
    mask = 0
    for field in plan.fields.values():
        if getattr(head, field.name) is not _UNSET:
            mask |= field.bit
    return mask


def _convert(self: K8sModel, plan: _FieldPlan, raw: msgspec.Raw) -> Any:
    if plan.kind == _MODEL:
        return _lazy(plan.target, raw)
    if plan.kind == _MODEL_LIST:
        items = _raw_list.decode(raw)
        if items is None:
            return None
        if len(raw) > _COPY_ITEMS_OVER:  # a whole response: let each item own its bytes
            return [_lazy(plan.target, item.copy()) for item in items]
        return [_lazy(plan.target, item) for item in items]
    if plan.kind == _MODEL_DICT:
        entries = _raw_dict.decode(raw)
        return None if entries is None else {k: _lazy(plan.target, v) for k, v in entries.items()}
    try:
        return plan.target.decode(raw)
    except msgspec.ValidationError:
        # Let pydantic judge: it may coerce (and then the value is fine) or raise its typed error.
        try:
            return TypeAdapter(plan.annotation).validate_python(_any.decode(raw))
        except ValidationError:
            self._materialize()  # raises the error with the field's full location
            raise


def is_lazy(obj: object) -> bool:
    """True when ``obj`` is a model decoded from the wire that has not been materialised yet."""
    return isinstance(obj, K8sModel) and getattr(obj, "__k8s_raw__", None) is not None


def _materialize_value(value: Any) -> None:
    if isinstance(value, K8sModel):
        value._materialize()
    elif isinstance(value, list):
        for item in value:
            _materialize_value(item)
    elif isinstance(value, dict):
        for item in value.values():
            _materialize_value(item)


def to_wire(value: Any) -> Any:
    """A value as JSON-ready Python data, the way the Kubernetes API writes it."""
    if isinstance(value, K8sModel):
        return value.to_dict()
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, _dt.datetime):
        return format_time(value)
    return value


class K8sModel(BaseModel):
    """Base of every Kubernetes API model (see the module docstring for laziness)."""

    # __k8s_raw__: the wire bytes of a lazy object (None once materialised); __k8s_present__: the
    # mask of fields its raw JSON carries, computed on the first read of a field it lacks, so that
    # reading an unset field again returns its default without decoding the raw JSON again (the
    # default is not stored: to_dict/to_json must still see the field as unset).
    __slots__ = ("__k8s_present__", "__k8s_raw__")

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        defer_build=True,
        protected_namespaces=(),
        ser_json_inf_nan="constants",
    )

    # -- decoding ------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str) -> Self:
        """Decode wire JSON lazily; fields are validated when first read."""
        if isinstance(data, str):
            data = data.encode()
        raw = bytes(data)
        if raw.lstrip()[:1] != b"{":
            # Not an object: let pydantic produce the typed error.
            return cls.model_validate_json(raw)
        return typing.cast(Self, _lazy(cls, raw))

    @classmethod
    def from_dict(cls, data: typing.Mapping[str, Any]) -> Self:
        """Validate JSON-shaped data (camelCase keys) eagerly."""
        return cls.model_validate(data)

    # -- lazy field access ---------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        raw = _raw_of(self)
        if raw is None or name[:2] == "__":
            return super().__getattr__(name)  # type: ignore[misc]
        plan = _plan(type(self))
        field = plan.fields.get(name)
        if field is None:
            self._materialize()
            return getattr(self, name)
        try:
            present: int = object.__getattribute__(self, "__k8s_present__")
        except AttributeError:
            present = -1  # not known yet
        if not present & field.bit:
            return field.default()
        value_raw = getattr(plan.decoder.decode(raw), name)
        if value_raw is _UNSET:
            object.__setattr__(self, "__k8s_present__", _present_mask(plan, raw))
            return field.default()
        value = _convert(self, field, value_raw)
        self.__dict__[name] = value
        return value

    # -- materialisation -----------------------------------------------------------------------

    def _materialize(self) -> None:
        raw = _raw_of(self)
        if raw is None:
            return
        full = type(self).model_validate_json(bytes(raw))
        state = full.__dict__
        # Every name in the lazy __dict__ was either present in the raw JSON or assigned: set.
        fields_set = full.__pydantic_fields_set__ | self.__dict__.keys()
        for name, value in self.__dict__.items():
            _materialize_value(value)
            state[name] = value
        object.__setattr__(self, "__dict__", state)
        object.__setattr__(self, "__pydantic_fields_set__", fields_set)
        object.__setattr__(self, "__pydantic_extra__", full.__pydantic_extra__)
        object.__setattr__(self, "__pydantic_private__", full.__pydantic_private__)
        object.__setattr__(self, "__k8s_raw__", None)

    @model_validator(mode="wrap")
    @classmethod
    def _materialize_on_validate(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(value, K8sModel):
            value._materialize()
        return handler(value)

    @model_serializer(mode="wrap")
    def _materialize_on_serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        self._materialize()
        return handler(self)

    def __setattr__(self, name: str, value: Any) -> None:
        if _raw_of(self) is not None and name in _plan(type(self)).fields:
            # Assigning a field of a lazy object keeps it lazy: the value is written over the raw
            # JSON by to_dict/to_json and kept (as set) when the object is materialised. Like
            # pydantic's own assignment (no validate_assignment), the value is not validated.
            self.__dict__[name] = value
            return
        self._materialize()
        _materialize_value(value)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self._materialize()
        super().__delattr__(name)

    def __eq__(self, other: object) -> bool:
        self._materialize()
        if isinstance(other, K8sModel):
            other._materialize()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        self._materialize()
        return super().__iter__()

    def __repr_args__(self) -> Any:
        self._materialize()
        return super().__repr_args__()

    def __getstate__(self) -> dict[Any, Any]:
        self._materialize()
        return super().__getstate__()

    def __copy__(self) -> Self:
        raw = _raw_of(self)
        if raw is None:
            return super().__copy__()
        clone = _lazy(type(self), raw)
        clone.__dict__.update(self.__dict__)
        return typing.cast(Self, clone)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        raw = _raw_of(self)
        if raw is None:
            return super().__deepcopy__(memo)
        clone = _lazy(type(self), raw)  # raw bytes are immutable: share them
        for name, value in self.__dict__.items():
            clone.__dict__[name] = copy.deepcopy(value, memo)
        return typing.cast(Self, clone)

    @property
    def model_fields_set(self) -> set[str]:
        self._materialize()
        return self.__pydantic_fields_set__

    @property
    def model_extra(self) -> dict[str, Any] | None:
        self._materialize()
        return self.__pydantic_extra__

    # -- wire encoding -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The object as the API writes it: camelCase keys, only fields that were set."""
        raw = _raw_of(self)
        if raw is None:
            data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        else:
            data = orjson.loads(memoryview(raw))
            if self.__dict__:
                aliases = _plan(type(self)).fields
                for name, value in self.__dict__.items():
                    data[aliases[name].alias] = to_wire(value)
        self._fill_type_meta(data)
        return data

    def to_json(self) -> bytes:
        """Wire JSON bytes; a lazy object nobody has read from is written back byte for byte."""
        raw = _raw_of(self)
        if raw is not None and not self.__dict__ and not self._missing_type_meta(raw):
            return bytes(raw)
        if raw is not None and not self._missing_type_meta(raw):
            return _splice(self, raw)
        return orjson.dumps(self.to_dict())

    def _fill_type_meta(self, data: dict[str, Any]) -> None:
        pass

    def _missing_type_meta(self, raw: msgspec.Raw | bytes) -> bool:
        return False


def _splice(obj: K8sModel, raw: msgspec.Raw | bytes) -> bytes:
    """A lazy object's wire JSON: the raw bytes of every member nobody read, in the server's order,
    with the members in ``obj.__dict__`` (read or assigned) written anew; members it lacks go last."""
    fields = _plan(type(obj)).fields
    state = obj.__dict__
    written = {fields[name].alias: value for name, value in state.items()}
    parts: list[bytes] = []
    members = _raw_dict.decode(raw)
    for key, value_raw in members.items():
        if key in written:
            parts.append(orjson.dumps(key) + b":" + _member_json(written.pop(key)))
        else:
            parts.append(orjson.dumps(key) + b":" + bytes(value_raw))
    for key, value in written.items():
        parts.append(orjson.dumps(key) + b":" + _member_json(value))
    return b"{" + b",".join(parts) + b"}"


def _member_json(value: Any) -> bytes:
    if isinstance(value, K8sModel):
        return value.to_json()
    if isinstance(value, list) and value and all(isinstance(v, K8sModel) for v in value):
        return b"[" + b",".join(v.to_json() for v in value) + b"]"
    return orjson.dumps(to_wire(value))


def _raw_of(obj: K8sModel) -> msgspec.Raw | bytes | None:
    try:
        return typing.cast("msgspec.Raw | bytes | None", object.__getattribute__(obj, "__k8s_raw__"))
    except AttributeError:
        return None


class K8sObject(K8sModel):
    """Base of top-level kinds: ``apiVersion`` and ``kind`` are always filled in and written."""

    API_VERSION: ClassVar[str] = ""
    KIND: ClassVar[str] = ""

    def model_post_init(self, context: Any, /) -> None:
        fields_set = self.__pydantic_fields_set__
        for name, value in (("api_version", self.API_VERSION), ("kind", self.KIND)):
            if self.__dict__.get(name) is None:
                self.__dict__[name] = value
            fields_set.add(name)

    def _fill_type_meta(self, data: dict[str, Any]) -> None:
        if self.API_VERSION:
            data.setdefault("apiVersion", self.API_VERSION)
            data.setdefault("kind", self.KIND)
            if data["apiVersion"] is None:
                data["apiVersion"] = self.API_VERSION
            if data["kind"] is None:
                data["kind"] = self.KIND

    def _missing_type_meta(self, raw: msgspec.Raw | bytes) -> bool:
        if not self.API_VERSION:
            return False
        head = _plan(type(self)).decoder.decode(raw)
        return getattr(head, "api_version", _UNSET) is _UNSET or getattr(head, "kind", _UNSET) is _UNSET
