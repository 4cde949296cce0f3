"""CustomResourceDefinition objects themselves: defaults, validation (kube's 422 messages), and
the small helpers the rest of the package reads them with (storage version, served versions).
"""

from __future__ import annotations

import re
from typing import Any

from testserver.apiserver.crd.validation import go_value

__all__ = [
    "CLEANUP_FINALIZER",
    "apply_crd_defaults",
    "initial_status",
    "served_versions",
    "storage_version",
    "validate_crd",
]

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PRINTER_TYPES = ("integer", "number", "string", "boolean", "date")
_SCHEMA_TYPES = ("array", "boolean", "integer", "number", "object", "string")
Cause = dict[str, Any]


def _required(field: str, detail: str = "") -> Cause:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def _invalid(field: str, value: Any, detail: str) -> Cause:
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {go_value(value)}: {detail}",
        "field": field,
    }


def _unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    values = ", ".join(f'"{s}"' for s in supported)
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {go_value(value)}: supported values: {values}",
        "field": field,
    }


def _dns1035(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS1035.match(value))


def storage_version(crd: dict[str, Any]) -> str:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(v, dict) and v.get("storage"):
            return str(v.get("name", ""))
    return ""


def served_versions(crd: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        v
        for v in (crd.get("spec") or {}).get("versions") or []
        if isinstance(v, dict) and v.get("served") and v.get("name")
    ]


def apply_crd_defaults(crd: dict[str, Any]) -> None:
    """v1 defaults: singular (lowercased kind), listKind (kind + ``List``), conversion ``None``."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
        if not names.get("singular"):
            names["singular"] = names["kind"].lower()
        if not names.get("listKind"):
            names["listKind"] = names["kind"] + "List"
    conversion = spec.get("conversion")
    if conversion is None:
        spec["conversion"] = {"strategy": "None"}
    for version in spec.get("versions") or []:
        if not isinstance(version, dict):
            continue
        for column in version.get("additionalPrinterColumns") or []:
            if isinstance(column, dict) and column.get("priority") is None:
                column.pop("priority", None)


def initial_status(crd: dict[str, Any]) -> dict[str, Any]:
    """The status a new CRD starts with (the naming controller fills it in)."""
    stored = storage_version(crd)
    return {
        "conditions": [],
        "acceptedNames": {"plural": "", "kind": ""},
        "storedVersions": [stored] if stored else [],
    }


def validate_crd(crd: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    """kube's ValidateCustomResourceDefinition (the parts clients meet), as 422 causes."""
    causes: list[Cause] = []
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return [_required("spec")]
    group = spec.get("group")
    raw_names = spec.get("names")
    names: dict[str, Any] = raw_names if isinstance(raw_names, dict) else {}
    plural = names.get("plural") or ""
    name = (crd.get("metadata") or {}).get("name") or ""
    if plural and group and name != f"{plural}.{group}":
        causes.append(_invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        causes.append(_required("spec.group"))
    elif not isinstance(group, str) or "." not in group:
        causes.append(_invalid("spec.group", group, "should be a domain with at least one dot"))
    elif len(group) > 253 or not _DNS_SUBDOMAIN.match(group):
        causes.append(
            _invalid(
                "spec.group",
                group,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            )
        )
    scope = spec.get("scope")
    if not scope:
        causes.append(_required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        causes.append(_unsupported("spec.scope", scope, ("Cluster", "Namespaced")))
    _names(names, causes)
    _versions(spec, causes)
    conversion = spec.get("conversion") or {}
    strategy = conversion.get("strategy") if isinstance(conversion, dict) else None
    if strategy not in (None, "None", "Webhook"):
        causes.append(_unsupported("spec.conversion.strategy", strategy, ("None", "Webhook")))
    if old is not None:
        old_spec = old.get("spec") or {}
        if old_spec.get("scope") and scope and old_spec.get("scope") != scope:
            causes.append(_invalid("spec.scope", scope, "field is immutable"))
    return causes


def _names(names: dict[str, Any], causes: list[Cause]) -> None:
    path = "spec.names"
    for key in ("plural", "singular", "kind", "listKind"):
        if not names.get(key):
            causes.append(_required(f"{path}.{key}"))
    for key in ("plural", "singular"):
        value = names.get(key)
        if value and not _dns1035(value):
            causes.append(_invalid(f"{path}.{key}", value, _DNS1035_MSG))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if value and not (isinstance(value, str) and _dns1035(value.lower())):
            causes.append(
                _invalid(
                    f"{path}.{key}", value, "may have mixed case, but should otherwise match: " + _DNS1035_MSG
                )
            )
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        causes.append(
            _invalid(f"{path}.listKind", names["listKind"], "kind and listKind may not be the same")
        )
    for key in ("shortNames", "categories"):
        for i, value in enumerate(names.get(key) or []):
            if not _dns1035(value):
                causes.append(_invalid(f"{path}.{key}[{i}]", value, _DNS1035_MSG))


def _versions(spec: dict[str, Any], causes: list[Cause]) -> None:
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        causes.append(_required("spec.versions", "must have exactly one version marked as storage version"))
        return
    storage = 0
    served = 0
    seen: set[str] = set()
    for i, version in enumerate(versions):
        path = f"spec.versions[{i}]"
        if not isinstance(version, dict):
            causes.append(_invalid(path, "", "must be an object"))
            continue
        vname = version.get("name")
        if not vname:
            causes.append(_required(f"{path}.name"))
        elif not _dns1035(vname):
            causes.append(_invalid(f"{path}.name", vname, _DNS1035_MSG))
        elif vname in seen:
            causes.append(_invalid(f"{path}.name", vname, "must be unique"))
        else:
            seen.add(vname)
        storage += 1 if version.get("storage") else 0
        served += 1 if version.get("served") else 0
        schema = (
            (version.get("schema") or {}).get("openAPIV3Schema")
            if isinstance(version.get("schema"), dict)
            else None
        )
        if not isinstance(schema, dict):
            causes.append(_required(f"{path}.schema.openAPIV3Schema", "schemas are required"))
        else:
            _structural(schema, f"{path}.schema.openAPIV3Schema", causes, root=True)
        _subresources(version.get("subresources"), f"{path}.subresources", causes)
        for j, column in enumerate(version.get("additionalPrinterColumns") or []):
            cpath = f"{path}.additionalPrinterColumns[{j}]"
            if not isinstance(column, dict):
                continue
            if not column.get("name"):
                causes.append(_required(f"{cpath}.name"))
            if not column.get("type"):
                causes.append(_required(f"{cpath}.type"))
            elif column["type"] not in _PRINTER_TYPES:
                causes.append(_unsupported(f"{cpath}.type", column["type"], _PRINTER_TYPES))
            if not column.get("jsonPath"):
                causes.append(_required(f"{cpath}.jsonPath"))
        for j, selectable in enumerate(version.get("selectableFields") or []):
            jpath = selectable.get("jsonPath") if isinstance(selectable, dict) else None
            if not jpath:
                causes.append(_required(f"{path}.selectableFields[{j}].jsonPath"))
            elif not str(jpath).startswith("."):
                causes.append(
                    _invalid(
                        f"{path}.selectableFields[{j}].jsonPath",
                        jpath,
                        "must be a simple json path starting with .",
                    )
                )
    if storage != 1:
        causes.append(
            _invalid("spec.versions", versions, "must have exactly one version marked as storage version")
        )
    if served == 0:
        causes.append(_invalid("spec.versions", versions, "must have at least one version marked as served"))


def _subresources(subresources: Any, path: str, causes: list[Cause]) -> None:
    if not isinstance(subresources, dict):
        return
    scale = subresources.get("scale")
    if isinstance(scale, dict):
        spec_path = scale.get("specReplicasPath")
        if not spec_path:
            causes.append(_required(f"{path}.scale.specReplicasPath"))
        elif not str(spec_path).startswith(".spec."):
            causes.append(
                _invalid(f"{path}.scale.specReplicasPath", spec_path, "should be a json path under .spec")
            )
        status_path = scale.get("statusReplicasPath")
        if not status_path:
            causes.append(_required(f"{path}.scale.statusReplicasPath"))
        elif not str(status_path).startswith(".status."):
            causes.append(
                _invalid(
                    f"{path}.scale.statusReplicasPath", status_path, "should be a json path under .status"
                )
            )
        selector = scale.get("labelSelectorPath")
        if selector and not str(selector).startswith((".spec.", ".status.")):
            causes.append(
                _invalid(
                    f"{path}.scale.labelSelectorPath",
                    selector,
                    "should be a json path under either .spec or .status",
                )
            )


def _structural(schema: dict[str, Any], path: str, causes: list[Cause], *, root: bool = False) -> None:
    kind = schema.get("type")
    special = schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-preserve-unknown-fields")
    if root:
        if not kind:
            causes.append(_required(f"{path}.type", "must not be empty at the root"))
        elif kind != "object":
            causes.append(_invalid(f"{path}.type", kind, "must be object at the root"))
    if kind and kind not in _SCHEMA_TYPES:
        causes.append(_unsupported(f"{path}.type", kind, _SCHEMA_TYPES))
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, prop in props.items():
            ppath = f"{path}.properties[{key}]"
            if not isinstance(prop, dict):
                continue
            if not prop.get("type") and not (
                prop.get("x-kubernetes-int-or-string") or prop.get("x-kubernetes-preserve-unknown-fields")
            ):
                causes.append(_required(f"{ppath}.type", "must not be empty for specified object fields"))
            _structural(prop, ppath, causes)
    items = schema.get("items")
    if isinstance(items, dict):
        if not items.get("type") and not (
            items.get("x-kubernetes-int-or-string") or items.get("x-kubernetes-preserve-unknown-fields")
        ):
            causes.append(_required(f"{path}.items.type", "must not be empty for specified array items"))
        _structural(items, f"{path}.items", causes)
    elif kind == "array" and not special:
        causes.append(_required(f"{path}.items", "must be specified"))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if isinstance(props, dict) and props:
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: additionalProperties and properties are mutual exclusive",
                    "field": f"{path}.additionalProperties",
                }
            )
        _structural(extra, f"{path}.additionalProperties", causes)
