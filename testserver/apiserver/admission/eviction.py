"""pods/eviction against PodDisruptionBudgets (kube's eviction REST).

An eviction is refused with 429 (cause ``DisruptionBudget``) when it would take a budget's
allowed disruptions below zero. There is no disruption controller yet, so unless a budget's
status is maintained (``status.observedGeneration == metadata.generation``) the allowed
disruptions are computed here from ``minAvailable``/``maxUnavailable`` and the matching pods'
``Ready`` condition: expected = matching pods, healthy = Ready ones not being deleted.
"""

from __future__ import annotations

import math
from typing import Any

from pyclientgo.apimachinery import labels as label_selectors
from testserver.apiserver import status as st
from testserver.apiserver.admission.objects import ObjectAccess

__all__ = ["check_eviction"]

_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _scaled(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        pct = int(value[:-1] or 0)
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def budget(pdb: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """(disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods) for ``pdb``."""
    status = pdb.get("status") or {}
    meta = pdb["metadata"]
    if status.get("observedGeneration") is not None and status.get("observedGeneration") == meta.get(
        "generation"
    ):
        return (
            int(status.get("disruptionsAllowed") or 0),
            int(status.get("currentHealthy") or 0),
            int(status.get("desiredHealthy") or 0),
            int(status.get("expectedPods") or 0),
        )
    spec = pdb.get("spec") or {}
    expected = len(pods)
    healthy = sum(1 for p in pods if _ready(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected, round_up=True))
    elif spec.get("minAvailable") is not None:
        desired = _scaled(spec["minAvailable"], expected, round_up=True)
    else:
        desired = expected
    return max(0, healthy - desired), healthy, desired, expected


async def check_eviction(objects: ObjectAccess, namespace: str, name: str) -> None:
    """Raise 429 if evicting pod ``namespace/name`` would violate its PodDisruptionBudget."""
    pod = await objects.get("", "pods", namespace, name)
    if pod is None:
        raise st.not_found("pods", name)
    if pod["metadata"].get("deletionTimestamp"):
        return
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed", "Pending"):
        return  # kube: terminal and pending pods can always be evicted
    labels = pod["metadata"].get("labels") or {}
    matching = []
    for pdb in await objects.list("policy", "poddisruptionbudgets", namespace):
        selector = (pdb.get("spec") or {}).get("selector")
        if selector is None:
            continue
        try:
            sel = label_selectors.selector_from_label_selector(selector)
        except (label_selectors.SelectorParseError, TypeError, ValueError):
            continue
        if sel.empty() or not sel.matches(labels):
            continue
        matching.append((pdb, sel))
    if not matching:
        return
    if len(matching) > 1:
        raise st.internal_error(
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
        )
    pdb, sel = matching[0]
    pods = [
        p
        for p in await objects.list("", "pods", namespace)
        if sel.matches(p["metadata"].get("labels") or {})
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    allowed, healthy, desired, _expected = budget(pdb, pods)
    if not _ready(pod):
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
        if policy == "AlwaysAllow" or healthy >= desired:
            return
    if allowed > 0:
        return
    pdb_name = pdb["metadata"]["name"]
    raise st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": _VIOLATION,
            "reason": "TooManyRequests",
            "details": {
                "causes": [
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {pdb_name} needs {desired} healthy pods and has {healthy} currently",
                    }
                ]
            },
            "code": 429,
        }
    )
