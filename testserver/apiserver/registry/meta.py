"""Shared validation helpers: object names, labels, annotations and object metadata.

Messages are kube-apiserver's (``apimachinery/pkg/api/validation`` and ``util/validation``) so
clients that match on them keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyclientgo.apimachinery import labels as label_selectors
from testserver.apiserver.registry import field as fe

__all__ = [
    "DNS1035_LABEL_MSG",
    "DNS1123_LABEL_MSG",
    "DNS1123_SUBDOMAIN_MSG",
    "dns1035_label_errors",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "name_validator",
    "path_segment_errors",
    "validate_annotations",
    "validate_labels",
    "validate_object_meta",
    "validate_qualified_name",
]

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL + "(\\." + _LABEL + ")*"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN_FMT}$")
_LABEL_RE = re.compile(f"^{_LABEL}$")
_DNS1035_RE = re.compile(f"^{_DNS1035_FMT}$")

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    f"validation is '{_SUBDOMAIN_FMT}')"
)
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    f"validation is '{_LABEL}')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    f"regex used for validation is '{_DNS1035_FMT}')"
)
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

NameFn = Callable[[str, bool], list[str]]
"""``fn(name, prefix) -> messages``; ``prefix`` masks a trailing dash (generateName)."""


def _mask(name: str, prefix: bool) -> str:
    return name[:-1] + "a" if prefix and name.endswith("-") else name


def dns1123_subdomain_errors(name: str, prefix: bool = False) -> list[str]:
    value = _mask(name, prefix)
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _SUBDOMAIN_RE.match(value):
        errs.append(DNS1123_SUBDOMAIN_MSG)
    return errs


def dns1123_label_errors(name: str, prefix: bool = False) -> list[str]:
    value = _mask(name, prefix)
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_RE.match(value):
        errs.append(DNS1123_LABEL_MSG)
    return errs


def dns1035_label_errors(name: str, prefix: bool = False) -> list[str]:
    value = _mask(name, prefix)
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(value):
        errs.append(DNS1035_LABEL_MSG)
    return errs


def path_segment_errors(name: str, prefix: bool = False) -> list[str]:
    if prefix:
        return [f"may not contain '{c}'" for c in ("/", "%") if c in name]
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


_PATH_SEGMENT_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def name_validator(kind: str, group: str) -> NameFn:
    """The name rule kube applies to ``group``/``kind`` (RFC 1123 subdomain unless listed; always
    for custom resources)."""
    if group == "" and kind == "Service":
        return dns1035_label_errors
    if group == "" and kind == "Namespace":
        return dns1123_label_errors
    if group == "rbac.authorization.k8s.io" and kind in _PATH_SEGMENT_KINDS:
        return path_segment_errors
    return dns1123_subdomain_errors


def validate_qualified_name(value: str, path: str) -> fe.ErrorList:
    return [fe.invalid(path, value, msg) for msg in label_selectors.validate_label_key(value)]


def validate_labels(labels: Any, path: str) -> fe.ErrorList:
    errs: fe.ErrorList = []
    if not isinstance(labels, dict):
        return [fe.invalid(path, labels, "must be a map of string keys to string values")]
    for key, value in labels.items():
        errs.extend(validate_qualified_name(key, path))
        if not isinstance(value, str):
            errs.append(fe.invalid(path, value, "must be a string"))
            continue
        errs.extend(fe.invalid(path, value, msg) for msg in label_selectors.validate_label_value(value))
    return errs


def validate_annotations(annotations: Any, path: str) -> fe.ErrorList:
    errs: fe.ErrorList = []
    if not isinstance(annotations, dict):
        return [fe.invalid(path, annotations, "must be a map of string keys to string values")]
    total = 0
    for key, value in annotations.items():
        errs.extend(
            fe.invalid(path, key, msg) for msg in label_selectors.validate_label_key(str(key).lower())
        )
        if not isinstance(value, str):
            errs.append(fe.invalid(path, value, "must be a string"))
            continue
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(fe.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def validate_object_meta(
    meta: dict[str, Any], *, namespaced: bool, name_fn: NameFn, creating: bool
) -> fe.ErrorList:
    """``ValidateObjectMeta``: name/generateName, namespace, labels, annotations, finalizers."""
    errs: fe.ErrorList = []
    name = meta.get("name")
    generate = meta.get("generateName")
    if generate:
        if not isinstance(generate, str):
            errs.append(fe.invalid("metadata.generateName", generate, "must be a string"))
        else:
            errs.extend(fe.invalid("metadata.generateName", generate, m) for m in name_fn(generate, True))
    if not name:
        if not (creating and generate):
            errs.append(fe.required("metadata.name", "name or generateName is required"))
    elif not isinstance(name, str):
        errs.append(fe.invalid("metadata.name", name, "must be a string"))
    else:
        errs.extend(fe.invalid("metadata.name", name, m) for m in name_fn(name, False))
    namespace = meta.get("namespace")
    if namespaced:
        if not namespace:
            errs.append(fe.required("metadata.namespace"))
        elif isinstance(namespace, str):
            errs.extend(
                fe.invalid("metadata.namespace", namespace, m) for m in dns1123_label_errors(namespace)
            )
    elif namespace:
        errs.append(fe.forbidden("metadata.namespace", "not allowed on this type"))
    if meta.get("labels") is not None:
        errs.extend(validate_labels(meta["labels"], "metadata.labels"))
    if meta.get("annotations") is not None:
        errs.extend(validate_annotations(meta["annotations"], "metadata.annotations"))
    finalizers = meta.get("finalizers")
    if finalizers is not None:
        if not isinstance(finalizers, list):
            errs.append(fe.invalid("metadata.finalizers", finalizers, "must be a list of strings"))
        else:
            seen: set[str] = set()
            for i, fin in enumerate(finalizers):
                if not isinstance(fin, str):
                    errs.append(fe.invalid(f"metadata.finalizers[{i}]", fin, "must be a string"))
                    continue
                errs.extend(
                    fe.invalid("metadata.finalizers", fin, m) for m in label_selectors.validate_label_key(fin)
                )
                if fin in seen:
                    errs.append(fe.duplicate(f"metadata.finalizers[{i}]", fin))
                seen.add(fin)
    owners = meta.get("ownerReferences")
    if owners is not None:
        if not isinstance(owners, list):
            errs.append(fe.invalid("metadata.ownerReferences", owners, "must be a list"))
        else:
            controllers = 0
            for i, ref in enumerate(owners):
                p = f"metadata.ownerReferences[{i}]"
                if not isinstance(ref, dict):
                    errs.append(fe.invalid(p, ref, "must be an object"))
                    continue
                for key in ("apiVersion", "kind", "name", "uid"):
                    if not ref.get(key):
                        errs.append(fe.invalid(f"{p}.{key}", ref.get(key) or "", f"{key} must not be empty"))
                if ref.get("controller"):
                    controllers += 1
            if controllers > 1:
                errs.append(
                    fe.invalid(
                        "metadata.ownerReferences",
                        owners,
                        "Only one reference can have Controller set to true",
                    )
                )
    return errs
