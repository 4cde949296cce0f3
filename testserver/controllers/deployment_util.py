"""What the Deployment controller computes about Deployments and their ReplicaSets (kube's
``pkg/controller/deployment/util/deployment_util.go`` and the ReplicaSet sort orders of
``pkg/controller/controller_utils.go``).

Pure functions over the typed models (``pyclientgo.api.apps.v1``) and wire dicts: revisions and the
replica annotations, maxSurge/maxUnavailable (``ResolveFenceposts``), the new ReplicaSet's size in a
rolling update (``NewRSNewReplicas``), proportional scaling (``GetProportion``), conditions
(``SetDeploymentCondition``), completeness, progress and time-outs.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.apimachinery.model import format_time

__all__ = [
    "DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY",
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "equal_ignore_hash",
    "filter_active_replica_sets",
    "find_active_or_latest",
    "max_surge",
    "max_unavailable",
    "new_condition",
    "new_rs_new_replicas",
    "resolve_fenceposts",
    "revision",
    "set_condition",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED_CONFIG_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash"
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000

ANNOTATIONS_TO_SKIP = frozenset(
    {
        LAST_APPLIED_CONFIG_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        DEPRECATED_ROLLBACK_TO,
    }
)
"""Deployment annotations never copied to its ReplicaSets (kube's ``annotationsToSkip``)."""

# condition reasons (kube's deployment/util constants)
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_REASON = "NewReplicaSetCreated"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_DEPLOY_REASON = "DeploymentPaused"
RESUMED_DEPLOY_REASON = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"


# -- field access -----------------------------------------------------------------------------------


def replicas_of(obj: Any) -> int:
    """``spec.replicas`` (1 when unset, as defaulting makes it)."""
    r = obj.spec.replicas if obj.spec is not None else None
    return 1 if r is None else int(r)


def status_int(obj: Any, field: str) -> int:
    """An integer status field, 0 when unset."""
    st = obj.status
    return int(getattr(st, field, None) or 0) if st is not None else 0


def annotations_of(obj: Any) -> dict[str, str]:
    return dict(obj.metadata.annotations or {}) if obj.metadata is not None else {}


def created_at(obj: Any) -> _dt.datetime:
    ts = obj.metadata.creation_timestamp if obj.metadata is not None else None
    return ts if ts is not None else _dt.datetime.min.replace(tzinfo=_dt.UTC)


def revision(rs: Any) -> int:
    """The ``deployment.kubernetes.io/revision`` of a ReplicaSet (0 when missing or unparsable)."""
    try:
        return int(annotations_of(rs).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[Any]) -> int:
    """The highest revision among ``rss`` (kube's ``MaxRevision``)."""
    return max((revision(rs) for rs in rss), default=0)


def is_rolling_update(d: Deployment) -> bool:
    strategy = d.spec.strategy if d.spec is not None else None
    return strategy is None or strategy.type in (None, "RollingUpdate")


def has_progress_deadline(d: Deployment) -> bool:
    """A progress deadline is set (kube: anything but MaxInt32)."""
    pds = d.spec.progress_deadline_seconds if d.spec is not None else None
    return pds is not None and pds != 2**31 - 1


def progress_deadline(d: Deployment) -> int:
    pds = d.spec.progress_deadline_seconds if d.spec is not None else None
    return 600 if pds is None else int(pds)


def revision_history_limit(d: Deployment) -> int | None:
    return d.spec.revision_history_limit if d.spec is not None else None


def min_ready_seconds(obj: Any) -> int:
    return int((obj.spec.min_ready_seconds if obj.spec is not None else None) or 0)


# -- surge and unavailability -------------------------------------------------------------------------


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """kube's ``GetScaledValueFromIntOrPercent``: an int, or ``N%`` of ``total`` rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        try:
            return int(text)
        except ValueError:
            raise ValueError(
                f"invalid value for IntOrString: invalid type: string is not a percentage: {value}"
            ) from None
    try:
        pct = int(text[:-1])
    except ValueError:
        raise ValueError(f"invalid value {value!r}: not a percentage") from None
    raw = pct * total / 100
    return math.ceil(raw) if round_up else math.floor(raw)


def resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers; both 0 becomes unavailable 1 (kube's ``ResolveFenceposts``)."""
    s = scaled_value(surge if surge is not None else 0, desired, True)
    u = scaled_value(unavailable if unavailable is not None else 0, desired, False)
    if s == 0 and u == 0:
        u = 1
    return s, u


def _rolling(d: Deployment) -> tuple[int | str | None, int | str | None]:
    strategy = d.spec.strategy if d.spec is not None else None
    ru = strategy.rolling_update if strategy is not None else None
    if ru is None:
        return "25%", "25%"
    return ru.max_surge, ru.max_unavailable


def max_surge(d: Deployment) -> int:
    """kube's ``MaxSurge`` (0 for Recreate)."""
    if not is_rolling_update(d):
        return 0
    s, u = _rolling(d)
    return resolve_fenceposts(s, u, replicas_of(d))[0]


def max_unavailable(d: Deployment) -> int:
    """kube's ``MaxUnavailable`` (0 for Recreate or zero replicas; at most replicas)."""
    desired = replicas_of(d)
    if not is_rolling_update(d) or desired == 0:
        return 0
    s, u = _rolling(d)
    return min(resolve_fenceposts(s, u, desired)[1], desired)


# -- replica counts -----------------------------------------------------------------------------------


def replica_count(rss: Iterable[Any]) -> int:
    """Sum of ``spec.replicas`` (kube's ``GetReplicaCountForReplicaSets``)."""
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[Any]) -> int:
    return sum(status_int(rs, "replicas") for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[Any]) -> int:
    return sum(status_int(rs, "ready_replicas") for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[Any]) -> int:
    return sum(status_int(rs, "available_replicas") for rs in rss if rs is not None)


def filter_active_replica_sets(rss: Iterable[Any]) -> list[Any]:
    """ReplicaSets with ``spec.replicas`` > 0."""
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def new_rs_new_replicas(d: Deployment, all_rss: Sequence[Any], new_rs: Any) -> int:
    """How many replicas the new ReplicaSet may have now (kube's ``NewRSNewReplicas``)."""
    if not is_rolling_update(d):
        return replicas_of(d)
    desired = replicas_of(d)
    s, _ = _rolling(d)
    surge = scaled_value(s if s is not None else 0, desired, True)
    current = replica_count(all_rss)
    max_total = desired + surge
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, desired - replicas_of(new_rs))
    return replicas_of(new_rs) + scale_up


def is_saturated(d: Deployment, rs: Any) -> bool:
    """The ReplicaSet runs the whole Deployment (kube's ``IsSaturated``)."""
    if rs is None:
        return False
    try:
        desired = int(annotations_of(rs)[DESIRED_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return False
    n = replicas_of(d)
    return replicas_of(rs) == n and desired == n and status_int(rs, "available_replicas") == n


def max_replicas_annotation(rs: Any) -> int | None:
    try:
        return int(annotations_of(rs)[MAX_REPLICAS_ANNOTATION])
    except (KeyError, ValueError):
        return None


def get_proportion(rs: Any, d: Deployment, to_add: int, added: int) -> int:
    """The share of ``to_add`` replicas for ``rs`` (kube's ``GetProportion``)."""
    if rs is None or replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _round_half_away(x: float) -> int:
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def _replica_set_fraction(rs: Any, d: Deployment) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    deployment_replicas = replicas_of(d) + max_surge(d)
    annotated = max_replicas_annotation(rs)
    if annotated is None:
        annotated = status_int(d, "replicas")
    if annotated == 0:
        return 0
    new_size = replicas_of(rs) * deployment_replicas / annotated
    return _round_half_away(new_size) - replicas_of(rs)


# -- sort orders --------------------------------------------------------------------------------------


def by_creation(rss: Iterable[Any]) -> list[Any]:
    """Oldest first, ties by name (kube's ``ReplicaSetsByCreationTimestamp``)."""
    return sorted(rss, key=lambda rs: (created_at(rs), rs.metadata.name or ""))


def by_size_older(rss: Iterable[Any]) -> list[Any]:
    """Largest first, ties oldest first (``ReplicaSetsBySizeOlder``)."""
    return sorted(by_creation(rss), key=lambda rs: -replicas_of(rs))


def by_size_newer(rss: Iterable[Any]) -> list[Any]:
    """Largest first, ties newest first (``ReplicaSetsBySizeNewer``)."""
    return sorted(list(reversed(by_creation(rss))), key=lambda rs: -replicas_of(rs))


def by_revision(rss: Iterable[Any]) -> list[Any]:
    """Lowest revision first, ties oldest first (``ReplicaSetsByRevision``)."""
    items = list(rss)

    def cmp(a: Any, b: Any) -> int:
        ra, rb = revision(a), revision(b)
        if ra == rb:
            ka, kb = (created_at(a), a.metadata.name or ""), (created_at(b), b.metadata.name or "")
            return -1 if ka < kb else (1 if ka > kb else 0)
        return -1 if ra < rb else 1

    return sorted(items, key=functools.cmp_to_key(cmp))


def find_active_or_latest(new_rs: Any, old_rss: Sequence[Any]) -> Any:
    """The one active ReplicaSet, or the latest when none is active, else None (kube's
    ``FindActiveOrLatest``)."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    active = filter_active_replica_sets([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


# -- templates ----------------------------------------------------------------------------------------


def normalize_template(value: Any) -> Any:
    """A template with zero values (false, 0, "", null, empty maps and lists) dropped, recursively:
    what Go's decoding makes of them (an absent bool *is* false), so that two templates the API
    server spells differently compare and hash alike."""
    if isinstance(value, dict):
        out = {k: normalize_template(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, False, 0, "", {}, [])}
    if isinstance(value, list):
        return [normalize_template(v) for v in value]
    return value


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    t: dict[str, Any] = dict(normalize_template(template))
    meta = dict(t.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, None)
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    if meta:
        t["metadata"] = meta
    else:
        t.pop("metadata", None)
    return t


def template_dict(obj: Any) -> dict[str, Any]:
    tmpl = obj.spec.template if obj.spec is not None else None
    return tmpl.to_dict() if tmpl is not None else {}


def equal_ignore_hash(t1: dict[str, Any], t2: dict[str, Any]) -> bool:
    """Two pod templates are equal but for the ``pod-template-hash`` label (kube's ``EqualIgnoreHash``)."""
    return _without_hash(t1) == _without_hash(t2)


def find_new_replica_set(d: Deployment, rss: Sequence[Any]) -> Any:
    """The oldest ReplicaSet whose template is the Deployment's (kube's ``FindNewReplicaSet``)."""
    want = template_dict(d)
    for rs in by_creation(rss):
        if equal_ignore_hash(template_dict(rs), want):
            return rs
    return None


# -- annotations --------------------------------------------------------------------------------------


def copy_deployment_annotations(d: Deployment, annotations: dict[str, str]) -> bool:
    """Copy the Deployment's annotations (but :data:`ANNOTATIONS_TO_SKIP`) into ``annotations``."""
    changed = False
    for k, v in annotations_of(d).items():
        if k in ANNOTATIONS_TO_SKIP or annotations.get(k) == v:
            continue
        annotations[k] = v
        changed = True
    return changed


def set_replicas_annotations(annotations: dict[str, str], desired: int, maximum: int) -> bool:
    """kube's ``SetReplicasAnnotations``."""
    changed = False
    for key, value in ((DESIRED_REPLICAS_ANNOTATION, str(desired)), (MAX_REPLICAS_ANNOTATION, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Any, desired: int, maximum: int) -> bool:
    a = annotations_of(rs)
    return a.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or a.get(MAX_REPLICAS_ANNOTATION) != str(
        maximum
    )


def set_new_replica_set_annotations(
    d: Deployment, annotations: dict[str, str], new_revision: str, exists: bool
) -> bool:
    """kube's ``SetNewReplicaSetAnnotations`` on the ReplicaSet's annotations (mutated): copied
    Deployment annotations, the revision, the revision history on a rollback, and (new sets only) the
    replica annotations."""
    changed = copy_deployment_annotations(d, annotations)
    old_revision = annotations.get(REVISION_ANNOTATION)
    try:
        old_int = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        annotations[REVISION_ANNOTATION] = new_revision
        changed = True
    if old_revision is not None and old_int < new_int:
        history = annotations.get(REVISION_HISTORY_ANNOTATION, "")
        olds = history.split(",")
        if not olds[0]:
            annotations[REVISION_HISTORY_ANNOTATION] = old_revision
        else:
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(olds):
                total -= len(olds[start]) + 1
                start += 1
            if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS:
                annotations[REVISION_HISTORY_ANNOTATION] = ",".join([*olds[start:], old_revision])
    if not exists and set_replicas_annotations(annotations, replicas_of(d), replicas_of(d) + max_surge(d)):
        changed = True
    return changed


# -- conditions ---------------------------------------------------------------------------------------


def new_condition(
    type_: str, status: str, reason: str, message: str, now: _dt.datetime | None = None
) -> dict[str, Any]:
    """A Deployment condition (wire dict) with both times now (kube's ``NewDeploymentCondition``)."""
    stamp = format_time(now or _dt.datetime.now(_dt.UTC))
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return None


def remove_condition(status: dict[str, Any], type_: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def set_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    """kube's ``SetDeploymentCondition``: no-op for the same status and reason; the transition time
    is kept while the status stays."""
    current = get_condition(status, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    cond = dict(cond)
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    conds = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]]
    conds.append(cond)
    status["conditions"] = conds


def parse_time(value: Any) -> _dt.datetime | None:
    if isinstance(value, _dt.datetime):
        return value
    if not value:
        return None
    return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def deployment_complete(d: Deployment, status: dict[str, Any]) -> bool:
    """Updated, total and available replicas are all ``spec.replicas`` and the generation is observed."""
    n = replicas_of(d)
    generation = int((d.metadata.generation if d.metadata else None) or 0)
    return (
        int(status.get("updatedReplicas") or 0) == n
        and int(status.get("replicas") or 0) == n
        and int(status.get("availableReplicas") or 0) == n
        and int(status.get("observedGeneration") or 0) >= generation
    )


def deployment_progressing(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Some progress from status ``old`` to ``new`` (kube's ``DeploymentProgressing``)."""

    def n(status: dict[str, Any], key: str) -> int:
        return int(status.get(key) or 0)

    old_updated, new_updated = n(old, "updatedReplicas"), n(new, "updatedReplicas")
    return (
        new_updated > old_updated
        or n(new, "replicas") - new_updated < n(old, "replicas") - old_updated
        or n(new, "readyReplicas") > n(old, "readyReplicas")
        or n(new, "availableReplicas") > n(old, "availableReplicas")
    )


def deployment_timed_out(d: Deployment, status: dict[str, Any], now: _dt.datetime) -> bool:
    """The Progressing condition has not moved for ``progressDeadlineSeconds`` (kube's
    ``DeploymentTimedOut``)."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, "Progressing")
    if cond is None:
        return False
    if cond.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    if since is None:
        return False
    return since + _dt.timedelta(seconds=progress_deadline(d)) < now
