"""Small helpers the controller modules share (tombstones, namespace-terminating errors)."""

from __future__ import annotations

from typing import Any

from pyclientgo.errors import has_status_cause, is_not_found
from pyclientgo.tools.cache import DeletedFinalStateUnknown, object_name, object_namespace

__all__ = ["NAMESPACE_TERMINATING_CAUSE", "ignorable_create_error", "namespace_of", "name_of", "unwrap"]

NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"
"""The Status cause the API server gives when a create lands in a terminating namespace."""


def unwrap(obj: Any) -> Any:
    """The object inside a delete tombstone, or ``obj`` itself."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def name_of(obj: Any) -> str:
    return object_name(unwrap(obj))


def namespace_of(obj: Any) -> str:
    return object_namespace(unwrap(obj))


def ignorable_create_error(err: BaseException) -> bool:
    """A create failed because its namespace is gone or terminating (kube ignores those)."""
    return is_not_found(err) or has_status_cause(err, NAMESPACE_TERMINATING_CAUSE)
