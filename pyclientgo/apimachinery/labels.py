"""Label selectors, as Kubernetes' ``k8s.io/apimachinery/pkg/labels`` defines them.

A selector is a conjunction of requirements on a set of labels. The string syntax is the one
``kubectl get -l`` and the ``labelSelector`` query parameter use::

    env=prod,tier!=cache          equality / inequality (``==`` is a synonym of ``=``)
    env in (prod,qa),app notin (x) set membership
    app, !canary                  key exists / does not exist
    replicas>2, replicas<5        integer comparisons (Gt / Lt)

Commas mean AND; whitespace around tokens is ignored. Keys must be qualified names
(an optional DNS-subdomain prefix of at most 253 characters, ``/``, and a name of at most 63
characters); values must be valid label values. Errors raise :class:`SelectorParseError`,
which the API server turns into a 400 ``BadRequest`` Status.

``str(selector)`` is canonical: requirements sorted by key, set values sorted, as Go's
``Selector.String()`` prints them; ``parse(str(s)) == s``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "SelectorParseError",
    "everything",
    "format_labels",
    "nothing",
    "parse",
    "selector_from_label_selector",
    "selector_from_set",
    "validate_label_key",
    "validate_label_value",
]

_QUALIFIED_NAME_MAX_LENGTH = 63
_LABEL_VALUE_MAX_LENGTH = 63
_DNS1123_SUBDOMAIN_MAX_LENGTH = 253

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class SelectorParseError(ValueError):
    """A label selector string (or LabelSelector object) is not valid."""


class Operator(enum.StrEnum):
    """A requirement's operator; the values are Go's ``selection.Operator`` strings."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_IN_OPS = frozenset({Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS})
_NOT_IN_OPS = frozenset({Operator.NOT_IN, Operator.NOT_EQUALS})
_ORDER_OPS = frozenset({Operator.GREATER_THAN, Operator.LESS_THAN})


# ---------------------------------------------------------------------------------------------
# validation


def _qualified_name_errors(key: str) -> list[str]:
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + e for e in _dns1123_subdomain_errors(prefix))
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            f"'123-abc', regex used for validation is '{_QUALIFIED_NAME_FMT}') with an optional "
            "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > _QUALIFIED_NAME_MAX_LENGTH:
        errs.append(f"name part must be no more than {_QUALIFIED_NAME_MAX_LENGTH} characters")
    if name and not _QUALIFIED_NAME_RE.match(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
            f"regex used for validation is '{_QUALIFIED_NAME_FMT}')"
        )
    return errs


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > _DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(f"must be no more than {_DNS1123_SUBDOMAIN_MAX_LENGTH} characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            f"'example.com', regex used for validation is '{_DNS1123_SUBDOMAIN_FMT}')"
        )
    return errs


def _label_value_errors(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > _LABEL_VALUE_MAX_LENGTH:
        errs.append(f"must be no more than {_LABEL_VALUE_MAX_LENGTH} characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
            f"or 'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE_FMT}')"
        )
    return errs


def _invalid(path: str, value: str, errs: list[str]) -> str:
    return f'{path}: Invalid value: "{value}": {"; ".join(errs)}'


def validate_label_key(key: str) -> list[str]:
    """Return the problems with ``key`` as a label key (empty when valid)."""
    return _qualified_name_errors(key)


def validate_label_value(value: str) -> list[str]:
    """Return the problems with ``value`` as a label value (empty when valid)."""
    return _label_value_errors(value)


# ---------------------------------------------------------------------------------------------
# requirements and selectors


_INT_RE = re.compile(r"[+-]?[0-9]+")


def _parse_int64(value: str) -> int | None:
    if not _INT_RE.fullmatch(value):
        return None
    n = int(value)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition of a selector: ``key``, an operator and (sorted, unique) values.

    Build it with :meth:`Requirement.new`, which validates as Go's ``NewRequirement`` does.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()
    _want: int | None = field(default=None, init=False, repr=False, compare=False)
    """The integer a Gt/Lt requirement compares with, parsed once."""

    def __post_init__(self) -> None:
        if self.operator in _ORDER_OPS and len(self.values) == 1:
            object.__setattr__(self, "_want", _parse_int64(self.values[0]))

    @classmethod
    def new(cls, key: str, operator: Operator | str, values: Iterable[str] = ()) -> Requirement:
        """Validate and build a requirement; raise :class:`SelectorParseError` when invalid."""
        try:
            op = Operator(operator)
        except ValueError:
            raise SelectorParseError(f"operator: Unsupported value: {str(operator)!r}") from None
        vals = tuple(values)
        problems: list[str] = []
        key_errs = _qualified_name_errors(key)
        if key_errs:
            problems.append(_invalid("key", key, key_errs))
        if op in (Operator.IN, Operator.NOT_IN):
            if not vals:
                problems.append(
                    "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
                )
        elif op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
            if len(vals) != 1:
                problems.append(
                    f"values: Invalid value: {list(vals)}: exact-match compatibility requires one single value"
                )
        elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            if vals:
                problems.append(
                    f"values: Invalid value: {list(vals)}: values set must be empty for exists and does not exist"
                )
        else:  # Gt / Lt
            if len(vals) != 1:
                problems.append(
                    f"values: Invalid value: {list(vals)}: for 'Gt', 'Lt' operators, exactly one value is required"
                )
            for i, v in enumerate(vals):
                if _parse_int64(v) is None:
                    problems.append(
                        f"values[{i}]: Invalid value: \"{v}\": for 'Gt', 'Lt' operators, the value must be an integer"
                    )
        if op not in (Operator.GREATER_THAN, Operator.LESS_THAN):
            for i, v in enumerate(vals):
                val_errs = _label_value_errors(v)
                if val_errs:
                    problems.append(_invalid(f"values[{i}][{key}]", v, val_errs))
        if problems:
            raise SelectorParseError(problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")
        if op in (Operator.IN, Operator.NOT_IN):
            vals = tuple(sorted(set(vals)))
        return cls(key, op, vals)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        op = self.operator
        if op in _IN_OPS:
            have = labels.get(self.key)
            return have is not None and have in self.values
        if op in _NOT_IN_OPS:
            have = labels.get(self.key)
            return have is None or have not in self.values
        if op is Operator.EXISTS:
            return self.key in labels
        if op is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        # Gt / Lt: the label must exist and hold an integer.
        have = labels.get(self.key)
        if have is None or self._want is None:
            return False
        number = _parse_int64(have)
        if number is None:
            return False
        return number > self._want if op is Operator.GREATER_THAN else number < self._want

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        if op is Operator.EXISTS:
            return self.key
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op.value} ({','.join(sorted(self.values))})"
        sym = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{sym}{self.values[0] if self.values else ''}"


@dataclass(frozen=True, slots=True)
class Selector:
    """A conjunction of requirements; with none it matches everything.

    ``match_nothing`` marks the special selector returned by :func:`nothing`.
    """

    requirements: tuple[Requirement, ...] = ()
    match_nothing: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy every requirement."""
        if self.match_nothing:
            return False
        return all(r.matches(labels) for r in self.requirements)

    def empty(self) -> bool:
        """True for a selector with no requirements (it selects everything)."""
        return not self.match_nothing and not self.requirements

    def add(self, *requirements: Requirement) -> Selector:
        """A new selector with ``requirements`` added (kept sorted by key)."""
        if self.match_nothing:
            return self
        reqs = sorted((*self.requirements, *requirements), key=lambda r: r.key)
        return Selector(tuple(reqs))

    def requires_exact_match(self, key: str) -> str | None:
        """The value ``key`` must have, when a ``=``/``==``/single-value ``in`` requirement pins it."""
        for r in self.requirements:
            if r.key != key:
                continue
            if r.operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS) or (
                r.operator is Operator.IN and len(r.values) == 1
            ):
                return r.values[0]
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def everything() -> Selector:
    """The selector that matches every label set (the empty string)."""
    return Selector()


def nothing() -> Selector:
    """The selector that matches no label set."""
    return Selector(match_nothing=True)


def selector_from_set(labels: Mapping[str, str]) -> Selector:
    """``k1=v1,k2=v2`` from a dict (``matchLabels``); validates keys and values."""
    reqs = [Requirement.new(k, Operator.EQUALS, [v]) for k, v in labels.items()]
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))


def format_labels(labels: Mapping[str, str]) -> str:
    """``k1=v1,k2=v2`` sorted by key, as ``labels.Set.String()``; no validation."""
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


_LABEL_SELECTOR_OPS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _label_selector_parts(label_selector: Any) -> tuple[Mapping[str, str], list[tuple[Any, Any, list[str]]]]:
    """``(matchLabels, [(key, operator, values)...])`` of a LabelSelector dict or typed model."""
    if isinstance(label_selector, Mapping):
        match_labels = label_selector.get("matchLabels") or {}
        exprs = [
            (e.get("key", ""), e.get("operator"), list(e.get("values") or []))
            for e in label_selector.get("matchExpressions") or []
        ]
        return match_labels, exprs
    match_labels = getattr(label_selector, "match_labels", None) or {}
    exprs = [
        (e.key or "", e.operator, list(e.values or []))
        for e in getattr(label_selector, "match_expressions", None) or []
    ]
    return match_labels, exprs


def selector_from_label_selector(label_selector: Mapping[str, Any] | Any | None) -> Selector:
    """Convert a metav1 ``LabelSelector`` (``LabelSelectorAsSelector``): a typed
    ``pyclientgo.api.meta.v1.LabelSelector`` or its wire-shaped dict (``matchLabels``/``matchExpressions``).

    ``None`` selects nothing and an empty selector selects everything, as ``LabelSelectorAsSelector`` does.
    """
    if label_selector is None:
        return nothing()
    match_labels, match_expressions = _label_selector_parts(label_selector)
    if not match_labels and not match_expressions:
        return everything()
    reqs: list[Requirement] = []
    for k, v in match_labels.items():
        reqs.append(Requirement.new(k, Operator.EQUALS, [v]))
    for key, raw_op, values in match_expressions:
        op = _LABEL_SELECTOR_OPS.get(raw_op) if isinstance(raw_op, str) else None
        if op is None:
            raise SelectorParseError(f"{raw_op!r} is not a valid label selector operator")
        if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
            raise SelectorParseError(
                f"values: Invalid value: {values}: values set must be empty for exists and does not exist"
            )
        reqs.append(Requirement.new(str(key), op, values))
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))


# ---------------------------------------------------------------------------------------------
# lexer and parser

_SPECIAL = frozenset("=!(),<>")
_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS = ("!=", "==", "!", "(", ")", ",", "=", ">", "<")

_EOS = "end of string"
_IDENT = "identifier"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def next(self) -> tuple[str, str]:
        """Return (kind, literal); kind is _EOS, _IDENT, a symbol, "in" or "notin"."""
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _WHITESPACE:
            self.pos += 1
        if self.pos >= n:
            return _EOS, ""
        ch = text[self.pos]
        if ch in _SPECIAL:
            for sym in _SYMBOLS:
                if text.startswith(sym, self.pos):
                    self.pos += len(sym)
                    return sym, sym
        start = self.pos
        while self.pos < n and text[self.pos] not in _WHITESPACE and text[self.pos] not in _SPECIAL:
            self.pos += 1
        lit = text[start : self.pos]
        if lit in ("in", "notin"):
            return lit, lit
        return _IDENT, lit


class _Parser:
    def __init__(self, text: str) -> None:
        lexer = _Lexer(text)
        self.tokens: list[tuple[str, str]] = []
        while True:
            tok = lexer.next()
            self.tokens.append(tok)
            if tok[0] == _EOS:
                break
        self.pos = 0

    def lookahead(self, values: bool = False) -> tuple[str, str]:
        kind, lit = self.tokens[self.pos]
        if values and kind in ("in", "notin"):
            kind = _IDENT
        return kind, lit

    def consume(self, values: bool = False) -> tuple[str, str]:
        tok = self.lookahead(values)
        if self.pos < len(self.tokens) - 1:
            self.pos += 1
        return tok

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            kind, lit = self.lookahead()
            if kind in (_IDENT, "!"):
                try:
                    reqs.append(self.parse_requirement())
                except SelectorParseError as err:
                    raise SelectorParseError(f"unable to parse requirement: {err}") from None
                kind, lit = self.consume()
                if kind == _EOS:
                    return reqs
                if kind == ",":
                    nkind, nlit = self.lookahead()
                    if nkind not in (_IDENT, "!"):
                        raise SelectorParseError(f"found '{nlit}', expected: identifier after ','")
                    continue
                raise SelectorParseError(f"found '{lit}', expected: ',' or 'end of string'")
            if kind == _EOS:
                return reqs
            raise SelectorParseError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        kind, lit = self.consume()
        negated = kind == "!"
        if negated:
            kind, lit = self.consume()
        if kind != _IDENT:
            raise SelectorParseError(f"found '{lit}', expected: identifier")
        key = lit
        nkind, nlit = self.lookahead()
        if nkind in (_EOS, ","):
            return Requirement.new(key, Operator.DOES_NOT_EXIST if negated else Operator.EXISTS)
        if negated:
            raise SelectorParseError(f"found '{nlit}', expected: ',' or 'end of string'")
        kind, lit = self.consume()
        ops = {
            "=": Operator.EQUALS,
            "==": Operator.DOUBLE_EQUALS,
            "!=": Operator.NOT_EQUALS,
            "in": Operator.IN,
            "notin": Operator.NOT_IN,
            ">": Operator.GREATER_THAN,
            "<": Operator.LESS_THAN,
        }
        op = ops.get(kind)
        if op is None:
            raise SelectorParseError(f"found '{lit}', expected: {', '.join(ops)}")
        values = self.parse_values() if op in (Operator.IN, Operator.NOT_IN) else [self.parse_exact_value()]
        return Requirement.new(key, op, values)

    def parse_exact_value(self) -> str:
        kind, lit = self.lookahead(values=True)
        if kind in (_EOS, ","):
            return ""
        kind, lit = self.consume(values=True)
        if kind == _IDENT:
            return lit
        raise SelectorParseError(f"found '{lit}', expected: identifier")

    def parse_values(self) -> list[str]:
        kind, lit = self.consume(values=True)
        if kind != "(":
            raise SelectorParseError(f"found '{lit}', expected: '('")
        kind, lit = self.lookahead(values=True)
        if kind == ")":
            self.consume(values=True)
            return [""]
        if kind not in (_IDENT, ","):
            raise SelectorParseError(f"found '{lit}', expected: ',', ')' or identifier")
        values: list[str] = []
        prev_comma = True  # an empty value may precede a comma
        while True:
            kind, lit = self.consume(values=True)
            if kind == _IDENT:
                values.append(lit)
                prev_comma = False
                nkind, nlit = self.lookahead(values=True)
                if nkind == ",":
                    continue
                if nkind == ")":
                    self.consume(values=True)
                    return values
                raise SelectorParseError(f"found '{nlit}', expected: ',' or ')'")
            if kind == ",":
                if prev_comma:
                    values.append("")
                prev_comma = True
                nkind, _ = self.lookahead(values=True)
                if nkind == ")":
                    values.append("")
                    self.consume(values=True)
                    return values
                continue
            raise SelectorParseError(f"found '{lit}', expected: ',' or identifier")


def parse(selector: str) -> Selector:
    """Parse the label-selector string syntax; ``""`` selects everything."""
    reqs = _Parser(selector).parse()
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))
