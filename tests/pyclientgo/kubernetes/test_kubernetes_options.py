"""I/O-free request building: paths, query parameters, bodies."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from pyclientgo.api.core.v1 import Pod
from pyclientgo.kubernetes import options
from pyclientgo.kubernetes.options import Preconditions


def test_paths() -> None:
    assert options.collection_path("", "v1", "pods", "ns") == "/api/v1/namespaces/ns/pods"
    assert options.collection_path("", "v1", "pods", None) == "/api/v1/pods"
    assert (
        options.collection_path("apps", "v1", "deployments", "a") == "/apis/apps/v1/namespaces/a/deployments"
    )
    assert options.object_path("", "v1", "nodes", None, "n1") == "/api/v1/nodes/n1"
    assert (
        options.object_path("apps", "v1", "deployments", "ns", "d", "scale")
        == "/apis/apps/v1/namespaces/ns/deployments/d/scale"
    )
    assert options.object_path("", "v1", "pods", "ns", "p", "status") == "/api/v1/namespaces/ns/pods/p/status"


@pytest.mark.parametrize("bad", ["", "a/b", "..", "."])
def test_paths_reject_bad_segments(bad: str) -> None:
    with pytest.raises(ValueError):
        options.object_path("", "v1", "pods", "ns", bad)


def test_list_and_watch_params() -> None:
    assert {k: v for k, v in options.list_params().items() if v is not None} == {}
    params = options.list_params(
        label_selector="app=web",
        field_selector="metadata.name=x",
        limit=500,
        continue_="tok",
        resource_version="0",
        resource_version_match="NotOlderThan",
        timeout_seconds=10,
    )
    assert params == {
        "labelSelector": "app=web",
        "fieldSelector": "metadata.name=x",
        "limit": 500,
        "continue": "tok",
        "resourceVersion": "0",
        "resourceVersionMatch": "NotOlderThan",
        "timeoutSeconds": 10,
    }
    watch = options.watch_params(resource_version="5", allow_watch_bookmarks=True, send_initial_events=True)
    assert {k: v for k, v in watch.items() if v is not None} == {
        "watch": True,
        "resourceVersion": "5",
        "allowWatchBookmarks": True,
        "sendInitialEvents": True,
    }


def test_patch_params_and_content_types() -> None:
    assert options.PATCH_CONTENT_TYPES == {
        "strategic": "application/strategic-merge-patch+json",
        "merge": "application/merge-patch+json",
        "json": "application/json-patch+json",
        "apply": "application/apply-patch+yaml",
    }
    with pytest.raises(ValueError, match="field_manager"):
        options.patch_params("apply")
    with pytest.raises(ValueError, match="force"):
        options.patch_params("merge", force=True)
    params = options.patch_params("apply", field_manager="me", force=True, dry_run=True)
    assert {k: v for k, v in params.items() if v is not None} == {
        "fieldManager": "me",
        "force": True,
        "dryRun": "All",
    }


def test_encode_patch() -> None:
    assert options.encode_patch({"a": 1}, "merge") == (b'{"a":1}', options.MERGE_PATCH)
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    body, ctype = options.encode_patch(ops, "json")
    assert orjson.loads(body) == ops and ctype == options.JSON_PATCH
    assert options.encode_patch(b"raw", "strategic") == (b"raw", options.STRATEGIC_MERGE_PATCH)
    body, ctype = options.encode_patch(Pod(metadata={"name": "p"}), "apply")
    assert orjson.loads(body) == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    assert ctype == options.APPLY_PATCH
    with pytest.raises(TypeError):
        options.encode_patch({"a": 1}, "json")
    with pytest.raises(ValueError):
        options.encode_patch({}, "yaml")  # type: ignore[arg-type]


def test_delete_options_body() -> None:
    assert options.delete_options_body() is None
    body = options.delete_options_body(
        propagation_policy="Foreground",
        grace_period_seconds=0,
        preconditions=Preconditions(uid="u1", resource_version="7"),
        dry_run=True,
    )
    assert body is not None
    assert orjson.loads(body) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "u1", "resourceVersion": "7"},
        "dryRun": ["All"],
    }
    body = options.delete_options_body(preconditions={"resource_version": "3"})
    assert body is not None and orjson.loads(body)["preconditions"] == {"resourceVersion": "3"}


def test_log_params() -> None:
    since = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    params = options.log_params(container="c", follow=True, tail_lines=10, timestamps=True, since_time=since)
    assert {k: v for k, v in params.items() if v is not None} == {
        "container": "c",
        "follow": True,
        "tailLines": 10,
        "timestamps": True,
        "sinceTime": "2024-01-02T03:04:05Z",
    }
    with pytest.raises(ValueError):
        options.log_params(since_seconds=1, since_time="2024-01-01T00:00:00Z")


def test_eviction_body() -> None:
    body = orjson.loads(options.eviction_body("p", "ns", {"gracePeriodSeconds": 5}))
    assert body == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "p", "namespace": "ns"},
        "deleteOptions": {"gracePeriodSeconds": 5},
    }
