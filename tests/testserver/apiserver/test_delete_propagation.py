"""DELETE with a propagation policy sets the garbage collector's finalizers as kube-apiserver does
(``deletionFinalizersForGarbageCollection``): Foreground → ``foregroundDeletion``, Orphan (or
``orphanDependents: true``) → ``orphan``, Background → neither; a later DELETE of an object already
being deleted may switch the policy; with no GC finalizer left the object goes at once. The server
itself never deletes dependents (that is the garbage collector's work)."""

from __future__ import annotations

from typing import Any

import httpx
from apiserver_testlib import cm, new_namespace


def _create(client: httpx.Client, base: str, name: str, **meta: Any) -> dict[str, Any]:
    body = cm(name)
    body["metadata"].update(meta)
    r = client.post(base, json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def _finalizers(client: httpx.Client, url: str) -> list[str] | None:
    r = client.get(url)
    if r.status_code == 404:
        return None
    return list(r.json()["metadata"].get("finalizers") or [])


def test_policies_set_gc_finalizers(client: httpx.Client) -> None:
    ns = new_namespace(client, "prop")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _create(client, base, "fg")
    r = client.request("DELETE", f"{base}/fg", json={"propagationPolicy": "Foreground"})
    assert r.status_code == 200
    assert r.json()["metadata"]["deletionTimestamp"]
    assert _finalizers(client, f"{base}/fg") == ["foregroundDeletion"]

    _create(client, base, "or")
    assert client.request("DELETE", f"{base}/or?propagationPolicy=Orphan").status_code == 200
    assert _finalizers(client, f"{base}/or") == ["orphan"]

    _create(client, base, "legacy")
    assert client.request("DELETE", f"{base}/legacy", json={"orphanDependents": True}).status_code == 200
    assert _finalizers(client, f"{base}/legacy") == ["orphan"]

    _create(client, base, "bg")
    r = client.request("DELETE", f"{base}/bg", json={"propagationPolicy": "Background"})
    assert r.status_code == 200 and r.json()["kind"] == "Status"
    assert _finalizers(client, f"{base}/bg") is None


def test_policy_switch_while_deleting(client: httpx.Client) -> None:
    ns = new_namespace(client, "prop")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _create(client, base, "held", finalizers=["example.com/hold"])
    client.request("DELETE", f"{base}/held", json={"propagationPolicy": "Orphan"})
    assert _finalizers(client, f"{base}/held") == ["example.com/hold", "orphan"]
    # Foreground replaces orphan on an object already being deleted
    client.request("DELETE", f"{base}/held", json={"propagationPolicy": "Foreground"})
    assert _finalizers(client, f"{base}/held") == ["example.com/hold", "foregroundDeletion"]
    # no policy: the existing GC finalizer stays
    client.request("DELETE", f"{base}/held")
    assert _finalizers(client, f"{base}/held") == ["example.com/hold", "foregroundDeletion"]
    # Background removes it; the other finalizer still holds the object
    client.request("DELETE", f"{base}/held", json={"propagationPolicy": "Background"})
    assert _finalizers(client, f"{base}/held") == ["example.com/hold"]

    # only the GC finalizer held it: Background deletes it now
    _create(client, base, "only")
    client.request("DELETE", f"{base}/only", json={"propagationPolicy": "Orphan"})
    assert _finalizers(client, f"{base}/only") == ["orphan"]
    r = client.request("DELETE", f"{base}/only", json={"propagationPolicy": "Background"})
    assert r.status_code == 200 and r.json()["kind"] == "Status"
    assert _finalizers(client, f"{base}/only") is None


def test_server_leaves_dependents_to_the_gc(client: httpx.Client) -> None:
    ns = new_namespace(client, "prop")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    owner = _create(client, base, "owner")
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    _create(client, base, "dep", ownerReferences=[ref])
    assert client.request("DELETE", f"{base}/owner").status_code == 200
    assert client.get(f"{base}/owner").status_code == 404
    assert client.get(f"{base}/dep").status_code == 200  # no GC here: the dependent stays


def test_events_take_no_gc_finalizer(client: httpx.Client) -> None:
    ns = new_namespace(client, "prop")
    base = f"/api/v1/namespaces/{ns}/events"
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": ns},
        "reason": "Test",
        "message": "m",
    }
    assert client.post(base, json=event).status_code == 201
    client.request("DELETE", f"{base}/e1", json={"propagationPolicy": "Foreground"})
    assert client.get(f"{base}/e1").status_code == 404


def test_jobs_and_replicationcontrollers_orphan_by_default(client: httpx.Client) -> None:
    """batch/v1 Jobs and v1 ReplicationControllers default to OrphanDependents (kube's back
    compatibility); an explicit policy wins (kubectl always sends Background)."""
    ns = new_namespace(client, "prop")
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {
            "suspend": True,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
            },
        },
    }
    base = f"/apis/batch/v1/namespaces/{ns}/jobs"
    r = client.post(base, json=job)
    assert r.status_code == 201, r.text
    assert client.request("DELETE", f"{base}/j").status_code == 200
    assert "orphan" in (_finalizers(client, f"{base}/j") or [])
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "rc"},
        "spec": {
            "replicas": 0,
            "selector": {"app": "x"},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    rcs = f"/api/v1/namespaces/{ns}/replicationcontrollers"
    r = client.post(rcs, json=rc)
    assert r.status_code == 201, r.text
    assert client.request("DELETE", f"{rcs}/rc", json={"propagationPolicy": "Background"}).status_code == 200
    assert _finalizers(client, f"{rcs}/rc") is None
    r = client.post(rcs, json=rc)
    assert r.status_code == 201, r.text
    assert client.request("DELETE", f"{rcs}/rc").status_code == 200
    assert _finalizers(client, f"{rcs}/rc") == ["orphan"]
    # other resources keep background by default
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    _create(client, cms, "plain")
    assert client.request("DELETE", f"{cms}/plain").status_code == 200
    assert _finalizers(client, f"{cms}/plain") is None


def test_orphan_dependents_and_policy_both_set_is_invalid(client: httpx.Client) -> None:
    ns = new_namespace(client, "prop")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _create(client, base, "both")
    r = client.request(
        "DELETE", f"{base}/both", json={"orphanDependents": True, "propagationPolicy": "Foreground"}
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Foreground": '
        "orphanDependents and deletionPropagation cannot be both set"
    )
    assert _finalizers(client, f"{base}/both") == []  # nothing happened
