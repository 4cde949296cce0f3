"""Custom resources' columns: a CRD version's ``additionalPrinterColumns`` evaluated by JSONPath.

Mirrors apiextensions-apiserver's ``tableconvertor``: ``Name`` first, then each column's first
JSONPath result converted to the column type (``date`` columns show an age). A version without
columns gets CRD defaulting's ``Age`` column.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from testserver.apiserver.tables.columns import NAME, definition
from testserver.apiserver.tables.durations import human_duration, parse_time
from testserver.apiserver.tables.wire import Obj

__all__ = ["CRD_DEFAULT_COLUMNS", "custom_cell", "custom_definitions", "json_path"]

_PATH_TOKEN = re.compile(r"\.((?:\\.|[^.\[\\])+)|\[(\d+|\*|'[^']*'|\"[^\"]*\")\]")


def json_path(obj: Any, path: str) -> list[Any]:
    """The values a simple JSONPath (``.a.b``, ``.a[0]``, ``.a[*].b``, ``.a['x.y']``) selects."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path.lstrip("$")
    values = [obj]
    pos = 0
    while pos < len(path):
        match = _PATH_TOKEN.match(path, pos)
        if match is None:
            return []
        pos = match.end()
        key, index = match.group(1), match.group(2)
        selected: list[Any] = []
        for value in values:
            if key is not None:
                key_text = key.replace("\\.", ".")
                if isinstance(value, Mapping) and key_text in value:
                    selected.append(value[key_text])
            elif index == "*":
                if isinstance(value, list):
                    selected.extend(value)
                elif isinstance(value, Mapping):
                    selected.extend(value.values())
            elif index is not None and index[0] in "'\"":
                if isinstance(value, Mapping) and index[1:-1] in value:
                    selected.append(value[index[1:-1]])
            elif index is not None and isinstance(value, list) and int(index) < len(value):
                selected.append(value[int(index)])
        values = selected
    return values


def custom_cell(column: Mapping[str, Any], obj: Obj, now: _dt.datetime) -> Any:
    """One cell of ``column`` (a printer column of the CRD) for ``obj``; None when the path selects nothing."""
    values = [v for v in json_path(obj, str(column.get("jsonPath", ""))) if v is not None]
    if not values:
        return None
    value = values[0]
    col_type = column.get("type", "string")
    if col_type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Mapping | list):
            return json.dumps(value, separators=(",", ":"))
        return str(value)
    if col_type == "integer":
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if col_type == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if col_type == "boolean":
        return value if isinstance(value, bool) else None
    if col_type == "date":
        if not isinstance(value, str):
            return None
        when = parse_time(value)
        return "<invalid>" if when is None else human_duration((now - when).total_seconds())
    return value


CRD_DEFAULT_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)
"""What CRD defaulting adds when a version declares no printer columns."""


def custom_definitions(printer_columns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of a custom resource: ``Name`` then its printer columns."""
    out = [definition(NAME)]
    for column in printer_columns:
        path = str(column.get("jsonPath", ""))
        out.append(
            {
                "name": str(column.get("name", "")),
                "type": str(column.get("type", "string")),
                "format": str(column.get("format", "")),
                "description": str(
                    column.get("description")
                    or f"Custom resource definition column (in JSONPath format): {path}"
                ),
                "priority": int(column.get("priority", 0)),
            }
        )
    return out
