"""Field selectors, as Kubernetes' ``k8s.io/apimachinery/pkg/fields`` defines them.

A field selector is a comma-separated conjunction of ``field=value`` (``==`` is a synonym) and
``field!=value`` terms, e.g. ``metadata.name=web,status.phase!=Running``. In a value, ``\\,``,
``\\=`` and ``\\\\`` escape a comma, an equals sign and a backslash; an unescaped ``,`` ends the
term and an unescaped ``=`` in a value is an error. A field that an object does not have reads
as ``""`` (so ``spec.nodeName=`` selects unscheduled pods).

Each kind only supports a fixed set of fields (docs/reference/apiserver_behavior.md §11):
:func:`object_field_set` computes them for an object, :func:`supported_fields` lists them so the
API server can answer ``field label not supported: X``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldSelectorParseError",
    "Operator",
    "Requirement",
    "Selector",
    "escape_value",
    "everything",
    "object_field_set",
    "one_term_equal",
    "one_term_not_equal",
    "parse",
    "selector_from_set",
    "supported_fields",
    "unescape_value",
]


class FieldSelectorParseError(ValueError):
    """A field selector string is not valid."""


class Operator(enum.StrEnum):
    """A field requirement's operator (Go's ``selection.Operator`` strings)."""

    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="


_ESCAPES = {"\\": "\\\\", ",": "\\,", "=": "\\="}


def escape_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` so ``value`` can stand on the right of a term."""
    return "".join(_ESCAPES.get(c, c) for c in value)


def unescape_value(value: str) -> str:
    """Undo :func:`escape_value`; reject bad escapes and unescaped ``,``/``=``."""
    if "\\" not in value and "=" not in value and "," not in value:
        return value
    out: list[str] = []
    escaped = False
    for c in value:
        if escaped:
            if c not in _ESCAPES:
                raise FieldSelectorParseError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in ",=":
            raise FieldSelectorParseError(f"invalid field selector: unescaped character {c!r} in value")
        else:
            out.append(c)
    if escaped:
        raise FieldSelectorParseError("invalid field selector: unterminated escape sequence")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term: ``field``, operator and the (unescaped) ``value``."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` satisfy this term (missing fields read as ``""``)."""
        have = fields.get(self.field, "")
        if self.operator is Operator.NOT_EQUALS:
            return have != self.value
        return have == self.value

    def __str__(self) -> str:
        op = "!=" if self.operator is Operator.NOT_EQUALS else "="
        return f"{self.field}{op}{escape_value(self.value)}"


@dataclass(frozen=True, slots=True)
class Selector:
    """A conjunction of field requirements; with none it matches everything."""

    terms: tuple[Requirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` satisfy every term."""
        return all(t.matches(fields) for t in self.terms)

    def empty(self) -> bool:
        """True when there are no terms (the selector selects everything)."""
        return not self.terms

    def requirements(self) -> tuple[Requirement, ...]:
        """The terms, in the order they were written."""
        return self.terms

    def requires_exact_match(self, field: str) -> str | None:
        """The value a ``field=value`` term pins ``field`` to, if any."""
        for t in self.terms:
            if t.field == field and t.operator is not Operator.NOT_EQUALS:
                return t.value
        return None

    def __str__(self) -> str:
        return ",".join(str(t) for t in self.terms)


def everything() -> Selector:
    """The selector with no terms."""
    return Selector()


def one_term_equal(field: str, value: str) -> Selector:
    """``field=value``."""
    return Selector((Requirement(field, Operator.EQUALS, value),))


def one_term_not_equal(field: str, value: str) -> Selector:
    """``field!=value``."""
    return Selector((Requirement(field, Operator.NOT_EQUALS, value),))


def selector_from_set(fields: Mapping[str, str]) -> Selector:
    """``f1=v1,f2=v2`` (sorted by field) from a dict."""
    return Selector(tuple(Requirement(k, Operator.EQUALS, fields[k]) for k in sorted(fields)))


def _split_terms(selector: str) -> list[str]:
    terms: list[str] = []
    start = 0
    escaped = False
    for i, c in enumerate(selector):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


_TERM_OPERATORS = (("!=", Operator.NOT_EQUALS), ("==", Operator.DOUBLE_EQUALS), ("=", Operator.EQUALS))


def _split_term(term: str) -> tuple[str, Operator, str] | None:
    escaped = False
    for i, c in enumerate(term):
        if escaped:
            escaped = False
            continue
        if c == "\\":
            escaped = True
            continue
        for sym, op in _TERM_OPERATORS:
            if term.startswith(sym, i):
                return term[:i], op, term[i + len(sym) :]
    return None


def parse(selector: str) -> Selector:
    """Parse the field-selector syntax; ``""`` selects everything."""
    if not selector:
        return Selector()
    terms: list[Requirement] = []
    for term in _split_terms(selector):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise FieldSelectorParseError(f"invalid selector: '{selector}'; can't understand '{term}'")
        lhs, op, rhs = split
        terms.append(Requirement(lhs, op, unescape_value(rhs)))
    return Selector(tuple(terms))


# ---------------------------------------------------------------------------------------------
# selectable fields per kind


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    cur: Any = obj
    for p in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(p)
    return cur


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _b(value: Any) -> str:
    return "true" if value is True else "false"


def _i(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


def _pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    pod_ips = _get(obj, "status", "podIPs")
    if isinstance(pod_ips, list) and pod_ips and isinstance(pod_ips[0], Mapping):
        pod_ip = _s(pod_ips[0].get("ip"))
    else:
        pod_ip = _s(_get(obj, "status", "podIP"))
    return {
        "spec.nodeName": _s(_get(obj, "spec", "nodeName")),
        "spec.restartPolicy": _s(_get(obj, "spec", "restartPolicy")),
        "spec.schedulerName": _s(_get(obj, "spec", "schedulerName")),
        "spec.serviceAccountName": _s(_get(obj, "spec", "serviceAccountName")),
        "spec.hostNetwork": _b(_get(obj, "spec", "hostNetwork")),
        "status.phase": _s(_get(obj, "status", "phase")),
        "status.podIP": pod_ip,
        "status.nominatedNodeName": _s(_get(obj, "status", "nominatedNodeName")),
    }


def _event_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    out = {
        f"involvedObject.{f}": _s(_get(obj, "involvedObject", f))
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    }
    out["reason"] = _s(obj.get("reason"))
    out["reportingComponent"] = _s(obj.get("reportingComponent"))
    # an event without source.component is selected by its reportingController
    out["source"] = _s(_get(obj, "source", "component")) or _s(obj.get("reportingController"))
    out["type"] = _s(obj.get("type"))
    return out


_KIND_FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, str]]] = {
    "pod": _pod_fields,
    "node": lambda o: {"spec.unschedulable": _b(_get(o, "spec", "unschedulable"))},
    "event": _event_fields,
    # Kubernetes keeps a legacy "name" field on namespaces for backward compatibility.
    "namespace": lambda o: {
        "status.phase": _s(_get(o, "status", "phase")),
        "name": _s(_get(o, "metadata", "name")),
    },
    "secret": lambda o: {"type": _s(o.get("type"))},
    # Like namespaces, persistent volumes and claims keep the legacy "name" field.
    "persistentvolume": lambda o: {"name": _s(_get(o, "metadata", "name"))},
    "persistentvolumeclaim": lambda o: {"name": _s(_get(o, "metadata", "name"))},
    "certificatesigningrequest": lambda o: {"spec.signerName": _s(_get(o, "spec", "signerName"))},
    "replicaset": lambda o: {"status.replicas": _i(_get(o, "status", "replicas"))},
    "replicationcontroller": lambda o: {"status.replicas": _i(_get(o, "status", "replicas"))},
    "job": lambda o: {"status.successful": _i(_get(o, "status", "succeeded"))},
}

_KIND_FIELD_NAMES: dict[str, frozenset[str]] = {k: frozenset(f({})) for k, f in _KIND_FIELDS.items()}

_RESOURCE_TO_KIND = {
    "pods": "pod",
    "nodes": "node",
    "events": "event",
    "namespaces": "namespace",
    "secrets": "secret",
    "replicasets": "replicaset",
    "replicationcontrollers": "replicationcontroller",
    "jobs": "job",
    "persistentvolumes": "persistentvolume",
    "persistentvolumeclaims": "persistentvolumeclaim",
    "certificatesigningrequests": "certificatesigningrequest",
}

# Built-in cluster-scoped kinds (lower case): they only support metadata.name.
_CLUSTER_SCOPED = frozenset(
    {
        "node",
        "namespace",
        "persistentvolume",
        "componentstatus",
        "clusterrole",
        "clusterrolebinding",
        "customresourcedefinition",
        "apiservice",
        "storageclass",
        "csidriver",
        "csinode",
        "volumeattachment",
        "priorityclass",
        "runtimeclass",
        "ingressclass",
        "mutatingwebhookconfiguration",
        "validatingwebhookconfiguration",
        "validatingadmissionpolicy",
        "validatingadmissionpolicybinding",
        "certificatesigningrequest",
        "flowschema",
        "prioritylevelconfiguration",
        "tokenreview",
        "subjectaccessreview",
        "selfsubjectaccessreview",
        "selfsubjectrulesreview",
    }
)


def _normalize_kind(kind: str) -> str:
    k = kind.lower()
    return _RESOURCE_TO_KIND.get(k, k)


def _is_namespaced(kind: str, namespaced: bool | None) -> bool:
    if namespaced is not None:
        return namespaced
    return kind not in _CLUSTER_SCOPED


def supported_fields(kind: str, *, namespaced: bool | None = None) -> frozenset[str]:
    """The field labels a kind supports in field selectors.

    ``kind`` is a Kind (``"Pod"``) or a plural resource (``"pods"``), case-insensitive.
    ``namespaced`` defaults to what is known of built-in kinds (unknown kinds are taken as
    namespaced); cluster-scoped kinds support ``metadata.name`` only, as in Kubernetes.
    """
    k = _normalize_kind(kind)
    base = {"metadata.name"}
    if _is_namespaced(k, namespaced):
        base.add("metadata.namespace")
    return frozenset(base) | _KIND_FIELD_NAMES.get(k, frozenset())


def object_field_set(kind: str, obj: Mapping[str, Any], *, namespaced: bool | None = None) -> dict[str, str]:
    """The selectable fields of ``obj`` (a JSON-shaped dict), as Kubernetes' ``*ToSelectableFields``."""
    k = _normalize_kind(kind)
    out = {"metadata.name": _s(_get(obj, "metadata", "name"))}
    if _is_namespaced(k, namespaced):
        out["metadata.namespace"] = _s(_get(obj, "metadata", "namespace"))
    extra = _KIND_FIELDS.get(k)
    if extra is not None:
        out.update(extra(obj))
    return out
