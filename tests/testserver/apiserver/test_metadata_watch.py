"""Metadata-only watches (``as=PartialObjectMetadata``, what the garbage collector's and quota
controller's informers use): every event, bookmarks included, is PartialObjectMetadata, in JSON and
in protobuf (issue 19 item 3: bookmarks came back as the full kind)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from apiserver_testlib import crd_body, create_established, new_namespace

from pyclientgo.apimachinery import protobuf as pb

PARTIAL = "as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
WATCH_LIST = {"watch": "1", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
              "allowWatchBookmarks": "true", "timeoutSeconds": "5"}  # fmt: skip


def _json_events(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Events of a watch-list (initial events, then the initial-events-end bookmark)."""
    events: list[dict[str, Any]] = []
    with client.stream(
        "GET", path, params=WATCH_LIST, headers={"Accept": f"application/json;{PARTIAL}"}
    ) as s:
        for line in s.iter_lines():
            events.append(json.loads(line))
            if events[-1]["type"] == "BOOKMARK":
                break
    return events


def _protobuf_events(client: httpx.Client, path: str) -> list[tuple[str, dict[str, Any]]]:
    accept = f"application/vnd.kubernetes.protobuf;{PARTIAL},application/json"
    data = bytearray()
    with client.stream("GET", path, params=WATCH_LIST, headers={"Accept": accept}) as s:
        assert s.headers["content-type"].startswith("application/vnd.kubernetes.protobuf;stream=watch")
        for chunk in s.iter_bytes():
            data += chunk
            try:
                frames = list(pb.iter_watch_frames(bytes(data)))
            except pb.ProtobufError:  # a frame cut between chunks: wait for the rest
                continue
            if frames and frames[-1][0] == "BOOKMARK":
                return frames
    raise AssertionError("no bookmark before the watch ended")


@pytest.mark.parametrize(
    "path", ["/api/v1/namespaces/{ns}/configmaps", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]
)
def test_metadata_watch_bookmarks_are_partial_object_metadata(client: httpx.Client, path: str) -> None:
    ns = new_namespace(client, "mw")
    client.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "a"}}).raise_for_status()
    if "customresourcedefinitions" in path:
        create_established(client, crd_body(group="mw.example.com", kind="Gadget", plural="gadgets"))
    events = _json_events(client, path.format(ns=ns))
    assert events[-1]["type"] == "BOOKMARK"
    assert {(e["object"]["kind"], e["object"]["apiVersion"]) for e in events} == {
        ("PartialObjectMetadata", "meta.k8s.io/v1")
    }
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}

    frames = _protobuf_events(client, path.format(ns=ns))
    assert frames[-1][0] == "BOOKMARK"
    assert {(o.get("kind"), o.get("apiVersion")) for _, o in frames} == {
        ("PartialObjectMetadata", "meta.k8s.io/v1")
    }


def test_metadata_list_and_get_in_protobuf(client: httpx.Client) -> None:
    ns = new_namespace(client, "mw")
    client.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "b"}}).raise_for_status()
    accept = {"Accept": f"application/vnd.kubernetes.protobuf;{PARTIAL}List,application/json"}
    r = client.get(f"/api/v1/namespaces/{ns}/configmaps", headers=accept)
    assert r.headers["content-type"] == "application/vnd.kubernetes.protobuf"
    listed = pb.decode_object(r.content)
    assert (listed["kind"], [i["metadata"]["name"] for i in listed["items"]]) == (
        "PartialObjectMetadataList",
        ["b"],
    )
    one = {"Accept": f"application/vnd.kubernetes.protobuf;{PARTIAL},application/json"}
    r = client.get(f"/api/v1/namespaces/{ns}/configmaps/b", headers=one)
    got = pb.decode_object(r.content)
    assert (got["kind"], got["metadata"]["name"]) == ("PartialObjectMetadata", "b")
    # a protobuf Table is not served: JSON is (the client's next choice)
    table = {"Accept": "application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1,application/json"}
    assert (
        client.get(f"/api/v1/namespaces/{ns}/configmaps", headers=table)
        .headers["content-type"]
        .startswith("application/json")
    )
