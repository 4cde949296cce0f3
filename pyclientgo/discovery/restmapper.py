"""Kind ↔ resource mapping over discovery records (client-go's ``DefaultRESTMapper``; I/O-free).

Resource arguments are read the way kubectl reads them: ``po``, ``pod``, ``pods``, ``Pod``,
``deploy``, ``deployments.apps``, ``deployments.v1.apps``, ``certificates.cert-manager.io``.
Where several groups serve the same name, the earlier group in discovery order wins (the core
group first), and within a group the preferred version — kubectl's priority.

:class:`~pyclientgo.discovery.AsyncRESTMapper` wraps this with cached discovery that is refreshed
once on a miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.discovery.types import DiscoveredGroup, DiscoveredResource, ServerResources

__all__ = ["DefaultRESTMapper", "NoMatchError", "RESTMapping"]


class NoMatchError(LookupError):
    """No resource or kind matches the request."""


@dataclass(frozen=True, slots=True)
class RESTMapping:
    """Where a kind lives: its resource and scope."""

    gvk: GroupVersionKind
    gvr: GroupVersionResource
    namespaced: bool
    resource: DiscoveredResource


@dataclass(frozen=True, slots=True)
class _Request:
    name: str
    group: str | None
    version: str | None


def _resource_requests(arg: str) -> list[_Request]:
    """kubectl's ``ParseResourceArg`` then ``ParseGroupResource``: the readings of ``a.b.c``, best first."""
    name, dot, rest = arg.partition(".")
    if not dot:
        return [_Request(name, None, None)]
    requests = []
    version, dot2, group = rest.partition(".")
    if dot2:
        requests.append(_Request(name, group, version))
    requests.append(_Request(name, rest, None))
    return requests


def _kind_requests(arg: str) -> list[_Request]:
    """``Kind``, ``Kind.group`` or ``Kind.version.group`` (``ParseKindArg``), best first."""
    return _resource_requests(arg)


class DefaultRESTMapper:
    """Lookups over a fixed set of discovered resources, ordered by discovery priority."""

    def __init__(
        self,
        resources: Iterable[DiscoveredResource],
        groups: Iterable[DiscoveredGroup] = (),
    ) -> None:
        group_list = list(groups)
        group_rank = {g.name: i for i, g in enumerate(group_list)}
        version_rank = {(g.name, v): i for g in group_list for i, v in enumerate(g.versions)}
        indexed = list(enumerate(resources))
        unknown = len(group_list)
        # Stable sort: core group first, then discovery order; within a group, preferred version first.
        indexed.sort(
            key=lambda pair: (
                0 if pair[1].group == "" else 1,
                group_rank.get(pair[1].group, unknown),
                version_rank.get((pair[1].group, pair[1].version), unknown),
                pair[0],
            )
        )
        self.resources: list[DiscoveredResource] = [r for _, r in indexed]

    @classmethod
    def from_server_resources(cls, server: ServerResources) -> DefaultRESTMapper:
        return cls(server.resources, server.groups)

    # -- resources ----------------------------------------------------------------------------------

    @staticmethod
    def _names(res: DiscoveredResource) -> set[str]:
        names = {res.resource.lower(), res.kind.lower(), *(s.lower() for s in res.short_names)}
        if res.singular:
            names.add(res.singular.lower())
        return names

    def _matches(self, request: _Request) -> list[DiscoveredResource]:
        name = request.name.lower()
        found = []
        for res in self.resources:
            if request.group is not None and res.group != request.group:
                continue
            if request.version is not None and res.version != request.version:
                continue
            if name in self._names(res):
                found.append(res)
        return found

    def resource_infos_for(self, arg: str) -> list[DiscoveredResource]:
        """Every resource the argument can mean, best first (several versions of a group included)."""
        for request in _resource_requests(arg.strip()):
            found = self._matches(request)
            if found:
                # A plural/singular match beats a short-name or kind match (``kubectl get pods``).
                exact = [r for r in found if request.name.lower() in (r.resource, r.singular)]
                return exact + [r for r in found if r not in exact]
        return []

    def resource_info_for(self, arg: str) -> DiscoveredResource:
        """The resource a kubectl resource argument means."""
        found = self.resource_infos_for(arg)
        if not found:
            raise NoMatchError(f'the server doesn\'t have a resource type "{arg}"')
        return found[0]

    def resources_for(self, arg: str) -> list[GroupVersionResource]:
        return [r.gvr for r in self.resource_infos_for(arg)]

    def resource_for(self, arg: str) -> GroupVersionResource:
        """``po`` → ``GroupVersionResource("", "v1", "pods")``; ``deploy`` → apps/v1 deployments."""
        return self.resource_info_for(arg).gvr

    def kinds_for(self, arg: str) -> list[GroupVersionKind]:
        return [r.gvk for r in self.resource_infos_for(arg)]

    def kind_for(self, arg: str) -> GroupVersionKind:
        """The kind of the resource an argument means (``deploy`` → apps/v1 Deployment)."""
        return self.resource_info_for(arg).gvk

    # -- kinds ----------------------------------------------------------------------------------------

    def rest_mappings(self, kind: GroupVersionKind | str, version: str | None = None) -> list[RESTMapping]:
        """Every mapping of a kind, best first.

        ``kind`` is a ``GroupVersionKind`` (an empty version means any, preferred first) or a string
        ``Kind``, ``Kind.group``, ``Kind.version.group``. ``version`` narrows to one version.
        """
        if isinstance(kind, GroupVersionKind):
            requests = [_Request(kind.kind, kind.group, kind.version or None)]
        else:
            requests = _kind_requests(kind.strip())
        for request in requests:
            want_version = version or request.version
            found = [
                RESTMapping(r.gvk, r.gvr, r.namespaced, r)
                for r in self.resources
                if r.kind.lower() == request.name.lower()
                and (request.group is None or r.group == request.group)
                and (want_version is None or r.version == want_version)
            ]
            if found:
                exact = [m for m in found if m.gvk.kind == request.name]
                return exact + [m for m in found if m not in exact]
        return []

    def rest_mapping(self, kind: GroupVersionKind | str, version: str | None = None) -> RESTMapping:
        """The resource of a kind: ``rest_mapping(GroupVersionKind("apps", "v1", "Deployment"))``."""
        found = self.rest_mappings(kind, version)
        if not found:
            if isinstance(kind, GroupVersionKind):
                raise NoMatchError(
                    f'no matches for kind "{kind.kind}" in version "{kind.api_version}"'
                    if kind.version
                    else f'no matches for kind "{kind.kind}" in group "{kind.group}"'
                )
            raise NoMatchError(f'no matches for kind "{kind}"')
        return found[0]
