"""Rows of the remaining kinds: Leases, PodDisruptionBudgets, RBAC bindings, PriorityClasses, StorageClasses,
webhook configurations, RuntimeClasses."""

from __future__ import annotations

import datetime as _dt

from testserver.apiserver.tables.columns import (
    AGE,
    NAME,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    int_at,
    list_at,
    map_at,
    name_of,
    str_at,
    value_at,
)

__all__ = ["PRINTERS"]


def _print_lease(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), str_at(obj, "spec", "holderIdentity"), age(obj, now)]


def _print_pdb(obj: Obj, now: _dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    min_available = value_at(spec, "minAvailable")
    max_unavailable = value_at(spec, "maxUnavailable")
    return [
        name_of(obj),
        "N/A" if min_available is None else str(min_available),
        "N/A" if max_unavailable is None else str(max_unavailable),
        int_at(obj, "status", "disruptionsAllowed"),
        age(obj, now),
    ]


def _subjects(obj: Obj) -> tuple[str, str, str]:
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in list_at(obj, "subjects"):
        kind = str_at(subject, "kind")
        if kind == "User":
            users.append(str_at(subject, "name"))
        elif kind == "Group":
            groups.append(str_at(subject, "name"))
        elif kind == "ServiceAccount":
            accounts.append(f"{str_at(subject, 'namespace')}/{str_at(subject, 'name')}")
    return ", ".join(users), ", ".join(groups), ", ".join(accounts)


def _print_role_binding(obj: Obj, now: _dt.datetime) -> Cells:
    role = f"{str_at(obj, 'roleRef', 'kind')}/{str_at(obj, 'roleRef', 'name')}"
    return [name_of(obj), role, age(obj, now), *_subjects(obj)]


def _print_priority_class(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), int_at(obj, "value"), value_at(obj, "globalDefault") is True, age(obj, now)]


def _print_storage_class(obj: Obj, now: _dt.datetime) -> Cells:
    annotations = map_at(obj, "metadata", "annotations")
    default = any(
        annotations.get(key) == "true"
        for key in (
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        )
    )
    expansion = value_at(obj, "allowVolumeExpansion")
    return [
        name_of(obj) + (" (default)" if default else ""),
        str_at(obj, "provisioner"),
        str_at(obj, "reclaimPolicy") or "Delete",
        str_at(obj, "volumeBindingMode") or "Immediate",
        expansion is True,
        age(obj, now),
    ]


def _print_webhook_configuration(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), len(list_at(obj, "webhooks")), age(obj, now)]


def _print_runtime_class(obj: Obj, now: _dt.datetime) -> Cells:
    return [name_of(obj), str_at(obj, "handler"), age(obj, now)]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("coordination.k8s.io", "Lease"): (
        (NAME, Col("Holder", doc=("pyclientgo.api.coordination.v1:LeaseSpec", "holderIdentity")), AGE),
        _print_lease,
    ),
    ("policy", "PodDisruptionBudget"): (
        (
            NAME,
            Col("Min Available", doc="The minimum number of pods that must be available."),
            Col("Max Unavailable", doc="The maximum number of pods that may be unavailable."),
            Col(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ),
        _print_pdb,
    ),
    ("scheduling.k8s.io", "PriorityClass"): (
        (
            NAME,
            Col("Value", "integer", ("pyclientgo.api.scheduling.v1:PriorityClass", "value")),
            Col("Global-Default", "boolean", ("pyclientgo.api.scheduling.v1:PriorityClass", "globalDefault")),
            AGE,
        ),
        _print_priority_class,
    ),
    ("storage.k8s.io", "StorageClass"): (
        (
            NAME,
            Col("Provisioner", doc=("pyclientgo.api.storage.v1:StorageClass", "provisioner")),
            Col("ReclaimPolicy", doc=("pyclientgo.api.storage.v1:StorageClass", "reclaimPolicy")),
            Col("VolumeBindingMode", doc=("pyclientgo.api.storage.v1:StorageClass", "volumeBindingMode")),
            Col(
                "AllowVolumeExpansion", doc=("pyclientgo.api.storage.v1:StorageClass", "allowVolumeExpansion")
            ),
            AGE,
        ),
        _print_storage_class,
    ),
    ("node.k8s.io", "RuntimeClass"): (
        (NAME, Col("Handler", doc=("pyclientgo.api.node.v1:RuntimeClass", "handler")), AGE),
        _print_runtime_class,
    ),
}

_ROLE_BINDING_COLUMNS = (
    NAME,
    Col("Role", doc=("pyclientgo.api.rbac.v1:RoleBinding", "roleRef")),
    AGE,
    Col("Users", doc="Users in the roleBinding", priority=1),
    Col("Groups", doc="Groups in the roleBinding", priority=1),
    Col("ServiceAccounts", doc="ServiceAccounts in the roleBinding", priority=1),
)
PRINTERS[("rbac.authorization.k8s.io", "RoleBinding")] = (_ROLE_BINDING_COLUMNS, _print_role_binding)
PRINTERS[("rbac.authorization.k8s.io", "ClusterRoleBinding")] = (
    tuple(
        Col(c.name, doc=c.doc.replace("roleBinding", "clusterRoleBinding"), priority=1)
        if isinstance(c.doc, str) and c.priority
        else c
        for c in _ROLE_BINDING_COLUMNS
    ),
    _print_role_binding,
)
_WEBHOOK_COLUMNS = (
    NAME,
    Col(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
)
for _kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
    PRINTERS[("admissionregistration.k8s.io", _kind)] = (_WEBHOOK_COLUMNS, _print_webhook_configuration)
