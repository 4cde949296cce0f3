"""get_pod_qos / compute_pod_qos, table-driven after pkg/apis/core/v1/helper/qos/qos_test.go."""

from __future__ import annotations

from typing import Any

import pytest
from component_helpers_builders import container, pod

from pyclientgo.component_helpers.qos import compute_pod_qos, get_pod_qos


def rl(cpu: str = "", memory: str = "", **extra: str) -> dict[str, str]:
    out = {k.replace("_", "-"): v for k, v in extra.items()}
    if cpu:
        out["cpu"] = cpu
    if memory:
        out["memory"] = memory
    return out


def c(name: str, requests: dict[str, str], limits: dict[str, str]) -> dict[str, Any]:
    return container(name, requests=requests, limits=limits)


CASES: list[
    tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None, dict[str, Any] | None, bool, str]
] = [
    ("guaranteed", [c("g", rl("100m", "100Mi"), rl("100m", "100Mi"))], None, None, False, "Guaranteed"),
    (
        "guaranteed-guaranteed",
        [
            c("g1", rl("100m", "100Mi"), rl("100m", "100Mi")),
            c("g2", rl("100m", "100Mi"), rl("100m", "100Mi")),
        ],
        None,
        None,
        False,
        "Guaranteed",
    ),
    ("best-effort-best-effort", [c("a", rl(), rl()), c("b", rl(), rl())], None, None, False, "BestEffort"),
    ("best-effort", [c("a", rl(), rl())], None, None, False, "BestEffort"),
    ("best-effort-burstable", [c("a", rl(), rl()), c("b", rl("1"), rl("2"))], None, None, False, "Burstable"),
    (
        "best-effort-guaranteed",
        [c("a", rl(), rl()), c("b", rl("10m", "100Mi"), rl("10m", "100Mi"))],
        None,
        None,
        False,
        "Burstable",
    ),
    (
        "burstable-cpu-guaranteed-memory",
        [c("a", rl("", "100Mi"), rl("", "100Mi"))],
        None,
        None,
        False,
        "Burstable",
    ),
    ("burstable-no-limits", [c("a", rl("100m", "100Mi"), rl())], None, None, False, "Burstable"),
    (
        "burstable-guaranteed",
        [c("a", rl("1", "100Mi"), rl("2", "100Mi")), c("b", rl("100m", "100Mi"), rl("100m", "100Mi"))],
        None,
        None,
        False,
        "Burstable",
    ),
    (
        "burstable-unbounded-but-requests-match-limits",
        [c("a", rl("100m", "100Mi"), rl("200m", "200Mi")), c("b", rl("100m", "100Mi"), rl())],
        None,
        None,
        False,
        "Burstable",
    ),
    ("burstable-1", [c("a", rl("10m", "100Mi"), rl("100m", "200Mi"))], None, None, False, "Burstable"),
    ("burstable-2", [c("a", rl("0", "0"), rl("100m", "200Mi"))], None, None, False, "Burstable"),
    (
        "best-effort-hugepages",
        [c("a", rl("0", "0", hugepages_2Mi="1Gi"), rl("0", "0", hugepages_2Mi="1Gi"))],
        None,
        None,
        False,
        "BestEffort",
    ),
    (
        "init-container",
        [c("a", rl(), rl())],
        [c("i", rl("10m", "100Mi"), rl("100m", "200Mi"))],
        None,
        False,
        "Burstable",
    ),
    (
        "guaranteed-limits-only (requests defaulted from limits by the API server)",
        [c("a", rl("1", "1Gi"), rl("1", "1Gi"))],
        [c("i", rl("1", "1Gi"), rl("1", "1Gi"))],
        None,
        False,
        "Guaranteed",
    ),
    (
        "guaranteed-with-pod-level-resources",
        [c("a", rl(), rl())],
        None,
        {"requests": rl("10m", "100Mi"), "limits": rl("10m", "100Mi")},
        True,
        "Guaranteed",
    ),
    (
        "guaranteed-with-pod-and-container-level-resources",
        [c("a", rl("3m", "10Mi"), rl("5m", "20Mi"))],
        None,
        {"requests": rl("10m", "100Mi"), "limits": rl("10m", "100Mi")},
        True,
        "Guaranteed",
    ),
    (
        "burstable-with-pod-level-resources",
        [c("a", rl(), rl())],
        None,
        {"requests": rl("10m", "10Mi"), "limits": rl("20m", "50Mi")},
        True,
        "Burstable",
    ),
    (
        "pod-level resources ignored with the feature gate off",
        [c("a", rl(), rl())],
        None,
        {"requests": rl("10m", "100Mi"), "limits": rl("10m", "100Mi")},
        False,
        "BestEffort",
    ),
]


@pytest.mark.parametrize(
    ("containers", "init", "pod_resources", "gate", "want"), [x[1:] for x in CASES], ids=[x[0] for x in CASES]
)
def test_compute_pod_qos(
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]] | None,
    pod_resources: dict[str, Any] | None,
    gate: bool,
    want: str,
) -> None:
    p = pod(containers, init=init, spec={"resources": pod_resources} if pod_resources else None)
    assert compute_pod_qos(p, pod_level_resources=gate) == want
    assert get_pod_qos(p, pod_level_resources=gate) == want


def test_get_pod_qos_prefers_the_recorded_class() -> None:
    p = pod([c("a", rl(), rl())], status={"qosClass": "Guaranteed"})
    assert get_pod_qos(p) == "Guaranteed"
    assert compute_pod_qos(p) == "BestEffort"


def test_get_pod_qos_computes_when_the_recorded_class_is_unknown() -> None:
    p = pod([c("a", rl("1"), rl())], status={"qosClass": ""})
    assert get_pod_qos(p) == "Burstable"
