"""Kubernetes resource quantities (``k8s.io/apimachinery/pkg/api/resource.Quantity``).

A quantity is a signed decimal number with a suffix::

    <quantity> ::= <sign><digits>[.<digits>]<suffix>      (at least one digit)
    <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei              binary SI (powers of 1024)
                 | n | u | m | "" | k | M | G | T | P | E  decimal SI (powers of 1000)
                 | e<sign><digits> | E<sign><digits>       decimal exponent

Values are exact: they are held as an integer number of nano-units, and, as Kubernetes does,
anything finer than ``1n`` is rounded up (away from zero). The suffix chooses the *format*
(binary SI, decimal SI, decimal exponent) that the canonical string keeps:
``str(parse("0.5")) == "500m"``, ``str(parse("1024Mi")) == "1Gi"``, ``str(parse("1000m")) == "1"``,
``str(parse("1.5Gi")) == "1536Mi"``, ``str(parse("1e3")) == "1e3"``.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "Format",
    "Quantity",
    "QuantityParseError",
    "parse_quantity",
]

_NANO = 10**9
# Guard against absurd exponents ("1e999999999") that would make exact arithmetic explode.
_MAX_EXPONENT = 1000

_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_NUMBER_RE = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$", re.DOTALL)
_EXPONENT_RE = re.compile(r"^[eE]([+-]?[0-9]+)$")


class QuantityParseError(ValueError):
    """A string is not a valid quantity."""


class Format(enum.StrEnum):
    """How a quantity prints; the values are Go's ``resource.Format`` strings."""

    DECIMAL_EXPONENT = "DecimalExponent"
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"


_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_BINARY_BY_POWER = {v: k for k, v in _BINARY_SUFFIXES.items()}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {v: k for k, v in _DECIMAL_SUFFIXES.items()}


def _round_away(value: Fraction) -> int:
    """Round to an integer, away from zero."""
    magnitude = -((-abs(value.numerator)) // value.denominator)
    return magnitude if value >= 0 else -magnitude


@functools.total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class Quantity:
    """An exact resource quantity: ``nanos`` nano-units, printed in ``format``.

    Equality, ordering and hashing look at the value only (``1Ki == 1024``).
    """

    nanos: int
    format: Format = Format.DECIMAL_SI

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Quantity:
        """Parse a quantity string; raise :class:`QuantityParseError` when it is not one."""
        return parse_quantity(text)

    @classmethod
    def from_int(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """A whole number of units."""
        return cls(value * _NANO, format)

    @classmethod
    def from_milli(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """A number of milli-units (``Quantity.from_milli(500)`` is ``500m``)."""
        return cls(value * 10**6, format)

    @classmethod
    def from_fraction(cls, value: Fraction | int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """An exact value (rounded up to nano-units, away from zero)."""
        return cls(_round_away(Fraction(value) * _NANO), format)

    # -- views -------------------------------------------------------------------------------

    def as_fraction(self) -> Fraction:
        """The exact value."""
        return Fraction(self.nanos, _NANO)

    def to_float(self) -> float:
        """The value as a float (may lose precision)."""
        return self.nanos / _NANO

    def value(self) -> int:
        """The value rounded up to a whole number, away from zero (Go's ``Value()``)."""
        return _round_away(Fraction(self.nanos, _NANO))

    def milli_value(self) -> int:
        """The value in milli-units, rounded up away from zero (Go's ``MilliValue()``)."""
        return _round_away(Fraction(self.nanos, 10**6))

    def is_zero(self) -> bool:
        """Whether the value is zero."""
        return self.nanos == 0

    def sign(self) -> int:
        """-1, 0 or 1."""
        return (self.nanos > 0) - (self.nanos < 0)

    # -- arithmetic and comparison -----------------------------------------------------------

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self.nanos + other.nanos, other.format if self.nanos == 0 else self.format)

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self.nanos - other.nanos, other.format if self.nanos == 0 else self.format)

    def __neg__(self) -> Quantity:
        return Quantity(-self.nanos, self.format)

    def __abs__(self) -> Quantity:
        return Quantity(abs(self.nanos), self.format)

    def __mul__(self, other: int) -> Quantity:
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        return Quantity(self.nanos * other, self.format)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos == other.nanos

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos < other.nanos

    def __hash__(self) -> int:
        return hash(self.nanos)

    def cmp(self, other: Quantity) -> int:
        """-1, 0 or 1 as Go's ``Cmp``."""
        return (self.nanos > other.nanos) - (self.nanos < other.nanos)

    # -- printing ----------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({self.canonical()!r})"

    def canonical(self) -> str:
        """The canonical string, as Kubernetes serializes the quantity."""
        n = self.nanos
        if n == 0:
            return "0"
        fmt = self.format
        if fmt is Format.BINARY_SI:
            if -1024 * _NANO < n < 1024 * _NANO or n % _NANO:
                fmt = Format.DECIMAL_SI
            else:
                units = n // _NANO
                power = 0
                while power < 6 and units % 1024 == 0:
                    units //= 1024
                    power += 1
                return f"{units}{_BINARY_BY_POWER.get(power, '')}"
        # decimal: the largest exponent, a multiple of 3, that leaves an integer mantissa
        mantissa, exponent = n, -9
        limit = 18 if fmt is Format.DECIMAL_SI else None
        while mantissa % 1000 == 0 and (limit is None or exponent + 3 <= limit):
            mantissa //= 1000
            exponent += 3
        if fmt is Format.DECIMAL_SI:
            return f"{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)


def parse_quantity(text: str) -> Quantity:
    """Parse a quantity string such as ``"100m"``, ``"1Gi"``, ``"1e3"`` or ``"0.5"``."""
    if not isinstance(text, str) or not text:
        raise QuantityParseError("quantities must be non-empty strings")
    m = _NUMBER_RE.match(text)
    if m is None:
        raise QuantityParseError(_FORMAT_ERROR)
    sign, whole, frac, suffix = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    if not whole and not frac:
        raise QuantityParseError(_FORMAT_ERROR)
    if suffix in _BINARY_SUFFIXES:
        fmt, multiplier = Format.BINARY_SI, Fraction(1024 ** _BINARY_SUFFIXES[suffix])
    elif suffix in _DECIMAL_SUFFIXES:
        fmt, multiplier = Format.DECIMAL_SI, Fraction(10) ** _DECIMAL_SUFFIXES[suffix]
    else:
        em = _EXPONENT_RE.match(suffix)
        if em is None:
            if re.fullmatch(r"[eEinumkKMGTP]*[-+]?[0-9]*", suffix):
                raise QuantityParseError("unable to parse quantity's suffix")
            raise QuantityParseError(_FORMAT_ERROR)
        exp = int(em.group(1))
        if exp > _MAX_EXPONENT:
            raise QuantityParseError(f"quantity exponent {exp} is too large")
        if exp < -_MAX_EXPONENT:
            exp = -_MAX_EXPONENT  # the value rounds up to 1n (or is 0) either way
        fmt, multiplier = Format.DECIMAL_EXPONENT, Fraction(10) ** exp
    number = Fraction(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    if sign == "-":
        number = -number
    return Quantity(_round_away(number * multiplier * _NANO), fmt)
