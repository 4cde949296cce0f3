"""Unit tests of the workload controllers' pure parts: expectations, slow-start batches, the
deletion ranking, pod-template-hash, and the Deployment arithmetic (fenceposts, proportions)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest

from pyclientgo.api.apps.v1 import Deployment, ReplicaSet
from pyclientgo.api.core.v1 import Pod
from testserver.controllers import deployment_util as du
from testserver.controllers.controller_utils import (
    EXPECTATIONS_TIMEOUT,
    ControllerExpectations,
    active_pods_deletion_order,
    compute_hash,
    safe_encode_string,
    slow_start_batch,
)

NOW = _dt.datetime(2026, 12, 8, 12, 0, 0, tzinfo=_dt.UTC)


def test_expectations_creations_and_deletions() -> None:
    clock = [0.0]
    exp = ControllerExpectations(now=lambda: clock[0])
    assert exp.satisfied_expectations("ns/rs")  # nothing recorded: a new controller may sync
    exp.expect_creations("ns/rs", 2)
    assert not exp.satisfied_expectations("ns/rs")
    exp.creation_observed("ns/rs")
    assert not exp.satisfied_expectations("ns/rs")
    exp.creation_observed("ns/rs")
    assert exp.satisfied_expectations("ns/rs")

    exp.expect_deletions("ns/rs", ["ns/a", "ns/b"])
    exp.deletion_observed("ns/rs", "ns/a")
    exp.deletion_observed("ns/rs", "ns/a")  # the same pod seen twice counts once
    exp.deletion_observed("ns/rs", "ns/other")  # not one of ours
    assert exp.get("ns/rs") == (0, 1)
    assert not exp.satisfied_expectations("ns/rs")
    clock[0] += EXPECTATIONS_TIMEOUT + 1
    assert exp.satisfied_expectations("ns/rs")  # expired
    exp.delete_expectations("ns/rs")
    assert exp.get("ns/rs") is None


async def test_slow_start_batches_double_and_stop_at_the_first_error() -> None:
    calls: list[int] = []
    batch: list[int] = [0]

    async def ok() -> None:
        batch[0] += 1

    async def run(count: int, fail_at: int | None = None) -> tuple[int, BaseException | None]:
        n = [0]

        async def fn() -> None:
            n[0] += 1
            if fail_at is not None and n[0] == fail_at:
                raise RuntimeError("refused")

        result = await slow_start_batch(count, 1, fn)
        calls.append(n[0])
        return result

    assert await run(10) == (10, None)
    successes, err = await run(10, fail_at=5)  # batches 1, 2, then 4 with one failure: stop
    assert successes == 6 and isinstance(err, RuntimeError) and calls[-1] == 7
    assert await slow_start_batch(0, 1, ok) == (0, None)


def _pod(name: str, *, node: str = "n1", phase: str = "Running", ready: bool = True, **extra: Any) -> Pod:
    created = extra.pop("created", NOW - _dt.timedelta(hours=1))
    ready_since = extra.pop("ready_since", NOW - _dt.timedelta(minutes=30))
    status: dict[str, Any] = {"phase": phase}
    if ready:
        status["conditions"] = [
            {
                "type": "Ready",
                "status": "True",
                "lastTransitionTime": ready_since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ]
    status.update(extra.pop("status", {}))
    return Pod.from_dict(
        {
            "metadata": {
                "name": name,
                "uid": name,
                "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "annotations": extra.pop("annotations", {}),
            },
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": status,
        }
    )


def test_deletion_order_as_kube_ranks() -> None:
    pods = [
        _pod("ready-old", created=NOW - _dt.timedelta(days=10), ready_since=NOW - _dt.timedelta(days=10)),
        _pod(
            "ready-young",
            created=NOW - _dt.timedelta(seconds=30),
            ready_since=NOW - _dt.timedelta(seconds=20),
        ),
        _pod("not-ready", ready=False),
        _pod("pending", phase="Pending", ready=False),
        _pod("unassigned", node="", phase="Pending", ready=False),
        _pod("unknown", phase="Unknown", ready=False),
        _pod("cheap", annotations={"controller.kubernetes.io/pod-deletion-cost": "-10"}),
        _pod(
            "restarts",
            status={
                "containerStatuses": [
                    {
                        "name": "c",
                        "restartCount": 5,
                        "ready": True,
                        "image": "i",
                        "imageID": "",
                        "restartPolicy": None,
                    }
                ]
            },
        ),
    ]
    order = [str(p.metadata.name) for p in active_pods_deletion_order(pods, [], now=NOW)]  # type: ignore[union-attr]
    assert order[:5] == ["unassigned", "pending", "unknown", "not-ready", "cheap"]
    # among the ready pods with cost 0: ready for less time first, and the oldest last
    assert order.index("ready-young") < order.index("restarts") < order.index("ready-old")
    assert order[-1] == "ready-old"


def test_deletion_order_prefers_crowded_nodes() -> None:
    a, b = _pod("on-a", node="a"), _pod("on-b", node="b")
    related = [_pod("x1", node="b"), _pod("x2", node="b"), _pod("x3", node="a")]
    assert [p.metadata.name for p in active_pods_deletion_order([a, b], related, now=NOW)] == ["on-b", "on-a"]  # type: ignore[union-attr]


def test_pod_template_hash() -> None:
    # each byte indexes the alphabet modulo 27: a decimal string becomes one of "456789bcdf" (kube's
    # hashes look like 5dd75c57b9)
    assert safe_encode_string("0123456789") == "456789bcdf"
    template: dict[str, Any] = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    h = compute_hash(template, None)
    assert h == compute_hash({"spec": template["spec"], "metadata": template["metadata"]}, None)  # key order
    assert set(h) <= set("456789bcdf") and 1 <= len(h) <= 10
    assert compute_hash(template, 1) != h and compute_hash(template, 1) != compute_hash(template, 2)
    changed = {**template, "spec": {"containers": [{"name": "c", "image": "j"}]}}
    assert compute_hash(changed, None) != h


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "want"),
    [
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 1, (1, 0)),
        (0, 0, 5, (0, 1)),
        (2, "50%", 5, (2, 2)),
        ("0%", "0%", 3, (0, 1)),
    ],
)
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int, want: tuple[int, int]) -> None:
    assert du.resolve_fenceposts(surge, unavailable, desired) == want


def _deployment(replicas: int, surge: Any = 3, unavailable: Any = 2) -> Deployment:
    return Deployment.from_dict(
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
                },
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
    )


def _rs(name: str, replicas: int, max_replicas: int) -> ReplicaSet:
    return ReplicaSet.from_dict(
        {
            "metadata": {"name": name, "annotations": {du.MAX_REPLICAS_ANNOTATION: str(max_replicas)}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}},
        }
    )


def test_proportions_when_scaling_mid_rollout() -> None:
    d = _deployment(20)
    old, new = _rs("old", 8, 13), _rs("new", 5, 13)
    to_add = 20 + du.max_surge(d) - (8 + 5)
    first = du.get_proportion(old, d, to_add, 0)
    second = du.get_proportion(new, d, to_add, first)
    assert (to_add, first, second) == (10, 6, 4)


def test_new_rs_new_replicas_respects_surge() -> None:
    d = _deployment(10)
    old, new = _rs("old", 10, 13), _rs("new", 0, 13)
    assert du.new_rs_new_replicas(d, [old, new], new) == 3
    assert du.new_rs_new_replicas(d, [_rs("old", 8, 13), _rs("new", 3, 13)], _rs("new", 3, 13)) == 5


def test_revision_annotations_on_rollback() -> None:
    d = Deployment.from_dict(
        {
            "metadata": {
                "name": "web",
                "annotations": {"kubernetes.io/change-cause": "v1", du.REVISION_ANNOTATION: "3"},
            },
            "spec": {"replicas": 2},
        }
    )
    annotations = {du.REVISION_ANNOTATION: "1"}
    assert du.set_new_replica_set_annotations(d, annotations, "4", True)
    assert annotations == {
        du.REVISION_ANNOTATION: "4",
        du.REVISION_HISTORY_ANNOTATION: "1",
        "kubernetes.io/change-cause": "v1",
    }
    fresh: dict[str, str] = {}
    du.set_new_replica_set_annotations(d, fresh, "1", False)
    assert fresh[du.DESIRED_REPLICAS_ANNOTATION] == "2" and fresh[du.MAX_REPLICAS_ANNOTATION] == "3"


def test_equal_ignore_hash_ignores_the_label_and_zero_values() -> None:
    a = {
        "metadata": {"labels": {"app": "web", "pod-template-hash": "x"}},
        "spec": {"containers": [{"name": "c", "stdin": False}]},
    }
    b = {
        "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
        "spec": {"containers": [{"name": "c"}]},
    }
    assert du.equal_ignore_hash(a, b)
    assert not du.equal_ignore_hash(a, {"metadata": {"labels": {"app": "other"}}, "spec": b["spec"]})
