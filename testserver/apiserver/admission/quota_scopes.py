"""ResourceQuota scopes (kube's ``pkg/quota/v1/evaluator/core/pods.go`` podMatchesScopeFunc): a quota
with ``spec.scopes`` or ``spec.scopeSelector`` tracks only the pods every scope matches —
``Terminating`` (``activeDeadlineSeconds`` set), ``NotTerminating``, ``BestEffort`` (QoS class),
``NotBestEffort`` and ``PriorityClass`` (``priorityClassName`` In/NotIn/Exists/DoesNotExist).
Objects other than pods match no scoped quota."""

from __future__ import annotations

from typing import Any

from pyclientgo.api.core.v1 import Pod
from pyclientgo.component_helpers.qos import POD_QOS_BEST_EFFORT, get_pod_qos

__all__ = ["quota_matches", "scope_selectors"]


def scope_selectors(quota: dict[str, Any]) -> list[dict[str, Any]]:
    """The quota's scopes as scope-selector requirements (``scopes`` become ``Exists``)."""
    spec = quota.get("spec") or {}
    out: list[dict[str, Any]] = [
        {"scopeName": s, "operator": "Exists"} for s in spec.get("scopes") or [] if isinstance(s, str)
    ]
    selector = spec.get("scopeSelector") or {}
    out.extend(r for r in selector.get("matchExpressions") or [] if isinstance(r, dict))
    return out


def _best_effort(pod: dict[str, Any]) -> bool:
    try:
        return get_pod_qos(Pod.from_dict(pod)) == POD_QOS_BEST_EFFORT
    except (TypeError, ValueError):  # a body the typed model refuses: counted as not best effort
        return False


def _matches(requirement: dict[str, Any], pod: dict[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    scope = requirement.get("scopeName")
    if scope == "Terminating":
        deadline = spec.get("activeDeadlineSeconds")
        return deadline is not None and int(deadline) >= 0
    if scope == "NotTerminating":
        return spec.get("activeDeadlineSeconds") is None
    if scope == "BestEffort":
        return _best_effort(pod)
    if scope == "NotBestEffort":
        return not _best_effort(pod)
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        operator, values = requirement.get("operator"), requirement.get("values") or []
        if operator == "In":
            return name in values
        if operator == "NotIn":
            return name not in values
        if operator == "Exists":
            return bool(name)
        if operator == "DoesNotExist":
            return not name
        return False
    return False  # unknown scopes (CrossNamespacePodAffinity, ...) match nothing here


def quota_matches(quota: dict[str, Any], group: str, kind: str, obj: dict[str, Any]) -> bool:
    """Whether ``obj`` counts towards ``quota``: always for an unscoped quota; for a scoped one only
    a pod that every scope matches."""
    requirements = scope_selectors(quota)
    if not requirements:
        return True
    if group != "" or kind != "Pod":
        return False
    return all(_matches(r, obj) for r in requirements)
