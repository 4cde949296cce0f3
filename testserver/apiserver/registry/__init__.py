"""The per-kind registry strategies of the API server, on plain dicts: defaults, preparation and
validation for every built-in kind (kube's ``pkg/apis/*/v1/defaults.go``, ``pkg/apis/*/validation``
and ``pkg/registry/*`` strategies).

Modules: :mod:`.field` (field errors and the 422 Status), :mod:`.meta` (names, labels,
annotations, object meta), :mod:`.defaults_core` / :mod:`.defaults_workloads` (defaulting),
:mod:`.validation_core` / :mod:`.validation_workloads` (validation), :mod:`.prepare` (initial
status, generated values, values carried over on update).

Entry points (used by the REST layer through :mod:`testserver.apiserver.strategy`):
:func:`apply_defaults`, :func:`validate_create`, :func:`validate_update`. Everything is keyed by
(group, kind), so a custom resource whose kind equals a built-in kind (``Pod`` in ``example.com``)
gets object-meta validation only (its schema is applied by :mod:`testserver.apiserver.crd`).
"""

from __future__ import annotations

from typing import Any

from testserver.apiserver.registry import field as fe
from testserver.apiserver.registry.defaults_core import CORE_DEFAULTERS
from testserver.apiserver.registry.defaults_workloads import WORKLOAD_DEFAULTERS
from testserver.apiserver.registry.meta import name_validator, validate_object_meta
from testserver.apiserver.registry.prepare import (
    initial_status,
    keeps_status_on_create,
    prepare_create,
    prepare_update,
    qos_class,
)
from testserver.apiserver.registry.validation_core import CORE_UPDATE_VALIDATORS, CORE_VALIDATORS
from testserver.apiserver.registry.validation_workloads import (
    WORKLOAD_UPDATE_VALIDATORS,
    WORKLOAD_VALIDATORS,
)

__all__ = [
    "apply_defaults",
    "initial_status",
    "keeps_status_on_create",
    "prepare_create",
    "prepare_update",
    "qos_class",
    "validate_create",
    "validate_update",
]

_DEFAULTERS = {**CORE_DEFAULTERS, **WORKLOAD_DEFAULTERS}
_VALIDATORS = {**CORE_VALIDATORS, **WORKLOAD_VALIDATORS}
_UPDATE_VALIDATORS = {**CORE_UPDATE_VALIDATORS, **WORKLOAD_UPDATE_VALIDATORS}


def apply_defaults(kind: str, group: str, obj: dict[str, Any]) -> None:
    """Fill the defaults kube sets when it decodes ``obj`` (never overwriting sent values).

    Keyed by (group, kind): a custom resource whose kind equals a built-in kind gets nothing here.
    """
    fn = _DEFAULTERS.get((group, kind))
    if fn is not None:
        fn(obj)


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or meta.get("generateName") or ""
    return name if isinstance(name, str) else ""


def validate_create(kind: str, group: str, obj: dict[str, Any], *, namespaced: bool) -> None:
    """Raise 422 Invalid (every problem, kube's messages) unless ``obj`` may be created."""
    errs = validate_object_meta(
        obj["metadata"], namespaced=namespaced, name_fn=name_validator(kind, group), creating=True
    )
    fn = _VALIDATORS.get((group, kind))
    if fn is not None:
        errs.extend(fn(obj))
    if errs:
        raise fe.invalid_error(kind, group, _name(obj), errs)


def validate_update(
    kind: str, group: str, new: dict[str, Any], old: dict[str, Any], *, namespaced: bool
) -> None:
    """Raise 422 Invalid unless ``old`` may become ``new`` (immutable fields included)."""
    errs = validate_object_meta(
        new["metadata"], namespaced=namespaced, name_fn=name_validator(kind, group), creating=False
    )
    update_fn = _UPDATE_VALIDATORS.get((group, kind))
    if update_fn is not None:
        errs.extend(update_fn(new, old))
    else:
        fn = _VALIDATORS.get((group, kind))
        if fn is not None:
            errs.extend(fn(new))
    if errs:
        raise fe.invalid_error(kind, group, _name(new), errs)
