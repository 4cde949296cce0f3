"""The generic resource client, written once (client-go's ``gentype``).

:class:`AsyncResourceClientBase` implements every verb on one group/version/resource, parametrised
by a :class:`~pyclientgo.kubernetes.codec.Codec` that decodes and encodes objects. The typed
:class:`AsyncResourceClient` binds it to a generated model through three class attributes; the
dynamic client binds it to plain dicts. Request building is in :mod:`pyclientgo.kubernetes.options`.

The sync twin (``pyclientgo.kubernetes._sync.resource``) is generated from this file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from pyclientgo.api.autoscaling.v1 import Scale
from pyclientgo.api.meta.v1 import Status
from pyclientgo.apimachinery.model import K8sModel
from pyclientgo.apimachinery.registry import GroupVersionResource, ResourceInfo
from pyclientgo.kubernetes import options
from pyclientgo.kubernetes.codec import Codec, model_codec, response_kind
from pyclientgo.kubernetes.options import Params, PatchType, Preconditions, PropagationPolicy
from pyclientgo.rest import AsyncRESTClient, WatchEvent

__all__ = ["AsyncResourceClient", "AsyncResourceClientBase"]

T = TypeVar("T")
L = TypeVar("L")
S = TypeVar("S")
D = TypeVar("D")
MT = TypeVar("MT", bound=K8sModel)
ML = TypeVar("ML", bound=K8sModel)

_JSON = "application/json"


class AsyncResourceClientBase(Generic[T, L, S, D]):
    """Every verb of one resource, with objects (T), lists (L), scales (S) and statuses (D) from a codec.

    ``namespaced`` is the resource's scope when known; ``None`` (a dynamic client on a resource
    of unknown scope) builds namespaced URLs exactly when a namespace is at hand, as client-go's
    dynamic client does. ``subresources`` lists the subresources the resource serves when known,
    so that asking for a missing one fails before a request is sent.
    """

    def __init__(
        self,
        rest: AsyncRESTClient,
        *,
        gvr: GroupVersionResource,
        namespaced: bool | None,
        namespace: str | None,
        codec: Codec[T, L, S, D],
        subresources: frozenset[str] | None = None,
    ) -> None:
        if namespaced is False and namespace is not None:
            raise ValueError(f"{gvr.resource} ({gvr.group_version}) is cluster-scoped: it takes no namespace")
        if namespace == "":
            raise ValueError("namespace must be a name or None (None means all namespaces for list/watch)")
        self.rest = rest
        self.gvr = gvr
        self.namespaced = namespaced
        self.namespace = namespace
        self.codec = codec
        self.subresources = subresources

    def __repr__(self) -> str:
        where = f", namespace={self.namespace!r}" if self.namespace is not None else ""
        return f"{type(self).__name__}({self.gvr.resource}.{self.gvr.group_version}{where})"

    # -- URL building (no I/O) --------------------------------------------------------------------

    def _object_namespace(self, object_namespace: str | None = None) -> str | None:
        """The namespace of a single-object request: the client's, else the object's own."""
        if self.namespaced is False:
            return None
        namespace = self.namespace if self.namespace is not None else object_namespace or None
        if namespace is None and self.namespaced:
            raise ValueError(
                f"{self.gvr.resource} ({self.gvr.group_version}) is namespaced: "
                "create the client with a namespace (or set metadata.namespace on the object)"
            )
        return namespace

    def _collection_path(self, namespace: str | None) -> str:
        gvr = self.gvr
        return options.collection_path(gvr.group, gvr.version, gvr.resource, namespace)

    def _object_path(self, name: str, subresource: str | None = None, namespace: str | None = None) -> str:
        gvr = self.gvr
        ns = self._object_namespace(namespace)
        return options.object_path(gvr.group, gvr.version, gvr.resource, ns, name, subresource)

    def _status_path(self, name: str, namespace: str | None = None) -> str:
        self._require_subresource("status")
        return self._object_path(name, "status", namespace)

    def _scale_path(self, name: str) -> str:
        self._require_subresource("scale")
        return self._object_path(name, "scale")

    def _require_subresource(self, subresource: str) -> None:
        if self.subresources is not None and subresource not in self.subresources:
            raise ValueError(
                f"{self.gvr.resource} ({self.gvr.group_version}) has no {subresource!r} subresource"
            )

    def _identity(self, obj: T) -> tuple[str, str | None]:
        name, namespace = self.codec.identity(obj)
        if not name:
            raise ValueError("the object has no metadata.name")
        return name, namespace

    # -- reads --------------------------------------------------------------------------------------

    async def get(self, name: str, *, resource_version: str | None = None) -> T:
        """GET one object by name."""
        response = await self.rest.request(
            "GET", self._object_path(name), params={"resourceVersion": resource_version}
        )
        return self.codec.decode(response.content)

    async def get_status(self, name: str, *, resource_version: str | None = None) -> T:
        """GET the ``status`` subresource of an object (the whole object, as the server returns it)."""
        response = await self.rest.request(
            "GET", self._status_path(name), params={"resourceVersion": resource_version}
        )
        return self.codec.decode(response.content)

    async def list(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
        timeout_seconds: int | None = None,
    ) -> L:
        """LIST the collection; without a namespace on a namespaced resource, across all namespaces."""
        params = options.list_params(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        response = await self.rest.request("GET", self._collection_path(self.namespace), params=params)
        return self.codec.decode_list(response.content)

    def watch(
        self,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_watch_bookmarks: bool = False,
        send_initial_events: bool | None = None,
        resource_version_match: str | None = None,
    ) -> AsyncIterator[WatchEvent[T]]:
        """WATCH the collection: an iterator of events whose objects are decoded like ``get``'s."""
        params = options.watch_params(
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=allow_watch_bookmarks,
            send_initial_events=send_initial_events,
            resource_version_match=resource_version_match,
        )
        return self.rest.watch(self._collection_path(self.namespace), params, self.codec.decode)

    # -- writes -------------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, params: Params, body: bytes) -> bytes:
        response = await self.rest.request(method, path, params=params, body=body, content_type=_JSON)
        return response.content

    async def create(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
    ) -> T:
        """POST a new object (into the client's namespace, else the object's own)."""
        namespace = self._object_namespace(self.codec.identity(obj)[1])
        params = options.write_params(
            dry_run=dry_run, field_manager=field_manager, field_validation=field_validation
        )
        data = await self._send("POST", self._collection_path(namespace), params, self.codec.encode(obj))
        return self.codec.decode(data)

    async def _put(
        self,
        obj: T,
        subresource: str | None,
        dry_run: bool,
        field_manager: str | None,
        field_validation: str | None,
    ) -> T:
        name, namespace = self._identity(obj)
        params = options.write_params(
            dry_run=dry_run, field_manager=field_manager, field_validation=field_validation
        )
        if subresource is not None:
            self._require_subresource(subresource)
        path = self._object_path(name, subresource, namespace)
        return self.codec.decode(await self._send("PUT", path, params, self.codec.encode(obj)))

    async def update(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
    ) -> T:
        """PUT the whole object; its ``metadata.resourceVersion``, when set, is the precondition."""
        return await self._put(obj, None, dry_run, field_manager, field_validation)

    async def update_status(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
    ) -> T:
        """PUT the object to its ``status`` subresource (the server keeps only the status)."""
        return await self._put(obj, "status", dry_run, field_manager, field_validation)

    async def _patch(
        self,
        name: str,
        patch: Any,
        patch_type: PatchType,
        subresource: str | None,
        namespace: str | None,
        field_manager: str | None,
        force: bool | None,
        dry_run: bool,
        field_validation: str | None,
    ) -> bytes:
        params = options.patch_params(
            patch_type,
            field_manager=field_manager,
            force=force,
            dry_run=dry_run,
            field_validation=field_validation,
        )
        body, content_type = options.encode_patch(patch, patch_type)
        if subresource is not None:
            self._require_subresource(subresource)
        response = await self.rest.request(
            "PATCH",
            self._object_path(name, subresource, namespace),
            params=params,
            body=body,
            content_type=content_type,
        )
        return response.content

    async def patch(
        self,
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "strategic",
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: str | None = None,
        subresource: str | None = None,
    ) -> T:
        """PATCH an object (``strategic`` by default; ``merge``, ``json`` or ``apply``).

        ``patch`` is a dict, a list of JSON-patch operations, a model, or raw bytes.
        ``subresource`` is ``"status"`` to patch the status; use :meth:`patch_scale` for the scale.
        """
        data = await self._patch(
            name, patch, patch_type, subresource, None, field_manager, force, dry_run, field_validation
        )
        return self.codec.decode(data)

    async def _apply(
        self,
        obj: T,
        subresource: str | None,
        field_manager: str,
        force: bool,
        dry_run: bool,
        field_validation: str | None,
    ) -> T:
        name, namespace = self._identity(obj)
        data = await self._patch(
            name,
            self.codec.encode(obj),
            "apply",
            subresource,
            namespace,
            field_manager,
            force,
            dry_run,
            field_validation,
        )
        return self.codec.decode(data)

    async def apply(
        self,
        obj: T,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        field_validation: str | None = None,
    ) -> T:
        """Server-side apply: the object is the caller's whole intent; creates it when missing."""
        return await self._apply(obj, None, field_manager, force, dry_run, field_validation)

    async def apply_status(
        self,
        obj: T,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        field_validation: str | None = None,
    ) -> T:
        """Server-side apply of the object's status."""
        return await self._apply(obj, "status", field_manager, force, dry_run, field_validation)

    async def delete(
        self,
        name: str,
        *,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Preconditions | Mapping[str, Any] | K8sModel | None = None,
        dry_run: bool = False,
    ) -> T | D:
        """DELETE an object. Returns the object when it lingers (finalizers, grace), else a ``Status``."""
        body = options.delete_options_body(
            propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds,
            preconditions=preconditions,
            dry_run=dry_run,
        )
        response = await self.rest.request(
            "DELETE",
            self._object_path(name),
            body=body,
            content_type=_JSON if body is not None else None,
        )
        return self.codec.decode_deleted(response.content)

    async def delete_collection(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
        timeout_seconds: int | None = None,
    ) -> L | D:
        """DELETE every object of the collection that matches the selectors (one namespace at most).

        Returns the list of deleted objects, or a ``Status``.
        """
        if self.namespaced and self.namespace is None:
            raise ValueError(
                f"{self.gvr.resource} ({self.gvr.group_version}) is namespaced: "
                "delete_collection needs a namespace (the API has no all-namespaces delete)"
            )
        params = options.delete_collection_params(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        body = options.delete_options_body(
            propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds,
            dry_run=dry_run,
        )
        response = await self.rest.request(
            "DELETE",
            self._collection_path(self.namespace),
            params=params,
            body=body,
            content_type=_JSON if body is not None else None,
        )
        if response_kind(response.content) == "Status":
            return self.codec.decode_status(response.content)
        return self.codec.decode_list(response.content)

    # -- scale --------------------------------------------------------------------------------------

    async def get_scale(self, name: str) -> S:
        """GET the ``scale`` subresource (``autoscaling/v1 Scale``)."""
        response = await self.rest.request("GET", self._scale_path(name))
        return self.codec.decode_scale(response.content)

    async def update_scale(
        self,
        name: str,
        scale: S,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
    ) -> S:
        """PUT a ``Scale`` to the ``scale`` subresource."""
        params = options.write_params(
            dry_run=dry_run, field_manager=field_manager, field_validation=field_validation
        )
        data = await self._send("PUT", self._scale_path(name), params, self.codec.encode_scale(scale))
        return self.codec.decode_scale(data)

    async def patch_scale(
        self,
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
        field_validation: str | None = None,
    ) -> S:
        """PATCH the ``scale`` subresource (merge by default, as ``kubectl scale`` does)."""
        data = await self._patch(
            name, patch, patch_type, "scale", None, field_manager, force, dry_run, field_validation
        )
        return self.codec.decode_scale(data)


class AsyncResourceClient(AsyncResourceClientBase[MT, ML, Scale, Status]):
    """The typed client of one resource; generated subclasses set the three class attributes.

    ``AsyncPodClient(rest, "ns")`` works in one namespace; ``AsyncPodClient(rest)`` on a
    namespaced resource lists and watches all namespaces (``kubectl -A``) and takes the namespace
    of written objects from their ``metadata.namespace``.
    """

    INFO: ClassVar[ResourceInfo]
    """What the API serves for this resource (group, version, plural, scope, subresources)."""
    MODEL: ClassVar[type[Any]]
    """The object model (``Pod``)."""
    LIST_MODEL: ClassVar[type[Any]]
    """The list model (``PodList``)."""

    def __init__(self, rest: AsyncRESTClient, namespace: str | None = None) -> None:
        cls = type(self)
        if not all(hasattr(cls, attr) for attr in ("INFO", "MODEL", "LIST_MODEL")):
            raise TypeError(f"{cls.__name__} must set INFO, MODEL and LIST_MODEL to be instantiated")
        info = cls.INFO
        super().__init__(
            rest,
            gvr=info.gvr,
            namespaced=info.namespaced,
            namespace=namespace,
            codec=model_codec(cls.MODEL, cls.LIST_MODEL),
            subresources=frozenset(sub.name for sub in info.subresources),
        )
