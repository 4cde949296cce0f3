"""Taints, tolerations and node selector terms as the scheduler matches them.

After k8s.io/component-helpers ``scheduling/corev1`` (``ToleratesTaint``,
``FindMatchingUntoleratedTaint``, ``MatchNodeSelectorTerms``), on the wire-form dicts the
scheduler's cache holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "find_matching_untolerated_taint",
    "match_node_selector_terms",
    "required_node_affinity_matches",
    "tolerates_taint",
]


def tolerates_taint(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Whether ``toleration`` tolerates ``taint`` (empty effect matches every effect)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def find_matching_untolerated_taint(
    taints: Iterable[Mapping[str, Any]],
    tolerations: list[Mapping[str, Any]],
    taint_filter: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Mapping[str, Any] | None:
    """The first taint (passing ``taint_filter``) that no toleration tolerates, or None."""
    for taint in taints:
        if taint_filter is not None and not taint_filter(taint):
            continue
        if not any(tolerates_taint(t, taint) for t in tolerations):
            return taint
    return None


def _match_expression(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = expr.get("key", "")
    op = expr.get("operator", "")
    values = expr.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _match_term(term: Mapping[str, Any], labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
    exprs = term.get("matchExpressions") or []
    field_exprs = term.get("matchFields") or []
    if not exprs and not field_exprs:
        return False  # an empty term matches no objects
    return all(_match_expression(e, labels) for e in exprs) and all(
        _match_expression(e, fields) for e in field_exprs
    )


def match_node_selector_terms(
    node_name: str, node_labels: Mapping[str, str], terms: Iterable[Mapping[str, Any]]
) -> bool:
    """Whether the node matches any of the (ORed) ``nodeSelectorTerms``."""
    fields = {"metadata.name": node_name}
    return any(_match_term(t, node_labels, fields) for t in terms)


def required_node_affinity_matches(
    pod_spec: Mapping[str, Any], node_name: str, node_labels: Mapping[str, str]
) -> bool:
    """``spec.nodeSelector`` and the required node affinity (kube ``RequiredNodeAffinity.Match``)."""
    selector = pod_spec.get("nodeSelector") or {}
    for k, v in selector.items():
        if node_labels.get(k) != v:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or None
    if required is None:
        return True
    return match_node_selector_terms(node_name, node_labels, required.get("nodeSelectorTerms") or [])
