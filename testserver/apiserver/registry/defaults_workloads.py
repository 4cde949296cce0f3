"""Defaults for apps/v1 and batch/v1 kinds (``pkg/apis/apps/v1/defaults.go``,
``pkg/apis/batch/v1/defaults.go``), plus the other groups' small defaults."""

from __future__ import annotations

from typing import Any

from testserver.apiserver.registry.defaults_core import default_pod_template, default_pvc_spec

__all__ = ["WORKLOAD_DEFAULTERS"]

_MAX_INT32 = 2**31 - 1


def _child(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``parent[key]``, set to ``{}`` when unset; None when it is not an object (left for validation)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def _spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    return _child(obj, "spec")


def _rolling_update(spec: dict[str, Any], strategy_field: str) -> dict[str, Any] | None:
    """``spec[strategy_field].rollingUpdate`` after defaulting the strategy's type to RollingUpdate.

    None when the strategy is of another type (or not an object).
    """
    strategy = _child(spec, strategy_field)
    if strategy is None:
        return None
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] != "RollingUpdate":
        return None
    return _child(strategy, "rollingUpdate")


def _deployment(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    rolling = _rolling_update(spec, "strategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def _replicaset(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    default_pod_template(spec.get("template"))


def _statefulset(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    spec.setdefault("podManagementPolicy", "OrderedReady")
    rolling = _rolling_update(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("partition", 0)
    policy = _child(spec, "persistentVolumeClaimRetentionPolicy")
    if policy is not None:
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            default_pvc_spec(_child(claim, "spec"))
            claim.setdefault("status", {"phase": "Pending"})
    default_pod_template(spec.get("template"))


def _daemonset(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    rolling = _rolling_update(spec, "updateStrategy")
    if rolling is not None:
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))


def default_job_spec(spec: dict[str, Any], *, top_level: bool) -> None:
    """SetDefaults_Job's spec part (only for Job objects: job templates get pod defaults only)."""
    if top_level:
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
            spec["parallelism"] = 1
        spec.setdefault("parallelism", 1)
        if spec.get("backoffLimit") is None:
            spec["backoffLimit"] = _MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        if spec.get("podReplacementPolicy") is None:
            spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
        failure = spec.get("podFailurePolicy")
        if isinstance(failure, dict):
            for rule in failure.get("rules") or []:
                if isinstance(rule, dict):
                    for pattern in rule.get("onPodConditions") or []:
                        if isinstance(pattern, dict):
                            pattern.setdefault("status", "True")
    default_pod_template(spec.get("template"))


def _job(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    default_job_spec(spec, top_level=True)
    template = spec.get("template")
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    meta = obj["metadata"]
    if isinstance(labels, dict) and labels and not meta.get("labels"):
        meta["labels"] = dict(labels)


def _cronjob(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_job_spec(template["spec"], top_level=False)


def _network_policy(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is None:
        return
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            if isinstance(rule, dict):
                for port in rule.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types


def _binding_subjects(obj: dict[str, Any]) -> None:
    for subject in obj.get("subjects") or []:
        if isinstance(subject, dict) and "apiGroup" not in subject:
            kind = subject.get("kind")
            if kind in ("User", "Group"):
                subject["apiGroup"] = "rbac.authorization.k8s.io"
            elif kind == "ServiceAccount":
                subject["apiGroup"] = ""


def _priority_class(obj: dict[str, Any]) -> None:
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _storage_class(obj: dict[str, Any]) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def _hpa(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec is not None:
        spec.setdefault("minReplicas", 1)


def _ingress_class(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    params = spec.get("parameters") if isinstance(spec, dict) else None
    if isinstance(params, dict) and "scope" not in params:
        params["scope"] = "Cluster"


WORKLOAD_DEFAULTERS = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replicaset,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding_subjects,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding_subjects,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    ("storage.k8s.io", "StorageClass"): _storage_class,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("networking.k8s.io", "IngressClass"): _ingress_class,
}
