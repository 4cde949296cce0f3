"""Hand-written extras of some typed clients (client-go's ``*_expansion.go``).

The generated clients mix these in: ``class AsyncPodClient(AsyncPodExpansion,
AsyncResourceClient[Pod, PodList])``. Each expansion is itself the typed client of its resource,
so its methods reuse the generic client's URL building and codec.

The sync twin (``pyclientgo.kubernetes._sync.expansions``) is generated from this file.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, overload

from pyclientgo.api.core.v1 import Binding, Namespace, NamespaceList, Pod, PodList
from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.kubernetes import options
from pyclientgo.kubernetes._async.resource import AsyncResourceClient
from pyclientgo.kubernetes.codec import object_identity

__all__ = ["AsyncNamespaceExpansion", "AsyncPodExpansion"]

_JSON = "application/json"


class AsyncPodExpansion(AsyncResourceClient[Pod, PodList]):
    """Pods: logs, binding to a node, eviction."""

    @overload
    async def log(
        self,
        name: str,
        *,
        container: str | None = None,
        follow: Literal[False] = False,
        previous: bool = False,
        since_seconds: int | None = None,
        since_time: _dt.datetime | str | None = None,
        timestamps: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> str: ...

    @overload
    async def log(
        self,
        name: str,
        *,
        container: str | None = None,
        follow: Literal[True],
        previous: bool = False,
        since_seconds: int | None = None,
        since_time: _dt.datetime | str | None = None,
        timestamps: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> AsyncIterator[str]: ...

    async def log(
        self,
        name: str,
        *,
        container: str | None = None,
        follow: bool = False,
        previous: bool = False,
        since_seconds: int | None = None,
        since_time: _dt.datetime | str | None = None,
        timestamps: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> str | AsyncIterator[str]:
        """A container's log (``GET pods/<name>/log``).

        Returns the text; with ``follow=True`` returns an iterator of lines (without their line
        ends) that keeps reading until the container stops or the iterator is closed; the
        stream opens on the first iteration. To stop early and release the connection at once,
        close it: ``async with contextlib.aclosing(await pods.log("p", follow=True)) as lines:``.
        """
        path = self._object_path(name, "log")
        params = options.log_params(
            container=container,
            follow=follow,
            previous=previous,
            since_seconds=since_seconds,
            since_time=since_time,
            timestamps=timestamps,
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
        )
        if follow:
            return self._follow_log(path, params)
        response = await self.rest.request("GET", path, params=params, accept="text/plain, */*")
        return response.text

    async def _follow_log(self, path: str, params: options.Params) -> AsyncIterator[str]:
        async with self.rest.stream("GET", path, params=params, accept="text/plain, */*") as response:
            # The sync twin's plain loop would be a ``yield from``; keep one source for both.
            async for line in response.aiter_lines():  # noqa: UP028, RUF100
                yield line

    async def bind(
        self,
        binding: Binding | Mapping[str, Any],
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> None:
        """Bind a pod to a node (``POST pods/<binding.metadata.name>/binding``), as a scheduler does."""
        if isinstance(binding, K8sModel):
            name, namespace = object_identity(binding)
        else:
            metadata = binding.get("metadata") or {}
            name, namespace = metadata.get("name"), metadata.get("namespace")
        if not name:
            raise ValueError("the binding has no metadata.name (the pod's name)")
        body = options.encode_body(binding)
        params = options.write_params(dry_run=dry_run, field_manager=field_manager)
        path = self._object_path(name, "binding", namespace)
        await self.rest.request("POST", path, params=params, body=body, content_type=_JSON)

    async def evict(
        self,
        name: str,
        *,
        delete_options: K8sModel | Mapping[str, Any] | None = None,
    ) -> None:
        """Evict a pod (``POST pods/<name>/eviction``), honouring its disruption budgets.

        A budget that forbids the eviction answers 429 (``TooManyRequests``).
        """
        path = self._object_path(name, "eviction")
        namespace = self._object_namespace()
        assert namespace is not None  # pods are namespaced
        body = options.eviction_body(name, namespace, delete_options)
        await self.rest.request("POST", path, body=body, content_type=_JSON)


class AsyncNamespaceExpansion(AsyncResourceClient[Namespace, NamespaceList]):
    """Namespaces: the ``finalize`` subresource."""

    async def finalize(
        self,
        namespace: Namespace,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> Namespace:
        """PUT the namespace to ``namespaces/<name>/finalize`` (sets ``spec.finalizers``)."""
        name, _ = self._identity(namespace)
        params = options.write_params(dry_run=dry_run, field_manager=field_manager)
        data = await self._send(
            "PUT", self._object_path(name, "finalize"), params, self.codec.encode(namespace)
        )
        return self.codec.decode(data)
