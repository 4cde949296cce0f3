"""Server-side printing: objects as ``meta.k8s.io/v1`` Tables, the way kube-apiserver prints them.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells the
server computed, so the columns and the cell text here are what users see. The columns and the
rules behind each cell follow kube-apiserver's printers (``pkg/printers/internalversion``), which
the server always runs in *wide* mode: priority-1 columns are always filled in and kubectl hides
them unless ``-o wide``.

Kinds without a printer get kube's default table (``Name``, ``Created At``); custom resources get
``Name`` plus their ``additionalPrinterColumns`` (pass them as ``printer_columns``).

Everything here works on wire dicts (camelCase JSON as stored) and is pure: the clock is a
parameter so tests pin "now".

Modules: ``table`` (the Table and its rows), ``printers`` (the (group, kind) → printer map, default
table), ``printers_pods``/``printers_core``/``printers_apps``/``printers_batch``/
``printers_networking``/``printers_other`` (one function per kind), ``custom`` (CRD printer
columns), ``columns`` (column definitions), ``durations`` and ``wire`` (formatting helpers).
"""

from __future__ import annotations

from testserver.apiserver.tables.durations import human_duration, translate_timestamp_since
from testserver.apiserver.tables.table import INCLUDE_OBJECT_VALUES, column_definitions, to_table

__all__ = [
    "INCLUDE_OBJECT_VALUES",
    "column_definitions",
    "human_duration",
    "to_table",
    "translate_timestamp_since",
]
