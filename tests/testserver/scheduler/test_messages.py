"""kube's summary of a failed cycle (``FitError.Error``) and how many nodes a cycle looks at
(``numFeasibleNodesToFind``), table-driven from kube's code and tests."""

from __future__ import annotations

import pytest

from testserver.scheduler.scheduler import NO_NODES_AVAILABLE, FitError, num_feasible_nodes_to_find
from testserver.scheduler.types import Code, Status, fit_error_message

U = Code.UNSCHEDULABLE
UU = Code.UNSCHEDULABLE_AND_UNRESOLVABLE


@pytest.mark.parametrize(
    ("nodes", "percentage", "expected"),
    [
        (10, None, 10),  # fewer than 100 nodes: all
        (99, None, 99),
        (100, None, 100),  # 50% of 100 is below the minimum of 100
        (1000, None, 420),  # adaptive: 50 - 1000/125 = 42%
        (5000, None, 500),  # 10%
        (6000, None, 300),  # 2% -> at least 5%
        (1000, 30, 300),
        (1000, 5, 100),  # at least 100 nodes
        (1000, 100, 1000),
    ],
)
def test_num_feasible_nodes_to_find(nodes: int, percentage: int | None, expected: int) -> None:
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


def test_reasons_counted_sorted_with_absent_nodes_and_post_filter() -> None:
    statuses = {
        "gpu": Status(UU, "node(s) had untolerated taint {dedicated: gpu}"),
        "a": Status(U, "Insufficient cpu", "Insufficient memory"),
        "b": Status(U, "Insufficient cpu"),
    }
    absent = Status(UU, "node(s) didn't satisfy plugin(s) [NodeAffinity]")
    assert fit_error_message(5, statuses, absent, post_filter_msg="preemption: not eligible.") == (
        "0/5 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: not eligible."
    )


def test_pre_filter_message_replaces_the_node_reasons() -> None:
    statuses = {"a": Status(UU, "x"), "b": Status(UU, "x")}
    fit = FitError(2, statuses, "node(s) didn't satisfy plugin NodeAffinity")
    assert str(fit) == "0/2 nodes are available: node(s) didn't satisfy plugin NodeAffinity."


def test_no_nodes() -> None:
    assert str(FitError(0, {}, NO_NODES_AVAILABLE)) == "no nodes available to schedule pods"
