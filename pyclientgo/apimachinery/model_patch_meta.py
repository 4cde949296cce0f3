"""Strategic-merge-patch metadata and unknown-field detection read from the generated models.

:class:`ModelPatchMeta` is a :class:`~pyclientgo.apimachinery.patch_meta.LookupPatchMeta` over a
generated model class: each field's ``x-kubernetes-patch-strategy``, ``patch-merge-key``,
``list-type`` and ``list-map-keys`` (codegen puts them in the field's ``json_schema_extra``).
:func:`unknown_fields` lists the dotted paths of fields a model does not declare (``fieldValidation``).
Both are shared by the SDK (fake clientset, client-side patches) and the test server; results are
cached per model class.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.apimachinery.patch_meta import EMPTY_LOOKUP, LookupPatchMeta, PatchMeta

__all__ = ["ModelPatchMeta", "unknown_fields"]


def _strip(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip(args[0])
    return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, K8sModel)


class _FieldInfo(typing.NamedTuple):
    model: type[K8sModel] | None  # model of the value (or of list items / dict values)
    container: str  # "", "list", "dict"
    meta: PatchMeta
    opaque: bool  # a free-form value (dict[str, Any], RawExtension...): never check inside


@cache
def _fields(cls: type[K8sModel]) -> dict[str, _FieldInfo]:
    if not cls.__pydantic_fields_complete__:
        cls.model_rebuild(raise_errors=False)
    out: dict[str, _FieldInfo] = {}
    for name, info in cls.model_fields.items():
        alias = info.alias or name
        ann = _strip(info.annotation)
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        model: type[K8sModel] | None = None
        container = ""
        opaque = False
        if _is_model(ann):
            model = ann
        elif origin is list and args:
            container = "list"
            item = _strip(args[0])
            if _is_model(item):
                model = item
        elif origin is dict and len(args) == 2:
            container = "dict"
            value = _strip(args[1])
            if _is_model(value):
                model = value
            elif value is Any or value is object:
                opaque = True
        elif ann is Any or ann is object or ann is dict:
            opaque = True
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}

        def g(*keys: str, extra: dict[str, Any] = extra) -> Any:
            for k in keys:
                if k in extra:
                    return extra[k]
            return None

        strategy = g("x-kubernetes-patch-strategy", "patch_strategy", "patchStrategy") or ""
        map_keys = g("x-kubernetes-list-map-keys", "list_map_keys") or ()
        strategies = tuple(s for s in str(strategy).split(",") if s)
        # kube's strategic merge patch reads the Go struct tags (patchStrategy) only: a list typed
        # map/set by x-kubernetes-list-type alone is replaced, not merged (e.g. CRD status conditions)
        merges = "merge" in strategies
        meta = PatchMeta(
            patch_strategies=strategies,
            patch_merge_key=str(g("x-kubernetes-patch-merge-key", "patch_merge_key", "patchMergeKey") or ""),
            list_type=str(g("x-kubernetes-list-type", "list_type") or "") if merges else "",
            list_map_keys=tuple(map_keys) if merges else (),
        )
        out[alias] = _FieldInfo(model, container, meta, opaque)
    return out


class ModelPatchMeta:
    """A :class:`LookupPatchMeta` reading a generated model's field metadata."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type[K8sModel]) -> None:
        self._cls = cls

    def _lookup(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        info = _fields(self._cls).get(key)
        if info is None:
            return EMPTY_LOOKUP, PatchMeta()
        return (ModelPatchMeta(info.model) if info.model else EMPTY_LOOKUP), info.meta

    def lookup_for_struct(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        return self._lookup(key)

    def lookup_for_slice(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        return self._lookup(key)


def unknown_fields(cls: type[K8sModel], obj: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    """Dotted paths of fields in ``obj`` that the model ``cls`` does not declare."""
    if out is None:
        out = []
    if not isinstance(obj, dict):
        return out
    known = _fields(cls)
    for key, value in obj.items():
        info = known.get(key)
        where = f"{path}.{key}" if path else key
        if info is None:
            out.append(where)
            continue
        if info.model is None or info.opaque:
            continue
        if info.container == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                unknown_fields(info.model, item, f"{where}[{i}]", out)
        elif info.container == "dict" and isinstance(value, dict):
            for k, item in value.items():
                unknown_fields(info.model, item, f"{where}.{k}", out)
        elif info.container == "":
            unknown_fields(info.model, value, where, out)
    return out
