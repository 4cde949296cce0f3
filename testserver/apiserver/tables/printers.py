"""The printer of every built-in kind, keyed by (group, kind), and kube's default table for the rest."""

from __future__ import annotations

import datetime as _dt

from testserver.apiserver.tables import (
    printers_apps,
    printers_batch,
    printers_core,
    printers_networking,
    printers_other,
    printers_pods,
)
from testserver.apiserver.tables.columns import META, NAME, Cells, Col, PrinterEntry
from testserver.apiserver.tables.durations import parse_time
from testserver.apiserver.tables.wire import Obj, name_of, value_at

__all__ = ["DEFAULT_COLUMNS", "PRINTERS", "print_default"]

PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    **printers_pods.PRINTERS,
    **printers_core.PRINTERS,
    **printers_apps.PRINTERS,
    **printers_batch.PRINTERS,
    **printers_networking.PRINTERS,
    **printers_other.PRINTERS,
}

DEFAULT_COLUMNS = (
    NAME,
    Col("Created At", "date", (META, "creationTimestamp")),
)
"""kube's default table (kinds without a printer): Name, Created At."""


def print_default(obj: Obj, now: _dt.datetime) -> Cells:
    """The row of the default table (``metav1.Time`` of the creation time, zero time when unset)."""
    created = parse_time(value_at(obj, "metadata", "creationTimestamp"))
    text = "0001-01-01T00:00:00Z"
    if created is not None:
        text = created.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [name_of(obj), text]
