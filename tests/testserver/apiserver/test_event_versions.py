"""One stored Event served as core v1 and as events.k8s.io/v1 (kube converts between them)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from apiserver_testlib import new_namespace

from testserver.apiserver import objects as ob
from testserver.apiserver.registry.event_versions import convert_event

CORE = "/api/v1/namespaces/{ns}/events"
EVENTS = "/apis/events.k8s.io/v1/namespaces/{ns}/events"


def scheduler_event(name: str, pod: str) -> dict[str, Any]:
    """An Event as kube-scheduler's events.k8s.io/v1 recorder writes it."""
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name},
        "eventTime": "2026-12-08T00:00:00.000000Z",
        "reportingController": "default-scheduler",
        "reportingInstance": "default-scheduler-host",
        "action": "Scheduling",
        "reason": "FailedScheduling",
        "note": "0/3 nodes are available: 3 Insufficient cpu.",
        "type": "Warning",
        "regarding": {"apiVersion": "v1", "kind": "Pod", "namespace": "x", "name": pod, "uid": "u-1"},
    }


def kubelet_event(name: str, pod: str) -> dict[str, Any]:
    """An Event as the kubelet's core v1 recorder writes it."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": "u-2"},
        "reason": "Started",
        "message": "Started container app",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-12-08T00:00:00Z",
        "lastTimestamp": "2026-12-08T00:00:05Z",
        "count": 2,
        "type": "Normal",
    }


def test_conversion_round_trips_and_fills_go_zero_values() -> None:
    core = convert_event(scheduler_event("e", "p"), "v1")
    assert core["involvedObject"]["name"] == "p"
    assert core["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert core["reportingComponent"] == "default-scheduler"
    assert (core["source"], core["firstTimestamp"], core["lastTimestamp"]) == ({}, None, None)
    assert "note" not in core and "regarding" not in core and "count" not in core
    back = convert_event(core, "events.k8s.io/v1")
    original = scheduler_event("e", "p")
    assert {k: back[k] for k in original} == original
    events = convert_event(kubelet_event("k", "q"), "events.k8s.io/v1")
    assert (events["deprecatedCount"], events["deprecatedSource"]["component"]) == (2, "kubelet")
    assert events["eventTime"] is None and "reportingController" not in events


def test_stored_version_is_the_objects_own_not_a_reference() -> None:
    stored = ob.encode_for_storage(
        {
            "kind": "Event",
            "apiVersion": "events.k8s.io/v1",
            "metadata": {"name": "e", "managedFields": [{"apiVersion": "v1"}]},
        }
    )
    assert ob.stored_in_version(stored, b'"apiVersion":"events.k8s.io/v1"')
    assert not ob.stored_in_version(stored, b'"apiVersion":"v1"')


def test_events_written_through_one_group_read_through_the_other(client: httpx.Client) -> None:
    ns = new_namespace(client, "ev")
    r = client.post(EVENTS.format(ns=ns), json=scheduler_event("sched.1", "web-0"))
    assert r.status_code == 201, r.text
    assert r.json()["apiVersion"] == "events.k8s.io/v1"
    r = client.post(CORE.format(ns=ns), json=kubelet_event("kubelet.1", "web-0"))
    assert r.status_code == 201, r.text

    core = client.get(CORE.format(ns=ns) + "/sched.1").json()
    assert core["apiVersion"] == "v1"
    assert core["involvedObject"]["name"] == "web-0"
    assert core["message"].startswith("0/3 nodes are available")
    events = client.get(EVENTS.format(ns=ns) + "/kubelet.1").json()
    assert events["apiVersion"] == "events.k8s.io/v1"
    assert (events["regarding"]["name"], events["note"]) == ("web-0", "Started container app")

    listed = client.get(CORE.format(ns=ns)).json()["items"]
    assert {e["apiVersion"] for e in listed} == {"v1"}
    assert sorted(e["involvedObject"]["name"] for e in listed) == ["web-0", "web-0"]
    # kubectl describe pod's query: core field selectors select events of both groups
    selected = client.get(
        CORE.format(ns=ns), params={"fieldSelector": "involvedObject.name=web-0,involvedObject.kind=Pod"}
    ).json()["items"]
    assert sorted(e["metadata"]["name"] for e in selected) == ["kubelet.1", "sched.1"]
    by_reason = client.get(EVENTS.format(ns=ns), params={"fieldSelector": "reason=FailedScheduling"}).json()
    assert [e["metadata"]["name"] for e in by_reason["items"]] == ["sched.1"]


def test_writes_through_the_other_group_keep_the_event_whole(client: httpx.Client) -> None:
    ns = new_namespace(client, "ev")
    client.post(EVENTS.format(ns=ns), json=scheduler_event("sched.2", "web-1")).raise_for_status()
    # the core recorder's count update (a strategic merge patch) on an events.k8s.io event
    r = client.patch(
        CORE.format(ns=ns) + "/sched.2",
        content=json.dumps({"count": 3, "lastTimestamp": "2026-12-08T00:01:00Z"}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["count"], r.json()["involvedObject"]["name"]) == (3, "web-1")
    events = client.get(EVENTS.format(ns=ns) + "/sched.2").json()
    assert (events["deprecatedCount"], events["regarding"]["name"]) == (3, "web-1")
    assert events["note"].startswith("0/3 nodes are available")


def test_a_core_watch_sees_events_k8s_io_events_converted(client: httpx.Client) -> None:
    ns = new_namespace(client, "ev")
    rv = client.get(CORE.format(ns=ns)).json()["metadata"]["resourceVersion"]
    client.post(EVENTS.format(ns=ns), json=scheduler_event("sched.3", "web-2")).raise_for_status()
    with client.stream(
        "GET", CORE.format(ns=ns), params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "5"}
    ) as stream:
        for line in stream.iter_lines():
            event = json.loads(line)
            assert event["type"] == "ADDED"
            obj = event["object"]
            assert (obj["apiVersion"], obj["involvedObject"]["name"]) == ("v1", "web-2")
            assert obj["message"].startswith("0/3 nodes are available")
            break


def test_kubectl_get_events_shows_object_and_message_of_scheduler_events(
    client: httpx.Client, kubectl: Any
) -> None:
    ns = new_namespace(client, "ev")
    client.post(EVENTS.format(ns=ns), json=scheduler_event("sched.4", "web-3")).raise_for_status()
    out = kubectl("get", "events", "-n", ns)
    row = next(line for line in out.splitlines() if "FailedScheduling" in line)
    assert "pod/web-3" in row
    assert "0/3 nodes are available: 3 Insufficient cpu." in row
