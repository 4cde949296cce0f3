"""pod_requests / pod_limits, table-driven after component-helpers' resource/helpers_test.go."""

from __future__ import annotations

from typing import Any

import pytest
from component_helpers_builders import container, pod

from pyclientgo.apimachinery.quantity import Quantity, QuantityParseError
from pyclientgo.component_helpers.resource import (
    ContainerType,
    ResourceList,
    container_limits,
    container_requests,
    is_pod_level_requests_set,
    is_pod_level_resources_set,
    parse_resource_list,
    pod_limits,
    pod_requests,
)


def q(**values: str) -> ResourceList:
    return {k.replace("_", "."): Quantity.parse(v) for k, v in values.items()}


REQUEST_CASES: list[tuple[str, dict[str, Any], dict[str, Any], ResourceList]] = [
    (
        "two containers: the sum",
        {
            "containers": [
                container("a", requests={"cpu": "1"}),
                container("b", requests={"cpu": "2", "memory": "1Gi"}),
            ]
        },
        {},
        q(cpu="3", memory="1Gi"),
    ),
    (
        "larger init container wins",
        {
            "containers": [container("a", requests={"cpu": "1"}), container("b", requests={"cpu": "1"})],
            "init": [container("i", requests={"cpu": "3"})],
        },
        {},
        q(cpu="3"),
    ),
    (
        "larger containers win",
        {
            "containers": [container("a", requests={"cpu": "2"}), container("b", requests={"cpu": "2"})],
            "init": [container("i1", requests={"cpu": "1"}), container("i2", requests={"cpu": "3"})],
        },
        {},
        q(cpu="4"),
    ),
    (
        "init max is per resource",
        {
            "containers": [container("a", requests={"cpu": "2", "memory": "1Gi"})],
            "init": [container("i", requests={"cpu": "1", "memory": "4Gi"})],
        },
        {},
        q(cpu="2", memory="4Gi"),
    ),
    (
        "overhead included",
        {
            "containers": [container("a", requests={"cpu": "1", "memory": "1"})],
            "overhead": {"cpu": "1", "memory": "1"},
        },
        {},
        q(cpu="2", memory="2"),
    ),
    (
        "overhead excluded",
        {
            "containers": [container("a", requests={"cpu": "1", "memory": "1"})],
            "overhead": {"cpu": "1", "memory": "1"},
        },
        {"exclude_overhead": True},
        q(cpu="1", memory="1"),
    ),
    (
        "overhead of a resource no container requests",
        {"containers": [container("a", requests={"cpu": "1"})], "overhead": {"memory": "100Mi"}},
        {},
        q(cpu="1", memory="100Mi"),
    ),
    (
        "restartable init container counts with the containers",
        {
            "containers": [container("a", requests={"cpu": "1"})],
            "init": [container("s", requests={"cpu": "2"}, sidecar=True)],
        },
        {},
        q(cpu="3"),
    ),
    (
        "multiple restartable init containers",
        {
            "containers": [container("a", requests={"cpu": "1"})],
            "init": [
                container("i1", requests={"cpu": "5"}),
                container("s1", requests={"cpu": "1"}, sidecar=True),
                container("s2", requests={"cpu": "2"}, sidecar=True),
                container("s3", requests={"cpu": "3"}, sidecar=True),
            ],
        },
        {},
        q(cpu="7"),
    ),
    (
        # init-2 needs 5 plus the sidecars started before it (1+2); the one after it does not count.
        "multiple restartable and regular init containers",
        {
            "containers": [container("a", requests={"cpu": "1"})],
            "init": [
                container("i1", requests={"cpu": "5"}),
                container("s1", requests={"cpu": "1"}, sidecar=True),
                container("s2", requests={"cpu": "2"}, sidecar=True),
                container("i2", requests={"cpu": "5"}),
                container("s3", requests={"cpu": "3"}, sidecar=True),
            ],
        },
        {},
        q(cpu="8"),
    ),
    (
        "restartable-init, init and regular",
        {
            "containers": [container("a", requests={"cpu": "100"})],
            "init": [
                container("s", requests={"cpu": "10"}, sidecar=True),
                container("i", requests={"cpu": "200"}),
            ],
        },
        {},
        q(cpu="210"),
    ),
    (
        "resized, infeasible: the status resources",
        {
            "containers": [container("c1", requests={"cpu": "4"})],
            "status": {
                "resize": "Infeasible",
                "containerStatuses": [{"name": "c1", "resources": {"requests": {"cpu": "2"}}}],
            },
        },
        {"use_status_resources": True},
        q(cpu="2"),
    ),
    (
        "resized, no resize status: the larger",
        {
            "containers": [container("c1", requests={"cpu": "4"})],
            "status": {"containerStatuses": [{"name": "c1", "resources": {"requests": {"cpu": "2"}}}]},
        },
        {"use_status_resources": True},
        q(cpu="4"),
    ),
    (
        "resized, infeasible, status not used",
        {
            "containers": [container("c1", requests={"cpu": "4"})],
            "status": {
                "resize": "Infeasible",
                "containerStatuses": [{"name": "c1", "resources": {"requests": {"cpu": "2"}}}],
            },
        },
        {},
        q(cpu="4"),
    ),
    (
        "non-missing requests fill only absent ones",
        {"containers": [container("a", requests={"cpu": "0"}), container("b")]},
        {"non_missing_container_requests": q(cpu="100m", memory="200Mi")},
        q(cpu="100m", memory="400Mi"),
    ),
    (
        "pod-level requests ignored with the feature gate off",
        {
            "containers": [container("a", requests={"cpu": "1"})],
            "spec": {"resources": {"requests": {"cpu": "3"}}},
        },
        {},
        q(cpu="1"),
    ),
    (
        "pod-level cpu replaces the containers' sum; memory from containers",
        {
            "containers": [container("a", requests={"cpu": "1", "memory": "1Gi"})],
            "spec": {"resources": {"requests": {"cpu": "3", "hugepages-2Mi": "2Mi"}}},
            "overhead": {"cpu": "500m"},
        },
        {"pod_level_resources": True},
        q(cpu="3500m", memory="1Gi"),
    ),
    ("no spec containers", {"containers": []}, {}, {}),
]


@pytest.mark.parametrize(
    ("pod_args", "options", "want"), [c[1:] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES]
)
def test_pod_requests(pod_args: dict[str, Any], options: dict[str, Any], want: ResourceList) -> None:
    assert pod_requests(pod(**pod_args), **options) == want


LIMIT_CASES: list[tuple[str, dict[str, Any], dict[str, Any], ResourceList]] = [
    ("no limited containers: no limits", {"containers": [container("a"), container("b")]}, {}, {}),
    (
        "one limited and one unlimited container",
        {"containers": [container("a", limits={"cpu": "2", "memory": "1Gi"}), container("b")]},
        {},
        q(cpu="2", memory="1Gi"),
    ),
    (
        "one limited and one unlimited init container",
        {
            "containers": [container("a", limits={"cpu": "1"})],
            "init": [container("i", limits={"cpu": "4"}), container("j")],
        },
        {},
        q(cpu="4"),
    ),
    (
        "overhead added only to non-zero limits",
        {
            "containers": [container("a", limits={"cpu": "1", "memory": "0"})],
            "overhead": {"cpu": "1", "memory": "1Gi", "pods": "1"},
        },
        {},
        q(cpu="2", memory="0"),
    ),
    (
        "overhead excluded",
        {"containers": [container("a", limits={"cpu": "1"})], "overhead": {"cpu": "1"}},
        {"exclude_overhead": True},
        q(cpu="1"),
    ),
    (
        "restartable-init, init and regular",
        {
            "containers": [container("a", limits={"cpu": "100"})],
            "init": [
                container("s", limits={"cpu": "10"}, sidecar=True),
                container("i", limits={"cpu": "200"}),
            ],
        },
        {},
        q(cpu="210"),
    ),
    (
        "pod scaled up: the larger of spec and status",
        {
            "containers": [container("c1", limits={"memory": "2Gi"})],
            "status": {"containerStatuses": [{"name": "c1", "resources": {"limits": {"memory": "1Gi"}}}]},
        },
        {"use_status_resources": True},
        q(memory="2Gi"),
    ),
    (
        "pod scaled down: the larger of spec and status",
        {
            "containers": [container("c1", limits={"memory": "1Gi"})],
            "status": {"containerStatuses": [{"name": "c1", "resources": {"limits": {"memory": "2Gi"}}}]},
        },
        {"use_status_resources": True},
        q(memory="2Gi"),
    ),
    (
        "pod-level limits with the feature gate on",
        {
            "containers": [container("a", limits={"cpu": "1", "memory": "1Gi"})],
            "spec": {"resources": {"limits": {"memory": "3Gi"}}},
        },
        {"pod_level_resources": True},
        q(cpu="1", memory="3Gi"),
    ),
]


@pytest.mark.parametrize(
    ("pod_args", "options", "want"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES]
)
def test_pod_limits(pod_args: dict[str, Any], options: dict[str, Any], want: ResourceList) -> None:
    assert pod_limits(pod(**pod_args), **options) == want


def test_container_fn_sees_each_container_with_its_type() -> None:
    seen: list[tuple[dict[str, str], ContainerType]] = []
    p = pod(
        [container("a", requests={"cpu": "1"})],
        init=[container("s", requests={"cpu": "2"}, sidecar=True), container("i", requests={"cpu": "5"})],
    )
    pod_requests(p, container_fn=lambda res, kind: seen.append(({k: str(v) for k, v in res.items()}, kind)))
    assert seen == [
        ({"cpu": "1"}, ContainerType.CONTAINERS),
        ({"cpu": "2"}, ContainerType.INIT_CONTAINERS),
        ({"cpu": "7"}, ContainerType.INIT_CONTAINERS),
    ]


def test_results_are_fresh_dicts_and_models_untouched() -> None:
    p = pod([container("a", requests={"cpu": "1"})], overhead={"cpu": "1"})
    first = pod_requests(p)
    first["cpu"] = Quantity.parse("100")
    assert pod_requests(p) == q(cpu="2")
    assert p.spec is not None and p.spec.containers is not None
    assert p.spec.containers[0].resources is not None
    assert p.spec.containers[0].resources.requests == {"cpu": "1"}


def test_container_helpers_and_pod_level_checks() -> None:
    p = pod(
        [container("a", requests={"cpu": "250m"}, limits={"memory": "1Gi"})],
        spec={"resources": {"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"memory": "1Gi"}}},
    )
    assert p.spec is not None and p.spec.containers is not None
    assert container_requests(p.spec.containers[0]) == q(cpu="250m")
    assert container_limits(p.spec.containers[0]) == q(memory="1Gi")
    assert not is_pod_level_requests_set(p)  # only an unsupported resource is requested at pod level
    assert is_pod_level_resources_set(p)
    assert not is_pod_level_resources_set(pod())
    assert parse_resource_list(None) == {}


def test_malformed_quantity_is_a_clear_error() -> None:
    with pytest.raises(QuantityParseError):
        pod_requests(pod([container("a", requests={"cpu": "lots"})]))
