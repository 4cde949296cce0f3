"""Managed fields (``metadata.managedFields``) and server-side apply, as kube-apiserver's
field manager and structured-merge-diff's ``merge.Updater`` do them.

A *manager* is identified by its name, operation (``Apply`` or ``Update``), subresource and,
for ``Update`` only, the API version: each gets one :class:`ManagerEntry` with the set of
fields it owns.

* :func:`update` — a non-apply write (create, update, patch): the writer takes ownership of
  what it added or changed; removed fields are taken from everyone; other managers lose the
  fields the write changed. A write that changes nothing leaves the entries alone.
* :func:`apply` — server-side apply of a configuration: merge it into the live object, remove
  fields the applier applied before but no longer does (unless someone else owns them), and
  fail with :class:`ApplyConflictError` when the write changes fields other managers own
  (``force`` takes them over instead). Equal values make shared ownership.

Both take a *keep* predicate over paths: fields a write may not touch (``status`` for the
main resource, everything but ``status`` for the status subresource) are left out of the sets,
as kube's reset fields. :func:`decode_managed_fields` / :func:`encode_managed_fields` convert
to and from the wire entries (sorted as kube sorts them: Apply first, then by time).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pyclientgo.apimachinery import fieldpath as fp
from pyclientgo.apimachinery.fieldpath import FieldSet, FieldsV1Error, Path
from pyclientgo.apimachinery.structured_merge import (
    Comparison,
    compare,
    ensure_named_fields_are_members,
    merge,
    remove_items,
    strip_nulls,
    to_field_set,
)
from pyclientgo.apimachinery.structured_schema import TypeSchema

__all__ = [
    "APPLY",
    "UPDATE",
    "ApplyConflictError",
    "Conflict",
    "ManagedFieldsError",
    "ManagerEntry",
    "apply",
    "decode_managed_fields",
    "encode_managed_fields",
    "strip_meta",
    "update",
]

APPLY = "Apply"
UPDATE = "Update"
_MAX_UPDATE_MANAGERS = 10
_ANCIENT = "ancient-changes"

# Fields nobody owns (kube's stripMetaManager): removed from every set, not recursively.
_STRIP = FieldSet(
    [
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        ("f:metadata", "f:name"),
        ("f:metadata", "f:namespace"),
        ("f:metadata", "f:creationTimestamp"),
        ("f:metadata", "f:selfLink"),
        ("f:metadata", "f:uid"),
        ("f:metadata", "f:clusterName"),
        ("f:metadata", "f:generation"),
        ("f:metadata", "f:managedFields"),
        ("f:metadata", "f:resourceVersion"),
    ]
)

# Struct-typed fields Go always serialises (non-pointer structs): kube never sees them appear.
IMPLICIT_STRUCTS = frozenset({"metadata", "spec", "status", "template", "strategy", "updateStrategy"})


class ManagedFieldsError(ValueError):
    """``metadata.managedFields`` is malformed."""


@dataclass
class ManagerEntry:
    """One decoded ``managedFields`` entry."""

    manager: str
    operation: str
    api_version: str
    fields: FieldSet
    subresource: str = ""
    time: str | None = None

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """kube's manager identifier: the API version counts for Update entries only."""
        return (
            self.manager,
            self.operation,
            self.subresource,
            self.api_version if self.operation == UPDATE else "",
        )

    def describe(self) -> str:
        """How conflict messages name the manager (``"m" using apps/v1``)."""
        out = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            out += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            out += f" using {self.api_version}"
        return out


@dataclass(frozen=True)
class Conflict:
    """A field another manager owns and a write would change."""

    manager: ManagerEntry
    path: Path


class ApplyConflictError(Exception):
    """Server-side apply would change fields other managers own."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = sorted(conflicts, key=lambda c: (c.manager.describe(), fp.path_string(c.path)))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        c = self.conflicts
        if len(c) == 1:
            return f"Apply failed with 1 conflict: conflict with {c[0].manager.describe()}: {fp.path_string(c[0].path)}"
        lines: list[str] = []
        by_manager: dict[str, list[str]] = {}
        for x in c:
            by_manager.setdefault(x.manager.describe(), []).append(fp.path_string(x.path))
        for name in sorted(by_manager):
            lines.append(f"conflicts with {name}:")
            lines.extend(f"- {p}" for p in by_manager[name])
        return f"Apply failed with {len(c)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict[str, str]]:
        """``metav1.StatusCause`` dicts of reason ``FieldManagerConflict``."""
        return [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {c.manager.describe()}",
                "field": fp.path_string(c.path),
            }
            for c in self.conflicts
        ]


# -- wire form --------------------------------------------------------------------------------


_DECODED: dict[bytes, FieldSet] = {}
_DECODED_MAX = 4096


def _decode_fields(doc: Any) -> FieldSet:
    """FieldsV1 → FieldSet, cached (the sets are never modified in place)."""
    key = orjson.dumps(doc)
    hit = _DECODED.get(key)
    if hit is None:
        hit = FieldSet.from_fields_v1(doc)
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[key] = hit
    return hit


def decode_managed_fields(entries: Any) -> list[ManagerEntry]:
    """Decode ``metadata.managedFields``; raise :class:`ManagedFieldsError` when malformed."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ManagedFieldsError("managedFields must be a list")
    out: dict[tuple[str, str, str, str], ManagerEntry] = {}
    for i, e in enumerate(entries):
        if not isinstance(e, Mapping):
            raise ManagedFieldsError(f"managedFields[{i}] must be an object")
        ftype = e.get("fieldsType")
        if ftype not in (None, "", "FieldsV1"):
            raise ManagedFieldsError(f'managedFields[{i}].fieldsType: unsupported "{ftype}"')
        try:
            fields = _decode_fields(e.get("fieldsV1") or {})
        except FieldsV1Error as err:
            raise ManagedFieldsError(f"managedFields[{i}].fieldsV1: {err}") from None
        except (TypeError, orjson.JSONEncodeError):
            raise ManagedFieldsError(f"managedFields[{i}].fieldsV1 must be an object") from None
        op = e.get("operation") or ""
        if op not in (APPLY, UPDATE, ""):
            raise ManagedFieldsError(f'managedFields[{i}].operation: unsupported "{op}"')
        entry = ManagerEntry(
            manager=str(e.get("manager") or ""),
            operation=str(op),
            api_version=str(e.get("apiVersion") or ""),
            fields=fields,
            subresource=str(e.get("subresource") or ""),
            time=e.get("time") if isinstance(e.get("time"), str) else None,
        )
        prev = out.get(entry.identity)
        if prev is not None:
            prev.fields = prev.fields.union(entry.fields)
        else:
            out[entry.identity] = entry
    return list(out.values())


def _unix(t: str | None) -> float:
    if not t:
        return 0.0
    try:
        return dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def encode_managed_fields(managers: Sequence[ManagerEntry]) -> list[dict[str, Any]]:
    """The wire entries, sorted as kube sorts them; managers owning nothing are left out."""
    kept = [m for m in managers if not m.fields.empty()]
    kept.sort(key=lambda m: (m.operation, int(_unix(m.time)), m.manager, m.api_version, m.subresource))
    out = []
    for m in kept:
        entry: dict[str, Any] = {"manager": m.manager, "operation": m.operation, "apiVersion": m.api_version}
        if m.time is not None:
            entry["time"] = m.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = m.fields.to_fields_v1()
        if m.subresource:
            entry["subresource"] = m.subresource
        out.append(entry)
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def strip_meta(fields: FieldSet) -> FieldSet:
    """``fields`` without what nobody owns (apiVersion, kind, metadata.name, uid, ...)."""
    return fields.difference(_STRIP)


def _filter(fields: FieldSet, keep: Callable[[Path], bool] | None) -> FieldSet:
    fields = strip_meta(fields)
    if keep is None:
        return fields
    return FieldSet(p for p in fields if keep(p))


# -- the updater ------------------------------------------------------------------------------


def _take_away(
    managers: list[ManagerEntry],
    cmp: Comparison,
    skip: tuple[str, str, str, str] | None,
) -> list[Conflict]:
    """Conflicts of ``cmp`` with the managers other than ``skip``."""
    changed = cmp.modified.union(cmp.added)
    out: list[Conflict] = []
    for m in managers:
        if m.identity == skip:
            continue
        out.extend(Conflict(m, p) for p in m.fields.intersection(changed))
    return out


def _settle(
    managers: list[ManagerEntry], conflicts: list[Conflict], removed: FieldSet, skip: Any
) -> list[ManagerEntry]:
    lost: dict[tuple[str, str, str, str], FieldSet] = {}
    for c in conflicts:
        lost.setdefault(c.manager.identity, FieldSet()).insert(c.path)
    out = []
    for m in managers:
        if m.identity != skip:
            fields = m.fields
            if m.identity in lost:
                fields = fields.difference(lost[m.identity])
            if not removed.empty():
                fields = fields.difference(removed)
            m = ManagerEntry(m.manager, m.operation, m.api_version, fields, m.subresource, m.time)
        if not m.fields.empty():
            out.append(m)
    return out


def _cap_update_managers(managers: list[ManagerEntry], api_version: str) -> list[ManagerEntry]:
    """kube keeps at most 10 Update entries: the oldest are merged into ``ancient-changes``."""
    updates = [m for m in managers if m.operation == UPDATE]
    if len(updates) <= _MAX_UPDATE_MANAGERS:
        return managers
    updates.sort(key=lambda m: _unix(m.time))
    excess = updates[: len(updates) - _MAX_UPDATE_MANAGERS + 1]
    ancient = FieldSet()
    for m in excess:
        ancient = ancient.union(m.fields)
    drop = {m.identity for m in excess}
    out = [m for m in managers if m.identity not in drop]
    out.append(ManagerEntry(_ANCIENT, UPDATE, api_version, ancient, "", excess[-1].time))
    return out


def update(
    live: Mapping[str, Any],
    new: Mapping[str, Any],
    managers: Sequence[ManagerEntry],
    *,
    manager: str,
    api_version: str,
    schema: TypeSchema,
    subresource: str = "",
    keep: Callable[[Path], bool] | None = None,
    now: str | None = None,
) -> list[ManagerEntry]:
    """The managers after a non-apply write of ``new`` over ``live`` by ``manager``.

    ``live``/``new`` are compared without their ``metadata.managedFields``. Other managers lose
    the fields the write changed or removed; ``manager`` gains the fields it added or changed.
    """
    cmp = compare(_without_managed(live), _without_managed(new), schema, implicit=IMPLICIT_STRUCTS)
    if keep is not None:
        cmp = cmp.filter(keep)
    ident = (manager, UPDATE, subresource, api_version)
    conflicts = _take_away(list(managers), cmp, None)
    out = _settle(list(managers), conflicts, cmp.removed, None)
    gained = _filter(cmp.modified.union(cmp.added), keep)
    if gained.empty():
        return out
    mine = next((m for m in out if m.identity == ident), None)
    if mine is None:
        out.append(ManagerEntry(manager, UPDATE, api_version, gained, subresource, now or _now()))
    else:
        mine.fields = mine.fields.union(gained)
        mine.time = now or _now()
    return _cap_update_managers(out, api_version)


@dataclass
class ApplyResult:
    """The object after an apply and its managers."""

    object: dict[str, Any]
    managers: list[ManagerEntry] = field(default_factory=list)
    changed: bool = True


def apply(
    live: Mapping[str, Any],
    config: Mapping[str, Any],
    managers: Sequence[ManagerEntry],
    *,
    manager: str,
    api_version: str,
    schema: TypeSchema,
    force: bool = False,
    subresource: str = "",
    keep: Callable[[Path], bool] | None = None,
    now: str | None = None,
) -> ApplyResult:
    """Server-side apply of ``config`` by ``manager`` over ``live`` (``Updater.Apply``).

    Raises :class:`~pyclientgo.apimachinery.structured_merge.SchemaError` when ``config`` does not
    fit the schema and :class:`ApplyConflictError` on conflicts (unless ``force``).
    ``result.object`` carries the new ``metadata.managedFields``.
    """
    live_plain = _without_managed(live)
    config_set = _filter(to_field_set(dict(config), schema, strict=True), keep)
    ident = (manager, APPLY, subresource, "")
    previous = next((m for m in managers if m.identity == ident), None)
    merged = merge(live_plain, dict(config), schema)
    mine = ManagerEntry(
        manager, APPLY, api_version, config_set, subresource, previous.time if previous else None
    )
    others = [m for m in managers if m.identity != ident]
    if previous is not None and not previous.fields.empty():
        owned = FieldSet()
        for m in (*others, mine):
            owned = owned.union(ensure_named_fields_are_members(m.fields, schema))
        last = ensure_named_fields_are_members(previous.fields, schema)
        merged = remove_items(merged, last.difference(owned), schema, owned=owned)
    merged = strip_nulls(merged)
    cmp = compare(live_plain, merged, schema)
    if keep is not None:
        cmp = cmp.filter(keep)
    conflicts = _take_away([*others, mine], cmp, ident)
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    result = _settle([*others, mine], conflicts, cmp.removed, ident)
    if all(m.identity != ident for m in result) and not config_set.empty():
        result.append(mine)
    changed = merged != live_plain
    if changed or previous is None or previous.fields != config_set:
        mine.time = now or _now()
    meta = merged.setdefault("metadata", {})
    if isinstance(meta, dict):
        encoded = encode_managed_fields(result)
        if encoded:
            meta["managedFields"] = encoded
        else:
            meta.pop("managedFields", None)
    return ApplyResult(merged, result, changed)


def _without_managed(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out
