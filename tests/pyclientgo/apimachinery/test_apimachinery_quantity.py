"""Tests for pyclientgo.apimachinery.quantity."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclientgo.apimachinery.quantity import Format, Quantity, QuantityParseError, parse_quantity


@pytest.mark.parametrize(
    ("text", "canonical", "fmt"),
    [
        ("0", "0", Format.DECIMAL_SI),
        ("0Mi", "0", Format.BINARY_SI),
        ("-0", "0", Format.DECIMAL_SI),
        ("100m", "100m", Format.DECIMAL_SI),
        ("0.5", "500m", Format.DECIMAL_SI),
        (".5", "500m", Format.DECIMAL_SI),
        ("1.", "1", Format.DECIMAL_SI),
        ("+1", "1", Format.DECIMAL_SI),
        ("1000m", "1", Format.DECIMAL_SI),
        ("1500m", "1500m", Format.DECIMAL_SI),
        ("1.5", "1500m", Format.DECIMAL_SI),
        ("1k", "1k", Format.DECIMAL_SI),
        ("1000", "1k", Format.DECIMAL_SI),
        ("1001", "1001", Format.DECIMAL_SI),
        ("1M", "1M", Format.DECIMAL_SI),
        ("1000k", "1M", Format.DECIMAL_SI),
        ("128974848", "128974848", Format.DECIMAL_SI),
        ("129e6", "129e6", Format.DECIMAL_EXPONENT),
        ("123Mi", "123Mi", Format.BINARY_SI),
        ("1Gi", "1Gi", Format.BINARY_SI),
        ("1024Mi", "1Gi", Format.BINARY_SI),
        ("1536Mi", "1536Mi", Format.BINARY_SI),
        ("1.5Gi", "1536Mi", Format.BINARY_SI),
        ("1.5Ki", "1536", Format.BINARY_SI),
        ("0.5Ki", "512", Format.BINARY_SI),
        ("1023", "1023", Format.DECIMAL_SI),
        ("-1Ki", "-1Ki", Format.BINARY_SI),
        ("1Ei", "1Ei", Format.BINARY_SI),
        ("1024Ei", "1024Ei", Format.BINARY_SI),
        ("0.1Ki", "102400m", Format.BINARY_SI),  # 102.4 is not whole: printed in decimal form
        ("1e3", "1e3", Format.DECIMAL_EXPONENT),
        ("1E3", "1e3", Format.DECIMAL_EXPONENT),
        ("1e4", "10e3", Format.DECIMAL_EXPONENT),
        ("1.5e3", "1500", Format.DECIMAL_EXPONENT),
        ("100e-3", "100e-3", Format.DECIMAL_EXPONENT),
        ("1e-9", "1e-9", Format.DECIMAL_EXPONENT),
        ("1e21", "1e21", Format.DECIMAL_EXPONENT),
        ("1E", "1E", Format.DECIMAL_SI),
        ("1000E", "1000E", Format.DECIMAL_SI),
        ("1n", "1n", Format.DECIMAL_SI),
        ("1000n", "1u", Format.DECIMAL_SI),
        ("0.1n", "1n", Format.DECIMAL_SI),  # rounded up to the nano
        ("-0.1n", "-1n", Format.DECIMAL_SI),  # away from zero
        ("1.0000000001", "1000000001n", Format.DECIMAL_SI),
        ("-100m", "-100m", Format.DECIMAL_SI),
        ("12345678901234567890", "12345678901234567890", Format.DECIMAL_SI),
    ],
)
def test_parse_and_canonical(text: str, canonical: str, fmt: Format) -> None:
    q = parse_quantity(text)
    assert str(q) == canonical
    assert q.format is fmt
    assert parse_quantity(str(q)) == q


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "-",
        "+",
        "abc",
        "1 ",
        " 1",
        "1e",
        "1Zi",
        "1.2.3",
        "--1",
        "1kk",
        "1e1.5",
        "Ki",
        "1KI",
        "1K",
        "1m1",
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(QuantityParseError):
        parse_quantity(text)


def test_error_messages() -> None:
    with pytest.raises(QuantityParseError, match="quantities must match the regular expression"):
        parse_quantity("abc")
    with pytest.raises(QuantityParseError, match="unable to parse quantity's suffix"):
        parse_quantity("1kk")
    assert issubclass(QuantityParseError, ValueError)


def test_values() -> None:
    assert parse_quantity("100m").value() == 1
    assert parse_quantity("100m").milli_value() == 100
    assert parse_quantity("1.5").value() == 2
    assert parse_quantity("-1.5").value() == -2
    assert parse_quantity("1Gi").value() == 1024**3
    assert parse_quantity("1Gi").milli_value() == 1024**3 * 1000
    assert parse_quantity("0.1m").milli_value() == 1
    assert parse_quantity("250m").to_float() == 0.25
    assert parse_quantity("1k").as_fraction() == Fraction(1000)
    assert parse_quantity("1n").as_fraction() == Fraction(1, 10**9)


def test_arithmetic_and_comparison() -> None:
    a, b = parse_quantity("1"), parse_quantity("500m")
    assert str(a + b) == "1500m"
    assert str(a - b) == "500m"
    assert str(b - a) == "-500m"
    assert str(-a) == "-1"
    assert str(abs(-b)) == "500m"
    assert str(b * 3) == "1500m"
    assert b < a and a > b and a >= a and b <= a
    assert parse_quantity("1Ki") == parse_quantity("1024")
    assert hash(parse_quantity("1Ki")) == hash(parse_quantity("1024"))
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert a.cmp(b) == 1 and b.cmp(a) == -1 and a.cmp(parse_quantity("1000m")) == 0
    assert str(parse_quantity("1Gi") + parse_quantity("512Mi")) == "1536Mi"
    assert (Quantity.from_int(0) + parse_quantity("1Ki")).format is Format.BINARY_SI
    assert parse_quantity("0").is_zero()
    assert parse_quantity("-3").sign() == -1


def test_constructors() -> None:
    assert str(Quantity.from_int(2)) == "2"
    assert str(Quantity.from_int(2048, Format.BINARY_SI)) == "2Ki"
    assert str(Quantity.from_milli(500)) == "500m"
    assert str(Quantity.from_fraction(Fraction(1, 3))) == "333333334n"
    assert Quantity.parse("1Mi") == parse_quantity("1Mi")
    assert repr(parse_quantity("0.5")) == "Quantity('500m')"


_quantities = st.builds(
    Quantity,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(list(Format)),
)


@given(_quantities)
def test_canonical_round_trip(q: Quantity) -> None:
    again = parse_quantity(str(q))
    assert again == q
    # A BinarySI amount with no binary suffix prints as a plain number, which parses as DecimalSI
    # (as in Kubernetes); from there on the canonical form is a fixed point.
    assert str(parse_quantity(str(again))) == str(again)


def test_binary_amount_without_binary_suffix_reparses_as_decimal() -> None:
    q = Quantity.from_int(15625000, Format.BINARY_SI)
    assert str(q) == "15625000"
    assert str(parse_quantity(str(q))) == "15625k"


@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from(["", "m", "k", "Ki", "Mi", "n", "u", "G", "e3", "e-2"]),
)
def test_parse_round_trip(n: int, suffix: str) -> None:
    q = parse_quantity(f"{n}{suffix}")
    assert parse_quantity(str(q)) == q


@given(_quantities, _quantities)
def test_arithmetic_is_exact(a: Quantity, b: Quantity) -> None:
    assert (a + b).as_fraction() == a.as_fraction() + b.as_fraction()
    assert (a + b) - b == a
