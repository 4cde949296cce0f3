"""The API server's OpenAPI documents: ``/openapi/v3`` (index + one document per group-version) and
``/openapi/v2``, built from the generated models and the resource registry.

Nothing is built at import; every document is built on first request and cached (per registry
content). A document's hash — the ``?hash=`` of its URL in the index and its ETag — is computed
from what the document is built from (the group-version's resources, custom schemas, and the source
of the models and of this package), so the index is cheap and a changed document always gets a new
hash.

Entry points (the server's routes call these):

- :func:`v3_index` → the ``/openapi/v3`` body (a dict);
- :func:`v3_document` / :func:`v3_document_for_path` → ``(json_bytes, hash)`` for one document;
- :func:`v2_document` → Swagger 2.0 JSON bytes;
- :func:`definition_name` → the OpenAPI name of a model class (``io.k8s.api.core.v1.Pod``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from pyclientgo.apimachinery.registry import Registry, ResourceInfo, load_model
from testserver.apiserver.openapi import _paths
from testserver.apiserver.openapi._schemas import SchemaSet, definition_name, ref
from testserver.apiserver.openapi._v2 import to_swagger

__all__ = [
    "custom_definition_name",
    "definition_name",
    "v2_document",
    "v3_document",
    "v3_document_for_path",
    "v3_index",
]

_INFO = {"title": "Kubernetes", "version": "unversioned"}
_SECURITY_SCHEMES = {
    "BearerToken": {
        "description": "Bearer Token authentication",
        "in": "header",
        "name": "authorization",
        "type": "apiKey",
    }
}
_META = "pyclientgo.api.meta.v1"

CustomSchemas = Mapping[str, Mapping[str, Any]]
"""``"<group>/<version>/<kind>"`` → the ``openAPIV3Schema`` of a custom resource (from its CRD)."""


def _group_version_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """kube's name for a custom resource's definition: the group reversed (``com.example.v1.Foo``)."""
    return ".".join([*reversed(group.split(".")), version, kind])


@functools.cache
def _source_digest() -> str:
    """A digest of the generated models' and this package's source (changes → new hashes)."""
    digest = hashlib.sha256()
    roots = [Path(__file__).parent]
    spec = importlib.util.find_spec("pyclientgo.api")
    if spec is not None and spec.submodule_search_locations:
        roots.extend(Path(p) for p in spec.submodule_search_locations)
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _key_of(infos: tuple[ResourceInfo, ...], custom: str) -> str:
    text = f"{_source_digest()}\n{infos!r}\n{custom}"
    return hashlib.sha512(text.encode()).hexdigest().upper()


def _custom_for(custom_schemas: CustomSchemas | None, group: str, version: str) -> dict[str, Any]:
    """The custom schemas of one group-version, by kind."""
    prefix = f"{group}/{version}/"
    return {k[len(prefix) :]: v for k, v in (custom_schemas or {}).items() if k.startswith(prefix)}


def _custom_key(custom: Mapping[str, Any]) -> str:
    if not custom:
        return ""
    return orjson.dumps(custom, option=orjson.OPT_SORT_KEYS).decode()


def _dump(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def _document(paths: dict[str, Any], schemas: SchemaSet) -> dict[str, Any]:
    return {
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": _SECURITY_SCHEMES,
        },
        "info": _INFO,
        "openapi": "3.0.0",
        "paths": dict(sorted(paths.items())),
    }


def _try_load(path: str) -> type[Any] | None:
    if not path:
        return None
    try:
        return load_model(path)
    except (ImportError, AttributeError, ValueError):
        return None


def _model_of(group: str, version: str, kind: str) -> type[Any] | None:
    package = group.split(".")[0] if group else "core"
    return _try_load(f"pyclientgo.api.{package}.{version}:{kind}")


def _custom_object_schema(
    group: str, version: str, kind: str, schema: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = dict(schema) if schema else {"type": "object"}
    if not schema:
        out["x-kubernetes-preserve-unknown-fields"] = True
    props = dict(out.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"allOf": [{"$ref": ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")}]}
    out["properties"] = props
    out["type"] = "object"
    out["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    return out


def _build_v3(group: str, version: str, infos: tuple[ResourceInfo, ...], custom: CustomSchemas) -> bytes:
    schemas = SchemaSet()
    meta = importlib.import_module(_META)
    schemas.add_models(
        getattr(meta, name) for name in ("Status", "DeleteOptions", "WatchEvent", "Patch", "APIResourceList")
    )
    paths: dict[str, Any] = _paths.api_resources_path(group, version)
    for info in infos:
        model = _try_load(info.model)
        list_model = _try_load(info.list_model)
        strategic = True
        if model is not None:
            kind_def = schemas.add_model(model)
        else:  # a custom resource: its schema comes from its CRD
            strategic = False
            schemas.add_model(meta.ObjectMeta)
            kind_def = custom_definition_name(info.group, info.version, info.kind)
            schemas.add_schema(
                kind_def, _custom_object_schema(info.group, info.version, info.kind, custom.get(info.kind))
            )
        list_def: str | None = None
        if list_model is not None:
            list_def = schemas.add_model(list_model)
        elif model is None and info.list_kind:
            list_def = custom_definition_name(info.group, info.version, info.list_kind)
            schemas.add_schema(
                list_def,
                {
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "items": {"items": {"$ref": ref(kind_def)}, "type": "array"},
                        "kind": {"type": "string"},
                        "metadata": {
                            "allOf": [{"$ref": ref("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")}]
                        },
                    },
                    "required": ["items"],
                    "type": "object",
                    "x-kubernetes-group-version-kind": [
                        {"group": info.group, "kind": info.list_kind, "version": info.version}
                    ],
                },
            )
            schemas.add_model(meta.ListMeta)
        ops = _paths.ResourceOps(
            group=info.group,
            version=info.version,
            kind=info.kind,
            plural=info.plural,
            namespaced=info.namespaced,
            verbs=info.verbs,
            kind_def=kind_def,
            list_def=list_def,
            strategic_merge=strategic,
        )
        paths.update(ops.paths())
        for sub in info.subresources:
            sub_group = sub.group or info.group
            sub_version = sub.version or info.version
            body_def: str | None = None
            if sub.kind == info.kind and sub_group == info.group and sub_version == info.version:
                body_def = kind_def
            else:
                sub_model = _model_of(sub_group, sub_version, sub.kind)
                if sub_model is not None:
                    body_def = schemas.add_model(sub_model)
            paths.update(
                ops.subresource_paths(
                    sub.name,
                    sub.verbs,
                    body_def,
                    {"group": sub_group, "kind": sub.kind, "version": sub_version},
                )
            )
    return _dump(_document(paths, schemas))


_lock = threading.Lock()
_documents: dict[str, bytes] = {}
_MAX_CACHED = 256


def _cached(key: str, build: Any) -> bytes:
    data = _documents.get(key)
    if data is None:
        data = build()
        with _lock:
            if len(_documents) >= _MAX_CACHED:
                _documents.clear()
            _documents[key] = data
    return data


def v3_document(
    registry: Registry, group: str, version: str, *, custom_schemas: CustomSchemas | None = None
) -> tuple[bytes, str]:
    """The OpenAPI v3 document of one group-version (``/openapi/v3/api/v1``) and its hash.

    ``custom_schemas`` maps ``"<group>/<version>/<kind>"`` of a custom resource to its CRD's
    ``openAPIV3Schema`` (custom resources are the registry entries whose model cannot be imported;
    without a schema they are documented as objects preserving unknown fields).
    """
    infos = tuple(registry.in_group_version(group, version))
    custom = _custom_for(custom_schemas, group, version)
    key = _key_of(infos, _custom_key(custom))
    data = _cached(key, lambda: _build_v3(group, version, infos, custom))
    return data, key


def _simple_document(path: str, op: dict[str, Any], model: type[Any]) -> bytes:
    schemas = SchemaSet()
    name = schemas.add_model(model)
    op = dict(op)
    op["responses"] = {
        "200": {
            "content": {m: {"schema": {"$ref": ref(name)}} for m in ("application/json", "application/yaml")},
            "description": "OK",
        },
        "401": {"description": "Unauthorized"},
    }
    return _dump(_document({path: {"get": op}}, schemas))


def v3_document_for_path(
    registry: Registry, path: str, *, custom_schemas: CustomSchemas | None = None
) -> tuple[bytes, str] | None:
    """The document the index lists under ``path`` (``api/v1``, ``apis/apps/v1``, ``apis/apps``,
    ``api``, ``apis``, ``version``); None when there is none."""
    path = path.strip("/")
    parts = path.split("/")
    served = set(registry.group_versions())
    if parts[0] == "api" and len(parts) == 2 and ("", parts[1]) in served:
        return v3_document(registry, "", parts[1], custom_schemas=custom_schemas)
    if parts[0] == "apis" and len(parts) == 3 and (parts[1], parts[2]) in served:
        return v3_document(registry, parts[1], parts[2], custom_schemas=custom_schemas)
    meta = importlib.import_module(_META)
    simple: tuple[str, dict[str, Any], type[Any]] | None = None
    if path == "api":
        simple = (
            "/api/",
            {
                "description": "get available API versions",
                "operationId": "getCoreAPIVersions",
                "tags": ["core"],
            },
            meta.APIVersions,
        )
    elif path == "apis":
        simple = (
            "/apis/",
            {"description": "get available API versions", "operationId": "getAPIVersions", "tags": ["apis"]},
            meta.APIGroupList,
        )
    elif path == "version":
        version_model = importlib.import_module("pyclientgo.api.version").Info
        simple = (
            "/version/",
            {"description": "get the code version", "operationId": "getCodeVersion", "tags": ["version"]},
            version_model,
        )
    elif parts[0] == "apis" and len(parts) == 2 and any(g == parts[1] for g, _ in served):
        pascal = _paths.group_pascal(parts[1])
        simple = (
            f"/apis/{parts[1]}/",
            {
                "description": "get information of a group",
                "operationId": f"get{pascal}APIGroup",
                "tags": [pascal[:1].lower() + pascal[1:]],
            },
            meta.APIGroup,
        )
    if simple is None:
        return None
    key = _key_of((), path)
    built = simple
    return _cached(key, lambda: _simple_document(*built)), key


def v3_index(
    registry: Registry, base_url: str = "", *, custom_schemas: CustomSchemas | None = None
) -> dict[str, Any]:
    """The ``/openapi/v3`` body: every served document with its hash-pinned URL.

    Pass the same ``custom_schemas`` as to :func:`v3_document` so the hashes agree.
    """
    served = registry.group_versions()
    names = ["api", "apis", "version"]
    names.extend(f"apis/{g}" for g in dict.fromkeys(g for g, _ in served if g))
    names.extend(_group_version_path(g, v) for g, v in served)
    paths: dict[str, Any] = {}
    for name in sorted(names):
        parts = name.split("/")
        if name in ("api", "apis", "version") or (parts[0] == "apis" and len(parts) == 2):
            key = _key_of((), name)
        else:
            group, version = (parts[1], parts[2]) if parts[0] == "apis" else ("", parts[1])
            custom = _custom_key(_custom_for(custom_schemas, group, version))
            key = _key_of(tuple(registry.in_group_version(group, version)), custom)
        paths[name] = {"serverRelativeURL": f"{base_url}/openapi/v3/{name}?hash={key}"}
    return {"paths": paths}


def v2_document(registry: Registry, *, custom_schemas: CustomSchemas | None = None) -> bytes:
    """Swagger 2.0 (``/openapi/v2``) for everything the registry serves, as JSON bytes."""
    served = registry.group_versions()
    parts = [v3_document(registry, g, v, custom_schemas=custom_schemas) for g, v in served]
    key = "v2:" + _key_of((), "|".join(h for _, h in parts))

    def build() -> bytes:
        return orjson.dumps(
            to_swagger([orjson.loads(data) for data, _ in parts]), option=orjson.OPT_SORT_KEYS
        )

    return _cached(key, build)
