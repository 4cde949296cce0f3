"""Request attributes an authorizer decides on (kube's ``authorizer.Attributes`` / RequestInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from testserver.apiserver.request import User

__all__ = ["Attributes", "is_resource_path", "resource_verb"]


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a request asks to do: a resource request (verb on group/resource[/subresource] name
    in a namespace) or a non-resource request (verb on a URL path)."""

    user: User
    verb: str
    resource_request: bool
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""


def resource_verb(method: str, *, name: str, watching: bool) -> str:
    """kube's RequestInfo verb of a resource request: get/list/watch, create, update, patch,
    delete/deletecollection (a collection request has no name)."""
    if method in ("GET", "HEAD"):
        if watching:
            return "watch"
        return "get" if name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return method.lower()


def is_resource_path(path: str) -> bool:
    """Whether a path names resources (``/api/v1/...``, ``/apis/<group>/<version>/...``) rather
    than discovery or another non-resource URL."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        return len(parts) >= 3
    if parts[0] == "apis":
        return len(parts) >= 4
    return False
