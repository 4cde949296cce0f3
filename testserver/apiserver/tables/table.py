"""Building the ``meta.k8s.io/v1`` Table: rows (cells, Pod conditions, ``includeObject``), list
metadata and ``columnDefinitions`` (left out, as ``null``, for watch events after the first)."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from pyclientgo.apimachinery.registry import ResourceInfo
from testserver.apiserver.tables.columns import Cells, definition
from testserver.apiserver.tables.custom import CRD_DEFAULT_COLUMNS, custom_cell, custom_definitions
from testserver.apiserver.tables.printers import DEFAULT_COLUMNS, PRINTERS, print_default
from testserver.apiserver.tables.printers_pods import pod_row_conditions
from testserver.apiserver.tables.wire import Obj, map_at, name_of, str_at

__all__ = ["INCLUDE_OBJECT_VALUES", "column_definitions", "partial_metadata", "to_table"]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")
"""Values of the ``includeObject`` query parameter (TableOptions)."""


def partial_metadata(obj: Obj) -> dict[str, Any]:
    """The ``PartialObjectMetadata`` a row carries with ``includeObject=Metadata``."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(map_at(obj, "metadata")),
    }


@functools.cache
def _kind_definitions(key: tuple[str, str]) -> tuple[dict[str, Any], ...]:
    columns = PRINTERS[key][0] if key in PRINTERS else DEFAULT_COLUMNS
    return tuple(definition(c) for c in columns)


def column_definitions(info: ResourceInfo) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of ``info``'s kind (a fresh list of fresh dicts)."""
    return [dict(d) for d in _kind_definitions((info.group, info.kind))]


def to_table(
    info: ResourceInfo,
    objects: Sequence[Obj],
    *,
    include_object: str = "Metadata",
    list_meta: Mapping[str, Any] | None = None,
    no_headers: bool = False,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    now: _dt.datetime | None = None,
) -> dict[str, Any]:
    """``objects`` (wire dicts of ``info``'s kind) as a ``meta.k8s.io/v1`` Table.

    - ``include_object``: ``Metadata`` (default; rows carry PartialObjectMetadata), ``Object``
      (the whole object) or ``None`` (no ``object`` in rows).
    - ``list_meta``: the list's ``metadata`` (resourceVersion, continue, remainingItemCount).
      Without it, a single object's resourceVersion is used (a GET, or one watch event).
    - ``no_headers``: leave out ``columnDefinitions`` (``null``), as kube-apiserver does for every
      watch event after the first.
    - ``printer_columns``: a custom resource's ``additionalPrinterColumns`` (CRD version fields
      name/type/format/description/priority/jsonPath); used instead of the kind's printer.
    - ``now``: the clock for ages (default: the current UTC time).
    """
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise ValueError(f"includeObject must be one of {', '.join(INCLUDE_OBJECT_VALUES)}")
    now = now or _dt.datetime.now(_dt.UTC)
    key = (info.group, info.kind)
    custom = printer_columns is not None
    if custom and not printer_columns:
        printer_columns = CRD_DEFAULT_COLUMNS  # what CRD defaulting adds when none are declared
    printer = PRINTERS[key][1] if key in PRINTERS else print_default

    rows: list[dict[str, Any]] = []
    for obj in objects:
        if custom:
            cells: Cells = [name_of(obj), *(custom_cell(c, obj, now) for c in printer_columns or ())]
        else:
            cells = printer(obj, now)
        row: dict[str, Any] = {"cells": cells}
        if key == ("", "Pod") and not custom:
            conditions = pod_row_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        if include_object == "Metadata":
            row["object"] = partial_metadata(obj)
        elif include_object == "Object":
            row["object"] = obj
        rows.append(row)

    metadata: dict[str, Any] = {}
    if list_meta is not None:
        if list_meta.get("resourceVersion"):
            metadata["resourceVersion"] = list_meta["resourceVersion"]
        if list_meta.get("continue"):
            metadata["continue"] = list_meta["continue"]
        if list_meta.get("remainingItemCount") is not None:
            metadata["remainingItemCount"] = list_meta["remainingItemCount"]
    elif len(objects) == 1 and str_at(objects[0], "metadata", "resourceVersion"):
        metadata["resourceVersion"] = str_at(objects[0], "metadata", "resourceVersion")

    definitions: list[dict[str, Any]] | None
    if no_headers:
        definitions = None
    elif custom:
        definitions = custom_definitions(printer_columns or ())
    else:
        definitions = column_definitions(info)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
