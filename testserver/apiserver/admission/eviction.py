"""pods/eviction against PodDisruptionBudgets (kube's eviction REST, ``pkg/registry/core/pod/storage/eviction.go``).

An eviction is refused with 429 (cause ``DisruptionBudget``) when it would take a budget's
allowed disruptions below zero. As kube-apiserver, the allowance is the disruption controller's
``status.disruptionsAllowed``: a budget whose status has not observed its generation answers 429
"still being processed" (Retry-After 10), a granted eviction decrements ``disruptionsAllowed`` and
records the pod in ``status.disruptedPods``. With the stand-in controllers on (no disruption
controller running) a budget whose status is not maintained has its allowance computed here from
``minAvailable``/``maxUnavailable`` and the matching pods' ``Ready`` condition.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from pyclientgo.api.core.v1 import Pod
from pyclientgo.apimachinery import labels as label_selectors
from pyclientgo.component_helpers.pod import is_pod_ready
from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.admission.objects import ObjectAccess
from testserver.storage.errors import NotFoundError
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.model import KeyValue

__all__ = ["check_eviction"]

_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
_MAX_DISRUPTED_PODS = 2000


def _ready(pod: dict[str, Any]) -> bool:
    """Healthy for a budget: not being deleted and ``podutil.IsPodReady`` (the SDK's ``is_pod_ready``)."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    status = pod.get("status")
    if not isinstance(status, dict):
        return False
    # Only the conditions are read: decode just them (lazily) rather than the whole stored pod.
    return is_pod_ready(
        Pod.from_json(orjson.dumps({"status": {"conditions": status.get("conditions") or []}}))
    )


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


def _too_many_requests(message: str, cause: str, retry_after: int = 0) -> st.StatusError:
    """kube's ``errors.NewTooManyRequests`` with a ``DisruptionBudget`` cause."""
    details: dict[str, Any] = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    headers: list[tuple[bytes, bytes]] = []
    if retry_after:
        details["retryAfterSeconds"] = retry_after
        headers.append((b"retry-after", str(retry_after).encode()))
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "TooManyRequests",
            "details": details,
            "code": 429,
        },
        headers,
    )


async def _check_and_decrement(
    objects: ObjectAccess, namespace: str, pdb_name: str, pod_name: str, *, dry_run: bool
) -> None:
    """kube's ``checkAndDecrement``: the controller's allowance, spent by one (unless dry run)."""
    route = objects.route("policy", "poddisruptionbudgets")
    assert route is not None

    def fn(cur: KeyValue | None) -> bytes | None:
        if cur is None:
            raise st.not_found("poddisruptionbudgets", pdb_name, "policy")
        pdb = orjson.loads(cur.value)
        status = pdb.get("status") or {}
        if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 0):
            raise _too_many_requests(
                _VIOLATION, f"The disruption budget {pdb_name} is still being processed by the server.", 10
            )
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise st.forbidden(
                "poddisruptionbudget", pdb_name, "pdb disruptions allowed is negative", "policy"
            )
        disrupted = dict(status.get("disruptedPods") or {})
        if len(disrupted) > _MAX_DISRUPTED_PODS:
            raise st.forbidden(
                "poddisruptionbudget",
                pdb_name,
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
                "policy",
            )
        if allowed == 0:
            raise _too_many_requests(
                _VIOLATION,
                f"The disruption budget {pdb_name} needs {int(status.get('desiredHealthy') or 0)} healthy "
                f"pods and has {int(status.get('currentHealthy') or 0)} currently",
            )
        if dry_run:
            return None
        status["disruptionsAllowed"] = allowed - 1
        if allowed - 1 == 0:
            conditions = [
                c
                for c in status.get("conditions") or []
                if isinstance(c, dict) and c.get("type") != "DisruptionAllowed"
            ]
            conditions.append(
                {
                    "type": "DisruptionAllowed",
                    "status": "False",
                    "reason": "InsufficientPods",
                    "message": "",
                    "observedGeneration": status.get("observedGeneration"),
                    "lastTransitionTime": ob.now_rfc3339(),
                }
            )
            status["conditions"] = conditions
        disrupted[pod_name] = ob.now_rfc3339()
        status["disruptedPods"] = disrupted
        pdb["status"] = status
        return ob.encode_for_storage(pdb)

    try:
        await guaranteed_update(objects.storage, route.key(namespace, pdb_name), fn)
    except NotFoundError:
        raise st.not_found("poddisruptionbudgets", pdb_name, "policy") from None


async def check_eviction(
    objects: ObjectAccess, namespace: str, name: str, *, compute: bool = False, dry_run: bool = False
) -> None:
    """Raise 429 if evicting pod ``namespace/name`` would violate its PodDisruptionBudget.

    ``compute``: the stand-in for the disruption controller (allowance computed from the pods
    when the budget's status is not maintained), otherwise the status is read and decremented."""
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
    if not compute:
        status = pdb.get("status") or {}
        if not _ready(pod):
            if (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
                return
            desired = int(status.get("desiredHealthy") or 0)
            if int(status.get("currentHealthy") or 0) >= desired and desired > 0:
                return
        await _check_and_decrement(objects, namespace, pdb["metadata"]["name"], name, dry_run=dry_run)
        return
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
    raise _too_many_requests(
        _VIOLATION,
        f"The disruption budget {pdb_name} needs {desired} healthy pods and has {healthy} currently",
    )
