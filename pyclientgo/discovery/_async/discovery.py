"""Discovery clients: what the server serves, asked live or from a TTL cache.

The sync twin (``pyclientgo.discovery._sync.discovery``) is generated from this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from pyclientgo.discovery.types import (
    AGGREGATED_ACCEPT,
    DiscoveredGroup,
    DiscoveredResource,
    ServerResources,
    VersionInfo,
    group_version_path,
    is_aggregated,
    parse_aggregated_discovery,
    parse_api_group_list,
    parse_api_resource_list,
    parse_api_versions,
    parse_version,
)
from pyclientgo.errors import ApiError
from pyclientgo.rest import AsyncRESTClient

__all__ = ["AsyncCachedDiscoveryClient", "AsyncDiscoveryClient"]

_JSON = "application/json"


class AsyncDiscoveryClient:
    """Asks the server what it serves, every time (see :class:`AsyncCachedDiscoveryClient`).

    With ``aggregated=True`` (the default) the roots are requested the way kubectl requests them
    and, when the server answers with aggregated discovery, two requests describe everything;
    otherwise each group version is fetched on its own (legacy discovery).
    """

    def __init__(self, rest: AsyncRESTClient, *, aggregated: bool = True) -> None:
        self.rest = rest
        self.aggregated = aggregated

    async def server_version(self) -> VersionInfo:
        """``GET /version``."""
        response = await self.rest.request("GET", "/version", accept=_JSON)
        return parse_version(response.content)

    async def _root(
        self, path: str
    ) -> tuple[list[DiscoveredGroup], list[DiscoveredResource] | None, dict[str, str]]:
        """``/api`` or ``/apis``: groups, and their resources when the answer was aggregated."""
        accept = AGGREGATED_ACCEPT if self.aggregated else _JSON
        response = await self.rest.request("GET", path, accept=accept)
        if is_aggregated(response.headers.get("content-type")):
            return parse_aggregated_discovery(response.content)
        if path == "/api":
            core = parse_api_versions(response.content)
            return ([core] if core.versions else []), None, {}
        return parse_api_group_list(response.content), None, {}

    async def server_groups(self) -> list[DiscoveredGroup]:
        """Every API group, the core group (``""``) first, each with its versions (preferred first)."""
        core, _, _ = await self._root("/api")
        groups, _, _ = await self._root("/apis")
        return core + groups

    async def server_resources_for_group_version(self, group_version: str) -> list[DiscoveredResource]:
        """The resources of one group version (``v1``, ``apps/v1``), by legacy discovery."""
        group, _, version = group_version.rpartition("/")
        response = await self.rest.request("GET", group_version_path(group, version), accept=_JSON)
        return parse_api_resource_list(response.content)

    async def server_groups_and_resources(self) -> ServerResources:
        """Every group and every resource of every served version.

        Group versions that fail to answer (or are stale) are listed in ``failed``, not raised.
        """
        groups: list[DiscoveredGroup] = []
        resources: list[DiscoveredResource] = []
        failed: dict[str, str] = {}
        for root in ("/api", "/apis"):
            root_groups, root_resources, stale = await self._root(root)
            groups += root_groups
            failed.update(stale)
            if root_resources is not None:
                resources += root_resources
                continue
            for group in root_groups:
                for group_version in group.group_versions():
                    try:
                        resources += await self.server_resources_for_group_version(group_version)
                    except ApiError as err:
                        failed[group_version] = str(err)
        return ServerResources(groups=tuple(groups), resources=tuple(resources), failed=failed)

    async def server_preferred_resources(self) -> list[DiscoveredResource]:
        """Resources of each group's preferred version."""
        return (await self.server_groups_and_resources()).preferred()


class AsyncCachedDiscoveryClient:
    """Discovery memoised for ``ttl`` seconds (client-go's memory-cached discovery client).

    ``invalidate()`` drops everything; the next call asks the server again. ``timer`` is the clock
    the TTL is measured on (inject a fake one in tests). ``fetches`` counts the server round trips
    for the full resource set, which is how :class:`AsyncRESTMapper` knows whether a miss was
    answered by fresh data.
    """

    def __init__(
        self,
        delegate: AsyncDiscoveryClient | AsyncRESTClient,
        *,
        ttl: float = 600.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(delegate, AsyncDiscoveryClient):
            delegate = AsyncDiscoveryClient(delegate)
        self.delegate = delegate
        self.ttl = ttl
        self._cache: TTLCache[str, object] = TTLCache(maxsize=256, ttl=ttl, timer=timer)
        self.fetches = 0

    def invalidate(self) -> None:
        """Forget everything cached."""
        self._cache.clear()

    async def server_version(self) -> VersionInfo:
        cached = self._cache.get("version")
        if isinstance(cached, VersionInfo):
            return cached
        version = await self.delegate.server_version()
        self._cache["version"] = version
        return version

    async def server_groups_and_resources(self) -> ServerResources:
        cached = self._cache.get("resources")
        if isinstance(cached, ServerResources):
            return cached
        resources = await self.delegate.server_groups_and_resources()
        self.fetches += 1
        self._cache["resources"] = resources
        return resources

    async def server_groups(self) -> list[DiscoveredGroup]:
        return list((await self.server_groups_and_resources()).groups)

    async def server_resources_for_group_version(self, group_version: str) -> list[DiscoveredResource]:
        """From the cached full set; a group version the cache does not know is asked for live."""
        server = await self.server_groups_and_resources()
        if server.has_group_version(group_version) and group_version not in server.failed:
            return server.for_group_version(group_version)
        return await self.delegate.server_resources_for_group_version(group_version)

    async def server_preferred_resources(self) -> list[DiscoveredResource]:
        return (await self.server_groups_and_resources()).preferred()
