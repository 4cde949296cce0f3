"""Admission attributes, the plugin interface and the chain that runs plugins in order.

As in kube-apiserver, every plugin may mutate (``admit``) and/or check (``validate``); the chain
runs all ``admit`` steps, the caller then applies the registry strategy (defaults are already in,
validation next), then all ``validate`` steps. A plugin refuses by raising a
:class:`~testserver.apiserver.status.StatusError` (usually 403 Forbidden, see :func:`forbidden`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from testserver.apiserver import status as st
from testserver.apiserver.request import User
from testserver.apiserver.resources import ResourceRoute

__all__ = ["AdmissionChain", "Attributes", "Plugin", "forbidden"]

CREATE = "CREATE"
UPDATE = "UPDATE"
DELETE = "DELETE"
CONNECT = "CONNECT"


@dataclass(kw_only=True)
class Attributes:
    """What one admission decision is about (kube's ``admission.Attributes``)."""

    operation: str
    """CREATE, UPDATE, DELETE or CONNECT."""
    route: ResourceRoute
    """The resource being written."""
    namespace: str
    """The request's namespace ("" for cluster-scoped resources)."""
    name: str
    """The object's name ("" while a generateName create has no name yet)."""
    obj: dict[str, Any] | None = None
    """The new object (CREATE/UPDATE; the Eviction body for pods/eviction)."""
    old: dict[str, Any] | None = None
    """The stored object (UPDATE/DELETE)."""
    subresource: str = ""
    """``status``, ``eviction``, ... or "" for the main resource."""
    dry_run: bool = False
    """dryRun=All: decide, but change nothing outside the request (no allocations, no side objects)."""
    user: User | None = None
    """Who asks."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Audit annotations plugins add (kept for future audit logging)."""

    @property
    def kind(self) -> str:
        return self.route.kind

    @property
    def resource(self) -> str:
        return self.route.plural

    @property
    def group(self) -> str:
        return self.route.group

    def is_kind(self, group: str, *kinds: str) -> bool:
        """Whether the resource is one of ``kinds`` of ``group`` (plugins look at built-in kinds by
        group and kind, so a custom resource of kind ``Pod`` in ``example.com`` is not a Pod)."""
        return self.route.group == group and self.route.kind in kinds


class Plugin:
    """One admission plugin; override :meth:`admit` (mutating) and/or :meth:`validate`."""

    name = "Plugin"

    def handles(self, a: Attributes) -> bool:
        """Whether this plugin looks at ``a`` at all (cheap filter run first)."""
        return True

    async def admit(self, a: Attributes) -> None:
        """Mutate ``a.obj``; raise to refuse."""

    async def validate(self, a: Attributes) -> None:
        """Check ``a.obj`` without changing it; raise to refuse."""


class AdmissionChain:
    """Plugins in kube's recommended order; mutating phase first, then validating."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = list(plugins)

    async def admit(self, a: Attributes) -> None:
        for plugin in self.plugins:
            if plugin.handles(a):
                await plugin.admit(a)

    async def validate(self, a: Attributes) -> None:
        for plugin in self.plugins:
            if plugin.handles(a):
                await plugin.validate(a)

    def get(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)


def forbidden(a: Attributes, message: str, causes: list[dict[str, Any]] | None = None) -> st.StatusError:
    """``admission.NewForbidden``: 403 ``<resource> "<name>" is forbidden: <message>``."""
    return st.forbidden(a.resource, a.name, message, a.group, causes=causes)
