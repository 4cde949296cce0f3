"""Column definitions (``TableColumnDefinition``) and the shapes printers share.

A printer is a function ``(object, now) -> cells``; :data:`PrinterEntry` pairs it with its columns.
Column descriptions come from the generated models' field docs (as kube-apiserver takes them from
the Go types' swagger docs) unless a literal text is given.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from testserver.apiserver.tables.wire import Obj

__all__ = [
    "AGE",
    "APPS",
    "BATCH",
    "CONTAINERS",
    "CORE",
    "IMAGES",
    "META",
    "NAME",
    "READY_DOC",
    "Cells",
    "Col",
    "Printer",
    "PrinterEntry",
    "definition",
    "field_doc",
]


@dataclass(frozen=True, slots=True)
class Col:
    """One column of a kind's table."""

    name: str
    type: str = "string"
    doc: str | tuple[str, str] = ""
    """Literal description, or (``module:Class``, wire field name) to read it from the model."""
    format: str = ""
    priority: int = 0


META = "pyclientgo.api.meta.v1:ObjectMeta"
CORE = "pyclientgo.api.core.v1"
APPS = "pyclientgo.api.apps.v1"
BATCH = "pyclientgo.api.batch.v1"

NAME = Col("Name", doc=(META, "name"), format="name")
AGE = Col("Age", doc=(META, "creationTimestamp"))
CONTAINERS = Col("Containers", doc="Names of each container in the template.", priority=1)
IMAGES = Col("Images", doc="Images referenced by each container in the template.", priority=1)
READY_DOC = "Number of the pod with ready state"

Cells = list[Any]
Printer = Callable[[Obj, _dt.datetime], Cells]
PrinterEntry = tuple[tuple[Col, ...], Printer]
"""A kind's columns and the function computing one row's cells."""


@functools.cache
def field_doc(model: str, field: str) -> str:
    """The description a generated model carries for one wire field ("" if unknown)."""
    module, _, cls_name = model.partition(":")
    try:
        cls: Any = getattr(importlib.import_module(module), cls_name)
        for name, info in cls.model_fields.items():
            if (info.alias or name) == field:
                return str(info.description or "")
    except (ImportError, AttributeError):
        pass
    return ""


def definition(col: Col) -> dict[str, Any]:
    """``col`` as a wire ``TableColumnDefinition``."""
    doc = col.doc if isinstance(col.doc, str) else field_doc(*col.doc)
    return {
        "name": col.name,
        "type": col.type,
        "format": col.format,
        "description": doc,
        "priority": col.priority,
    }
