"""The base of the generated clientset: owns the REST client that every group client shares.

The sync twin (``pyclientgo.kubernetes._sync.clientset_base``) is generated from this file.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from pyclientgo.config import Config, load_config
from pyclientgo.discovery._async.discovery import AsyncDiscoveryClient
from pyclientgo.rest import AsyncRESTClient

__all__ = ["AsyncClientsetBase"]


class AsyncClientsetBase:
    """Holds ``self.rest`` (one connection pool, rate limiter and auth for all groups).

    ``AsyncClientset(config)`` builds its own REST client; ``AsyncClientset(rest=client)`` shares
    one. Without either, the config is loaded as :func:`pyclientgo.config.load_config` finds it.
    Use it as an async context manager, or call :meth:`aclose`: it closes the REST client only if
    the clientset created it (a shared one stays open for its owner, as in the dynamic client).
    """

    def __init__(self, config: Config | None = None, *, rest: AsyncRESTClient | None = None) -> None:
        if rest is not None and config is not None:
            raise ValueError("pass a config or a REST client, not both")
        self._owns_rest = rest is None
        if rest is None:
            rest = AsyncRESTClient(config if config is not None else load_config())
        self.rest = rest
        self.discovery = AsyncDiscoveryClient(rest)
        """Discovery of the server's groups, versions and resources (not cached)."""

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None = None, *, context: str | None = None) -> Self:
        """A clientset for a kubeconfig file and context (defaults as ``kubectl`` picks them)."""
        return cls(load_config(kubeconfig=kubeconfig, context=context))

    async def aclose(self) -> None:
        """Close the REST client's connections if this clientset created it."""
        if self._owns_rest:
            await self.rest.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
