"""Controller references, after ``k8s.io/apimachinery/pkg/apis/meta/v1/controller_ref.go``.

An object's *controller* is the owner reference with ``controller: true`` (at most one; the API server
rejects a second). The functions take any typed object with ``metadata`` (every
:class:`~pyclientgo.apimachinery.model.K8sObject`, ``PartialObjectMetadata`` from metadata informers)
or an unstructured object (a ``dict`` as the dynamic client returns it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias

from pyclientgo.api.meta.v1 import ObjectMeta, OwnerReference

__all__ = [
    "MetaObject",
    "get_controller_of",
    "get_controller_of_no_copy",
    "get_owner_references",
    "is_controlled_by",
    "new_controller_ref",
]


class _HasMetadata(Protocol):
    @property
    def metadata(self) -> ObjectMeta | None: ...


MetaObject: TypeAlias = _HasMetadata | Mapping[str, Any]
"""A typed object with ``metadata``, or an unstructured object (``{"metadata": {...}}``)."""


def _metadata(obj: MetaObject) -> Mapping[str, Any] | ObjectMeta | None:
    if isinstance(obj, Mapping):
        meta = obj.get("metadata")
        return meta if isinstance(meta, Mapping) else None
    return obj.metadata


def _field(obj: MetaObject, typed: str, wire: str) -> str:
    meta = _metadata(obj)
    if meta is None:
        return ""
    value = meta.get(wire) if isinstance(meta, Mapping) else getattr(meta, typed)
    return value if isinstance(value, str) else ""


def get_owner_references(obj: MetaObject) -> list[OwnerReference]:
    """``metadata.ownerReferences`` (typed; for an unstructured object, newly built models)."""
    meta = _metadata(obj)
    if meta is None:
        return []
    if isinstance(meta, Mapping):
        refs = meta.get("ownerReferences") or []
        return [OwnerReference.from_dict(r) for r in refs if isinstance(r, Mapping)]
    return list(meta.owner_references or [])


def get_controller_of_no_copy(obj: MetaObject) -> OwnerReference | None:
    """The controller reference of ``obj`` itself (changing it changes ``obj``, when typed), or ``None``."""
    for ref in get_owner_references(obj):
        if ref.controller:
            return ref
    return None


def get_controller_of(obj: MetaObject) -> OwnerReference | None:
    """A copy of the controller reference of ``obj``, or ``None``."""
    ref = get_controller_of_no_copy(obj)
    return ref.model_copy(deep=True) if ref is not None else None


def is_controlled_by(obj: MetaObject, owner: MetaObject) -> bool:
    """Whether ``obj``'s controller reference points at ``owner`` (same UID)."""
    ref = get_controller_of_no_copy(obj)
    return ref is not None and (ref.uid or "") == _field(owner, "uid", "uid")


def new_controller_ref(owner: MetaObject, api_version: str, kind: str) -> OwnerReference:
    """An owner reference to ``owner`` as its controller: ``controller`` and ``blockOwnerDeletion`` true.

    ``api_version`` is ``group/version`` (``"apps/v1"``; ``"v1"`` for the core group) and ``kind`` the
    owner's kind, as Go's ``NewControllerRef(owner, gvk)`` takes them.
    """
    return OwnerReference(
        api_version=api_version,
        kind=kind,
        name=_field(owner, "name", "name"),
        uid=_field(owner, "uid", "uid"),
        block_owner_deletion=True,
        controller=True,
    )
