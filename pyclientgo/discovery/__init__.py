"""Discovery (what the server serves) and REST mapping (kind ↔ resource).

- :class:`AsyncDiscoveryClient` / :class:`DiscoveryClient`: ``/version``, ``/api``, ``/apis`` and
  per-group-version resource lists; aggregated discovery (``apidiscovery.k8s.io/v2``) when the
  server offers it, legacy discovery otherwise.
- :class:`AsyncCachedDiscoveryClient` / :class:`CachedDiscoveryClient`: the same, memoised with a
  TTL (``invalidate()`` to drop it).
- :class:`AsyncRESTMapper` / :class:`RESTMapper`: kubectl-style lookups (``po``,
  ``deployments.apps``, ``Deployment``) over cached discovery, refreshed once on a miss.
- :class:`DefaultRESTMapper`: the same lookups over a fixed set of resources (no I/O), e.g.
  ``DefaultRESTMapper.from_server_resources(resources_from_registry(builtin_registry()))``.

The sync classes are generated from ``_async/``.
"""

from pyclientgo.discovery._async.discovery import AsyncCachedDiscoveryClient, AsyncDiscoveryClient
from pyclientgo.discovery._async.restmapper import AsyncRESTMapper
from pyclientgo.discovery._sync.discovery import CachedDiscoveryClient, DiscoveryClient
from pyclientgo.discovery._sync.restmapper import RESTMapper
from pyclientgo.discovery.restmapper import DefaultRESTMapper, NoMatchError, RESTMapping
from pyclientgo.discovery.types import (
    AGGREGATED_ACCEPT,
    DiscoveredGroup,
    DiscoveredResource,
    ServerResources,
    VersionInfo,
    parse_aggregated_discovery,
    parse_api_group_list,
    parse_api_resource_list,
    parse_api_versions,
    resources_from_registry,
)

__all__ = [
    "AGGREGATED_ACCEPT",
    "AsyncCachedDiscoveryClient",
    "AsyncDiscoveryClient",
    "AsyncRESTMapper",
    "CachedDiscoveryClient",
    "DefaultRESTMapper",
    "DiscoveredGroup",
    "DiscoveredResource",
    "DiscoveryClient",
    "NoMatchError",
    "RESTMapper",
    "RESTMapping",
    "ServerResources",
    "VersionInfo",
    "parse_aggregated_discovery",
    "parse_api_group_list",
    "parse_api_resource_list",
    "parse_api_versions",
    "resources_from_registry",
]
