"""NamespaceLifecycle: nothing new in a missing (404) or terminating (403, cause
NamespaceTerminating) namespace; the immortal namespaces cannot be deleted."""

from __future__ import annotations

from testserver.apiserver import status as st
from testserver.apiserver.admission.chain import CREATE, DELETE, Attributes, Plugin, forbidden
from testserver.apiserver.admission.objects import ObjectAccess

__all__ = ["IMMORTAL_NAMESPACES", "NamespaceLifecycle"]

IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
# Objects kube lets through into a terminating namespace (the namespace controller's own work).
_ALLOWED_WHILE_TERMINATING = frozenset(
    {("", "events"), ("events.k8s.io", "events"), ("", "serviceaccounts/token")}
)


class NamespaceLifecycle(Plugin):
    name = "NamespaceLifecycle"

    def __init__(self, objects: ObjectAccess) -> None:
        self.objects = objects

    def handles(self, a: Attributes) -> bool:
        if a.operation == DELETE:
            return a.is_kind("", "Namespace")
        return a.operation == CREATE and a.route.namespaced and not a.subresource

    async def admit(self, a: Attributes) -> None:
        if a.operation == DELETE:
            if a.name in IMMORTAL_NAMESPACES:
                raise forbidden(a, "this namespace may not be deleted")
            return
        ns = await self.objects.get("", "namespaces", None, a.namespace)
        if ns is None:
            raise st.not_found("namespaces", a.namespace)
        terminating = (
            ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating"
        )
        if terminating and (a.group, a.resource) not in _ALLOWED_WHILE_TERMINATING:
            raise forbidden(
                a,
                f"unable to create new content in namespace {a.namespace} because it is being terminated",
                causes=[
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {a.namespace} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )
