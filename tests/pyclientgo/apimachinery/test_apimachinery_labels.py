"""Tests for pyclientgo.apimachinery.labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclientgo.apimachinery.labels import (
    Operator,
    Requirement,
    Selector,
    SelectorParseError,
    everything,
    format_labels,
    nothing,
    parse,
    selector_from_label_selector,
    selector_from_set,
    validate_label_key,
    validate_label_value,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("x=a", "x=a"),
        ("x==a", "x==a"),
        ("x!=a", "x!=a"),
        ("x=a,y!=b", "x=a,y!=b"),
        ("y!=b,x=a", "x=a,y!=b"),
        ("  x = a ,  y != b  ", "x=a,y!=b"),
        ("x", "x"),
        ("!x", "!x"),
        ("! x", "!x"),
        ("x in (b,a)", "x in (a,b)"),
        ("x in(a)", "x in (a)"),
        ("x notin ( c , a )", "x notin (a,c)"),
        ("x in (a,a)", "x in (a)"),
        ("x in ()", "x in ()"),
        ("x in (,a)", "x in (,a)"),
        ("x>1", "x>1"),
        ("x<-3", "x<-3"),
        ("x=", "x="),
        ("x=,y=b", "x=,y=b"),
        ("example.com/app=web", "example.com/app=web"),
        ("x=in", "x=in"),
        ("x in (in,notin)", "x in (in,notin)"),
        ("a.b-c_d=E.f-g_H", "a.b-c_d=E.f-g_H"),
    ],
)
def test_parse_canonical(text: str, canonical: str) -> None:
    sel = parse(text)
    assert str(sel) == canonical
    assert parse(str(sel)) == sel


@pytest.mark.parametrize(
    "text",
    [
        "x=a b",
        "x y",
        ",",
        "x=a,",
        ",x=a",
        "x=a,,y=b",
        "x in a",
        "x in (a",
        "x in (a b)",
        "x notin",
        "!x=a",
        "!",
        "x>a",
        "x<1.5",
        "x=a=b",
        "x=(a)",
        "in=a",
        "a/b/c=d",
        "/a=b",
        "Example.com/a=b",
        "-a=b",
        "a=-b",
        "a=b&c",
        "x=" + "v" * 64,
        "k" * 64 + "=v",
        ("p" * 254) + "/k=v",
        "x)",
        "(x)",
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(SelectorParseError):
        parse(text)


def test_parse_error_messages_look_like_kubernetes() -> None:
    with pytest.raises(SelectorParseError, match=r"found 'b', expected: ',' or 'end of string'"):
        parse("x=a b")
    with pytest.raises(SelectorParseError, match=r"unable to parse requirement: found 'a', expected: '\('"):
        parse("x in a")
    with pytest.raises(SelectorParseError, match=r"identifier after ','"):
        parse("x=a,")
    with pytest.raises(SelectorParseError, match=r'key: Invalid value: "a/b/c"'):
        parse("a/b/c=d")
    with pytest.raises(SelectorParseError, match=r"values\[0\]\[x\]: Invalid value: \"-b\""):
        parse("x=-b")
    with pytest.raises(SelectorParseError, match=r"the value must be an integer"):
        parse("x>a")
    assert issubclass(SelectorParseError, ValueError)


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", {}, True),
        ("", {"a": "b"}, True),
        ("x=a", {"x": "a"}, True),
        ("x=a", {"x": "b"}, False),
        ("x=a", {}, False),
        ("x==a", {"x": "a", "y": "b"}, True),
        ("x!=a", {"x": "a"}, False),
        ("x!=a", {"x": "b"}, True),
        ("x!=a", {}, True),
        ("x=", {"x": ""}, True),
        ("x=", {}, False),
        ("x in (a,b)", {"x": "b"}, True),
        ("x in (a,b)", {"x": "c"}, False),
        ("x in (a,b)", {}, False),
        ("x notin (a,b)", {"x": "c"}, True),
        ("x notin (a,b)", {"x": "a"}, False),
        ("x notin (a,b)", {}, True),
        ("x", {"x": ""}, True),
        ("x", {"y": "x"}, False),
        ("!x", {}, True),
        ("!x", {"x": "a"}, False),
        ("x>1", {"x": "2"}, True),
        ("x>1", {"x": "1"}, False),
        ("x>1", {"x": "a"}, False),
        ("x>1", {}, False),
        ("x<1", {"x": "-5"}, True),
        ("x<1", {"x": "1"}, False),
        ("x=a,y=b", {"x": "a", "y": "b"}, True),
        ("x=a,y=b", {"x": "a"}, False),
        ("x=a,!y", {"x": "a"}, True),
        ("app in (web),tier notin (cache),env", {"app": "web", "env": "p"}, True),
    ],
)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse(text).matches(labels) is expected


def test_everything_nothing_empty() -> None:
    assert everything().empty()
    assert everything().matches({"a": "b"})
    assert str(everything()) == ""
    assert not nothing().matches({})
    assert not nothing().empty()
    assert parse("").empty()
    assert not parse("a").empty()


def test_requirements_introspection() -> None:
    sel = parse("b in (y,x),a=1,!c")
    assert [r.key for r in sel.requirements] == ["a", "b", "c"]
    assert sel.requirements[0] == Requirement("a", Operator.EQUALS, ("1",))
    assert sel.requirements[1].operator is Operator.IN
    assert sel.requirements[1].values == ("x", "y")
    assert sel.requirements[2].operator is Operator.DOES_NOT_EXIST
    assert sel.requires_exact_match("a") == "1"
    assert sel.requires_exact_match("b") is None
    assert parse("b in (x)").requires_exact_match("b") == "x"


def test_add_keeps_sorted() -> None:
    sel = parse("c=1").add(Requirement.new("a", "exists"), Requirement.new("b", Operator.NOT_IN, ["z", "y"]))
    assert str(sel) == "a,b notin (y,z),c=1"
    assert nothing().add(Requirement.new("a", "exists")) == nothing()


def test_requirement_new_validation() -> None:
    with pytest.raises(SelectorParseError):
        Requirement.new("a", Operator.IN, [])
    with pytest.raises(SelectorParseError):
        Requirement.new("a", Operator.EQUALS, ["x", "y"])
    with pytest.raises(SelectorParseError):
        Requirement.new("a", Operator.EXISTS, ["x"])
    with pytest.raises(SelectorParseError):
        Requirement.new("a", "bogus", [])
    with pytest.raises(SelectorParseError):
        Requirement.new("a", Operator.GREATER_THAN, ["1", "2"])


def test_selector_from_set() -> None:
    sel = selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.matches({"a": "1", "b": "2", "c": "3"})
    assert not sel.matches({"a": "1"})
    assert selector_from_set({}).empty()
    with pytest.raises(SelectorParseError):
        selector_from_set({"a": "bad value"})
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"


def test_selector_from_label_selector() -> None:
    assert selector_from_label_selector(None) == nothing()
    assert selector_from_label_selector({}).empty()
    assert selector_from_label_selector({"matchLabels": {}, "matchExpressions": []}).empty()
    sel = selector_from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists", "values": []},
            ],
        }
    )
    assert str(sel) == "app=web,!canary,env notin (dev),team,tier in (be,fe)"
    assert sel.matches({"app": "web", "tier": "fe", "team": "x"})
    assert not sel.matches({"app": "web", "tier": "fe", "team": "x", "canary": "1"})
    with pytest.raises(SelectorParseError, match="not a valid label selector operator"):
        selector_from_label_selector({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})
    with pytest.raises(SelectorParseError):
        selector_from_label_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
    with pytest.raises(SelectorParseError):
        selector_from_label_selector(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}
        )


def test_key_and_value_validation() -> None:
    assert validate_label_key("app") == []
    assert validate_label_key("example.com/app") == []
    assert validate_label_key("a" * 63) == []
    assert validate_label_key("a" * 64) != []
    assert validate_label_key("x" * 253 + "/a") == []
    assert validate_label_key("x" * 254 + "/a") != []
    assert validate_label_key("Example.com/a") != []
    assert validate_label_key("/a") == ["prefix part must be non-empty"]
    assert validate_label_key("a/") == ["name part must be non-empty"]
    assert validate_label_value("") == []
    assert validate_label_value("a-b_c.D") == []
    assert validate_label_value("a" * 64) != []
    assert validate_label_value("a b") != []


# -- properties -------------------------------------------------------------------------------

_name = st.from_regex(r"\A[a-z0-9]([a-z0-9._-]{0,8}[a-z0-9])?\Z")
_key = st.one_of(_name, st.tuples(st.from_regex(r"\A[a-z]{1,5}(\.[a-z]{1,5}){0,2}\Z"), _name).map("/".join))
_value = st.one_of(st.just(""), _name)
_int = st.integers(min_value=-1000, max_value=1000).map(str)


@st.composite
def _requirements(draw: st.DrawFn) -> Requirement:
    key = draw(_key)
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.IN, Operator.NOT_IN):
        values = draw(st.lists(_value, min_size=1, max_size=3))
    elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        values = []
    elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        values = [draw(_int)]
    else:
        values = [draw(_value)]
    return Requirement.new(key, op, values)


_selectors = st.lists(_requirements(), max_size=4).map(lambda rs: everything().add(*rs))
_label_sets = st.dictionaries(_key, st.one_of(_value, _int), max_size=5)


@given(_selectors, _label_sets)
def test_round_trip_property(sel: Selector, labels: dict[str, str]) -> None:
    again = parse(str(sel))
    assert str(again) == str(sel)
    assert again.matches(labels) == sel.matches(labels)


@given(st.dictionaries(_key, _value, max_size=5))
def test_selector_from_set_matches_its_set(labels: dict[str, str]) -> None:
    sel = selector_from_set(labels)
    assert sel.matches(labels)
    if not _KEYWORD_KEYS & labels.keys():
        assert parse(str(sel)).matches(labels)


# Kubernetes' lexer reads "in" and "notin" as keywords wherever they stand, so a selector built from a
# set with such a key prints a string that labels.Parse rejects — in Go as here.
_KEYWORD_KEYS = {"in", "notin"}


def test_keyword_keys_do_not_parse_back_as_in_kubernetes() -> None:
    assert str(selector_from_set({"in": "x"})) == "in=x"
    with pytest.raises(SelectorParseError):
        parse("in=x")
