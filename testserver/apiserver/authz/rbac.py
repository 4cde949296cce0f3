"""The RBAC authorizer: Roles/ClusterRoles granted through RoleBindings/ClusterRoleBindings.

Rules are matched as kube's ``rbac.RuleAllows`` (verbs, apiGroups, resources with subresources
and ``*/sub``, resourceNames, nonResourceURLs with a trailing ``*``). Bindings are indexed by
subject (user name, group), so a check looks only at the bindings naming the request's user or
one of its groups. The index follows the storage: each of the four resources is listed, then
watched from the list's revision (relisted if the watch ends), as an informer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from testserver.apiserver import objects as ob
from testserver.apiserver.authz.attributes import Attributes
from testserver.apiserver.authz.authorizer import Decision
from testserver.apiserver.request import User
from testserver.apiserver.resources import Routes
from testserver.storage.interface import Storage

__all__ = ["RBACAuthorizer", "RBACIndex", "rule_allows"]

log = logging.getLogger("testserver.apiserver.authz")

RBAC_GROUP = "rbac.authorization.k8s.io"
_KINDS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


def _has(values: Collection[str], value: str) -> bool:
    return value in values or "*" in values


def _resource_matches(rule_resources: Iterable[str], resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for rr in rule_resources:
        if rr == "*" or rr == combined:
            return True
        if subresource and rr == "*/" + subresource:
            return True
    return False


def _url_matches(rule_urls: Iterable[str], path: str) -> bool:
    for url in rule_urls:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], attrs: Attributes) -> bool:
    """Whether one PolicyRule allows the request (kube's RuleAllows)."""
    if not _has(rule.get("verbs") or (), attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule.get("nonResourceURLs") or (), attrs.path)
    if not _has(rule.get("apiGroups") or (), attrs.api_group):
        return False
    if not _resource_matches(rule.get("resources") or (), attrs.resource, attrs.subresource):
        return False
    names = rule.get("resourceNames") or ()
    return not names or attrs.name in names


def _subject_keys(binding: Mapping[str, Any]) -> list[tuple[str, str]]:
    """("user", name) / ("group", name) keys of a binding's subjects (ServiceAccounts as their user name)."""
    keys: list[tuple[str, str]] = []
    binding_ns = (binding.get("metadata") or {}).get("namespace") or ""
    for subject in binding.get("subjects") or ():
        kind, name = subject.get("kind"), subject.get("name") or ""
        if kind == "User":
            keys.append(("user", name))
        elif kind == "Group":
            keys.append(("group", name))
        elif kind == "ServiceAccount":
            ns = subject.get("namespace") or binding_ns
            keys.append(("user", f"system:serviceaccount:{ns}:{name}"))
    return keys


class RBACIndex:
    """Roles, ClusterRoles and bindings by subject, as stored (key: (namespace, name))."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {k: {} for k in _KINDS}
        self._by_subject: dict[tuple[str, str], dict[tuple[str, str, str], dict[str, Any]]] = {}
        self._granted: dict[tuple[str, tuple[str, ...]], list[tuple[str | None, Mapping[str, Any]]]] = {}

    def granted(self, user_name: str, groups: tuple[str, ...]) -> list[tuple[str | None, Mapping[str, Any]]]:
        """(namespace, rule) pairs granted to the user: namespace None for ClusterRoleBindings.

        Resolved once per user and group set, until the next change of any RBAC object."""
        key = (user_name, groups)
        found = self._granted.get(key)
        if found is None:
            found = []
            for binding in self.bindings_for(user_name, groups):
                ns = (
                    ((binding.get("metadata") or {}).get("namespace") or "")
                    if binding.get("kind") == "RoleBinding"
                    else None
                )
                found.extend((ns, rule) for rule in self.role_rules(binding))
            if len(self._granted) > 10000:
                self._granted.clear()
            self._granted[key] = found
        return found

    def put(self, kind: str, obj: dict[str, Any]) -> None:
        """Add or replace an object of ``kind`` (one of the four plural names)."""
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace") or "", meta.get("name") or "")
        self.remove(kind, key)
        self._granted.clear()
        self.objects[kind][key] = obj
        if kind.endswith("bindings"):
            for subject in _subject_keys(obj):
                self._by_subject.setdefault(subject, {})[(kind, *key)] = obj

    def remove(self, kind: str, key: tuple[str, str]) -> None:
        """Forget an object of ``kind`` by (namespace, name)."""
        old = self.objects[kind].pop(key, None)
        self._granted.clear()
        if old is not None and kind.endswith("bindings"):
            for subject in _subject_keys(old):
                bucket = self._by_subject.get(subject)
                if bucket is not None:
                    bucket.pop((kind, *key), None)
                    if not bucket:
                        del self._by_subject[subject]

    def bindings_for(self, user_name: str, groups: Iterable[str]) -> list[dict[str, Any]]:
        """The bindings naming the user or one of its groups (each once)."""
        found: dict[int, dict[str, Any]] = {}
        for subject in (("user", user_name), *(("group", g) for g in groups)):
            for binding in (self._by_subject.get(subject) or {}).values():
                found[id(binding)] = binding
        return list(found.values())

    def role_rules(self, binding: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The rules of the role a binding refers to (none if the role does not exist)."""
        ref = binding.get("roleRef") or {}
        name = ref.get("name") or ""
        if ref.get("kind") == "ClusterRole":
            role = self.objects["clusterroles"].get(("", name))
        else:
            ns = (binding.get("metadata") or {}).get("namespace") or ""
            role = self.objects["roles"].get((ns, name))
        return list((role or {}).get("rules") or ())


class RBACAuthorizer:
    """kube's RBAC authorizer over an :class:`RBACIndex` kept in sync with the storage."""

    def __init__(self, storage: Storage, routes: Routes) -> None:
        self.index = RBACIndex()
        self._storage = storage
        self._routes = routes
        self._tasks: list[asyncio.Task[None]] = []
        self._synced: dict[str, asyncio.Event] = {k: asyncio.Event() for k in _KINDS}

    async def start(self) -> None:
        """Start following the four resources; returns once each was listed."""
        for kind in _KINDS:
            self._tasks.append(asyncio.get_running_loop().create_task(self._follow(kind)))
        await asyncio.gather(*(event.wait() for event in self._synced.values()))

    async def stop(self) -> None:
        """Stop following the storage."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()

    async def _follow(self, kind: str) -> None:
        route = self._routes.get(RBAC_GROUP, "v1", kind)
        if route is None:
            self._synced[kind].set()
            return
        prefix = route.prefix(None)
        while True:
            try:
                revision = await self._relist(kind, prefix)
                self._synced[kind].set()
                async with await self._storage.watch(prefix, revision) as watch:
                    async for event in watch:
                        obj = ob.decode(event.kv.value, event.kv.mod_revision)
                        if event.type == "DELETED":
                            meta = obj.get("metadata") or {}
                            self.index.remove(kind, (meta.get("namespace") or "", meta.get("name") or ""))
                        else:
                            self.index.put(kind, obj)
            except asyncio.CancelledError:
                raise
            except Exception:  # a compacted or too-slow watch: relist
                log.warning("RBAC index: watch of %s ended; relisting", kind, exc_info=True)
                await asyncio.sleep(0.1)

    async def _relist(self, kind: str, prefix: str) -> int:
        items: list[dict[str, Any]] = []
        start: str | None = None
        revision: int | None = None
        while True:
            page = await self._storage.list(prefix, revision=revision, limit=500, continue_key=start)
            items.extend(ob.decode(kv.value, kv.mod_revision) for kv in page.items)
            revision = page.revision
            if not page.more or not page.next_key:
                break
            start = page.next_key
        for key in list(self.index.objects[kind]):
            self.index.remove(kind, key)
        for obj in items:
            self.index.put(kind, obj)
        return revision

    def rules_for(self, user: User, namespace: str) -> list[dict[str, Any]]:
        """The rules of the ClusterRoleBindings and ``namespace``'s RoleBindings naming the user."""
        rules: list[dict[str, Any]] = []
        for binding in self.index.bindings_for(user.name, user.groups):
            binding_ns = (binding.get("metadata") or {}).get("namespace") or ""
            if binding.get("kind") == "RoleBinding" and binding_ns != namespace:
                continue
            rules.extend(dict(rule) for rule in self.index.role_rules(binding))
        return rules

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        """Allow if a rule of a role bound to the user (or a group) allows the request; else no opinion.

        A RoleBinding grants only resource requests inside its own namespace."""
        user = attrs.user
        for ns, rule in self.index.granted(user.name, user.groups):
            if ns is not None and (not attrs.resource_request or ns != attrs.namespace):
                continue
            if rule_allows(rule, attrs):
                return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""
