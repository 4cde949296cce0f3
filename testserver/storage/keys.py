"""Key layout, as Kubernetes lays out keys in etcd.

``/registry/<resource>/<namespace>/<name>`` for namespaced objects and
``/registry/<resource>/<name>`` for cluster-scoped ones, where ``<resource>`` is:

* the plural resource name for the core group and the built-in groups
  (``/registry/pods/...``, ``/registry/deployments/...``, ``/registry/leases/...``),
  with Kubernetes' historical overrides (``services`` → ``services/specs``, ``endpoints`` →
  ``services/endpoints``, ``nodes`` → ``minions``, ``replicationcontrollers`` → ``controllers``,
  ``ingresses`` → ``ingress``);
* ``<group>/<plural>`` for every other group: custom resources, CRDs themselves
  (``/registry/apiextensions.k8s.io/customresourcedefinitions/...``) and APIServices.

Use :func:`storage_resource` to compute the segment from a group and plural, then
:func:`key_for` / :func:`prefix_for`. Prefixes always end with ``/`` so that listing namespace
``a`` never sees namespace ``ab``.
"""

from __future__ import annotations

__all__ = ["BUILTIN_GROUPS", "REGISTRY_ROOT", "key_for", "prefix_for", "storage_resource"]

REGISTRY_ROOT = "/registry"

BUILTIN_GROUPS: frozenset[str] = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "extensions",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)
"""Groups whose resources are stored without a group segment (everything else is group-qualified)."""

_OVERRIDES: dict[tuple[str, str], str] = {
    ("", "services"): "services/specs",
    ("", "endpoints"): "services/endpoints",
    ("", "nodes"): "minions",
    ("", "replicationcontrollers"): "controllers",
    ("networking.k8s.io", "ingresses"): "ingress",
    ("extensions", "ingresses"): "ingress",
}


def storage_resource(resource: str, group: str = "") -> str:
    """The key segment(s) for ``resource`` (plural, lower case) in API group ``group``."""
    _check_segment("resource", resource)
    override = _OVERRIDES.get((group, resource))
    if override is not None:
        return override
    if group in BUILTIN_GROUPS:
        return resource
    _check_segment("group", group)
    return f"{group}/{resource}"


def key_for(resource: str, namespace: str | None, name: str) -> str:
    """The key of one object; ``resource`` is a :func:`storage_resource` segment.

    ``namespace`` is ``None`` (or empty) for cluster-scoped objects.
    """
    _check_segment("name", name)
    if namespace:
        _check_segment("namespace", namespace)
        return f"{REGISTRY_ROOT}/{resource}/{namespace}/{name}"
    return f"{REGISTRY_ROOT}/{resource}/{name}"


def prefix_for(resource: str, namespace: str | None = None) -> str:
    """The list/watch prefix of a resource, across namespaces (``None``) or in one namespace."""
    if namespace:
        _check_segment("namespace", namespace)
        return f"{REGISTRY_ROOT}/{resource}/{namespace}/"
    return f"{REGISTRY_ROOT}/{resource}/"


def _check_segment(what: str, value: str) -> None:
    if not value or value in (".", "..") or "/" in value or "\x00" in value:
        raise ValueError(f"invalid {what} for a storage key: {value!r}")
