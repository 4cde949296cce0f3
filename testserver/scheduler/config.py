"""Profiles from a ``KubeSchedulerConfiguration`` (kubescheduler.config.k8s.io/v1).

The default profile ``default-scheduler`` enables kube's default MultiPoint plugins in kube's order
and weights (``apis/config/v1/default_plugins.go``). A configuration file may list several
``profiles`` (chosen by a pod's ``spec.schedulerName``), enable or disable plugins per extension
point (``multiPoint``, ``preFilter``, ``filter``, ``score``, ...; ``"*"`` disables every default
of that point), give plugins args (``pluginConfig``) and set ``percentageOfNodesToScore`` globally
or per profile. Out-of-tree plugins are added to :data:`REGISTRY` (or passed as ``registry``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from testserver.scheduler.framework import EXTENSION_POINTS, Framework, Handle, Plugin, implements
from testserver.scheduler.plugins import REGISTRY as _IN_TREE

__all__ = ["DEFAULT_PLUGINS", "REGISTRY", "SchedulerConfiguration", "build_frameworks", "load_configuration"]

REGISTRY: dict[str, type[Plugin]] = dict(_IN_TREE)
"""Plugin name → class; add out-of-tree plugins here before building the profiles."""

DEFAULT_PLUGINS: list[tuple[str, int]] = [
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
]
"""kube's default MultiPoint plugins and score weights, in order."""

API_VERSION = "kubescheduler.config.k8s.io/v1"


@dataclass
class SchedulerConfiguration:
    """The parsed file: profiles (raw dicts) and the global settings the scheduler uses."""

    profiles: list[dict[str, Any]] = field(default_factory=lambda: [{"schedulerName": "default-scheduler"}])
    percentage_of_nodes_to_score: int | None = None
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    parallelism: int = 16
    """kube's ``parallelism`` (validated as kube does; this scheduler filters and scores in one thread)."""
    leader_election: dict[str, Any] = field(default_factory=dict)
    client_connection: dict[str, Any] = field(default_factory=dict)


def load_configuration(path: str | Path | None) -> SchedulerConfiguration:
    """Read and check a KubeSchedulerConfiguration file (None: the defaults)."""
    if path is None:
        return SchedulerConfiguration()
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a KubeSchedulerConfiguration object")
    if raw.get("kind") != "KubeSchedulerConfiguration":
        raise ValueError(f"{path}: kind must be KubeSchedulerConfiguration, got {raw.get('kind')!r}")
    if raw.get("apiVersion") != API_VERSION:
        raise ValueError(f"{path}: apiVersion must be {API_VERSION}, got {raw.get('apiVersion')!r}")
    profiles = raw.get("profiles") or [{"schedulerName": "default-scheduler"}]
    names = [p.get("schedulerName") or "default-scheduler" for p in profiles]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate profile schedulerName in {names}")
    pct = raw.get("percentageOfNodesToScore")
    if pct is not None and not 0 <= int(pct) <= 100:
        raise ValueError(f"percentageOfNodesToScore: Invalid value: {pct}: not in valid range [0-100]")
    parallelism = int(raw.get("parallelism") or 16)
    if parallelism <= 0:
        raise ValueError(
            f"parallelism: Invalid value: {parallelism}: should be an integer value greater than zero"
        )
    return SchedulerConfiguration(
        profiles=profiles,
        percentage_of_nodes_to_score=int(pct) if pct is not None else None,
        pod_initial_backoff_seconds=float(raw.get("podInitialBackoffSeconds") or 1),
        pod_max_backoff_seconds=float(raw.get("podMaxBackoffSeconds") or 10),
        parallelism=parallelism,
        leader_election=raw.get("leaderElection") or {},
        client_connection=raw.get("clientConnection") or {},
    )


def _names(section: Mapping[str, Any] | None, key: str) -> list[dict[str, Any]]:
    return list((section or {}).get(key) or [])


def build_framework(
    profile: Mapping[str, Any],
    handle: Handle,
    registry: Mapping[str, type[Plugin]] | None = None,
) -> Framework:
    """One profile's :class:`Framework` from its ``plugins`` and ``pluginConfig``."""
    registry = dict(REGISTRY if registry is None else registry)
    name = profile.get("schedulerName") or "default-scheduler"
    plugins_cfg: Mapping[str, Any] = profile.get("plugins") or {}
    args_by_name = {pc["name"]: pc.get("args") or {} for pc in profile.get("pluginConfig") or []}
    multi = plugins_cfg.get("multiPoint") or {}
    multi_disabled = {d["name"] for d in _names(multi, "disabled")}
    enabled: list[tuple[str, int]] = []
    if "*" not in multi_disabled:
        enabled = [(n, w) for n, w in DEFAULT_PLUGINS if n not in multi_disabled and n in registry]
    for e in _names(multi, "enabled"):
        enabled = [(n, w) for n, w in enabled if n != e["name"]] + [(e["name"], int(e.get("weight") or 0))]
    instances: dict[str, Plugin] = {}

    def instance(plugin_name: str) -> Plugin:
        if plugin_name not in instances:
            cls = registry.get(plugin_name)
            if cls is None:
                raise ValueError(f"profile {name!r}: plugin {plugin_name!r} is not registered")
            instances[plugin_name] = cls(args_by_name.get(plugin_name, {}), handle)
        return instances[plugin_name]

    weights: dict[str, int] = {n: (w or 1) for n, w in enabled}
    points: dict[str, list[Plugin]] = {}
    for point in EXTENSION_POINTS:
        section = plugins_cfg.get(point) or {}
        disabled = {d["name"] for d in _names(section, "disabled")}
        names = [] if "*" in disabled else [n for n, _ in enabled if n not in disabled]
        names = [n for n in names if n in registry and implements(registry[n], point)]
        for e in _names(section, "enabled"):
            if e["name"] in names:
                names.remove(e["name"])
            names.append(e["name"])
            if point == "score" and e.get("weight"):
                weights[e["name"]] = int(e["weight"])
        plugin_list = [instance(n) for n in names]
        for p in plugin_list:
            if not implements(p, point):
                raise ValueError(f"profile {name!r}: plugin {p.name!r} does not extend {point}")
        points[point] = plugin_list
    pct = profile.get("percentageOfNodesToScore")
    if pct is not None and not 0 <= int(pct) <= 100:
        raise ValueError(f"percentageOfNodesToScore: Invalid value: {pct}: not in valid range [0-100]")
    return Framework(name, points, weights, int(pct) if pct is not None else None)


def build_frameworks(
    config: SchedulerConfiguration, handle: Handle, registry: Mapping[str, type[Plugin]] | None = None
) -> dict[str, Framework]:
    """Every profile's framework by scheduler name."""
    frameworks = {}
    for profile in config.profiles:
        fw = build_framework(profile, handle, registry)
        frameworks[fw.profile_name] = fw
    return frameworks
