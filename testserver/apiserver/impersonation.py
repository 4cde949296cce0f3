"""Impersonation (kube's WithImpersonation filter): ``Impersonate-User`` / ``Impersonate-Group`` /
``Impersonate-Uid`` headers replace the request's user, each authorized as the ``impersonate`` verb
(users, groups, ServiceAccounts in core; uids in authentication.k8s.io) for the real user."""

from __future__ import annotations

from collections.abc import Callable

from testserver.apiserver import status as st
from testserver.apiserver.authz.attributes import Attributes
from testserver.apiserver.request import Request, User

__all__ = ["impersonated_user"]

_SA_PREFIX = "system:serviceaccount:"


def _target(user: User, header: str, value: str) -> Attributes:
    if header == "user" and value.startswith(_SA_PREFIX) and value.count(":") == 3:
        namespace, name = value[len(_SA_PREFIX) :].split(":", 1)
        return Attributes(user, "impersonate", True, namespace, "", "serviceaccounts", "", name)
    if header == "uid":
        return Attributes(user, "impersonate", True, "", "authentication.k8s.io", "uids", "", value)
    resource = "users" if header == "user" else "groups"
    return Attributes(user, "impersonate", True, "", "", resource, "", value)


def impersonated_user(req: Request, user: User, authorize: Callable[[Attributes], None]) -> User:
    """The user the request acts as: ``user`` without impersonation headers, else the impersonated
    one once ``authorize`` (raising 403) has allowed each requested name."""
    scope_headers = req.scope.get("headers") or ()
    name = req.header(b"impersonate-user")
    groups = [v.decode("latin-1") for k, v in scope_headers if k == b"impersonate-group"]
    uid = req.header(b"impersonate-uid")
    if not name and not groups and not uid:
        return user
    if not name:
        raise st.bad_request("requested impersonation of groups or a uid without impersonating a user")
    authorize(_target(user, "user", name))
    for group in groups:
        authorize(_target(user, "group", group))
    if uid:
        authorize(_target(user, "uid", uid))
    if name.startswith(_SA_PREFIX) and name.count(":") == 3 and not groups:
        namespace = name.split(":")[2]
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    if name != "system:anonymous" and "system:authenticated" not in groups:
        groups.append("system:authenticated")
    return User(name, tuple(groups))
