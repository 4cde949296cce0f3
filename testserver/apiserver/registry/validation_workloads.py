"""Validation of apps/v1 and batch/v1 kinds (``pkg/apis/apps/validation``,
``pkg/apis/batch/validation``) and a few small kinds of other groups: selectors, templates,
strategies, and the fields that cannot change after creation."""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from pyclientgo.apimachinery import labels as label_selectors
from testserver.apiserver.registry import field as fe
from testserver.apiserver.registry.meta import validate_labels
from testserver.apiserver.registry.validation_core import validate_pod_template
from testserver.apiserver.registry.values import as_dict

__all__ = ["WORKLOAD_UPDATE_VALIDATORS", "WORKLOAD_VALIDATORS", "GoRepr"]

_IMMUTABLE = "field is immutable"


class GoRepr:
    """A value printed verbatim in a field error (Go's ``%#v`` of a struct)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def selector_repr(sel: Any) -> GoRepr:
    """``&v1.LabelSelector{MatchLabels:map[string]string{...}, MatchExpressions:...}``."""
    if not isinstance(sel, dict):
        return GoRepr("(*v1.LabelSelector)(nil)")
    labels = sel.get("matchLabels")
    ml = (
        "map[string]string{"
        + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
        + "}"
        if isinstance(labels, dict) and labels
        else "map[string]string(nil)"
    )
    exprs = sel.get("matchExpressions")
    if isinstance(exprs, list) and exprs:
        parts = []
        for e in exprs:
            if isinstance(e, dict):
                values = "[]string{" + ", ".join(json.dumps(str(v)) for v in e.get("values") or []) + "}"
                parts.append(
                    f"v1.LabelSelectorRequirement{{Key:{json.dumps(e.get('key', ''))}, "
                    f"Operator:{json.dumps(e.get('operator', ''))}, Values:{values}}}"
                )
        me = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        me = "[]v1.LabelSelectorRequirement(nil)"
    return GoRepr(f"&v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}")


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _non_negative(spec: dict[str, Any], key: str, path: str) -> fe.ErrorList:
    v = spec.get(key)
    if v is not None and (not _is_int(v) or v < 0):
        return [fe.invalid(f"{path}.{key}", v, "must be greater than or equal to 0")]
    return []


def _selector_and_template(
    spec: dict[str, Any], kind: str, *, restart: list[str], selector_required: bool = True
) -> fe.ErrorList:
    errs: fe.ErrorList = []
    selector = spec.get("selector")
    template = spec.get("template")
    sel = None
    if selector is None:
        if selector_required:
            errs.append(fe.required("spec.selector"))
    elif not isinstance(selector, dict):
        errs.append(fe.invalid("spec.selector", selector, "must be an object"))
    else:
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            errs.append(
                fe.invalid("spec.selector", selector_repr(selector), f"empty selector is invalid for {kind}")
            )
        if selector.get("matchLabels") is not None:
            errs.extend(validate_labels(selector["matchLabels"], "spec.selector.matchLabels"))
        try:
            sel = label_selectors.selector_from_label_selector(selector)
        except (label_selectors.SelectorParseError, TypeError, ValueError, AttributeError) as e:
            errs.append(fe.invalid("spec.selector", selector_repr(selector), str(e)))
    if not isinstance(template, dict):
        errs.append(fe.required("spec.template.spec.containers"))
        return errs
    tmeta = as_dict(template.get("metadata"))
    tlabels = tmeta.get("labels") or {}
    if sel is not None and not sel.empty() and isinstance(tlabels, dict) and not sel.matches(tlabels):
        errs.append(
            fe.invalid(
                "spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"
            )
        )
    errs.extend(validate_pod_template(template, "spec.template"))
    tspec = template.get("spec")
    if isinstance(tspec, dict) and restart and tspec.get("restartPolicy") not in restart:
        errs.append(fe.not_supported("spec.template.spec.restartPolicy", tspec.get("restartPolicy"), restart))
    if isinstance(tspec, dict) and tspec.get("activeDeadlineSeconds") is not None and kind != "job":
        errs.append(
            fe.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            )
        )
    return errs


def _spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else None


def _deployment(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj)
    if spec is None:
        return [fe.required("spec.selector"), fe.required("spec.template.spec.containers")]
    errs = _non_negative(spec, "replicas", "spec")
    errs += _selector_and_template(spec, "deployment", restart=["Always"])
    strategy = as_dict(spec.get("strategy"))
    stype = strategy.get("type")
    if stype not in ("Recreate", "RollingUpdate"):
        errs.append(fe.not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"]))
    elif stype == "Recreate" and strategy.get("rollingUpdate") is not None:
        errs.append(
            fe.forbidden(
                "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
            )
        )
    rolling = strategy.get("rollingUpdate")
    if stype == "RollingUpdate" and isinstance(rolling, dict):
        surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
        if surge in (0, "0%") and unavailable in (0, "0%"):
            errs.append(
                fe.invalid(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    unavailable,
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        for key, value in (("maxSurge", surge), ("maxUnavailable", unavailable)):
            if isinstance(value, str) and value.endswith("%"):
                try:
                    pct = int(value[:-1])
                except ValueError:
                    errs.append(
                        fe.invalid(
                            f"spec.strategy.rollingUpdate.{key}",
                            value,
                            "a valid percent string must be a numeric string followed by an ending '%' "
                            "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                        )
                    )
                    continue
                if key == "maxUnavailable" and pct > 100:
                    errs.append(
                        fe.invalid(
                            f"spec.strategy.rollingUpdate.{key}", value, "must not be greater than 100%"
                        )
                    )
            elif _is_int(value) and value < 0:
                errs.append(
                    fe.invalid(
                        f"spec.strategy.rollingUpdate.{key}", value, "must be greater than or equal to 0"
                    )
                )
    errs += _non_negative(spec, "revisionHistoryLimit", "spec")
    errs += _non_negative(spec, "minReadySeconds", "spec")
    pds = spec.get("progressDeadlineSeconds")
    if _is_int(pds) and pds <= (spec.get("minReadySeconds") or 0):
        errs.append(fe.invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    return errs


def _selector_immutable(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    nsel = (new.get("spec") or {}).get("selector") if isinstance(new.get("spec"), dict) else None
    osel = (old.get("spec") or {}).get("selector") if isinstance(old.get("spec"), dict) else None
    if nsel != osel:
        return [fe.invalid("spec.selector", selector_repr(nsel), _IMMUTABLE)]
    return []


def _replicaset(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj)
    if spec is None:
        return [fe.required("spec.selector"), fe.required("spec.template.spec.containers")]
    errs = _non_negative(spec, "replicas", "spec")
    errs += _non_negative(spec, "minReadySeconds", "spec")
    return errs + _selector_and_template(spec, "deployment", restart=["Always"])


def _statefulset(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj)
    if spec is None:
        return [fe.required("spec.selector"), fe.required("spec.template.spec.containers")]
    errs = _non_negative(spec, "replicas", "spec")
    policy = spec.get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        errs.append(fe.not_supported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"]))
    strategy = as_dict(spec.get("updateStrategy"))
    if strategy.get("type") not in ("OnDelete", "RollingUpdate"):
        errs.append(
            fe.not_supported("spec.updateStrategy.type", strategy.get("type"), ["OnDelete", "RollingUpdate"])
        )
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for key in ("whenDeleted", "whenScaled"):
            if retention.get(key) not in ("Retain", "Delete"):
                errs.append(
                    fe.not_supported(
                        f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                        retention.get(key),
                        ["Retain", "Delete"],
                    )
                )
    return errs + _selector_and_template(spec, "statefulset", restart=["Always"])


_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _statefulset_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = _statefulset(new)
    nspec = {k: v for k, v in (new.get("spec") or {}).items() if k not in _STS_MUTABLE}
    ospec = {k: v for k, v in (old.get("spec") or {}).items() if k not in _STS_MUTABLE}
    if nspec != ospec:
        errs.append(
            fe.forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )
        )
    return errs


def _daemonset(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj)
    if spec is None:
        return [fe.required("spec.selector"), fe.required("spec.template.spec.containers")]
    errs = _selector_and_template(spec, "daemonset", restart=["Always"])
    strategy = as_dict(spec.get("updateStrategy"))
    if strategy.get("type") not in ("OnDelete", "RollingUpdate"):
        errs.append(
            fe.not_supported("spec.updateStrategy.type", strategy.get("type"), ["OnDelete", "RollingUpdate"])
        )
    return errs + _non_negative(spec, "revisionHistoryLimit", "spec")


def _job_spec(spec: dict[str, Any], path: str, *, top: bool) -> fe.ErrorList:
    errs: fe.ErrorList = []
    for key in (
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ):
        errs += _non_negative(spec, key, path)
    mode = spec.get("completionMode")
    if top and mode not in ("NonIndexed", "Indexed"):
        errs.append(fe.not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"]))
    if mode == "Indexed" and spec.get("completions") is None:
        errs.append(fe.required(f"{path}.completions", "when completion mode is Indexed"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*errs, fe.required(f"{path}.template.spec.containers")]
    sub = validate_pod_template(template, f"{path}.template")
    errs.extend(sub)
    tspec = template.get("spec")
    if isinstance(tspec, dict) and tspec.get("restartPolicy") not in ("OnFailure", "Never"):
        errs.append(
            fe.not_supported(
                f"{path}.template.spec.restartPolicy", tspec.get("restartPolicy"), ["OnFailure", "Never"]
            )
        )
    selector = spec.get("selector")
    if top and isinstance(selector, dict):
        tlabels = (
            ((template.get("metadata") or {}).get("labels") or {})
            if isinstance(template.get("metadata"), dict)
            else {}
        )
        try:
            sel = label_selectors.selector_from_label_selector(selector)
            if not sel.matches(tlabels):
                errs.append(
                    fe.invalid(
                        f"{path}.template.metadata.labels",
                        tlabels,
                        "`selector` does not match template `labels`",
                    )
                )
        except (label_selectors.SelectorParseError, TypeError, ValueError, AttributeError) as e:
            errs.append(fe.invalid(f"{path}.selector", selector_repr(selector), str(e)))
    elif top and selector is None:
        errs.append(fe.required(f"{path}.selector"))
    return errs


def _job(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj)
    if spec is None:
        return [fe.required("spec.template.spec.containers")]
    return _job_spec(spec, "spec", top=True)


def _job_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = _job(new)
    errs += _selector_immutable(new, old)
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "manualSelector"):
        if nspec.get(key) != ospec.get(key):
            errs.append(fe.invalid(f"spec.{key}", nspec.get(key), _IMMUTABLE))
    if nspec.get("completions") != ospec.get("completions") and nspec.get("completionMode") != "Indexed":
        errs.append(fe.invalid("spec.completions", nspec.get("completions"), _IMMUTABLE))
    if nspec.get("template") != ospec.get("template") and not (
        ospec.get("suspend") and not (old.get("status") or {}).get("startTime")
    ):
        errs.append(fe.invalid("spec.template", GoRepr("core.PodTemplateSpec{...}"), _IMMUTABLE))
    return errs


def _cronjob(obj: dict[str, Any]) -> fe.ErrorList:
    errs: fe.ErrorList = []
    name = obj["metadata"].get("name")
    if isinstance(name, str) and len(name) > 52:
        errs.append(fe.invalid("metadata.name", name, "must be no more than 52 characters"))
    spec = _spec(obj)
    if spec is None:
        return [
            *errs,
            fe.required("spec.schedule"),
            fe.required("spec.jobTemplate.spec.template.spec.containers"),
        ]
    schedule = spec.get("schedule")
    if not schedule:
        errs.append(fe.required("spec.schedule"))
    elif isinstance(schedule, str) and not schedule.startswith("@") and len(schedule.split()) != 5:
        errs.append(
            fe.invalid(
                "spec.schedule",
                schedule,
                f"expected exactly 5 fields, found {len(schedule.split())}: {schedule}",
            )
        )
    policy = spec.get("concurrencyPolicy")
    if policy not in ("Allow", "Forbid", "Replace"):
        errs.append(fe.not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"):
        errs += _non_negative(spec, key, "spec")
    template = spec.get("jobTemplate")
    tspec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(tspec, dict):
        errs.append(fe.required("spec.jobTemplate.spec.template.spec.containers"))
    else:
        errs += _job_spec(tspec, "spec.jobTemplate.spec", top=False)
    return errs


def _pdb(obj: dict[str, Any]) -> fe.ErrorList:
    spec = _spec(obj) or {}
    errs: fe.ErrorList = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errs.append(fe.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    for key in ("minAvailable", "maxUnavailable"):
        value = spec.get(key)
        if _is_int(value) and value < 0:
            errs.append(fe.invalid(f"spec.{key}", value, "must be greater than or equal to 0"))
        elif isinstance(value, str) and not (value.endswith("%") and value[:-1].isdigit()):
            errs.append(
                fe.invalid(
                    f"spec.{key}",
                    value,
                    "a valid percent string must be a numeric string followed by an ending '%' "
                    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                )
            )
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errs.append(
            fe.not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"])
        )
    return errs


def _priority_class(obj: dict[str, Any]) -> fe.ErrorList:
    errs: fe.ErrorList = []
    value = obj.get("value")
    name = obj["metadata"].get("name") or ""
    if not _is_int(value):
        errs.append(fe.required("value"))
    elif value > 1_000_000_000 and not str(name).startswith("system-"):
        errs.append(fe.forbidden("value", "maximum allowed value of a user defined priority is 1000000000"))
    if str(name).startswith("system-") and name not in ("system-cluster-critical", "system-node-critical"):
        errs.append(
            fe.forbidden(
                "metadata.name", "priority class names with 'system-' prefix are reserved for system use only"
            )
        )
    return errs


def _priority_class_update(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
    errs = []
    if new.get("value") != old.get("value"):
        errs.append(fe.forbidden("value", "may not be changed in an update."))
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        errs.append(fe.invalid("preemptionPolicy", new.get("preemptionPolicy"), _IMMUTABLE))
    return errs


def _with_selector_immutable(fn: Any) -> Any:
    def check(new: dict[str, Any], old: dict[str, Any]) -> fe.ErrorList:
        return list(fn(new)) + _selector_immutable(new, old)

    return check


WORKLOAD_VALIDATORS = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replicaset,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
}
WORKLOAD_UPDATE_VALIDATORS = {
    ("apps", "Deployment"): _with_selector_immutable(_deployment),
    ("apps", "ReplicaSet"): _with_selector_immutable(_replicaset),
    ("apps", "DaemonSet"): _with_selector_immutable(_daemonset),
    ("apps", "StatefulSet"): _statefulset_update,
    ("batch", "Job"): _job_update,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class_update,
}
