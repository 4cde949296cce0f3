"""The controllers the controller-manager can run, by kube's names (``NewControllerDescriptors``).

:data:`CONTROLLERS` maps each implemented controller's name (kube's, from
``cmd/kube-controller-manager/names/controller_names.go``: ``deployment-controller``,
``garbage-collector-controller``, ...) to a :class:`ControllerDescriptor`: its aliases (the old short
names ``--controllers`` still takes: ``deployment``, ``garbagecollector``), its init function and
whether it is off unless named. Each init function imports its module when called, so a controller
module that is missing or broken disables only that controller.

:data:`KNOWN_CONTROLLERS` lists every controller kube-controller-manager v1.32 knows (with aliases),
implemented here or not, so that ``--controllers=*,-ttl`` is accepted as kube accepts it; a known
controller that is not implemented is reported once at start.

:func:`enabled_controllers` is kube's ``IsControllerEnabled`` over ``--controllers``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pyclientgo.controller import Runnable
from testserver.controllers.context import ControllerContext

__all__ = [
    "CONTROLLERS",
    "KNOWN_CONTROLLERS",
    "ControllerDescriptor",
    "InitFunc",
    "canonical_name",
    "enabled_controllers",
    "lazy_init",
    "validate_controllers",
]

InitFunc = Callable[[ControllerContext], "Runnable | None"]
"""Builds a controller from the context; None means "disabled by its configuration" (kube's
``enabled == false``, e.g. node IPAM without ``--allocate-node-cidrs``)."""


@dataclass(frozen=True, kw_only=True)
class ControllerDescriptor:
    """One controller: its kube name, aliases, init function, and whether ``*`` leaves it off."""

    name: str
    aliases: tuple[str, ...] = ()
    init: InitFunc
    disabled_by_default: bool = False


def lazy_init(module: str, function: str) -> InitFunc:
    """An init function that imports ``module`` when called and calls its ``function(ctx)``."""

    def init(ctx: ControllerContext) -> Runnable | None:
        factory: Any = getattr(importlib.import_module(module), function)
        result: Runnable | None = factory(ctx)
        return result

    init.__qualname__ = init.__name__ = f"{module}.{function}"
    return init


def _d(
    name: str, aliases: Iterable[str], module: str, function: str, *, disabled_by_default: bool = False
) -> ControllerDescriptor:
    return ControllerDescriptor(
        name=name,
        aliases=tuple(aliases),
        init=lazy_init(f"testserver.controllers.{module}", function),
        disabled_by_default=disabled_by_default,
    )


# Every controller kube-controller-manager v1.32 registers, with its aliases (kube's names).
KNOWN_CONTROLLERS: dict[str, tuple[str, ...]] = {
    "serviceaccount-token-controller": ("serviceaccount-token",),
    "endpoints-controller": ("endpoint",),
    "endpointslice-controller": ("endpointslice",),
    "endpointslice-mirroring-controller": ("endpointslicemirroring",),
    "replicationcontroller-controller": ("replicationcontroller",),
    "pod-garbage-collector-controller": ("podgc",),
    "resourcequota-controller": ("resourcequota",),
    "namespace-controller": ("namespace",),
    "serviceaccount-controller": ("serviceaccount",),
    "garbage-collector-controller": ("garbagecollector",),
    "daemonset-controller": ("daemonset",),
    "job-controller": ("job",),
    "deployment-controller": ("deployment",),
    "replicaset-controller": ("replicaset",),
    "horizontal-pod-autoscaler-controller": ("horizontalpodautoscaling",),
    "disruption-controller": ("disruption",),
    "statefulset-controller": ("statefulset",),
    "cronjob-controller": ("cronjob",),
    "certificatesigningrequest-signing-controller": ("csrsigning",),
    "certificatesigningrequest-approving-controller": ("csrapproving",),
    "certificatesigningrequest-cleaner-controller": ("csrcleaner",),
    "ttl-controller": ("ttl",),
    "bootstrap-signer-controller": ("bootstrapsigner",),
    "token-cleaner-controller": ("tokencleaner",),
    "node-ipam-controller": ("nodeipam",),
    "node-lifecycle-controller": ("nodelifecycle",),
    "service-lb-controller": ("service",),
    "node-route-controller": ("route",),
    "cloud-node-lifecycle-controller": ("cloud-node-lifecycle",),
    "persistentvolume-binder-controller": ("persistentvolume-binder",),
    "persistentvolume-attach-detach-controller": ("attachdetach",),
    "persistentvolume-expander-controller": ("persistentvolume-expander",),
    "clusterrole-aggregation-controller": ("clusterrole-aggregation",),
    "persistentvolumeclaim-protection-controller": ("pvc-protection",),
    "persistentvolume-protection-controller": ("pv-protection",),
    "volumeattributesclass-protection-controller": (),
    "ttl-after-finished-controller": ("ttl-after-finished",),
    "root-ca-certificate-publisher-controller": ("root-ca-cert-publisher",),
    "kube-apiserver-serving-clustertrustbundle-publisher-controller": (),
    "ephemeral-volume-controller": ("ephemeral-volume",),
    "storageversion-garbage-collector-controller": ("storage-version-gc",),
    "resourceclaim-controller": ("resource-claim-controller",),
    "legacy-serviceaccount-token-cleaner-controller": ("legacy-service-account-token-cleaner",),
    "validatingadmissionpolicy-status-controller": (),
    "taint-eviction-controller": (),
    "service-cidr-controller": (),
    "storage-version-migrator-controller": (),
    "selinux-warning-controller": (),
}

DISABLED_BY_DEFAULT: frozenset[str] = frozenset(
    {"bootstrap-signer-controller", "token-cleaner-controller", "selinux-warning-controller"}
)
"""kube's ``isDisabledByDefault`` controllers."""

CONTROLLERS: dict[str, ControllerDescriptor] = {
    # controllers-infra
    "namespace-controller": _d(
        "namespace-controller", ["namespace"], "namespace", "new_namespace_controller"
    ),
    "serviceaccount-controller": _d(
        "serviceaccount-controller", ["serviceaccount"], "serviceaccount", "new_serviceaccounts_controller"
    ),
    "root-ca-certificate-publisher-controller": _d(
        "root-ca-certificate-publisher-controller",
        ["root-ca-cert-publisher"],
        "rootcacertpublisher",
        "new_root_ca_publisher",
    ),
    # controllers-workloads
    "replicaset-controller": _d(
        "replicaset-controller", ["replicaset"], "replicaset", "new_replicaset_controller"
    ),
    "replicationcontroller-controller": _d(
        "replicationcontroller-controller",
        ["replicationcontroller"],
        "replicationcontroller",
        "new_replication_controller",
    ),
    "deployment-controller": _d(
        "deployment-controller", ["deployment"], "deployment", "new_deployment_controller"
    ),
    "statefulset-controller": _d(
        "statefulset-controller", ["statefulset"], "statefulset", "new_statefulset_controller"
    ),
    "daemonset-controller": _d(
        "daemonset-controller", ["daemonset"], "daemonset", "new_daemonset_controller"
    ),
    "job-controller": _d("job-controller", ["job"], "job", "new_job_controller"),
    "cronjob-controller": _d("cronjob-controller", ["cronjob"], "cronjob", "new_cronjob_controller"),
    "ttl-after-finished-controller": _d(
        "ttl-after-finished-controller",
        ["ttl-after-finished"],
        "ttlafterfinished",
        "new_ttl_after_finished_controller",
    ),
    # controllers-gc
    "garbage-collector-controller": _d(
        "garbage-collector-controller", ["garbagecollector"], "garbagecollector", "new_garbage_collector"
    ),
    "pod-garbage-collector-controller": _d(
        "pod-garbage-collector-controller", ["podgc"], "podgc", "new_podgc_controller"
    ),
    # controllers-network
    "endpoints-controller": _d("endpoints-controller", ["endpoint"], "endpoints", "new_endpoints_controller"),
    "endpointslice-controller": _d(
        "endpointslice-controller", ["endpointslice"], "endpointslice", "new_endpointslice_controller"
    ),
    "endpointslice-mirroring-controller": _d(
        "endpointslice-mirroring-controller",
        ["endpointslicemirroring"],
        "endpointslicemirroring",
        "new_endpointslice_mirroring_controller",
    ),
    "disruption-controller": _d(
        "disruption-controller", ["disruption"], "disruption", "new_disruption_controller"
    ),
    # controllers-nodes
    "node-ipam-controller": _d("node-ipam-controller", ["nodeipam"], "nodeipam", "new_node_ipam_controller"),
    "node-lifecycle-controller": _d(
        "node-lifecycle-controller", ["nodelifecycle"], "nodelifecycle", "new_node_lifecycle_controller"
    ),
    "taint-eviction-controller": _d(
        "taint-eviction-controller", [], "tainteviction", "new_taint_eviction_controller"
    ),
}


def canonical_name(name: str) -> str:
    """The kube name of controller ``name`` (an alias or a name); unknown names come back as given."""
    for canonical, aliases in KNOWN_CONTROLLERS.items():
        if name == canonical or name in aliases:
            return canonical
    for canonical, desc in CONTROLLERS.items():
        if name == canonical or name in desc.aliases:
            return canonical
    return name


def validate_controllers(selection: Iterable[str]) -> None:
    """Raise ``ValueError`` naming every entry of ``--controllers`` that is no known controller
    (kube's message: ``"foo" is not in the list of known controllers``)."""
    errors = []
    for entry in selection:
        if entry == "*":
            continue
        bare = entry.removeprefix("-")
        if canonical_name(bare) not in KNOWN_CONTROLLERS and canonical_name(bare) not in CONTROLLERS:
            errors.append(f'"{bare}" is not in the list of known controllers')
    if errors:
        raise ValueError("; ".join(errors))


def is_controller_enabled(name: str, selection: Iterable[str], *, disabled_by_default: bool) -> bool:
    """kube's ``IsControllerEnabled``: an explicit ``name`` or ``-name`` wins, then ``*``."""
    has_star = False
    for entry in selection:
        if entry == "*":
            has_star = True
            continue
        if canonical_name(entry) == name:
            return True
        if entry.startswith("-") and canonical_name(entry[1:]) == name:
            return False
    return has_star and not disabled_by_default


def enabled_controllers(selection: Iterable[str]) -> list[str]:
    """The implemented controllers ``--controllers`` enables, in :data:`CONTROLLERS` order."""
    chosen = list(selection)
    validate_controllers(chosen)
    return [
        name
        for name, desc in CONTROLLERS.items()
        if is_controller_enabled(
            name, chosen, disabled_by_default=desc.disabled_by_default or name in DISABLED_BY_DEFAULT
        )
    ]


def enabled_but_missing(selection: Iterable[str]) -> list[str]:
    """Known kube controllers ``--controllers`` enables that are not implemented here."""
    chosen = list(selection)
    return [
        name
        for name in KNOWN_CONTROLLERS
        if name not in CONTROLLERS
        and is_controller_enabled(name, chosen, disabled_by_default=name in DISABLED_BY_DEFAULT)
    ]
