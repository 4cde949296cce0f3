"""Table tests of the DaemonSet pod helpers and the ControllerRevision machinery (no processes)."""

from __future__ import annotations

from typing import Any

import pytest

from pyclientgo.api.apps.v1 import StatefulSet
from pyclientgo.api.core.v1 import Node, Pod
from testserver.controllers.daemonset import (
    DaemonPodSpec,
    add_daemon_pod_tolerations,
    replace_node_name_affinity,
    target_node_name,
)
from testserver.controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    hash_controller_revision,
    new_controller_revision,
    template_from_revision,
    template_patch,
    unused_revisions,
)
from testserver.controllers.statefulset import claim_name


def _node(
    name: str, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None
) -> Node:
    return Node.from_dict(
        {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}
    )


def test_added_tolerations_replace_matching_and_network_only_for_host_network() -> None:
    spec: dict[str, Any] = {
        "tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
        ]
    }
    add_daemon_pod_tolerations(spec)
    keys = [(t["key"], t["effect"]) for t in spec["tolerations"]]
    assert len(keys) == 6 and len(set(keys)) == 6
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") not in keys
    assert all("tolerationSeconds" not in t for t in spec["tolerations"])
    host: dict[str, Any] = {"hostNetwork": True}
    add_daemon_pod_tolerations(host)
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in [
        (t["key"], t["effect"]) for t in host["tolerations"]
    ]


def test_node_name_affinity_replaces_required_terms_and_keeps_preferred() -> None:
    preferred = [{"weight": 1, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]
    spec: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["x"]}]}
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": preferred,
            }
        }
    }
    replace_node_name_affinity(spec, "n1")
    na = spec["affinity"]["nodeAffinity"]
    assert na["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]
    }
    assert na["preferredDuringSchedulingIgnoredDuringExecution"] == preferred
    assert target_node_name(Pod.from_dict({"spec": spec})) == "n1"
    assert target_node_name(Pod.from_dict({"spec": {**spec, "nodeName": "n2"}})) == "n2"


@pytest.mark.parametrize(
    ("taints", "pod_spec", "expected"),
    [
        ([], {}, (True, True)),
        ([{"key": "k", "value": "v", "effect": "NoSchedule"}], {}, (False, True)),
        ([{"key": "k", "value": "v", "effect": "NoExecute"}], {}, (False, False)),
        ([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}], {}, (True, True)),
        ([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}], {}, (True, True)),
        ([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}], {}, (False, True)),
        (
            [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}],
            {"hostNetwork": True},
            (True, True),
        ),
        ([{"key": "k", "effect": "PreferNoSchedule"}], {}, (True, True)),
        ([], {"nodeSelector": {"role": "edge"}}, (False, False)),
    ],
)
def test_should_run(
    taints: list[dict[str, Any]], pod_spec: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    ds = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}], **pod_spec}}}}
    assert DaemonPodSpec(ds).should_run(_node("n", taints=taints)) == expected


def test_revision_names_hashes_and_round_trip() -> None:
    sts = StatefulSet.from_dict({"metadata": {"name": "web", "namespace": "ns", "uid": "u1"}})
    tpl = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    data = template_patch(tpl)
    assert data["spec"]["template"]["$patch"] == "replace"
    rev = new_controller_revision(sts, "apps/v1", "StatefulSet", {"app": "web"}, data, 3, 0)
    hash_ = rev["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL]
    assert rev["metadata"]["name"] == f"web-{hash_}" and rev["revision"] == 3
    assert rev["metadata"]["labels"]["app"] == "web"
    assert rev["metadata"]["ownerReferences"][0]["controller"] is True
    assert hash_controller_revision(data, 0) != hash_controller_revision(data, 1)
    assert hash_controller_revision(data, 0) == hash_
    assert template_from_revision(rev) == tpl
    assert claim_name("www", "web", 4) == "www-web-4"


def test_unused_revisions_keeps_live_and_newest() -> None:
    class R:
        def __init__(self, name: str) -> None:
            self.metadata = type("M", (), {"name": name})()

    revs = [R(f"r{i}") for i in range(6)]
    gone = unused_revisions(revs, {"r0", "r5"}, 2)
    assert [r.metadata.name for r in gone] == ["r1", "r2"]
    assert unused_revisions(revs, set(), 10) == []
