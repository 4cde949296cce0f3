"""Tests for pyclientgo.apimachinery.merge_patch (cases after RFC 7386 appendix A)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclientgo.apimachinery.json_patch import deep_copy
from pyclientgo.apimachinery.merge_patch import apply_merge_patch, create_merge_patch


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # Kubernetes style: drop a label, change replicas
        (
            {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1}},
            {"metadata": {"labels": {"a": None}}, "spec": {"replicas": 3}},
            {"metadata": {"labels": {"b": "2"}}, "spec": {"replicas": 3}},
        ),
    ],
)
def test_apply(target: Any, patch: Any, expected: Any) -> None:
    before = deep_copy(target)
    assert apply_merge_patch(target, patch) == expected
    assert target == before


def test_apply_result_is_independent() -> None:
    target = {"a": {"b": [1]}, "c": {"d": 1}}
    out = apply_merge_patch(target, {"c": {"e": 2}})
    out["a"]["b"].append(2)
    assert target == {"a": {"b": [1]}, "c": {"d": 1}}


def test_create() -> None:
    assert create_merge_patch({"a": 1}, {"a": 1}) == {}
    assert create_merge_patch({"a": 1, "b": 2}, {"a": 1}) == {"b": None}
    assert create_merge_patch({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}) == {"a": {"y": None}}
    assert create_merge_patch({"a": [1, 2]}, {"a": [1]}) == {"a": [1]}
    assert create_merge_patch({"a": 1}, [1]) == [1]
    assert create_merge_patch({"a": True}, {"a": 1}) == {"a": 1}


_scalars = st.one_of(st.booleans(), st.integers(-3, 3), st.text(alphabet="ab", max_size=2))
_json_no_null_members = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(alphabet="abc", max_size=2), children, max_size=4),
    ),
    max_leaves=15,
)
_docs = st.dictionaries(st.text(alphabet="abc", max_size=2), _json_no_null_members, max_size=4)


@given(_docs, _docs)
def test_create_apply_round_trip(a: dict[str, Any], b: dict[str, Any]) -> None:
    before = deep_copy(a)
    assert apply_merge_patch(a, create_merge_patch(a, b)) == b
    assert a == before


@given(_docs)
def test_empty_patch_for_equal_documents(a: dict[str, Any]) -> None:
    assert create_merge_patch(a, deep_copy(a)) == {}
