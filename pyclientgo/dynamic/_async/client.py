"""The dynamic client: every verb on any group/version/resource, with plain dicts.

It is the typed client's generic implementation bound to :class:`~pyclientgo.dynamic.codec.UnstructuredCodec`
— one code path for built-in and custom resources alike.

The sync twin (``pyclientgo.dynamic._sync.client``) is generated from this file.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from pyclientgo.apimachinery.registry import GroupVersionResource, Registry
from pyclientgo.config import Config
from pyclientgo.dynamic.codec import UNSTRUCTURED, Unstructured
from pyclientgo.kubernetes._async.resource import AsyncResourceClientBase
from pyclientgo.rest import AsyncRESTClient

__all__ = ["AsyncDynamicClient", "AsyncDynamicResourceClient"]


class AsyncDynamicResourceClient(
    AsyncResourceClientBase[Unstructured, Unstructured, Unstructured, Unstructured]
):
    """Verbs on one resource of any kind; objects, lists, scales and statuses are dicts.

    ``namespaced`` is the resource's scope when known. When it is ``None`` the client behaves as
    client-go's dynamic client: a namespace (the client's, or a written object's
    ``metadata.namespace``) gives namespaced URLs, no namespace gives cluster URLs.
    """

    def __init__(
        self,
        rest: AsyncRESTClient,
        gvr: GroupVersionResource,
        namespace: str | None = None,
        *,
        namespaced: bool | None = None,
        subresources: frozenset[str] | None = None,
    ) -> None:
        super().__init__(
            rest,
            gvr=gvr,
            namespaced=namespaced,
            namespace=namespace,
            codec=UNSTRUCTURED,
            subresources=subresources,
        )

    def namespaced_to(self, namespace: str | None) -> AsyncDynamicResourceClient:
        """The same resource in another namespace (``None``: all namespaces / cluster scope)."""
        return AsyncDynamicResourceClient(
            self.rest, self.gvr, namespace, namespaced=self.namespaced, subresources=self.subresources
        )


class AsyncDynamicClient:
    """``AsyncDynamicClient(rest_or_config).resource(gvr, "ns").list()``.

    The scope of a resource comes from ``namespaced=`` when given, else from ``registry`` (the
    built-in resources by default), else it is left unknown (see :class:`AsyncDynamicResourceClient`).
    Use :class:`~pyclientgo.discovery.AsyncRESTMapper` to learn the scope of a custom resource.
    """

    def __init__(self, rest: AsyncRESTClient | Config, *, registry: Registry | None = None) -> None:
        self._owns_rest = not isinstance(rest, AsyncRESTClient)
        self.rest = rest if isinstance(rest, AsyncRESTClient) else AsyncRESTClient(rest)
        self._registry = registry

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from pyclientgo.api import builtin_registry

            self._registry = builtin_registry()
        return self._registry

    def resource(
        self,
        gvr: GroupVersionResource,
        namespace: str | None = None,
        *,
        namespaced: bool | None = None,
    ) -> AsyncDynamicResourceClient:
        """A client of one resource; ``namespace=None`` lists and watches across all namespaces."""
        subresources: frozenset[str] | None = None
        if namespaced is None:
            info = self.registry.get(gvr)
            if info is not None:
                namespaced = info.namespaced
                subresources = frozenset(sub.name for sub in info.subresources)
        return AsyncDynamicResourceClient(
            self.rest, gvr, namespace, namespaced=namespaced, subresources=subresources
        )

    async def aclose(self) -> None:
        """Close the REST client if this client created it."""
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
