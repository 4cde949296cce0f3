"""events.k8s.io/v1 field selectors: kube's events field labels (``reportingController``,
``regarding.*``, ``type``, ``reason``, ...) mapped onto the core Event's fields, for lists and
watches of Events written through either group."""

from __future__ import annotations

import json

import httpx
from apiserver_testlib import new_namespace
from test_event_versions import CORE, EVENTS, kubelet_event, scheduler_event


def names(client: httpx.Client, path: str, selector: str) -> list[str]:
    r = client.get(path, params={"fieldSelector": selector})
    assert r.status_code == 200, r.text
    return sorted(item["metadata"]["name"] for item in r.json()["items"])


def test_events_k8s_io_field_labels_select_both_groups_events(client: httpx.Client) -> None:
    ns = new_namespace(client)
    assert client.post(EVENTS.format(ns=ns), json=scheduler_event("sched", "web-0")).status_code == 201
    assert client.post(CORE.format(ns=ns), json=kubelet_event("kubelet", "web-1")).status_code == 201
    path = EVENTS.format(ns=ns)
    assert names(client, path, "reportingController=default-scheduler") == ["sched"]
    assert names(client, path, "reportingController!=default-scheduler") == ["kubelet"]
    assert names(client, path, "regarding.name=web-1,regarding.kind=Pod") == ["kubelet"]
    assert names(client, path, "regarding.uid=u-1") == ["sched"]
    assert names(client, path, "type=Normal") == ["kubelet"]
    assert names(client, path, "reason=FailedScheduling") == ["sched"]
    assert names(client, path, f"metadata.namespace={ns},metadata.name=kubelet") == ["kubelet"]
    # the core labels are the core group's only, as in kube
    r = client.get(path, params={"fieldSelector": "involvedObject.name=web-0"})
    assert r.status_code == 400 and r.json()["message"] == "field label not supported: involvedObject.name"
    assert names(client, CORE.format(ns=ns), "reportingComponent=default-scheduler") == ["sched"]
    r = client.get(CORE.format(ns=ns), params={"fieldSelector": "reportingController=default-scheduler"})
    assert r.status_code == 400


def test_watch_with_events_k8s_io_field_selector(client: httpx.Client) -> None:
    ns = new_namespace(client)
    path = EVENTS.format(ns=ns)
    rv = client.get(path).json()["metadata"]["resourceVersion"]
    assert client.post(CORE.format(ns=ns), json=kubelet_event("kubelet", "web-1")).status_code == 201
    assert client.post(path, json=scheduler_event("sched", "web-0")).status_code == 201
    params = {
        "watch": "1",
        "resourceVersion": rv,
        "fieldSelector": "reportingController=default-scheduler",
        "timeoutSeconds": "5",
    }
    with client.stream("GET", path, params=params) as stream:
        for line in stream.iter_lines():
            event = json.loads(line)
            assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "sched")
            assert event["object"]["reportingController"] == "default-scheduler"
            break
        else:
            raise AssertionError("no watch event")
