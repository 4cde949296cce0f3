"""Taints/tolerations and node selector/affinity matching, after component-helpers' scheduling tests
(corev1/helpers_test.go, nodeaffinity/nodeaffinity_test.go) and k8s.io/api's toleration_test.go."""

from __future__ import annotations

from typing import Any

import pytest
from component_helpers_builders import node, pod

from pyclientgo.api.core.v1 import NodeSelector as NodeSelectorSpec
from pyclientgo.api.core.v1 import PreferredSchedulingTerm, Taint, Toleration
from pyclientgo.component_helpers.scheduling import (
    LazyErrorNodeSelector,
    NodeSelector,
    NodeSelectorError,
    PreferredSchedulingTerms,
    find_matching_untolerated_taint,
    get_required_node_affinity,
    match_node_selector_terms,
    match_taint,
    match_toleration,
    pod_priority,
    taint_to_string,
    toleration_tolerates_taint,
    tolerations_tolerate_taint,
)


def taint(key: str, value: str = "", effect: str = "NoSchedule") -> Taint:
    return Taint(key=key, value=value or None, effect=effect)


def tol(**kw: Any) -> Toleration:
    return Toleration(**kw)


TOLERATION_CASES = [
    ("empty toleration tolerates nothing keyed", tol(), taint("foo", "bar"), False),
    ("same key, value, effect", tol(key="foo", value="bar", effect="NoSchedule"), taint("foo", "bar"), True),
    ("empty operator means Equal", tol(key="foo", operator="", value="bar"), taint("foo", "bar"), True),
    ("Equal with another value", tol(key="foo", operator="Equal", value="baz"), taint("foo", "bar"), False),
    ("Exists matches any value", tol(key="foo", operator="Exists"), taint("foo", "bar"), True),
    (
        "empty effect matches every effect",
        tol(key="foo", operator="Exists"),
        taint("foo", effect="NoExecute"),
        True,
    ),
    ("different effect", tol(key="foo", operator="Exists", effect="NoExecute"), taint("foo"), False),
    ("different key", tol(key="other", operator="Exists"), taint("foo"), False),
    (
        "empty key with Exists tolerates everything",
        tol(operator="Exists"),
        taint("foo", "bar", "NoExecute"),
        True,
    ),
    ("empty key with Exists and an effect", tol(operator="Exists", effect="NoSchedule"), taint("foo"), True),
    ("empty key with Exists, other effect", tol(operator="Exists", effect="NoExecute"), taint("foo"), False),
    (
        "unknown operator tolerates nothing",
        tol(key="foo", operator="Lt", value="bar"),
        taint("foo", "bar"),
        False,
    ),
    ("Equal with empty values", tol(key="foo", operator="Equal"), taint("foo"), True),
]


@pytest.mark.parametrize(
    ("toleration", "t", "want"), [c[1:] for c in TOLERATION_CASES], ids=[c[0] for c in TOLERATION_CASES]
)
def test_toleration_tolerates_taint(toleration: Toleration, t: Taint, want: bool) -> None:
    assert toleration_tolerates_taint(toleration, t) is want
    assert tolerations_tolerate_taint([tol(key="unrelated", operator="Exists"), toleration], t) is want


def test_tolerations_tolerate_taint_empty() -> None:
    assert not tolerations_tolerate_taint(None, taint("foo"))
    assert not tolerations_tolerate_taint([], taint("foo"))


def test_find_matching_untolerated_taint() -> None:
    taints = [taint("a", effect="PreferNoSchedule"), taint("b"), taint("c", effect="NoExecute")]
    tolerations = [tol(key="b", operator="Exists")]
    assert find_matching_untolerated_taint(taints, tolerations) is taints[0]
    hard = find_matching_untolerated_taint(
        taints, tolerations, lambda t: t.effect in ("NoSchedule", "NoExecute")
    )
    assert hard is taints[2]
    everything = [tol(operator="Exists")]
    assert find_matching_untolerated_taint(taints, everything) is None
    assert find_matching_untolerated_taint(None, None) is None


def test_taint_and_toleration_identity_and_strings() -> None:
    assert match_taint(taint("k", "v1"), taint("k", "v2"))
    assert not match_taint(taint("k"), taint("k", effect="NoExecute"))
    assert match_toleration(
        tol(key="k", operator="Exists"), tol(key="k", operator="Exists", toleration_seconds=5)
    )
    assert not match_toleration(tol(key="k", value="a"), tol(key="k", value="b"))
    assert taint_to_string(taint("k", "v")) == "k=v:NoSchedule"
    assert taint_to_string(taint("k")) == "k:NoSchedule"
    assert taint_to_string(Taint(key="k", value="v")) == "k=v:"
    assert taint_to_string(Taint(key="k")) == "k"


def selector(*terms: dict[str, Any]) -> NodeSelectorSpec:
    return NodeSelectorSpec.from_dict({"nodeSelectorTerms": list(terms)})


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


LABELS = {"foo": "bar", "zone": "a", "cores": "8"}

MATCH_CASES: list[tuple[str, NodeSelectorSpec, str, dict[str, str], bool]] = [
    ("In matches", selector({"matchExpressions": [expr("foo", "In", "bar", "baz")]}), "n1", LABELS, True),
    ("In does not match", selector({"matchExpressions": [expr("foo", "In", "baz")]}), "n1", LABELS, False),
    ("NotIn matches", selector({"matchExpressions": [expr("foo", "NotIn", "baz")]}), "n1", LABELS, True),
    (
        "NotIn on a missing label matches",
        selector({"matchExpressions": [expr("x", "NotIn", "y")]}),
        "n1",
        LABELS,
        True,
    ),
    ("Exists", selector({"matchExpressions": [expr("zone", "Exists")]}), "n1", LABELS, True),
    ("DoesNotExist", selector({"matchExpressions": [expr("zone", "DoesNotExist")]}), "n1", LABELS, False),
    ("Gt matches", selector({"matchExpressions": [expr("cores", "Gt", "4")]}), "n1", LABELS, True),
    ("Gt does not match", selector({"matchExpressions": [expr("cores", "Gt", "8")]}), "n1", LABELS, False),
    ("Lt matches", selector({"matchExpressions": [expr("cores", "Lt", "9")]}), "n1", LABELS, True),
    (
        "Gt on a non-integer label",
        selector({"matchExpressions": [expr("foo", "Gt", "1")]}),
        "n1",
        LABELS,
        False,
    ),
    (
        "expressions in a term are ANDed",
        selector({"matchExpressions": [expr("foo", "In", "bar"), expr("zone", "In", "b")]}),
        "n1",
        LABELS,
        False,
    ),
    (
        "terms are ORed",
        selector(
            {"matchExpressions": [expr("foo", "In", "nope")]}, {"matchExpressions": [expr("zone", "In", "a")]}
        ),
        "n1",
        LABELS,
        True,
    ),
    ("empty term matches nothing", selector({}), "n1", LABELS, False),
    ("empty term list matches nothing", selector(), "n1", LABELS, False),
    ("empty matchExpressions matches nothing", selector({"matchExpressions": []}), "n1", LABELS, False),
    (
        "matchFields In metadata.name",
        selector({"matchFields": [expr("metadata.name", "In", "n1")]}),
        "n1",
        {},
        True,
    ),
    (
        "matchFields In another name",
        selector({"matchFields": [expr("metadata.name", "In", "n2")]}),
        "n1",
        {},
        False,
    ),
    ("matchFields NotIn", selector({"matchFields": [expr("metadata.name", "NotIn", "n2")]}), "n1", {}, True),
    (
        "node matches field selector, but not labels",
        selector(
            {
                "matchExpressions": [expr("label_1", "In", "v")],
                "matchFields": [expr("metadata.name", "In", "n1")],
            }
        ),
        "n1",
        {},
        False,
    ),
    (
        "two terms: matchFields does not match, but matchExpressions matches",
        selector(
            {"matchFields": [expr("metadata.name", "In", "n2")]},
            {"matchExpressions": [expr("foo", "In", "bar")]},
        ),
        "n1",
        LABELS,
        True,
    ),
    (
        "one term: matchFields does not match, matchExpressions matches",
        selector(
            {
                "matchFields": [expr("metadata.name", "In", "n2")],
                "matchExpressions": [expr("foo", "In", "bar")],
            }
        ),
        "n1",
        LABELS,
        False,
    ),
    (
        "invalid term skipped when another matches",
        selector(
            {"matchFields": [expr("metadata.name", "In", "a", "b")]},
            {"matchExpressions": [expr("foo", "In", "bar")]},
        ),
        "n1",
        LABELS,
        True,
    ),
]


@pytest.mark.parametrize(
    ("sel", "name", "node_labels", "want"), [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES]
)
def test_match_node_selector_terms(
    sel: NodeSelectorSpec, name: str, node_labels: dict[str, str], want: bool
) -> None:
    n = node(name, node_labels)
    assert match_node_selector_terms(n, sel) is want
    assert LazyErrorNodeSelector(sel).match(n) is want


def test_nil_node_and_nil_selector_match_nothing() -> None:
    assert not match_node_selector_terms(None, selector({"matchExpressions": [expr("foo", "Exists")]}))
    assert not match_node_selector_terms(node(), None)


def test_invalid_terms_raise_when_nothing_matches() -> None:
    sel = selector(
        {"matchFields": [expr("metadata.name", "In", "host_1", "host_2")]},
        {
            "matchExpressions": [expr("label_1", "In", "v")],
            "matchFields": [expr("metadata.name", "In", "host_1")],
        },
        {"matchExpressions": [expr("invalid key", "In", "label_value")]},
        {"matchExpressions": [expr("k", "Foo", "v")]},
    )
    with pytest.raises(NodeSelectorError) as info:
        match_node_selector_terms(node("host_1"), sel)
    errors = info.value.errors
    assert (
        errors[0]
        == "nodeSelectorTerms[0].matchFields[0].values: Invalid value: ['host_1', 'host_2']: must have one element"
    )
    assert errors[1].startswith('nodeSelectorTerms[2].matchExpressions[0].key: Invalid value: "invalid key"')
    assert errors[2].startswith('nodeSelectorTerms[3].matchExpressions[0].operator: Unsupported value: "Foo"')
    with pytest.raises(NodeSelectorError):
        NodeSelector(sel)
    # NodeSelector refuses invalid input up front; a valid one matches.
    assert NodeSelector(selector({"matchFields": [expr("metadata.name", "In", "host_1")]})).match(
        node("host_1")
    )


def test_preferred_scheduling_terms_score() -> None:
    terms = [
        PreferredSchedulingTerm.from_dict(
            {"weight": 5, "preference": {"matchExpressions": [expr("foo", "In", "bar")]}}
        ),
        PreferredSchedulingTerm.from_dict(
            {"weight": 3, "preference": {"matchExpressions": [expr("zone", "In", "b")]}}
        ),
        PreferredSchedulingTerm.from_dict(
            {"weight": 2, "preference": {"matchFields": [expr("metadata.name", "In", "n1")]}}
        ),
        # zero weight: skipped even though invalid
        PreferredSchedulingTerm.from_dict(
            {"weight": 0, "preference": {"matchExpressions": [expr("k", "Bad")]}}
        ),
    ]
    prefs = PreferredSchedulingTerms(terms)
    assert prefs.score(node("n1", LABELS)) == 7
    assert prefs.score(node("n2", {"zone": "b"})) == 3
    with pytest.raises(NodeSelectorError):
        PreferredSchedulingTerms(
            [
                PreferredSchedulingTerm.from_dict(
                    {"weight": 1, "preference": {"matchExpressions": [expr("k", "Bad")]}}
                )
            ]
        )


def affinity_pod(
    node_selector: dict[str, str] | None = None, required: list[dict[str, Any]] | None = None
) -> Any:
    spec: dict[str, Any] = {}
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    if required is not None:
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": required}
            }
        }
    return pod(spec=spec)


AFFINITY_CASES: list[tuple[str, dict[str, str] | None, list[dict[str, Any]] | None, dict[str, str], bool]] = [
    ("no selector", None, None, {}, True),
    ("missing labels", {"foo": "bar"}, None, {}, False),
    ("same labels", {"foo": "bar"}, None, {"foo": "bar"}, True),
    ("node labels are superset", {"foo": "bar"}, None, {"foo": "bar", "baz": "blah"}, True),
    ("node labels are subset", {"foo": "bar", "baz": "blah"}, None, {"foo": "bar"}, False),
    (
        "affinity In matches",
        None,
        [{"matchExpressions": [expr("foo", "In", "bar", "value2")]}],
        {"foo": "bar"},
        True,
    ),
    (
        "affinity does not match",
        None,
        [{"matchExpressions": [expr("foo", "In", "value1")]}],
        {"foo": "bar"},
        False,
    ),
    ("empty term list matches nothing", None, [], {"foo": "bar"}, False),
    ("empty matchExpressions matches nothing", None, [{"matchExpressions": []}], {"foo": "bar"}, False),
    (
        "affinity matches but nodeSelector does not",
        {"foo": "bar"},
        [{"matchExpressions": [expr("foo", "Exists")]}],
        {"foo": "baz"},
        False,
    ),
    ("both match", {"foo": "bar"}, [{"matchExpressions": [expr("foo", "Exists")]}], {"foo": "bar"}, True),
    (
        "invalid value in an affinity term does not match",
        None,
        [{"matchExpressions": [expr("foo", "NotIn", "invalid value: ___@#$%^")]}],
        {"foo": "bar"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("node_selector", "required", "node_labels", "want"),
    [c[1:] for c in AFFINITY_CASES],
    ids=[c[0] for c in AFFINITY_CASES],
)
def test_required_node_affinity(
    node_selector: dict[str, str] | None,
    required: list[dict[str, Any]] | None,
    node_labels: dict[str, str],
    want: bool,
) -> None:
    assert (
        get_required_node_affinity(affinity_pod(node_selector, required)).match(node("n1", node_labels))
        is want
    )


def test_required_node_affinity_can_report_errors() -> None:
    affinity = get_required_node_affinity(
        affinity_pod(None, [{"matchExpressions": [expr("foo", "NotIn", "bad value!")]}])
    )
    assert not affinity.match(node("n1", {"foo": "bar"}))
    with pytest.raises(NodeSelectorError, match=r"nodeSelectorTerms\[0\]\.matchExpressions\[0\]"):
        affinity.match(node("n1", {"foo": "bar"}), raise_errors=True)


def test_pod_priority() -> None:
    assert pod_priority(pod()) == 0
    assert pod_priority(pod(spec={"priority": 1000})) == 1000


def test_field_requirements_are_skipped_for_a_node_without_a_name() -> None:
    # kube's nodeSelectorTerm.match ignores matchFields when the node has no fields (no name).
    nameless = node("", {"foo": "bar"})
    sel = selector(
        {"matchFields": [expr("metadata.name", "In", "n1")], "matchExpressions": [expr("foo", "Exists")]}
    )
    assert match_node_selector_terms(nameless, sel)
    assert not match_node_selector_terms(node("n2", {"foo": "bar"}), sel)
