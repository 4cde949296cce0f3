"""PATCH and server-side apply, and the managed fields every write records.

* :func:`patch` — ``PATCH`` with ``json-patch+json`` (RFC 6902), ``merge-patch+json`` (RFC 7386),
  ``strategic-merge-patch+json`` (built-in kinds; merge keys from the generated models) or
  ``apply-patch+yaml`` (server-side apply). A ``metadata.resourceVersion`` the patch leaves in
  the object is a precondition (409 when stale). Bad patches answer 400/422 with kube's messages
  and change nothing.
* :func:`record_on_create` / :func:`record_on_update` — ``metadata.managedFields`` for every
  write (operation ``Update``, per manager, API version and subresource), computed with
  :mod:`pyclientgo.apimachinery.managed_fields`; an apply stores the entries it computed.
* :func:`schema_for` — the structured-merge schema of a route: the generated model, or the
  CRD's OpenAPI v3 schema for a custom resource.
"""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from pyclientgo.apimachinery import managed_fields as mf
from pyclientgo.apimachinery.fieldpath import Path
from pyclientgo.apimachinery.json_patch import (
    InvalidPatchError,
    PatchApplyError,
    PatchError,
    apply_json_patch,
)
from pyclientgo.apimachinery.merge_patch import apply_merge_patch
from pyclientgo.apimachinery.strategic_merge_patch import strategic_merge
from pyclientgo.apimachinery.structured_merge import SchemaError
from pyclientgo.apimachinery.structured_schema import TypeSchema, schema_from_model, schema_from_openapi
from testserver.apiserver import field_validation as fv
from testserver.apiserver import objects as ob
from testserver.apiserver import status as st
from testserver.apiserver.crd import hooks as crd_hooks
from testserver.apiserver.request import JSON, Request, Response
from testserver.apiserver.resources import ResourceRoute

if TYPE_CHECKING:
    from testserver.apiserver.rest import RestHandler

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_PATCH",
    "apply_patch_document",
    "patch",
    "record_on_create",
    "record_on_update",
    "schema_for",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
_PATCH_TYPES = frozenset({JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH})
_ACCEPTED = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json"
)
_MAX_MANAGER = 128
# mergepatch errors kube answers with 422 (the rest of the strategic-merge-patch errors are 400)
_SMP_422 = ("lists of lists are not supported", "patch content doesn't match retainKeys list")

# The managedFields an apply computed for the write in progress (read by record_on_*).
_APPLIED: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "testserver_applied_managed_fields", default=None
)
_SCHEMAS: dict[int, tuple[Any, TypeSchema]] = {}


# -- schemas and managers ---------------------------------------------------------------------


def schema_for(rest: RestHandler, route: ResourceRoute) -> TypeSchema:
    """The structured-merge schema of ``route``'s kind (model, CRD schema, or deduced)."""
    custom = route.custom
    if custom is not None:
        source = getattr(custom, "schema", None)
        hit = _SCHEMAS.get(id(custom))
        if hit is None or hit[0] is not source:
            hit = (source, schema_from_openapi(source if isinstance(source, dict) else {}))
            _SCHEMAS[id(custom)] = hit
        return hit[1]
    cls = rest._model(route)
    if cls is not None:
        return schema_from_model(cls)
    return schema_from_openapi({"type": "object", "x-kubernetes-preserve-unknown-fields": True})


def _keep(route: ResourceRoute, sub: str) -> Callable[[Path], bool] | None:
    """The fields a write through ``sub`` may own (kube's reset fields)."""
    if sub == "status":
        return lambda p: p[0] == "f:status"
    if sub == "scale":
        return lambda p: p[0] == "f:spec"
    if "status" in route.subresources:
        return lambda p: p[0] != "f:status"
    return None


def _manager(req: Request) -> str:
    return ob.manager_from(req.query.get("fieldManager", ""), req.header(b"user-agent"))


def _options_invalid(field: str, reason: str, message: str) -> st.StatusError:
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f'PatchOptions.meta.k8s.io "" is invalid: {field}: {message}',
            "reason": "Invalid",
            "details": {
                "group": "meta.k8s.io",
                "kind": "PatchOptions",
                "causes": [{"reason": reason, "message": message, "field": field}],
            },
            "code": 422,
        }
    )


def _check_field_manager(req: Request, *, required: bool) -> str:
    manager = req.query.get("fieldManager", "")
    if required and not manager:
        raise _options_invalid(
            "fieldManager", "FieldValueRequired", "Required value: is required for apply patch"
        )
    if len(manager.encode()) > _MAX_MANAGER:
        raise _options_invalid(
            "fieldManager", "FieldValueTooLong", "Too long: may not be more than 128 bytes"
        )
    if any(not c.isprintable() for c in manager):
        raise _options_invalid(
            "fieldManager",
            "FieldValueInvalid",
            f"Invalid value: {orjson.dumps(manager).decode()}: must be printable",
        )
    return manager


def _decode_entries(entries: Any) -> list[mf.ManagerEntry]:
    try:
        return mf.decode_managed_fields(entries)
    except mf.ManagedFieldsError:
        return []


def _plain(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return obj
    return dict(
        obj, metadata={k: v for k, v in meta.items() if k not in ("managedFields", "resourceVersion")}
    )


def _set_entries(obj: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    meta = obj.setdefault("metadata", {})
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def _take_applied() -> list[dict[str, Any]] | None:
    applied = _APPLIED.get()
    if applied is not None:
        _APPLIED.set(None)
    return applied


def record_on_create(rest: RestHandler, req: Request, route: ResourceRoute, obj: dict[str, Any]) -> None:
    """Set ``metadata.managedFields`` of an object being created."""
    applied = _take_applied()
    if applied is not None:
        _set_entries(obj, applied)
        return
    incoming = _decode_entries(obj["metadata"].get("managedFields"))
    managers = mf.update(
        {},
        _plain(obj),
        incoming,
        manager=_manager(req),
        api_version=route.api_version,
        schema=schema_for(rest, route),
        keep=_keep(route, ""),
    )
    _set_entries(obj, mf.encode_managed_fields(managers))


def record_on_update(
    rest: RestHandler, req: Request, route: ResourceRoute, old: dict[str, Any], new: dict[str, Any], sub: str
) -> dict[str, Any]:
    """Set ``metadata.managedFields`` of ``new`` written over ``old`` through ``sub``; returns ``new``.

    A body carrying different, valid managedFields replaces them (kube lets clients reset them);
    otherwise the live entries are kept and updated. A write that changes nothing keeps them as
    they are (so it stays a no-op).
    """
    ometa, nmeta = old["metadata"], new["metadata"]
    live_entries = ometa.get("managedFields")
    applied = _take_applied()
    if applied is not None:
        _set_entries(new, applied)
        return new
    incoming = nmeta.get("managedFields")
    base_entries: Any = live_entries
    if sub == "" and isinstance(incoming, list) and incoming and incoming != live_entries:
        try:
            mf.decode_managed_fields(incoming)
            base_entries = incoming
        except mf.ManagedFieldsError:
            base_entries = live_entries
    old_plain, new_plain = _plain(old), _plain(new)
    if old_plain == new_plain and base_entries == live_entries:
        _set_entries(new, live_entries or [])
        return new
    managers = mf.update(
        old_plain,
        new_plain,
        _decode_entries(base_entries),
        manager=_manager(req),
        api_version=route.api_version,
        schema=schema_for(rest, route),
        subresource=sub if sub in ("status", "scale") else "",
        keep=_keep(route, sub),
    )
    _set_entries(new, mf.encode_managed_fields(managers))
    return new


# -- patch documents --------------------------------------------------------------------------


def _invalid_patch(message: str) -> st.StatusError:
    """kube's ``NewGenericServerResponse(422, ...)`` for a patch that does not apply."""
    return st.StatusError(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server rejected our request due to an error in our request",
            "reason": "Invalid",
            "details": {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]},
            "code": 422,
        }
    )


def apply_patch_document(ctype: str, old: dict[str, Any], patch_doc: Any, lookup: Any) -> dict[str, Any]:
    """Apply a json / merge / strategic patch to ``old``; kube's 400/422 on failure."""
    try:
        if ctype == JSON_PATCH:
            new = apply_json_patch(old, patch_doc)
        elif ctype == MERGE_PATCH:
            new = apply_merge_patch(old, patch_doc)
        else:
            new = strategic_merge(old, patch_doc, lookup)
    except PatchApplyError as e:
        raise _invalid_patch(str(e)) from None
    except InvalidPatchError as e:
        if ctype == STRATEGIC_PATCH and str(e) in _SMP_422:
            raise _invalid_patch(str(e)) from None
        raise st.bad_request(str(e)) from None
    except PatchError as e:
        raise st.bad_request(str(e)) from None
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
        raise st.bad_request(f"unable to apply patch: {e}") from None
    if not isinstance(new, dict):
        raise st.bad_request("the patch produced something that is not an object")
    meta = new.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise st.bad_request("metadata must be an object")
    return new


def _check_precondition(route: ResourceRoute, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A resourceVersion the patch left in the object must be the current one."""
    rv = (new.get("metadata") or {}).get("resourceVersion")
    if rv not in (None, "") and str(rv) != str(old["metadata"].get("resourceVersion")):
        raise st.conflict(route.plural, name, st.MODIFIED, route.group)


def _bool_param(req: Request, name: str) -> bool | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    if raw in ("true", "1", "True", "TRUE", "t", "T"):
        return True
    if raw in ("false", "0", "False", "FALSE", "f", "F", ""):
        return False
    raise st.bad_request(f'invalid value for {name}: "{raw}": must be a boolean')


async def patch(
    rest: RestHandler, req: Request, route: ResourceRoute, namespace: str, name: str, sub: str = ""
) -> Response:
    """``PATCH`` of an object or of its ``status`` / ``scale``."""
    _APPLIED.set(None)
    try:
        ctype = req.content_type
        if ctype == APPLY_PATCH:
            return await _apply(rest, req, route, namespace, name, sub)
        if ctype not in _PATCH_TYPES:
            raise st.StatusError(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": _ACCEPTED,
                    "reason": "UnsupportedMediaType",
                    "code": 415,
                }
            )
        crd_hooks.check_patch_type(route, ctype)  # custom resources: no strategic merge patch
        if _bool_param(req, "force") is not None:
            raise _options_invalid(
                "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch"
            )
        _check_field_manager(req, required=False)
        validation = fv.mode(req)
        raw = await req.body()
        try:
            patch_doc = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise st.bad_request(f"error decoding patch: {e}") from None
        if ctype == JSON_PATCH:
            if not isinstance(patch_doc, list):
                raise st.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        elif not isinstance(patch_doc, dict):
            raise st.bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
                if isinstance(patch_doc, list)
                else "invalid JSON document"
            )
        if sub == "scale":
            return await rest._scale_write(req, route, namespace, name, (ctype, patch_doc))
        lookup = None
        if ctype == STRATEGIC_PATCH:
            cls = rest._model(route)
            if cls is not None:
                from testserver.apiserver.schema import ModelPatchMeta

                lookup = ModelPatchMeta(cls)
        duplicates = fv.duplicate_fields(raw, ctype, patch_doc) if validation != "Ignore" else []
        if duplicates and validation == "Strict":
            raise st.bad_request(fv.strict_message(duplicates))
        warnings: list[tuple[bytes, bytes]] = []

        def mutate(old: dict[str, Any]) -> dict[str, Any]:
            new = apply_patch_document(ctype, old, patch_doc, lookup)
            _check_precondition(route, name, old, new)
            if route.custom is not None:
                return new  # custom resources: pruned and checked by the CRD admission hook
            unknown = fv.prune_unknown(new, schema_for(rest, route))
            problems = [*duplicates, *(fv.unknown_message(u) for u in unknown)]
            if problems and validation == "Strict":
                raise st.bad_request(fv.strict_message(problems))
            warnings[:] = fv.warning_headers(problems) if validation == "Warn" else []
            return new

        resp = await rest._write(req, route, namespace, name, sub, mutate)
        if warnings:
            resp.headers = [*(resp.headers or []), *warnings]
        return resp
    finally:
        _APPLIED.set(None)


# -- server-side apply ------------------------------------------------------------------------


def _gvk_nn(route: ResourceRoute, namespace: str, name: str) -> str:
    group, _, version = route.api_version.rpartition("/")
    return f"{namespace}/{name}; {group}/{version}, Kind={route.kind}"


def _decode_apply(
    req: Request, raw: bytes, route: ResourceRoute, namespace: str, name: str
) -> dict[str, Any]:
    if not raw.strip():
        raise st.bad_request("the body of the request was empty")
    try:
        config = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise st.bad_request(f"error decoding YAML: {e}") from None
    if not isinstance(config, dict):
        raise st.bad_request(
            "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
            f"{type(config).__name__} into Go value of type map[string]interface {{}}"
        )
    config = dict(orjson.loads(orjson.dumps(config, option=orjson.OPT_NON_STR_KEYS, default=str)))
    av = config.get("apiVersion") or ""
    if av != route.api_version:
        raise st.bad_request(
            "Incorrect version specified in apply patch. "
            f"Specified patch version: {av}, expected: {route.api_version}"
        )
    kind = config.get("kind") or ""
    if kind != route.kind:
        raise st.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({route.kind})")
    meta = config.get("metadata")
    if meta is None:
        meta = config["metadata"] = {}
    if not isinstance(meta, dict):
        raise st.bad_request("metadata must be an object")
    if meta.get("managedFields") is not None:
        raise st.bad_request("metadata.managedFields must be nil")
    if meta.get("name") not in (None, "", name):
        raise st.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
        )
    if route.namespaced and meta.get("namespace") not in (None, "", namespace):
        raise st.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    return config


async def _apply(
    rest: RestHandler, req: Request, route: ResourceRoute, namespace: str, name: str, sub: str
) -> Response:
    manager = _check_field_manager(req, required=True)
    force = bool(_bool_param(req, "force"))
    validation = fv.mode(req)
    raw = await req.body()
    config = _decode_apply(req, raw, route, namespace, name)
    warnings: list[tuple[bytes, bytes]] = []
    if validation != "Ignore":
        duplicates = fv.duplicate_fields(raw, APPLY_PATCH)
        if duplicates and validation == "Strict":
            raise st.bad_request(
                "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  "
                + "\n  ".join(duplicates)
            )
        warnings = fv.warning_headers(duplicates)
    schema = schema_for(rest, route)
    if route.custom is not None:
        unknown = crd_hooks.unknown_fields(route, copy.deepcopy(config))
        if unknown:
            raise st.bad_request(
                f"failed to create typed patch object ({_gvk_nn(route, namespace, name)}): "
                f".{unknown[0]}: field not declared in schema"
            )
    keep = _keep(route, sub)

    def run(live: dict[str, Any]) -> dict[str, Any]:
        try:
            result = mf.apply(
                live,
                config,
                _decode_entries((live.get("metadata") or {}).get("managedFields")),
                manager=manager,
                api_version=route.api_version,
                schema=schema,
                force=force,
                subresource=sub if sub in ("status", "scale") else "",
                keep=keep,
            )
        except SchemaError as e:
            raise st.bad_request(
                f"failed to create typed patch object ({_gvk_nn(route, namespace, name)}): {e}"
            ) from None
        except mf.ApplyConflictError as e:
            raise st.StatusError(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": e.message,
                    "reason": "Conflict",
                    "details": {"causes": e.causes()},
                    "code": 409,
                }
            ) from None
        new = result.object
        _APPLIED.set(new["metadata"].get("managedFields") or [])
        return new

    if sub == "scale":
        raise st.StatusError(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "server-side apply of the scale subresource is not supported by this server",
                "reason": "UnsupportedMediaType",
                "code": 415,
            }
        )
    # validate the configuration before touching storage (conflicts need the live object)
    run({"apiVersion": route.api_version, "kind": route.kind, "metadata": {}})
    rv = config["metadata"].get("resourceVersion")
    if not sub and await rest.storage.get(route.key(namespace, name)) is None:
        if rv:
            raise st.conflict(route.plural, name, st.MODIFIED, route.group)
        created = run({})
        created["metadata"]["name"] = name
        if route.namespaced:
            created["metadata"]["namespace"] = namespace
        try:
            resp = await rest.create(_json_request(req, created), route, namespace)
        except st.StatusError as e:
            if e.code != 409 or e.status.get("reason") != "AlreadyExists":
                raise
            resp = None  # created meanwhile: apply to it
        if resp is not None:
            if warnings:
                resp.headers = [*(resp.headers or []), *warnings]
            return resp

    def mutate(old: dict[str, Any]) -> dict[str, Any]:
        if rv and str(rv) != str(old["metadata"].get("resourceVersion")):
            raise st.conflict(route.plural, name, st.MODIFIED, route.group)
        return run(old)

    resp = await rest._write(req, route, namespace, name, sub, mutate)
    if warnings:
        resp.headers = [*(resp.headers or []), *warnings]
    return resp


def _json_request(req: Request, obj: dict[str, Any]) -> Request:
    clone = copy.copy(req)
    clone._body = orjson.dumps(obj)
    clone.headers = {**req.headers, b"content-type": JSON}
    return clone
