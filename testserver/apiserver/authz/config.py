"""The authorizer ``--authorization-mode`` asks for (kube's pkg/kubeapiserver/authorizer/config.go):
system:masters first, then each mode in order; RBAC reconciles the bootstrap policy and starts its index."""

from __future__ import annotations

import copy
from typing import Any

from testserver.apiserver.authz import bootstrap_policy
from testserver.apiserver.authz.authorizer import (
    AlwaysAllow,
    AlwaysDeny,
    Authorizer,
    PrivilegedGroups,
    Union,
    parse_authorization_modes,
)
from testserver.apiserver.authz.rbac import RBAC_GROUP, RBACAuthorizer

__all__ = ["build_authorizer"]


async def build_authorizer(modes: str, objects: Any) -> tuple[Union, RBACAuthorizer | None]:
    """The union for ``modes`` and its RBAC authorizer (None without RBAC), started.

    ``objects``: the server's ``admission.objects.ObjectAccess`` (storage and routes).
    """
    authorizers: list[Authorizer] = [PrivilegedGroups("system:masters")]
    rbac: RBACAuthorizer | None = None
    for mode in parse_authorization_modes(modes):
        if mode == "AlwaysAllow":
            authorizers.append(AlwaysAllow())
        elif mode == "AlwaysDeny":
            authorizers.append(AlwaysDeny())
        elif mode == "RBAC":
            for role in bootstrap_policy.CLUSTER_ROLES:
                await objects.create_system(RBAC_GROUP, "clusterroles", copy.deepcopy(role))
            for binding in bootstrap_policy.CLUSTER_ROLE_BINDINGS:
                await objects.create_system(RBAC_GROUP, "clusterrolebindings", copy.deepcopy(binding))
            rbac = RBACAuthorizer(objects.storage, objects.routes)
            await rbac.start()
            authorizers.append(rbac)
    return Union(authorizers), rbac
