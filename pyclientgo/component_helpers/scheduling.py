"""Scheduling predicates, after ``k8s.io/component-helpers/scheduling/corev1`` (Kubernetes 1.32).

Taints and tolerations (``Toleration.ToleratesTaint`` and friends), node selector terms and node
affinity (``nodeaffinity``: ``NodeSelector``, ``LazyErrorNodeSelector``, ``PreferredSchedulingTerms``,
``RequiredNodeAffinity``).

A node selector is parsed once into a runtime form and then matched against many nodes:

* terms are ORed; a term's ``matchExpressions`` (on labels, operators ``In``, ``NotIn``, ``Exists``,
  ``DoesNotExist``, ``Gt``, ``Lt``) and ``matchFields`` (only ``metadata.name``, ``In``/``NotIn`` with
  exactly one value) are ANDed; an empty term matches nothing;
* a term that does not parse never matches; its error is raised (:class:`NodeSelectorError`) only when
  no other term matches (the "lazy error" behaviour kube keeps for compatibility).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pyclientgo.api.core.v1 import (
    Node,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
)
from pyclientgo.api.core.v1 import (
    NodeSelector as NodeSelectorSpec,
)
from pyclientgo.apimachinery import fields, labels

__all__ = [
    "LazyErrorNodeSelector",
    "NodeSelector",
    "NodeSelectorError",
    "PreferredSchedulingTerms",
    "RequiredNodeAffinity",
    "find_matching_untolerated_taint",
    "get_required_node_affinity",
    "match_node_selector_terms",
    "match_taint",
    "match_toleration",
    "pod_priority",
    "taint_to_string",
    "toleration_tolerates_taint",
    "tolerations_tolerate_taint",
]


class NodeSelectorError(ValueError):
    """A node selector (term) that does not parse; the message names each bad field by its path."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__(self.errors[0] if len(self.errors) == 1 else "[" + ", ".join(self.errors) + "]")


# -- taints and tolerations --------------------------------------------------------------------


def toleration_tolerates_taint(toleration: Toleration, taint: Taint) -> bool:
    """Whether ``toleration`` tolerates ``taint`` (``Toleration.ToleratesTaint``).

    An empty effect matches every effect; an empty key (with ``Exists``) every key; ``Exists`` every
    value; ``Equal`` (the default, also when the operator is empty) the same value only.
    """
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    operator = toleration.operator or "Equal"
    if operator == "Equal":
        return (toleration.value or "") == (taint.value or "")
    return operator == "Exists"


def tolerations_tolerate_taint(tolerations: Sequence[Toleration] | None, taint: Taint) -> bool:
    """Whether any of ``tolerations`` tolerates ``taint``."""
    return any(toleration_tolerates_taint(t, taint) for t in tolerations or ())


def find_matching_untolerated_taint(
    taints: Sequence[Taint] | None,
    tolerations: Sequence[Toleration] | None,
    inclusion_filter: Callable[[Taint], bool] | None = None,
) -> Taint | None:
    """The first taint (of those ``inclusion_filter`` keeps) that no toleration tolerates, or ``None``."""
    for taint in taints or ():
        if inclusion_filter is not None and not inclusion_filter(taint):
            continue
        if not tolerations_tolerate_taint(tolerations, taint):
            return taint
    return None


def match_taint(taint: Taint, other: Taint) -> bool:
    """Whether two taints are the same taint: equal key and effect (``Taint.MatchTaint``)."""
    return (taint.key or "") == (other.key or "") and (taint.effect or "") == (other.effect or "")


def match_toleration(toleration: Toleration, other: Toleration) -> bool:
    """Whether two tolerations are the same: equal key, effect, operator and value."""
    return all(
        (getattr(toleration, f) or "") == (getattr(other, f) or "")
        for f in ("key", "effect", "operator", "value")
    )


def taint_to_string(taint: Taint) -> str:
    """``key=value:effect``, ``key=value:``, ``key:effect`` or ``key`` (``Taint.ToString``)."""
    key, value, effect = taint.key or "", taint.value or "", taint.effect or ""
    if not effect:
        return f"{key}={value}:" if value else key
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def pod_priority(pod: Pod) -> int:
    """``spec.priority``, or 0 when unset (``corev1.PodPriority``)."""
    priority = pod.spec.priority if pod.spec is not None else None
    return priority if priority is not None else 0


# -- node selectors ----------------------------------------------------------------------------

_LABEL_OPERATORS: Mapping[str, labels.Operator] = {
    "In": labels.Operator.IN,
    "NotIn": labels.Operator.NOT_IN,
    "Exists": labels.Operator.EXISTS,
    "DoesNotExist": labels.Operator.DOES_NOT_EXIST,
    "Gt": labels.Operator.GREATER_THAN,
    "Lt": labels.Operator.LESS_THAN,
}
_FIELD_OPERATORS: Mapping[str, fields.Operator] = {
    "In": fields.Operator.EQUALS,
    "NotIn": fields.Operator.NOT_EQUALS,
}


def _unsupported(path: str, value: str | None, supported: Sequence[str]) -> str:
    listed = ", ".join(f'"{s}"' for s in supported)
    return f'{path}: Unsupported value: "{value or ""}": supported values: {listed}'


def _label_selector(
    reqs: Sequence[NodeSelectorRequirement], path: str
) -> tuple[labels.Selector | None, list[str]]:
    errors: list[str] = []
    parsed: list[labels.Requirement] = []
    for i, expr in enumerate(reqs):
        p = f"{path}[{i}]"
        op = _LABEL_OPERATORS.get(expr.operator or "")
        if op is None:
            errors.append(_unsupported(f"{p}.operator", expr.operator, list(_LABEL_OPERATORS)))
            continue
        try:
            parsed.append(labels.Requirement.new(expr.key or "", op, expr.values or ()))
        except labels.SelectorParseError as err:
            errors.append(f"{p}.{err}")
    if errors:
        return None, errors
    return labels.Selector(tuple(sorted(parsed, key=lambda r: r.key))), []


def _field_selector(
    reqs: Sequence[NodeSelectorRequirement], path: str
) -> tuple[fields.Selector | None, list[str]]:
    errors: list[str] = []
    terms: list[fields.Requirement] = []
    for i, expr in enumerate(reqs):
        p = f"{path}[{i}]"
        op = _FIELD_OPERATORS.get(expr.operator or "")
        if op is None:
            errors.append(_unsupported(f"{p}.operator", expr.operator, list(_FIELD_OPERATORS)))
            continue
        values = expr.values or []
        if len(values) != 1:
            errors.append(f"{p}.values: Invalid value: {values}: must have one element")
            continue
        terms.append(fields.Requirement(expr.key or "", op, values[0]))
    if errors:
        return None, errors
    return fields.Selector(tuple(terms)), []


_NO_FIELDS: Mapping[str, str] = {}


def _node_fields(node: Node) -> dict[str, str]:
    name = node.metadata.name if node.metadata is not None else None
    return {"metadata.name": name} if name else {}


def _node_labels(node: Node) -> Mapping[str, str]:
    return (node.metadata.labels if node.metadata is not None else None) or {}


def _is_empty_term(term: NodeSelectorTerm | None) -> bool:
    return term is None or (not term.match_expressions and not term.match_fields)


@dataclass(frozen=True, slots=True)
class _Term:
    """A parsed node selector term."""

    match_labels: labels.Selector | None
    match_fields: fields.Selector | None
    errors: tuple[str, ...]

    @classmethod
    def parse(cls, term: NodeSelectorTerm, path: str) -> _Term:
        errors: list[str] = []
        match_labels = match_fields = None
        if term.match_expressions:
            match_labels, errs = _label_selector(term.match_expressions, f"{path}.matchExpressions")
            errors += errs
        if term.match_fields:
            match_fields, errs = _field_selector(term.match_fields, f"{path}.matchFields")
            errors += errs
        return cls(match_labels, match_fields, tuple(errors))

    def match(self, node_labels: Mapping[str, str], node_fields: Mapping[str, str]) -> bool:
        if self.errors:
            return False
        if self.match_labels is not None and not self.match_labels.matches(node_labels):
            return False
        # As kube: field requirements are skipped for a node without a name.
        return not (
            self.match_fields is not None and node_fields and not self.match_fields.matches(node_fields)
        )


def _parse_terms(selector: NodeSelectorSpec | None, path: str) -> list[_Term]:
    out: list[_Term] = []
    if selector is None:
        return out
    for i, term in enumerate(selector.node_selector_terms or ()):
        if _is_empty_term(term):
            continue
        out.append(_Term.parse(term, f"{path}nodeSelectorTerms[{i}]"))
    return out


class LazyErrorNodeSelector:
    """A parsed ``NodeSelector`` that reports parse errors only when no term matches."""

    __slots__ = ("_terms", "_uses_fields")

    def __init__(self, selector: NodeSelectorSpec | None, *, path: str = "") -> None:
        """Parse ``selector``; ``path`` prefixes the field paths in error messages (e.g. ``"spec."``)."""
        self._terms = _parse_terms(selector, f"{path}." if path and not path.endswith(".") else path)
        self._uses_fields = any(t.match_fields is not None for t in self._terms)

    def match(self, node: Node | None) -> bool:
        """Whether some term matches ``node``; raise :class:`NodeSelectorError` when none does and a term is invalid."""
        if node is None:
            return False
        node_labels = _node_labels(node)
        node_fields = _node_fields(node) if self._uses_fields else _NO_FIELDS
        errors: list[str] = []
        for term in self._terms:
            if term.errors:
                errors += term.errors
                continue
            if term.match(node_labels, node_fields):
                return True
        if errors:
            raise NodeSelectorError(errors)
        return False


class NodeSelector:
    """A parsed ``NodeSelector`` that refuses to build from an invalid one (``nodeaffinity.NewNodeSelector``)."""

    __slots__ = ("_lazy",)

    def __init__(self, selector: NodeSelectorSpec | None, *, path: str = "") -> None:
        """Parse ``selector``; raise :class:`NodeSelectorError` listing every invalid requirement."""
        self._lazy = LazyErrorNodeSelector(selector, path=path)
        errors = [e for term in self._lazy._terms for e in term.errors]
        if errors:
            raise NodeSelectorError(errors)

    def match(self, node: Node | None) -> bool:
        """Whether some term matches ``node``."""
        return self._lazy.match(node)


def match_node_selector_terms(node: Node | None, node_selector: NodeSelectorSpec | None) -> bool:
    """Whether ``node`` matches one of the selector's terms (``corev1.MatchNodeSelectorTerms``).

    ``None`` (node or selector) and empty terms match nothing. Invalid terms raise
    :class:`NodeSelectorError` when no valid term matches.
    """
    if node is None:
        return False
    return LazyErrorNodeSelector(node_selector).match(node)


class PreferredSchedulingTerms:
    """Parsed ``preferredDuringSchedulingIgnoredDuringExecution`` terms; :meth:`score` sums the weights that match."""

    __slots__ = ("_terms",)

    def __init__(self, terms: Sequence[PreferredSchedulingTerm] | None, *, path: str = "") -> None:
        """Parse ``terms``, skipping zero weights and empty preferences; raise :class:`NodeSelectorError` if any is invalid."""
        parsed: list[tuple[_Term, int]] = []
        errors: list[str] = []
        for i, term in enumerate(terms or ()):
            if not term.weight or _is_empty_term(term.preference):
                continue
            assert term.preference is not None
            one = _Term.parse(term.preference, f"{path}[{i}]")
            if one.errors:
                errors += one.errors
            else:
                parsed.append((one, term.weight))
        if errors:
            raise NodeSelectorError(errors)
        self._terms = parsed

    def score(self, node: Node) -> int:
        """The sum of the weights of the terms ``node`` matches."""
        node_labels, node_fields = _node_labels(node), _node_fields(node)
        return sum(weight for term, weight in self._terms if term.match(node_labels, node_fields))


class RequiredNodeAffinity:
    """A pod's hard node constraints: ``spec.nodeSelector`` AND required node affinity, parsed once."""

    __slots__ = ("_affinity", "_node_selector")

    def __init__(self, node_selector: Mapping[str, str] | None, affinity: NodeSelectorSpec | None) -> None:
        """Usually built by :func:`get_required_node_affinity`."""
        self._node_selector = dict(node_selector) if node_selector else None
        self._affinity = LazyErrorNodeSelector(affinity) if affinity is not None else None

    def match(self, node: Node, *, raise_errors: bool = False) -> bool:
        """Whether the pod may run on ``node``.

        An invalid affinity term never matches. Its :class:`NodeSelectorError` is raised only with
        ``raise_errors`` and when no valid term matches; by default it is not, as the scheduler's
        NodeAffinity filter ignores it.
        """
        if self._node_selector is not None:
            node_labels = _node_labels(node)
            for key, value in self._node_selector.items():
                if node_labels.get(key) != value:
                    return False
        if self._affinity is None:
            return True
        if raise_errors:
            return self._affinity.match(node)
        try:
            return self._affinity.match(node)
        except NodeSelectorError:
            return False


def get_required_node_affinity(pod: Pod) -> RequiredNodeAffinity:
    """The parsed node selector and required node affinity of ``pod`` (``nodeaffinity.GetRequiredNodeAffinity``)."""
    spec = pod.spec
    if spec is None:
        return RequiredNodeAffinity(None, None)
    affinity = spec.affinity.node_affinity if spec.affinity is not None else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity is not None else None
    return RequiredNodeAffinity(spec.node_selector, required)
