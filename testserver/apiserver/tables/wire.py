"""Reading wire dicts (camelCase JSON as stored) the forgiving way printers need, and kube's
label/selector formatting (``labels.FormatLabels``, ``metav1.FormatLabelSelector``)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from testserver.apiserver.tables.durations import translate_timestamp_since

__all__ = [
    "Obj",
    "age",
    "condition_true",
    "containers_cells",
    "format_label_selector",
    "format_labels",
    "int_at",
    "list_at",
    "load_balancer_ips",
    "map_at",
    "name_of",
    "selector_string",
    "str_at",
    "value_at",
]

Obj = Mapping[str, Any]


def value_at(obj: Any, *path: str) -> Any:
    """The value at ``path`` (None when any step is missing or not a mapping)."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def map_at(obj: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path`` ({} otherwise)."""
    value = value_at(obj, *path)
    return value if isinstance(value, Mapping) else {}


def list_at(obj: Any, *path: str) -> list[Any]:
    """The list at ``path`` ([] otherwise)."""
    value = value_at(obj, *path)
    return value if isinstance(value, list) else []


def str_at(obj: Any, *path: str) -> str:
    """The value at ``path`` as text ("" when unset)."""
    value = value_at(obj, *path)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def int_at(obj: Any, *path: str, default: int = 0) -> int:
    """The number at ``path`` as an int (``default`` when unset or not a number)."""
    value = value_at(obj, *path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


def name_of(obj: Obj) -> str:
    """``metadata.name``."""
    return str_at(obj, "metadata", "name")


def age(obj: Obj, now: _dt.datetime) -> str:
    """The ``Age`` cell: ``metadata.creationTimestamp`` at ``now``."""
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def format_labels(labels: Mapping[str, Any]) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: Any) -> str | None:
    """``metav1.LabelSelectorAsSelector(sel).String()``; None for a nil selector."""
    if not isinstance(selector, Mapping):
        return None
    reqs: list[tuple[str, str]] = []
    for key, value in map_at(selector, "matchLabels").items():
        reqs.append((key, f"{key}={value}"))
    for expr in list_at(selector, "matchExpressions"):
        key = str_at(expr, "key")
        op = str_at(expr, "operator")
        values = ",".join(sorted(str(v) for v in list_at(expr, "values")))
        if op == "In":
            reqs.append((key, f"{key} in ({values})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({values})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
        else:
            return "<invalid>"
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` for a nil or empty selector."""
    text = selector_string(selector)
    return text if text else "<none>"


def containers_cells(pod_spec: Any) -> tuple[str, str]:
    """The ``Containers`` and ``Images`` cells of a pod template: comma-joined names and images."""
    containers = list_at(pod_spec, "containers")
    return (
        ",".join(str_at(c, "name") for c in containers),
        ",".join(str_at(c, "image") for c in containers),
    )


def condition_true(conditions: Iterable[Any], type_: str) -> bool:
    """Whether ``conditions`` hold one of type ``type_`` with status ``True``."""
    return any(str_at(c, "type") == type_ and str_at(c, "status") == "True" for c in conditions)


def load_balancer_ips(status: Any) -> list[str]:
    """The sorted distinct IPs/hostnames of ``status.loadBalancer.ingress`` (Services, Ingresses)."""
    found: set[str] = set()
    for ing in list_at(status, "loadBalancer", "ingress"):
        value = str_at(ing, "ip") or str_at(ing, "hostname")
        if value:
            found.add(value)
    return sorted(found)
