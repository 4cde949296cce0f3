"""Tests for pyclientgo.apimachinery.json_patch (cases after RFC 6902 appendix A)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclientgo.apimachinery.json_patch import (
    InvalidPatchError,
    PatchApplyError,
    PatchError,
    PatchTestFailedError,
    apply_json_patch,
    create_json_patch,
    deep_copy,
    format_pointer,
    json_equal,
    parse_pointer,
)

CASES: list[tuple[Any, list[dict[str, Any]], Any]] = [
    # A.1 add an object member
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"foo": "bar", "baz": "qux"}),
    # A.2 add an array element
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    # A.3 remove an object member
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    # A.4 remove an array element
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    # A.5 replace a value
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    # A.6 move a value
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    # A.7 move an array element
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    # A.8 test success
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    # A.10 add a nested member object
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    # A.11 ignoring unrecognized elements
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    # A.14 ~ escape ordering
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    # A.16 add an array value
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    # whole-document operations
    ({"a": 1}, [{"op": "replace", "path": "", "value": [1]}], [1]),
    ({"a": 1}, [{"op": "add", "path": "", "value": {"b": 2}}], {"b": 2}),
    # copy deep-copies
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}),
    # add replaces an existing member
    ({"a": 1}, [{"op": "add", "path": "/a", "value": 2}], {"a": 2}),
    # add at the end index
    ({"a": [1]}, [{"op": "add", "path": "/a/1", "value": 2}], {"a": [1, 2]}),
    # escaped keys
    ({"a/b": 1, "m~n": 2}, [{"op": "remove", "path": "/a~1b"}, {"op": "remove", "path": "/m~0n"}], {}),
    # move onto itself is a no-op
    ({"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": 1}),
    # Kubernetes style: label add and finalizer removal
    (
        {"metadata": {"labels": {"a": "b"}, "finalizers": ["x", "y"]}},
        [
            {"op": "add", "path": "/metadata/labels/example.com~1team", "value": "core"},
            {"op": "remove", "path": "/metadata/finalizers/0"},
        ],
        {"metadata": {"labels": {"a": "b", "example.com/team": "core"}, "finalizers": ["y"]}},
    ),
]


@pytest.mark.parametrize(("doc", "patch", "expected"), CASES)
def test_apply(doc: Any, patch: list[dict[str, Any]], expected: Any) -> None:
    before = deep_copy(doc)
    assert apply_json_patch(doc, patch) == expected
    assert doc == before  # never mutates the input


@pytest.mark.parametrize(
    ("doc", "patch", "error"),
    [
        # A.9 test failure
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], PatchTestFailedError),
        # A.12 add to a nonexistent target
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], PatchApplyError),
        # A.15 comparing strings and numbers
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], PatchTestFailedError),
        ({"a": True}, [{"op": "test", "path": "/a", "value": 1}], PatchTestFailedError),
        ({"a": 1}, [{"op": "remove", "path": "/b"}], PatchApplyError),
        ({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}], PatchApplyError),
        ({"a": [1]}, [{"op": "remove", "path": "/a/1"}], PatchApplyError),
        ({"a": [1]}, [{"op": "add", "path": "/a/2", "value": 1}], PatchApplyError),
        ({"a": [1]}, [{"op": "add", "path": "/a/01", "value": 1}], PatchApplyError),
        ({"a": [1]}, [{"op": "replace", "path": "/a/-", "value": 1}], PatchApplyError),
        ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], PatchApplyError),
        ({"a": 1}, [{"op": "move", "from": "/x", "path": "/y"}], PatchApplyError),
        ({"a": 1}, [{"op": "remove", "path": ""}], PatchApplyError),
        ({"a": "s"}, [{"op": "add", "path": "/a/b", "value": 1}], PatchApplyError),
        # malformed patches
        ({}, {"op": "add"}, InvalidPatchError),
        ({}, ["x"], InvalidPatchError),
        ({}, [{"op": "add", "path": "/a"}], InvalidPatchError),
        ({}, [{"op": "add", "value": 1}], InvalidPatchError),
        ({}, [{"op": "frobnicate", "path": "/a"}], InvalidPatchError),
        ({}, [{"op": "move", "path": "/a"}], InvalidPatchError),
        ({}, [{"op": "add", "path": "a", "value": 1}], InvalidPatchError),
        ({"a": 1}, [{"op": "test", "path": "/~2", "value": 1}], InvalidPatchError),
    ],
)
def test_errors(doc: Any, patch: Any, error: type[PatchError]) -> None:
    with pytest.raises(error):
        apply_json_patch(doc, patch)


def test_error_tree() -> None:
    assert issubclass(PatchError, ValueError)
    assert issubclass(PatchTestFailedError, PatchApplyError)
    assert not issubclass(InvalidPatchError, PatchApplyError)


def test_failed_patch_leaves_input_alone() -> None:
    doc = {"a": [1, 2]}
    with pytest.raises(PatchApplyError):
        apply_json_patch(doc, [{"op": "remove", "path": "/a/0"}, {"op": "remove", "path": "/zzz"}])
    assert doc == {"a": [1, 2]}


def test_pointers() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/") == [""]
    assert parse_pointer("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"]
    assert format_pointer(["a/b", "m~n", 0]) == "/a~1b/m~0n/0"
    with pytest.raises(InvalidPatchError):
        parse_pointer("a")


def test_json_equal() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal("1", 1)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not json_equal([1], [1, 2])


def test_create() -> None:
    assert create_json_patch({"a": 1}, {"a": 1}) == []
    assert create_json_patch({"a": 1}, {"a": 2}) == [{"op": "replace", "path": "/a", "value": 2}]
    assert create_json_patch({"a": 1, "b": 2}, {"a": 1}) == [{"op": "remove", "path": "/b"}]
    assert create_json_patch({}, {"a/b": 1}) == [{"op": "add", "path": "/a~1b", "value": 1}]
    assert create_json_patch([1, 2, 3], [1]) == [
        {"op": "remove", "path": "/2"},
        {"op": "remove", "path": "/1"},
    ]
    assert create_json_patch({"a": 1}, [1]) == [{"op": "replace", "path": "", "value": [1]}]
    assert create_json_patch({"a": True}, {"a": 1}) == [{"op": "replace", "path": "/a", "value": 1}]


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(alphabet="ab~/", max_size=3), st.floats(-2, 2)
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(alphabet="ab~/-0", max_size=3), children, max_size=4),
    ),
    max_leaves=20,
)


@given(_json, _json)
def test_create_apply_round_trip(a: Any, b: Any) -> None:
    before = deep_copy(a)
    patch = create_json_patch(a, b)
    assert json_equal(apply_json_patch(a, patch), b)
    assert json_equal(a, before)
