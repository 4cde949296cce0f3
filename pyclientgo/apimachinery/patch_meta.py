"""Schema metadata that strategic merge patch needs, as apimachinery's ``LookupPatchMeta``.

For each field the patcher asks two things: how to patch it (``PatchMeta``: strategies and a
merge key) and what describes the values inside it (another ``LookupPatchMeta``). The
:class:`LookupPatchMeta` protocol is the small interface; :class:`DictPatchMeta` implements it
from a nested plain description, for tests and for types with no generated models::

    DictPatchMeta({
        "spec": {"fields": {
            "containers": {"patch_strategy": "merge", "patch_merge_key": "name", "fields": {
                "env": {"patch_strategy": "merge", "patch_merge_key": "name"},
                "ports": {"list_type": "map", "list_map_keys": ["containerPort", "protocol"],
                          "patch_strategy": "merge", "patch_merge_key": "containerPort"},
            }},
            "volumes": {"patch_strategy": "merge,retainKeys", "patch_merge_key": "name"},
            "strategy": {"patch_strategy": "retainKeys"},
        }},
        "metadata": {"fields": {"finalizers": {"patch_strategy": "merge"}}},
    })

A field description takes ``patch_strategy`` (a string, comma-separated, or a sequence),
``patch_merge_key``, ``list_type``, ``list_map_keys`` and ``fields``: the fields of the
struct the field holds or, for a list, of its items. Fields the description does not know get
an empty :class:`PatchMeta` and a lookup that knows nothing, so patches degrade to plain
JSON-merge semantics (lists replaced, maps merged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "EMPTY_LOOKUP",
    "DictPatchMeta",
    "LookupPatchMeta",
    "PatchMeta",
]


@dataclass(frozen=True, slots=True)
class PatchMeta:
    """How one field is patched (``x-kubernetes-patch-strategy`` and friends)."""

    patch_strategies: tuple[str, ...] = ()
    """E.g. ``("merge",)``, ``("retainKeys",)``, ``("merge", "retainKeys")``, ``("replace",)``."""
    patch_merge_key: str = ""
    """The key identifying items of a merged list of maps (``x-kubernetes-patch-merge-key``)."""
    list_type: str = ""
    """``x-kubernetes-list-type``: ``"atomic"``, ``"set"``, ``"map"`` or ``""``."""
    list_map_keys: tuple[str, ...] = ()
    """``x-kubernetes-list-map-keys`` for ``list_type == "map"``."""

    @property
    def strategy(self) -> str:
        """``"merge"``, ``"replace"`` or ``""``: the strategy with ``retainKeys`` left out.

        A list of type ``map`` or ``set`` merges even without an explicit patch strategy.
        """
        if "replace" in self.patch_strategies:
            return "replace"
        if "merge" in self.patch_strategies or self.list_type in ("map", "set"):
            return "merge"
        return ""

    @property
    def retain_keys(self) -> bool:
        """Whether the ``retainKeys`` strategy applies (build ``$retainKeys`` directives)."""
        return "retainKeys" in self.patch_strategies

    @property
    def merge_key(self) -> str:
        """The merge key; for a ``map`` list with no patch merge key, its first list-map key."""
        if self.patch_merge_key:
            return self.patch_merge_key
        if self.list_type == "map" and self.list_map_keys:
            return self.list_map_keys[0]
        return ""


class LookupPatchMeta(Protocol):
    """Patch metadata of the fields of one struct (Go's ``LookupPatchMeta``)."""

    def lookup_for_struct(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        """Metadata of the map- or struct-valued field ``key`` and a lookup for its fields."""
        ...

    def lookup_for_slice(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        """Metadata of the list-valued field ``key`` and a lookup describing its items."""
        ...


def _strategies(raw: Any) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if isinstance(raw, Sequence):
        return tuple(str(s) for s in raw)
    raise TypeError(f"patch_strategy must be a string or a sequence of strings, got {raw!r}")


class DictPatchMeta:
    """A :class:`LookupPatchMeta` built from a nested plain description (see the module doc)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._fields: Mapping[str, Mapping[str, Any]] = fields or {}

    def _lookup(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        desc = self._fields.get(key)
        if desc is None:
            return EMPTY_LOOKUP, PatchMeta()
        meta = PatchMeta(
            patch_strategies=_strategies(desc.get("patch_strategy")),
            patch_merge_key=str(desc.get("patch_merge_key") or ""),
            list_type=str(desc.get("list_type") or ""),
            list_map_keys=tuple(desc.get("list_map_keys") or ()),
        )
        return DictPatchMeta(desc.get("fields")), meta

    def lookup_for_struct(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        """Metadata of the struct-valued field ``key``."""
        return self._lookup(key)

    def lookup_for_slice(self, key: str) -> tuple[LookupPatchMeta, PatchMeta]:
        """Metadata of the list-valued field ``key``; the lookup describes its items."""
        return self._lookup(key)

    def __repr__(self) -> str:
        return f"DictPatchMeta({dict(self._fields)!r})"


EMPTY_LOOKUP: LookupPatchMeta = DictPatchMeta()
"""A lookup that knows no fields: strategic merge patch behaves like JSON merge patch."""
