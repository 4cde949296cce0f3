"""The generic REST verbs for every resource: get, list, watch, create, update, patch, delete,
deletecollection, and the subresources status, scale, binding, eviction, finalize and log.

Objects travel as dicts only where a handler must look inside them; reads of single objects and
plain lists are served from the stored bytes (see :mod:`testserver.apiserver.objects`).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import copy
from collections.abc import Callable
from typing import Any

import orjson
import yaml

from pyclientgo.apimachinery import fields as field_selectors
from pyclientgo.apimachinery import labels as label_selectors
from testserver.apiserver import field_validation, kubelet_proxy, patching, protobuf, status_strategy
from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.admission import Admission, AdmissionOptions
from testserver.apiserver.crd import hooks as crd_hooks
from testserver.apiserver.request import JSON, Request, Response, StreamResponse, User
from testserver.apiserver.resources import ResourceRoute, Routes
from testserver.storage import revision_covering
from testserver.storage.continue_token import CONTINUE_FROM_LATEST, decode_continue, encode_continue
from testserver.storage.errors import (
    Compacted,
    FutureRevision,
    InvalidContinue,
    KeyExists,
    NotFoundError,
    RevisionMismatch,
)
from testserver.storage.guaranteed_update import guaranteed_update
from testserver.storage.interface import Storage
from testserver.storage.model import KeyValue

__all__ = ["RestHandler"]

_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml"})
_PATCH_TYPES = frozenset(
    {"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"}
)
_APPLY_PATCH = "application/apply-patch+yaml"
_TABLE_COLUMNS_DEFAULT = [
    {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        "priority": 0,
    },
    {
        "name": "Created At",
        "type": "date",
        "format": "",
        "description": "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        "priority": 0,
    },
]
_CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)
_SCALABLE = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"})


API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
"""kube-apiserver's default API audience (its service account issuer)."""


def _core_kind(route: ResourceRoute) -> str:
    """The kind of a core/v1 route, "" otherwise: the Pod/Namespace rules below are for those
    built-ins only, not for a custom resource that happens to use the same kind name."""
    return route.kind if route.group == "" else ""


GC_FINALIZERS = ("orphan", "foregroundDeletion")
"""The garbage collector's finalizers (``metav1.FinalizerOrphanDependents``/``FinalizerDeleteDependents``)."""
ORPHAN_BY_DEFAULT = frozenset({("v1", "replicationcontrollers"), ("batch/v1", "jobs")})
"""(apiVersion, resource) whose default GC policy is OrphanDependents "for back compatibility" (kube's
``DefaultGarbageCollectionPolicy`` of ReplicationControllers in v1 and Jobs in batch/v1)."""


def gc_deletion_finalizers(route: ResourceRoute, finalizers: list[str], opts: dict[str, Any]) -> list[str]:
    """kube's ``deletionFinalizersForGarbageCollection``: the finalizers an object gets when deleted
    with ``opts``. ``propagationPolicy`` Orphan (or ``orphanDependents: true``) adds ``orphan``,
    Foreground adds ``foregroundDeletion``, Background removes both; without a policy the existing
    GC finalizer stays, else the resource's default applies (:data:`ORPHAN_BY_DEFAULT`: orphan).
    Events do not take part (their policy is ``Unsupported``)."""
    if route.plural == "events" and route.group in ("", "events.k8s.io"):
        return finalizers
    orphan_opt = opts.get("orphanDependents")
    policy = opts.get("propagationPolicy")
    if orphan_opt is not None:
        orphan, foreground = bool(orphan_opt), False
    elif policy is not None:
        orphan, foreground = policy == "Orphan", policy == "Foreground"
    else:
        first = next((f for f in finalizers if f in GC_FINALIZERS), None)
        orphan, foreground = first == "orphan", first == "foregroundDeletion"
        if first is None and (route.api_version, route.plural) in ORPHAN_BY_DEFAULT:
            orphan = True
    result = [f for f in finalizers if f not in GC_FINALIZERS]
    if orphan:
        result.append("orphan")
    if foreground:
        result.append("foregroundDeletion")
    if set(result) == set(finalizers):
        return finalizers
    return result


def _int_param(req: Request, name: str) -> int | None:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise st.bad_request(f'invalid value for {name}: "{raw}": must be an integer') from None


def _parse_rv(raw: str) -> int:
    try:
        value = int(raw)
        if value < 0:
            raise ValueError
        return value
    except ValueError:
        raise st.StatusError(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f'invalid resource version "{raw}"',
                "reason": "BadRequest",
                "code": 400,
            }
        ) from None


def _as_table(accept: str) -> bool:
    return "as=Table" in accept and "meta.k8s.io" in accept


def _as_partial(accept: str) -> bool:
    return "as=PartialObjectMetadata" in accept


class RestHandler:
    """The verbs, bound to one storage and route table."""

    def __init__(
        self,
        storage: Storage,
        routes: Routes,
        *,
        bookmark_interval: float = 60.0,
        admission_options: AdmissionOptions | None = None,
    ) -> None:
        self.storage = storage
        self.routes = routes
        self.bookmark_interval = bookmark_interval
        self.ns_route = routes.get("", "v1", "namespaces")
        self._schema_cache: dict[str, Any] = {}
        self.background: set[asyncio.Task[Any]] = set()
        self.stopping: asyncio.Event | None = None
        self.admission = Admission(storage, routes, admission_options)
        """Defaults, validation and the admission chain (testserver.apiserver.admission)."""
        self.authenticate_token: Callable[[str], User | None] = lambda _token: None
        """The server's bearer-token authenticator (set by the app), which TokenReview runs."""
        self.api_audiences: tuple[str, ...] = (API_AUDIENCE,)
        """kube-apiserver's ``--api-audiences`` (default: the service account issuer)."""

    def stop_watches(self) -> None:
        """End every open watch stream (server shutdown)."""
        if self.stopping is not None:
            self.stopping.set()

    # -- body decoding ---------------------------------------------------------------------------

    async def _decode_body(
        self, req: Request, kind: str, api_version: str, *, allow_other: bool = False
    ) -> dict[str, Any]:
        raw = await req.body()
        ctype = req.content_type
        if ctype == protobuf.CONTENT_TYPE:  # decoded to JSON, then checked like any JSON body
            raw, ctype = protobuf.body_as_json(raw, kind, api_version), "application/json"
        if ctype not in ("", "application/json", "*/*") and ctype not in _YAML_TYPES:
            raise st.unsupported_media_type(ctype)
        if not raw.strip():
            raise st.bad_request("the body of the request was empty")
        try:
            if ctype in ("", "application/json") or ctype == "*/*":
                obj = orjson.loads(raw)
            elif ctype in _YAML_TYPES:
                obj = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            else:
                raise st.unsupported_media_type(ctype)
        except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as e:
            raise st.bad_request(f"the object provided is unrecognized or malformed: {_short(e)}") from None
        if not isinstance(obj, dict):
            raise st.bad_request(
                f"the object provided is unrecognized (must be of type {kind}): "
                f"cannot unmarshal {type(obj).__name__} into Go value of type struct"
            )
        body_kind = obj.get("kind")
        body_av = obj.get("apiVersion")
        if body_kind in (None, "") and body_av in (None, ""):
            obj["kind"], obj["apiVersion"] = kind, api_version
        elif not allow_other:
            if body_kind in (None, ""):
                raise st.bad_request(f"Object 'Kind' is missing in '{_snippet(raw)}'")
            if body_kind != kind or (body_av or "") != api_version:
                if body_av in (None, ""):
                    raise st.bad_request(f"Object 'apiVersion' is missing in '{_snippet(raw)}'")
                raise st.bad_request(
                    f"the API version in the data ({body_av}) does not match the expected API version "
                    f"({api_version})"
                    if body_av != api_version
                    else f"the kind in the data ({body_kind}) does not match the expected kind ({kind})"
                )
        meta = obj.get("metadata")
        if meta is None:
            obj["metadata"] = {}
        elif not isinstance(meta, dict):
            raise st.bad_request(
                f"the object provided is unrecognized (must be of type {kind}): json: cannot unmarshal "
                f"{type(meta).__name__} into Go struct field {kind}.metadata of type v1.ObjectMeta"
            )
        return obj

    def _check_fields(
        self, req: Request, route: ResourceRoute, obj: dict[str, Any]
    ) -> builtins.list[tuple[bytes, bytes]]:
        """fieldValidation: Strict → 400 on unknown/duplicate fields, Warn (default) → Warning headers.

        Built-in kinds lose their unknown fields whatever the mode (kube decodes into typed objects).
        """
        mode = field_validation.mode(req)
        custom_unknown = crd_hooks.unknown_fields(route, obj)  # custom resources: their schema
        if mode == "Strict" and custom_unknown:
            raise crd_hooks.strict_error(route, custom_unknown)
        return field_validation.check_body(
            req,
            mode,
            self._model(route) if custom_unknown is None else None,
            obj,
            raw=req._body,
            content_type=req.content_type,
            custom_unknown=custom_unknown,
        )

    def _model(self, route: ResourceRoute) -> Any:
        key = route.info.model
        if key not in self._schema_cache:
            try:
                self._schema_cache[key] = route.info.load_model()
            except Exception:  # model not generated: no schema checks
                self._schema_cache[key] = None
        return self._schema_cache[key]

    # -- namespaces ----------------------------------------------------------------------------

    async def _check_namespace(self, route: ResourceRoute, namespace: str, name: str) -> None:
        if self.ns_route is None:
            return
        kv = await self.storage.get(self.ns_route.key(None, namespace))
        if kv is None:
            raise st.not_found("namespaces", namespace)
        if b'"Terminating"' in kv.value or b'"deletionTimestamp"' in kv.value:
            ns = orjson.loads(kv.value)
            if (
                ns["metadata"].get("deletionTimestamp")
                or (ns.get("status") or {}).get("phase") == "Terminating"
            ):
                raise st.forbidden(
                    route.plural,
                    name,
                    f"unable to create new content in namespace {namespace} because it is being terminated",
                    route.group,
                    causes=[
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                )

    # -- get / list ----------------------------------------------------------------------------

    async def get(self, req: Request, route: ResourceRoute, namespace: str, name: str) -> Response:
        kv = await self.storage.get(route.key(namespace, name))
        if kv is None:
            raise st.not_found(route.plural, name, route.group)
        if route.reader is not None:  # custom resources, Events: version conversion (and defaults) on read
            kv = route.reader.read(kv)
        rv = req.query.get("resourceVersion")
        if rv and rv != "0":
            want = _parse_rv(rv)
            current = await revision_covering(self.storage, want)
            if want > current:
                raise st.too_large_resource_version(want, current)
        accept = req.accept
        if (
            accept
            and accept != "application/json"
            and (_as_table(accept) or _as_partial(accept) or "yaml" in accept)
        ):
            obj = ob.decode(kv.value, kv.mod_revision)
            return self._render_objects(req, route, [obj], single=True)
        return Response(200, ob.with_rv(kv.value, kv.mod_revision))

    def _selectors(self, req: Request, route: ResourceRoute) -> tuple[Any, Any]:
        lsel = fsel = None
        raw = req.query.get("labelSelector")
        if raw:
            try:
                lsel = label_selectors.parse(raw)
            except label_selectors.SelectorParseError as e:
                raise st.bad_request(
                    f"unable to parse requirement: {e}" if "unable" not in str(e) else str(e)
                ) from None
            if lsel.empty():
                lsel = None
        raw = req.query.get("fieldSelector")
        if raw:
            try:
                fsel = field_selectors.parse(raw)
            except field_selectors.FieldSelectorParseError as e:
                raise st.bad_request(str(e)) from None
            supported = route.selectable_fields
            for requirement in fsel.terms:
                if requirement.field not in supported:
                    raise st.bad_request(f"field label not supported: {requirement.field}")
            if fsel.empty():
                fsel = None
        return lsel, fsel

    def _matcher(self, route: ResourceRoute, lsel: Any, fsel: Any) -> Any:
        if lsel is None and fsel is None:
            return None

        def matches(obj: dict[str, Any]) -> bool:
            if lsel is not None and not lsel.matches((obj.get("metadata") or {}).get("labels") or {}):
                return False
            return fsel is None or fsel.matches(route.object_fields(obj))

        return matches

    @staticmethod
    def _list_options(req: Request) -> tuple[str, str]:
        rv = req.query.get("resourceVersion", "")
        rvm = req.query.get("resourceVersionMatch", "")
        causes = []
        if rvm and rvm not in ("Exact", "NotOlderThan"):
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "field": "resourceVersionMatch",
                    "message": f'Unsupported value: "{rvm}": supported values: "Exact", "NotOlderThan", ""',
                }
            )
        elif rvm and not rv:
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "field": "resourceVersionMatch",
                    "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                }
            )
        elif rvm == "Exact" and rv == "0":
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "field": "resourceVersionMatch",
                    "message": 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                }
            )
        if req.query.get("continue") and rv and rv != "0":
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "field": "resourceVersion",
                    "message": "Forbidden: specifying resource version is not allowed when using continue",
                }
            )
        if causes:
            raise _list_options_invalid(causes)
        return rv, rvm

    async def list(self, req: Request, route: ResourceRoute, namespace: str) -> Response | StreamResponse:
        if req.query.get("watch") in ("true", "1"):
            return await self.watch(req, route, namespace)
        if req.query.get("sendInitialEvents"):
            raise _list_options_invalid(
                [
                    {
                        "reason": "FieldValueForbidden",
                        "field": "sendInitialEvents",
                        "message": "Forbidden: sendInitialEvents is forbidden for list",
                    }
                ]
            )
        rv, rvm = self._list_options(req)
        lsel, fsel = self._selectors(req, route)
        matches = self._matcher(route, lsel, fsel)
        limit = _int_param(req, "limit") or 0
        if limit < 0:
            limit = 0
        prefix = route.prefix(namespace or None)
        token = req.query.get("continue")
        current = self.storage.current_revision()
        revision: int | None = None
        start: str | None = None
        if token:
            try:
                start, revision = decode_continue(token, prefix)
            except InvalidContinue as e:
                raise st.bad_request(f"continue key is not valid: {e}") from None
            if revision == CONTINUE_FROM_LATEST:
                revision = None  # an inherited token (from a 410): read the latest state
        elif rv == "0":
            limit = 0 if not rvm else limit
        elif rv:
            want = _parse_rv(rv)
            current = await revision_covering(self.storage, want)
            if want > current:
                raise st.too_large_resource_version(want, current)
            if rvm == "Exact" or (not rvm and limit):
                revision = want
        items, page_rev, more, remaining, next_key = await self._collect(
            prefix, revision, limit, start, matches, token_given=bool(token)
        )
        if route.reader is not None:  # custom resources, Events: version conversion (and defaults) on read
            items = [route.reader.read(kv) for kv in items]
        meta: dict[str, Any] = {"resourceVersion": str(page_rev)}
        if more and next_key:
            meta["continue"] = encode_continue(next_key, prefix, page_rev)
            if matches is None and remaining:
                meta["remainingItemCount"] = remaining
        accept = req.accept
        if (
            accept
            and accept != "application/json"
            and (_as_table(accept) or _as_partial(accept) or "yaml" in accept)
        ):
            objs = [ob.decode(kv.value, kv.mod_revision) for kv in items]
            return self._render_objects(req, route, objs, list_meta=meta)
        body = b"".join(
            (
                route.list_head,
                orjson.dumps(meta),
                b',"items":[',
                b",".join([ob.with_rv(kv.value, kv.mod_revision) for kv in items]),
                b"]}",
            )
        )
        return Response(200, body)

    async def _collect(
        self,
        prefix: str,
        revision: int | None,
        limit: int,
        start: str | None,
        matches: Any,
        *,
        token_given: bool,
    ) -> tuple[builtins.list[KeyValue], int, bool, int, str | None]:
        out: builtins.list[KeyValue] = []
        while True:
            try:
                page = await self.storage.list(
                    prefix, revision=revision, limit=limit or None, continue_key=start
                )
            except Compacted as e:
                if token_given:
                    fresh = ""
                    if start:
                        with contextlib.suppress(InvalidContinue):
                            fresh = encode_continue(start, prefix, CONTINUE_FROM_LATEST)
                    err = st.expired(_CONTINUE_EXPIRED)
                    err.status["metadata"] = {"continue": fresh} if fresh else {}
                    raise err from None
                raise st.expired(f"too old resource version: {e.revision} ({e.compact_revision})") from None
            except FutureRevision as e:
                raise st.too_large_resource_version(e.revision, e.current_revision) from None
            revision = page.revision
            if matches is None:
                return page.items, page.revision, page.more, page.remaining, page.next_key
            for i, kv in enumerate(page.items):
                if matches(ob.decode(kv.value, kv.mod_revision)):
                    out.append(kv)
                    if limit and len(out) >= limit:
                        more = page.more or i < len(page.items) - 1
                        return out, page.revision, more, 0, (kv.key + "\x00") if more else None
            if not page.more or not limit:
                return out, page.revision, False, 0, None
            start = page.next_key

    def _render_objects(
        self,
        req: Request,
        route: ResourceRoute,
        objs: builtins.list[dict[str, Any]],
        *,
        single: bool = False,
        list_meta: dict[str, Any] | None = None,
    ) -> Response:
        accept = req.accept
        if _as_table(accept):
            table = self.to_table(route, objs, req.query.get("includeObject") or "Metadata", list_meta or {})
            if single and list_meta is None:
                table["metadata"] = {
                    "resourceVersion": (objs[0].get("metadata") or {}).get("resourceVersion", "")
                }
            return Response.json(200, table)
        if _as_partial(accept):
            parts = [
                {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata") or {},
                }
                for o in objs
            ]
            if single:
                return Response.json(200, parts[0])
            return Response.json(
                200,
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": list_meta or {},
                    "items": parts,
                },
            )
        data: Any = (
            objs[0]
            if single
            else {
                "kind": route.list_kind,
                "apiVersion": route.api_version,
                "metadata": list_meta or {},
                "items": objs,
            }
        )
        if "application/json" not in accept and "yaml" in accept:
            return Response(200, yaml.safe_dump(data, sort_keys=False).encode(), b"application/yaml")
        return Response.json(200, data)

    def to_table(
        self,
        route: ResourceRoute,
        objs: builtins.list[dict[str, Any]],
        include: str,
        list_meta: dict[str, Any],
    ) -> dict[str, Any]:
        try:
            from testserver.apiserver import tables
        except ImportError:
            tables = None  # type: ignore[assignment]
        if tables is not None:
            return tables.to_table(
                route.info,
                objs,
                include_object=include,
                list_meta=list_meta,
                printer_columns=route.custom.printer_columns if route.custom is not None else None,
            )
        rows = []
        for o in objs:
            meta = o.get("metadata") or {}
            row: dict[str, Any] = {"cells": [meta.get("name", ""), meta.get("creationTimestamp")]}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                }
            rows.append(row)
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta,
            "columnDefinitions": _TABLE_COLUMNS_DEFAULT,
            "rows": rows,
        }

    # -- watch ---------------------------------------------------------------------------------

    async def watch(
        self, req: Request, route: ResourceRoute, namespace: str, name: str = ""
    ) -> StreamResponse:
        from testserver.apiserver.watch import start_watch

        return await start_watch(self, req, route, namespace, name)

    # -- create --------------------------------------------------------------------------------

    async def create(self, req: Request, route: ResourceRoute, namespace: str) -> Response:
        obj = await self._decode_body(req, route.kind, route.api_version)
        warnings = self._check_fields(req, route, obj)
        meta = obj["metadata"]
        if route.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise st.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if route.verbs == {"create"}:
            return self._review(req, route, obj)
        dry_run = self._dry_run(req)
        # server-owned metadata
        for key in (
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ):
            meta.pop(key, None)
        crd_hooks.admit(route, obj, None)  # custom resources / CRDs: schema, defaults, pruning
        # defaults, mutating admission, strategy + validation, validating admission, allocation
        await self.admission.create(req, route, namespace, obj)
        meta.setdefault("uid", ob.new_uid())
        meta["creationTimestamp"] = ob.now_rfc3339()
        if route.has_generation:
            meta["generation"] = 1
        patching.record_on_create(self, req, route, obj)  # managedFields (an apply's, or Update)
        generated = not meta.get("name")
        for _ in range(8):
            if generated:
                meta["name"] = ob.generate_name(meta["generateName"])
            value = ob.encode_for_storage(obj)
            if dry_run:
                return Response(
                    201, value.replace(ob.RV_PLACEHOLDER, b'"resourceVersion":""', 1), JSON, warnings
                )
            try:
                rev = await self.storage.create(route.key(namespace, meta["name"]), value)
            except KeyExists:
                if generated:
                    continue
                raise st.already_exists(route.plural, meta["name"], route.group) from None
            return Response(201, ob.with_rv(value, rev), JSON, warnings or None)
        raise st.StatusError(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f'{route.plural} "{meta["name"]}" already exists, the server was not able to generate a unique name for the object',
                "reason": "AlreadyExists",
                "code": 409,
            }
        )

    def _review(self, req: Request, route: ResourceRoute, obj: dict[str, Any]) -> Response:
        """Create-only virtual kinds answered here (SelfSubjectReview, TokenReview): never stored.
        The authorization reviews are answered by the authorizer (:mod:`.authz.reviews`) before this."""
        user = req.user
        if route.kind == "SelfSubjectReview":
            obj["status"] = {
                "userInfo": {
                    "username": user.name if user else "",
                    "groups": list(user.groups) if user else [],
                }
            }
        elif route.kind == "TokenReview":
            obj["status"] = self._token_review(obj.get("spec") or {})
        obj["metadata"].setdefault("creationTimestamp", None)
        return Response.json(201, obj)

    def _token_review(self, spec: dict[str, Any]) -> dict[str, Any]:
        """kube's TokenReview: the server's authenticator chain on ``spec.token``. The static tokens
        here are not audience-bound, so they hold for the API's audiences: the review's audiences
        must meet them (``status.audiences`` is the intersection, the API's own when none asked)."""
        token = spec.get("token")
        if not isinstance(token, str) or not token:
            raise st.invalid(
                "TokenReview",
                "",
                [{"reason": "FieldValueRequired", "field": "spec.token", "message": "Required value"}],
                "authentication.k8s.io",
            )
        wanted = [a for a in spec.get("audiences") or [] if isinstance(a, str)]
        audiences = [a for a in wanted if a in self.api_audiences] if wanted else list(self.api_audiences)
        user = self.authenticate_token(token)
        if user is None:
            return {"user": {}, "error": "invalid bearer token"}
        if wanted and not audiences:
            return {"user": {}, "error": "token audiences are invalid for the target audiences"}
        return {
            "authenticated": True,
            "user": {"username": user.name, "groups": list(user.groups)},
            "audiences": audiences,
        }

    @staticmethod
    def _dry_run(req: Request) -> bool:
        values = req.query_multi.get("dryRun")
        if not values:
            return False
        for v in values:
            if v != "All":
                raise st.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return True

    # -- update --------------------------------------------------------------------------------

    def _finish_update(
        self,
        req: Request,
        route: ResourceRoute,
        old: dict[str, Any],
        new: dict[str, Any],
        sub: str,
        operation: str = "Update",
    ) -> dict[str, Any] | None:
        """Merge the server-owned parts of ``old`` into ``new``; ``None`` when ``new`` should delete."""
        ometa, nmeta = old["metadata"], new.setdefault("metadata", {})
        if not isinstance(nmeta, dict):
            raise st.bad_request("metadata must be an object")
        name = ometa.get("name")
        if nmeta.get("name") not in (None, "", name):
            raise st.bad_request(
                f"the name of the object ({nmeta.get('name')}) does not match the name on the URL ({name})"
            )
        if route.namespaced and nmeta.get("namespace") not in (None, "", ometa.get("namespace")):
            raise st.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        new["kind"], new["apiVersion"] = route.kind, route.api_version
        if sub == "status":
            new = status_strategy.prepare_for_status_update(route, old, new)
            nmeta = new["metadata"]
        elif sub == "finalize":
            spec_fin = (new.get("spec") or {}).get("finalizers")
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["finalizers"] = spec_fin or []
            if not spec_fin:
                del new["spec"]["finalizers"]
            nmeta = new["metadata"]
        else:
            if "status" in route.subresources:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            self.admission.prepare_update(req, route, old, new)  # defaults, carried-over values
            if _core_kind(route) == "Namespace":
                new["spec"] = old.get("spec", {})
                labels = nmeta.setdefault("labels", {})
                if isinstance(labels, dict):
                    labels["kubernetes.io/metadata.name"] = name
        for key in (
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if key in ometa:
                nmeta[key] = ometa[key]
            else:
                nmeta.pop(key, None)
        nmeta.pop("resourceVersion", None)
        nmeta.pop("selfLink", None)
        if ometa.get("deletionTimestamp"):
            old_fin = set(ometa.get("finalizers") or [])
            added = [f for f in nmeta.get("finalizers") or [] if f not in old_fin]
            if added:
                raise st.invalid(
                    route.kind,
                    name,
                    [
                        {
                            "reason": "FieldValueForbidden",
                            "field": "metadata.finalizers",
                            "message": f"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {orjson.dumps(added).decode()}",
                        }
                    ],
                    route.group,
                )
        crd_hooks.admit(route, new, old, sub)  # custom resources / CRDs: schema, defaults, pruning
        if sub != "status" and sub != "finalize":
            self.admission.validate_update(req, route, new, old)  # validation, Service allocation
        if (
            route.has_generation
            and "generation" in ometa
            and any(
                new.get(k) != old.get(k)
                for k in set(new) | set(old)
                if k not in ("metadata", "status", "kind", "apiVersion")
            )
        ):
            nmeta["generation"] = int(ometa["generation"]) + 1
        # managedFields: an apply's entries, or this Update's (a no-op keeps them and writes nothing)
        return patching.record_on_update(self, req, route, old, new, sub)

    async def _write(
        self,
        req: Request,
        route: ResourceRoute,
        namespace: str,
        name: str,
        sub: str,
        mutate: Any,
        *,
        precondition_rv: str | None = None,
        create_missing: Any = None,
    ) -> Response:
        """Read-modify-write with retries. ``mutate(old_dict) -> new_dict``."""
        key = route.key(namespace, name)
        dry_run = self._dry_run(req)
        result: dict[str, Any] = {}

        def fn(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                if create_missing is None:
                    raise st.not_found(route.plural, name, route.group)
                return None
            if precondition_rv and precondition_rv != str(cur.mod_revision):
                raise st.conflict(route.plural, name, st.MODIFIED, route.group)
            old = ob.decode(cur.value, cur.mod_revision)
            if route.version_view is not None:  # an Event stored through the other group
                old = route.version_view.read_object(old)
            new = self._finish_update(req, route, old, mutate(copy.deepcopy(old)), sub)
            if new is None:
                return None
            meta = new["metadata"]
            if (
                meta.get("deletionTimestamp")
                and not meta.get("finalizers")
                and not (_core_kind(route) == "Pod" and meta.get("deletionGracePeriodSeconds"))
                and not (_core_kind(route) == "Namespace" and (new.get("spec") or {}).get("finalizers"))
            ):
                result["delete"] = True
            value = ob.encode_for_storage(new)
            result["value"] = value
            if dry_run:
                result["dry"] = ob.with_rv(value, cur.mod_revision)
                return None
            return value

        try:
            kv = await guaranteed_update(self.storage, key, fn)
        except NotFoundError:
            raise st.not_found(route.plural, name, route.group) from None
        if dry_run:
            return Response(200, result.get("dry") or ob.with_rv(kv.value, kv.mod_revision) if kv else b"{}")
        assert kv is not None
        if result.get("delete"):
            with contextlib.suppress(NotFoundError, RevisionMismatch):
                deleted = await self.storage.delete(key, kv.mod_revision)
                kv = deleted
        return Response(200, ob.with_rv(kv.value, kv.mod_revision))

    async def update(
        self, req: Request, route: ResourceRoute, namespace: str, name: str, sub: str = ""
    ) -> Response:
        if sub == "scale":
            return await self._scale_write(req, route, namespace, name, None)
        kind, av = (route.kind, route.api_version)
        obj = await self._decode_body(req, kind, av)
        warnings = self._check_fields(req, route, obj)
        rv = (obj.get("metadata") or {}).get("resourceVersion") or None
        nmeta = obj["metadata"]
        if nmeta.get("name") != name:  # kube's checkName: a PUT must name its object
            raise st.bad_request(
                f"the name of the object ({nmeta.get('name') or ''}) does not match the name on the URL ({name})"
            )
        if route.namespaced and nmeta.get("namespace") not in (None, "", namespace):
            raise st.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        key = route.key(namespace, name)
        if route.create_on_update and not sub and await self.storage.get(key) is None:
            if rv:
                raise st.not_found(route.plural, name, route.group)
            nmeta["name"] = name
            resp = await self.create(_with_body(req, orjson.dumps(obj)), route, namespace)
            return resp
        resp = await self._write(req, route, namespace, name, sub, lambda old: obj, precondition_rv=rv)
        if warnings:
            resp.headers = warnings
        return resp

    # -- patch ---------------------------------------------------------------------------------

    async def patch(
        self, req: Request, route: ResourceRoute, namespace: str, name: str, sub: str = ""
    ) -> Response:
        """json / merge / strategic patches and server-side apply (see :mod:`.patching`)."""
        return await patching.patch(self, req, route, namespace, name, sub)

    # -- scale ---------------------------------------------------------------------------------

    @staticmethod
    def _scale_of(route: ResourceRoute, obj: dict[str, Any]) -> dict[str, Any]:
        if route.custom is not None:  # custom resources: the CRD's replica/selector paths
            return route.custom.scale_of(obj)  # type: ignore[no-any-return]
        meta = obj["metadata"]
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        selector = ""
        sel = spec.get("selector")
        if isinstance(sel, dict):
            if route.kind == "ReplicationController":
                selector = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
            else:
                with contextlib.suppress(Exception):
                    selector = str(label_selectors.selector_from_label_selector(sel))
        scale_status: dict[str, Any] = {"replicas": status.get("replicas", 0)}
        if selector:
            scale_status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": spec.get("replicas", 0)} if spec.get("replicas") is not None else {},
            "status": scale_status,
        }

    async def get_scale(self, req: Request, route: ResourceRoute, namespace: str, name: str) -> Response:
        kv = await self.storage.get(route.key(namespace, name))
        if kv is None:
            raise st.not_found(route.plural, name, route.group)
        return Response.json(200, self._scale_of(route, ob.decode(kv.value, kv.mod_revision)))

    async def _scale_write(
        self, req: Request, route: ResourceRoute, namespace: str, name: str, patch: Any
    ) -> Response:
        if patch is None:
            body = await self._decode_body(req, "Scale", "autoscaling/v1")
        holder: dict[str, Any] = {}

        def mutate(old: dict[str, Any]) -> dict[str, Any]:
            scale = self._scale_of(route, old)
            new_scale = body if patch is None else _apply_patch(patch[0], scale, patch[1], None)
            srv = (new_scale.get("metadata") or {}).get("resourceVersion")
            if srv and str(srv) != old["metadata"]["resourceVersion"]:
                raise st.conflict(route.plural, name, st.MODIFIED, route.group)
            replicas = (new_scale.get("spec") or {}).get("replicas")
            if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
                raise st.invalid(
                    "Scale",
                    name,
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "field": "spec.replicas",
                            "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                        }
                    ],
                    "autoscaling",
                )
            if route.custom is not None:  # custom resources: the CRD's specReplicasPath
                route.custom.set_replicas(old, replicas or 0)
            else:
                old.setdefault("spec", {})["replicas"] = replicas or 0
            holder["route"] = route
            return old

        resp = await self._write(req, route, namespace, name, "scale", mutate)
        obj = orjson.loads(resp.body)
        return Response.json(200, self._scale_of(route, obj))

    # -- delete --------------------------------------------------------------------------------

    async def _delete_options(self, req: Request) -> dict[str, Any]:
        raw = await req.body()
        if req.content_type == protobuf.CONTENT_TYPE:
            raw = protobuf.body_as_json(raw, "DeleteOptions", "v1")
        opts: dict[str, Any] = {}
        if raw.strip():
            try:
                parsed = orjson.loads(raw) if req.content_type not in _YAML_TYPES else yaml.safe_load(raw)
            except (orjson.JSONDecodeError, yaml.YAMLError) as e:
                raise st.bad_request(
                    f"the body of the request was in an unknown format: {_short(e)}"
                ) from None
            if not isinstance(parsed, dict):
                raise st.bad_request("the body of the request must be a DeleteOptions object")
            opts = parsed
        for q, k in (
            ("gracePeriodSeconds", "gracePeriodSeconds"),
            ("propagationPolicy", "propagationPolicy"),
            ("orphanDependents", "orphanDependents"),
        ):
            if q in req.query and k not in opts:
                v: Any = req.query[q]
                if k == "gracePeriodSeconds":
                    v = _int_param(req, q)
                elif k == "orphanDependents":
                    v = v == "true"
                opts[k] = v
        if "dryRun" in req.query_multi:
            opts["dryRun"] = req.query_multi["dryRun"]
        policy = opts.get("propagationPolicy")
        if policy not in (None, "Foreground", "Background", "Orphan"):
            raise st.invalid_plain(
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
                'supported values: "Foreground", "Background", "Orphan", "nil"'
            )
        if policy is not None and opts.get("orphanDependents") is not None:
            raise st.invalid_plain(
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "{policy}": '
                "orphanDependents and deletionPropagation cannot be both set"
            )
        for v in opts.get("dryRun") or []:
            if v != "All":
                raise st.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return opts

    async def delete(
        self,
        req: Request,
        route: ResourceRoute,
        namespace: str,
        name: str,
        opts: dict[str, Any] | None = None,
    ) -> Response:
        if opts is None:
            opts = await self._delete_options(req)
        await self.admission.admit_delete(req, route, namespace, name)  # NamespaceLifecycle, ...
        obj, kv, gone = await self._delete_one(route, namespace, name, opts)
        if _core_kind(route) == "Namespace" and not gone and self.admission.options.standin_controllers:
            self._spawn(self._clean_namespace(name))  # the namespace controller's work (stand-in)
        if gone and not route.return_deleted:
            details = {
                "name": name,
                "group": route.group,
                "kind": route.plural,
                "uid": obj["metadata"].get("uid"),
            }
            if not route.group:
                details = {"name": name, "kind": route.plural, "uid": obj["metadata"].get("uid")}
            return Response.json(200, st.status_success(details))
        return Response(200, ob.with_rv(kv.value, kv.mod_revision))

    async def _delete_one(
        self,
        route: ResourceRoute,
        namespace: str,
        name: str,
        opts: dict[str, Any],
        kv: KeyValue | None = None,
    ) -> tuple[dict[str, Any], KeyValue, bool]:
        """Delete (or start deleting) one object: (object, its item, whether it is gone)."""
        key = route.key(namespace, name)
        dry_run = bool(opts.get("dryRun"))
        pre = opts.get("preconditions") or {}
        grace = opts.get("gracePeriodSeconds")
        for _ in range(100):
            if kv is None:
                kv = await self.storage.get(key)
            if kv is None:
                raise st.not_found(route.plural, name, route.group)
            obj = ob.decode(kv.value, kv.mod_revision)
            meta = obj["metadata"]
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise st.conflict(
                    route.plural,
                    name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
                    route.group,
                )
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta["resourceVersion"]:
                raise st.conflict(
                    route.plural,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {meta['resourceVersion']}",
                    route.group,
                )
            finalizers = list(meta.get("finalizers") or [])
            crd_hooks.on_delete(route, obj, finalizers)  # CRDs: the instance cleanup finalizer
            graceful = False
            if _core_kind(route) == "Pod":
                spec = obj.get("spec") or {}
                if grace is None:
                    grace = spec.get("terminationGracePeriodSeconds", 30)
                if not spec.get("nodeName") or (obj.get("status") or {}).get("phase") in (
                    "Succeeded",
                    "Failed",
                ):
                    grace = 0
                graceful = bool(grace) and grace > 0
                if (
                    graceful
                    and meta.get("deletionGracePeriodSeconds") is not None
                    and grace >= meta["deletionGracePeriodSeconds"]
                ):
                    # already terminating with a shorter (or equal) grace: nothing changes
                    return obj, kv, False
            already = bool(meta.get("deletionTimestamp"))
            finalizers = gc_deletion_finalizers(route, finalizers, opts)
            if _core_kind(route) == "Namespace":
                graceful = True  # namespaces always go through Terminating
            if not finalizers and not graceful and _core_kind(route) != "Namespace":
                if dry_run:
                    return obj, kv, True
                try:
                    deleted = await self.storage.delete(key, kv.mod_revision)
                except RevisionMismatch as e:
                    kv = e.current
                    continue
                except NotFoundError:
                    raise st.not_found(route.plural, name, route.group) from None
                return ob.decode(deleted.value, deleted.mod_revision), deleted, True
            # graceful deletion / finalizers: mark the object
            if already and not (_core_kind(route) == "Pod" and graceful):
                if _core_kind(route) == "Pod" and not graceful and not finalizers:
                    pass
                elif finalizers == list(meta.get("finalizers") or []):
                    return obj, kv, False
                # else: a new propagation policy changes the GC finalizers of an object being deleted
            if not already or _core_kind(route) == "Pod":
                meta["deletionTimestamp"] = ob.rfc3339_in(
                    int(grace) if _core_kind(route) == "Pod" and grace else 0
                )
                meta["deletionGracePeriodSeconds"] = (
                    int(grace) if _core_kind(route) == "Pod" and grace is not None else 0
                )
                if route.has_generation and "generation" in meta and not already:
                    meta["generation"] = int(meta["generation"]) + 1
            if finalizers:
                meta["finalizers"] = finalizers
            if _core_kind(route) == "Namespace":
                obj.setdefault("status", {})["phase"] = "Terminating"
            if _core_kind(route) == "Pod" and not graceful and not finalizers:
                if dry_run:
                    return obj, kv, True
                try:
                    deleted = await self.storage.delete(key, kv.mod_revision)
                except RevisionMismatch as e:
                    kv = e.current
                    continue
                return ob.decode(deleted.value, deleted.mod_revision), deleted, True
            value = ob.encode_for_storage(obj)
            if dry_run:
                return obj, KeyValue(key, value, kv.create_revision, kv.mod_revision), False
            try:
                rev = await self.storage.update(key, value, kv.mod_revision)
            except RevisionMismatch as e:
                kv = e.current
                continue
            except NotFoundError:
                raise st.not_found(route.plural, name, route.group) from None
            return obj, KeyValue(key, value, kv.create_revision, rev), False
        raise st.conflict(route.plural, name, st.MODIFIED, route.group)

    async def delete_collection(self, req: Request, route: ResourceRoute, namespace: str) -> Response:
        opts = await self._delete_options(req)
        lsel, fsel = self._selectors(req, route)
        matches = self._matcher(route, lsel, fsel)
        page = await self.storage.list(route.prefix(namespace or None))
        items = []
        for kv in page.items:
            obj = ob.decode(kv.value, kv.mod_revision)
            if matches is not None and not matches(obj):
                continue
            meta = obj["metadata"]
            try:
                deleted, _, _ = await self._delete_one(route, meta.get("namespace", ""), meta["name"], opts)
            except st.StatusError as e:
                if e.code == 404:
                    continue
                raise
            items.append(deleted)
        return Response.json(
            200,
            {
                "kind": route.list_kind,
                "apiVersion": route.api_version,
                "metadata": {"resourceVersion": str(self.storage.current_revision())},
                "items": items,
            },
        )

    # -- namespaces: with the stand-in controllers the server empties and finalises deleted
    # namespaces itself (kube's namespace controller; off: the namespace stays Terminating) --

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _clean_namespace(self, namespace: str) -> None:
        """Delete everything in a Terminating namespace, then finalise and remove it."""
        assert self.ns_route is not None
        opts = {"gracePeriodSeconds": 0, "propagationPolicy": "Background"}
        delay = 0.05
        for _ in range(600):
            remaining = 0
            for route in self.routes.namespaced_routes():
                if "delete" not in route.verbs:
                    continue
                page = await self.storage.list(route.prefix(namespace))
                for kv in page.items:
                    remaining += 1
                    obj = orjson.loads(kv.value)
                    if obj["metadata"].get("deletionTimestamp") and _core_kind(route) != "Pod":
                        continue
                    with contextlib.suppress(st.StatusError):
                        await self._delete_one(route, namespace, obj["metadata"]["name"], opts)
            if remaining == 0:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        key = self.ns_route.key(None, namespace)

        def finalize(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                return None
            obj = orjson.loads(cur.value)
            spec = obj.get("spec") or {}
            fins = [f for f in spec.get("finalizers") or [] if f != "kubernetes"]
            if fins == (spec.get("finalizers") or []):
                return None
            if fins:
                spec["finalizers"] = fins
            else:
                spec.pop("finalizers", None)
            obj["spec"] = spec
            return ob.encode_for_storage(obj)

        with contextlib.suppress(NotFoundError):
            finalized = await guaranteed_update(self.storage, key, finalize)
            if finalized is not None:
                kv = finalized
                obj = orjson.loads(kv.value)
                if not obj["metadata"].get("finalizers") and not (obj.get("spec") or {}).get("finalizers"):
                    with contextlib.suppress(NotFoundError, RevisionMismatch):
                        await self.storage.delete(key, kv.mod_revision)

    # -- pods ----------------------------------------------------------------------------------

    async def bind(self, req: Request, route: ResourceRoute, namespace: str, name: str) -> Response:
        body = await self._decode_body(req, "Binding", "v1")
        target = body.get("target") or {}
        node = target.get("name") if isinstance(target, dict) else None
        if not node:
            raise st.invalid(
                "Binding",
                name,
                [{"reason": "FieldValueRequired", "field": "target.name", "message": "Required value"}],
            )
        if (body.get("metadata") or {}).get("name") not in (None, "", name):
            raise st.bad_request("the name of the object does not match the name on the URL")
        key = route.key(namespace, name)

        def fn(cur: KeyValue | None) -> bytes | None:
            if cur is None:
                raise st.not_found("pods", name)
            pod = orjson.loads(cur.value)
            if pod["metadata"].get("deletionTimestamp"):
                raise st.conflict(
                    "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host"
                )
            spec = pod.setdefault("spec", {})
            if spec.get("nodeName"):
                raise st.conflict(
                    "pods/binding", name, f'pod {name} is already assigned to node "{spec["nodeName"]}"'
                )
            spec["nodeName"] = node
            status = pod.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conditions.append(
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": ob.now_rfc3339(),
                }
            )
            status["conditions"] = conditions
            return ob.encode_for_storage(pod)

        if self._dry_run(req):
            return Response.json(201, st.status_success())
        try:
            await guaranteed_update(self.storage, key, fn)
        except NotFoundError:
            raise st.not_found("pods", name) from None
        return Response.json(201, st.status_success())

    async def evict(self, req: Request, route: ResourceRoute, namespace: str, name: str) -> Response:
        body = await self._decode_body(req, "Eviction", "policy/v1", allow_other=True)
        opts = body.get("deleteOptions") or {}
        if self._dry_run(req):
            opts["dryRun"] = ["All"]
        await self.admission.admit_eviction(req, route, namespace, name)  # PodDisruptionBudgets: 429
        await self._delete_one(route, namespace, name, opts)
        return Response.json(201, st.status_success())

    async def log(
        self, req: Request, route: ResourceRoute, namespace: str, name: str
    ) -> Response | StreamResponse:
        kv = await self.storage.get(route.key(namespace, name))
        if kv is None:
            raise st.not_found("pods", name)
        pod = orjson.loads(kv.value)
        names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        container = req.query.get("container")
        if not container:
            if len(names) != 1:
                raise st.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                )
        else:
            init = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
            if container not in names and container not in init:
                raise st.bad_request(f"container {container} is not valid for pod {name}")
        return await kubelet_proxy.proxy_pod_log(req, self.storage, pod, container or str(names[0]))


def _list_options_invalid(causes: list[dict[str, Any]]) -> st.StatusError:
    text = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
    if len(causes) > 1:
        text = "[" + ", ".join(f"{c['field']}: {c['message']}" for c in causes) + "]"
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f'ListOptions.meta.k8s.io "" is invalid: {text}',
            "reason": "Invalid",
            "details": {"group": "meta.k8s.io", "kind": "ListOptions", "causes": causes},
            "code": 422,
        }
    )


def _apply_patch(ctype: str, old: dict[str, Any], patch: Any, lookup: Any) -> dict[str, Any]:
    return patching.apply_patch_document(ctype, old, patch, lookup)


def _short(e: Exception) -> str:
    text = str(e)
    return text if len(text) < 300 else text[:300] + "..."


def _snippet(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace")


def _with_body(req: Request, body: bytes) -> Request:
    clone = copy.copy(req)
    clone._body = body
    clone.headers = {**req.headers, b"content-type": JSON}  # the body is JSON whatever came in
    return clone
