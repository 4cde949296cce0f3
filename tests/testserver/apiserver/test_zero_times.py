"""Times near Go's zero time keep a four-digit year on every path (upstream's Lease conformance
spec writes ``acquireTime`` two seconds after 0001-01-01 and reads it back with Go's RFC 3339 parser)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from apiserver_testlib import new_namespace

from pyclientgo.apimachinery import protobuf as pb
from pyclientgo.apimachinery.model import format_time

PB = "application/vnd.kubernetes.protobuf"
NEAR_ZERO = "0001-01-01T00:00:02.000000Z"


def lease(name: str) -> dict[str, object]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name},
        "spec": {"holderIdentity": "holder", "acquireTime": NEAR_ZERO, "renewTime": NEAR_ZERO},
    }


def test_model_time_format_pads_the_year() -> None:
    assert format_time(dt.datetime(1, 1, 1, 0, 0, 2, tzinfo=dt.UTC)) == "0001-01-01T00:00:02Z"
    assert format_time(dt.datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=dt.UTC)) == "0999-03-04T05:06:07.000008Z"


def test_protobuf_lease_near_zero_micro_time_round_trips(client: httpx.Client) -> None:
    ns = new_namespace(client)
    base = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
    body = pb.encode_object(lease("l"))
    r = client.post(base, content=body, headers={"Content-Type": PB, "Accept": PB})
    assert r.status_code == 201, r.text
    created = pb.decode_object(r.content)
    assert created["spec"]["acquireTime"] == NEAR_ZERO
    got = client.get(f"{base}/l").json()
    assert (got["spec"]["acquireTime"], got["spec"]["renewTime"]) == (NEAR_ZERO, NEAR_ZERO)
    rv = got["metadata"]["resourceVersion"]
    got["spec"]["holderIdentity"] = "other"
    r = client.put(f"{base}/l", content=pb.encode_object(got), headers={"Content-Type": PB, "Accept": PB})
    assert r.status_code == 200, r.text
    with client.stream(
        "GET", base, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "5"}
    ) as stream:
        for line in stream.iter_lines():
            event = json.loads(line)
            assert event["type"] == "MODIFIED"
            assert event["object"]["spec"]["acquireTime"] == NEAR_ZERO
            assert event["object"]["spec"]["holderIdentity"] == "other"
            break
        else:
            raise AssertionError("no watch event")
    listed = pb.decode_object(client.get(base, headers={"Accept": PB}).content)
    assert listed["items"][0]["spec"]["renewTime"] == NEAR_ZERO
