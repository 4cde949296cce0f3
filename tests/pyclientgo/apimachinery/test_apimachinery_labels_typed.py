"""selector_from_label_selector on the typed meta/v1 LabelSelector (same results as its dict form)."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.meta.v1 import LabelSelector
from pyclientgo.apimachinery.labels import SelectorParseError, nothing, selector_from_label_selector

CASES: list[dict[str, Any]] = [
    {},
    {"matchLabels": {"app": "web"}},
    {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
    {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
        ],
    },
]


@pytest.mark.parametrize("wire", CASES)
def test_typed_and_dict_forms_agree(wire: dict[str, Any]) -> None:
    typed = selector_from_label_selector(LabelSelector.from_dict(wire))
    assert typed == selector_from_label_selector(wire)


def test_typed_selector_matches() -> None:
    sel = selector_from_label_selector(
        LabelSelector.from_dict(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}],
            }
        )
    )
    assert str(sel) == "app=web,env notin (dev)"
    assert sel.matches({"app": "web", "env": "prod"})
    assert not sel.matches({"app": "web", "env": "dev"})
    assert selector_from_label_selector(LabelSelector()).empty()
    assert selector_from_label_selector(None) == nothing()


def test_typed_invalid_operator_is_a_clear_error() -> None:
    with pytest.raises(SelectorParseError, match="not a valid label selector operator"):
        selector_from_label_selector(
            LabelSelector.from_dict({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})
        )
