"""Node condition helpers, after ``k8s.io/component-helpers/node/util`` and ``pkg/util/node``."""

from __future__ import annotations

from pyclientgo.api.core.v1 import Node, NodeCondition, NodeStatus

__all__ = ["NODE_READY", "get_node_condition", "is_node_ready"]

NODE_READY = "Ready"
"""The ``Ready`` node condition type the kubelet reports."""


def get_node_condition(status: NodeStatus | None, condition_type: str) -> NodeCondition | None:
    """The first condition of ``condition_type`` in ``status`` (the object itself), or ``None``."""
    if status is not None:
        for condition in status.conditions or ():
            if condition.type == condition_type:
                return condition
    return None


def is_node_ready(node: Node) -> bool:
    """Whether the node's ``Ready`` condition is ``True`` (``nodeutil.IsNodeReady``)."""
    condition = get_node_condition(node.status, NODE_READY)
    return condition is not None and condition.status == "True"
