"""Per-kind strategies (kube's registry strategies): a thin facade over
:mod:`testserver.apiserver.registry` (defaults, validation, preparation) for callers that do not
go through :class:`testserver.apiserver.admission.Admission` (which the REST layer uses).
"""

from __future__ import annotations

from typing import Any

from testserver.apiserver.registry import (
    apply_defaults,
    initial_status,
    prepare_create,
    prepare_update,
    qos_class,
    validate_create,
    validate_update,
)

__all__ = [
    "apply_defaults",
    "initial_status",
    "prepare_create",
    "prepare_update",
    "qos_class",
    "validate",
    "validate_create",
    "validate_update",
]


def validate(
    kind: str, group: str, obj: dict[str, Any], *, creating: bool, old: dict[str, Any] | None = None
) -> None:
    """Raise 422 Invalid listing every problem found; updates (``creating=False``) need ``old``."""
    namespaced = bool(obj.get("metadata", {}).get("namespace"))
    if creating or old is None:
        validate_create(kind, group, obj, namespaced=namespaced)
    else:
        validate_update(kind, group, obj, old, namespaced=namespaced)
