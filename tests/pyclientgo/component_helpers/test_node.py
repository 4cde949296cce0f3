"""get_node_condition / is_node_ready (component-helpers node/util, pkg/util/node)."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.core.v1 import Node
from pyclientgo.component_helpers.node import get_node_condition, is_node_ready


def node(conditions: list[dict[str, Any]] | None) -> Node:
    obj: dict[str, Any] = {"metadata": {"name": "n1"}}
    if conditions is not None:
        obj["status"] = {"conditions": conditions}
    return Node.from_dict(obj)


@pytest.mark.parametrize(
    ("conditions", "ready"),
    [
        (None, False),
        ([], False),
        ([{"type": "MemoryPressure", "status": "False"}], False),
        ([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}], True),
        ([{"type": "Ready", "status": "False"}], False),
        ([{"type": "Ready", "status": "Unknown"}], False),
        # The first Ready condition decides, as kube's loop returns on the first match.
        ([{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}], False),
    ],
)
def test_is_node_ready(conditions: list[dict[str, Any]] | None, ready: bool) -> None:
    assert is_node_ready(node(conditions)) is ready


def test_get_node_condition() -> None:
    n = node([{"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"}])
    found = get_node_condition(n.status, "DiskPressure")
    assert found is not None and found.reason == "KubeletHasNoDiskPressure"
    assert get_node_condition(n.status, "Ready") is None
    assert get_node_condition(None, "Ready") is None
