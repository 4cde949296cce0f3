"""A REST mapper backed by cached discovery, refreshed once on a miss (``DeferredDiscoveryRESTMapper``).

The sync twin (``pyclientgo.discovery._sync.restmapper``) is generated from this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pyclientgo.apimachinery.registry import GroupVersionKind, GroupVersionResource
from pyclientgo.discovery._async.discovery import AsyncCachedDiscoveryClient, AsyncDiscoveryClient
from pyclientgo.discovery.restmapper import DefaultRESTMapper, NoMatchError, RESTMapping
from pyclientgo.discovery.types import DiscoveredResource, ServerResources
from pyclientgo.rest import AsyncRESTClient

__all__ = ["AsyncRESTMapper"]

R = TypeVar("R")


class AsyncRESTMapper:
    """Kind ↔ resource lookups (see :class:`~pyclientgo.discovery.restmapper.DefaultRESTMapper`).

    Lookups read cached discovery. When one finds nothing and the data did not come from the
    server during that very lookup, the cache is invalidated and the lookup tried once more — so a
    custom resource defined a moment ago is found, and a typo costs one refresh.
    """

    def __init__(
        self, discovery: AsyncCachedDiscoveryClient | AsyncDiscoveryClient | AsyncRESTClient
    ) -> None:
        if not isinstance(discovery, AsyncCachedDiscoveryClient):
            discovery = AsyncCachedDiscoveryClient(discovery)
        self.discovery = discovery
        self._source: ServerResources | None = None
        self._mapper: DefaultRESTMapper | None = None

    def reset(self) -> None:
        """Drop cached discovery; the next lookup asks the server."""
        self.discovery.invalidate()
        self._source = None
        self._mapper = None

    async def _delegate(self) -> tuple[DefaultRESTMapper, bool]:
        fetches = self.discovery.fetches
        server = await self.discovery.server_groups_and_resources()
        if self._mapper is None or self._source is not server:
            self._mapper = DefaultRESTMapper.from_server_resources(server)
            self._source = server
        return self._mapper, self.discovery.fetches != fetches

    async def _lookup(self, find: Callable[[DefaultRESTMapper], R]) -> R:
        mapper, fresh = await self._delegate()
        try:
            return find(mapper)
        except NoMatchError:
            if fresh:
                raise
        self.reset()
        mapper, _ = await self._delegate()
        return find(mapper)

    async def resource_info_for(self, arg: str) -> DiscoveredResource:
        """The discovered resource a kubectl-style argument (``po``, ``deployments.apps``) means."""
        return await self._lookup(lambda m: m.resource_info_for(arg))

    async def resource_for(self, arg: str) -> GroupVersionResource:
        return await self._lookup(lambda m: m.resource_for(arg))

    async def resources_for(self, arg: str) -> list[GroupVersionResource]:
        return await self._lookup(lambda m: _nonempty(m.resources_for(arg), arg))

    async def kind_for(self, arg: str) -> GroupVersionKind:
        return await self._lookup(lambda m: m.kind_for(arg))

    async def rest_mapping(self, kind: GroupVersionKind | str, version: str | None = None) -> RESTMapping:
        """Where a kind lives: ``await mapper.rest_mapping(GroupVersionKind("apps", "v1", "Deployment"))``."""
        return await self._lookup(lambda m: m.rest_mapping(kind, version))

    async def rest_mappings(
        self, kind: GroupVersionKind | str, version: str | None = None
    ) -> list[RESTMapping]:
        return await self._lookup(lambda m: _nonempty(m.rest_mappings(kind, version), kind))


def _nonempty(found: list[R], what: object) -> list[R]:
    if not found:
        raise NoMatchError(f"no matches for {what}")
    return found
