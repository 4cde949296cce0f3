"""The API server's Prometheus /metrics with kube-apiserver's names and labels
(docs/reference/apiserver_behavior.md §15), against a private real server, and with the real kubectl.

Counts are compared before and after the requests a test makes, so tests do not depend on each other.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver_testlib import CRDS, client_for, cm, crd_body, create_established, new_namespace, pod, wait_for
from prometheus_client.parser import text_string_to_metric_families

from pyclientgo.api import builtin_registry
from testserver.apiserver.metrics import (
    REQUEST_DURATION_BUCKETS,
    InflightWatermark,
    RequestLabels,
    request_labels,
)
from testserver.apiserver.resources import Routes
from testserver.faults_client import FaultsClient
from testserver.testing import TestServer

Samples = list[tuple[str, dict[str, str], float]]
CM = "/api/v1/namespaces/{ns}/configmaps"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    srv = TestServer(data_dir=tmp_path_factory.mktemp("metrics"))
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def client(server: TestServer) -> Iterator[httpx.Client]:
    with client_for(server) as c:
        yield c


@pytest.fixture
def ns(client: httpx.Client) -> str:
    return new_namespace(client, "m")


def scrape(client: httpx.Client) -> Samples:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(r.text) for s in f.samples]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items()))


def requests_delta(before: Samples, after: Samples, **labels: str) -> float:
    return value(after, "apiserver_request_total", **labels) - value(
        before, "apiserver_request_total", **labels
    )


def test_request_total_names_verbs_scopes_and_codes_as_kube(client: httpx.Client, ns: str) -> None:
    base = CM.format(ns=ns)
    before = scrape(client)
    assert client.post(base, json=cm("a", k="v")).status_code == 201
    assert client.post(base, json=cm("a")).status_code == 409
    assert client.post(f"{base}?dryRun=All", json=cm("dry")).status_code == 201
    assert client.get(f"{base}/a").status_code == 200
    assert client.get(f"{base}/missing").status_code == 404
    assert client.get(base).status_code == 200
    assert client.get("/api/v1/configmaps").status_code == 200
    current = client.get(f"{base}/a").json()
    assert client.put(f"{base}/a", json=current).status_code == 200
    merge = {"content-type": "application/merge-patch+json"}
    assert client.patch(f"{base}/a", content=b'{"data":{"x":"1"}}', headers=merge).status_code == 200
    apply = {"content-type": "application/apply-patch+yaml"}
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"},"data":{"k":"v"}}'
    assert client.patch(f"{base}/b?fieldManager=t", content=body, headers=apply).status_code == 201
    assert client.delete(f"{base}/a").status_code == 200
    assert client.delete(base).status_code == 200
    assert client.get(f"/api/v1/namespaces/{ns}").status_code == 200
    assert client.get("/api/v1/namespaces").status_code == 200
    after = scrape(client)

    common = {
        "group": "",
        "version": "v1",
        "resource": "configmaps",
        "subresource": "",
        "component": "apiserver",
    }

    def delta(verb: str, scope: str, code: str, dry_run: str = "", **other: str) -> float:
        labels = {**common, **other, "verb": verb, "scope": scope, "code": code, "dry_run": dry_run}
        return requests_delta(before, after, **labels)

    assert delta("POST", "resource", "201") == 1
    assert delta("POST", "resource", "409") == 1
    assert delta("POST", "resource", "201", dry_run="All") == 1
    assert delta("GET", "resource", "200") == 2
    assert delta("GET", "resource", "404") == 1
    assert delta("LIST", "namespace", "200") == 1
    assert delta("LIST", "cluster", "200") == 1
    assert delta("PUT", "resource", "200") == 1
    assert delta("PATCH", "resource", "200") == 1
    assert delta("APPLY", "resource", "201") == 1
    assert delta("DELETE", "resource", "200") == 1
    assert delta("DELETE", "namespace", "200") == 1  # deletecollection is reported as DELETE
    assert delta("GET", "resource", "200", resource="namespaces") == 1
    assert delta("LIST", "cluster", "200", resource="namespaces") == 1


def test_group_and_subresource_labels(client: httpx.Client, ns: str) -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
            },
        },
    }
    before = scrape(client)
    apps = f"/apis/apps/v1/namespaces/{ns}/deployments"
    assert client.post(apps, json=deploy).status_code == 201
    assert client.get(f"{apps}/web/scale").status_code == 200
    assert client.get(f"{apps}/web/status").status_code == 200
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
    assert client.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json=sa).status_code == 201
    assert client.post(f"/api/v1/namespaces/{ns}/pods", json=pod("p")).status_code == 201
    log = client.get(f"/api/v1/namespaces/{ns}/pods/p/log")  # not running: an error, still a CONNECT
    after = scrape(client)
    assert (
        requests_delta(
            before, after, verb="POST", group="apps", version="v1", resource="deployments", code="201"
        )
        == 1
    )
    assert (
        requests_delta(before, after, verb="GET", group="apps", resource="deployments", subresource="scale")
        == 1
    )
    assert (
        requests_delta(before, after, verb="GET", group="apps", resource="deployments", subresource="status")
        == 1
    )
    assert (
        requests_delta(
            before,
            after,
            verb="CONNECT",
            resource="pods",
            subresource="log",
            scope="resource",
            code=str(log.status_code),
        )
        == 1
    )


def test_custom_resources_are_counted_while_served(client: httpx.Client, ns: str) -> None:
    group = f"m{uuid.uuid4().hex[:6]}.example.com"
    path = f"/apis/{group}/v1/namespaces/{ns}/widgets"
    labels = {"verb": "LIST", "group": group, "version": "v1", "resource": "widgets", "scope": "namespace"}
    before = scrape(client)
    assert client.get(path).status_code == 404  # not served yet: not counted
    name = create_established(client, crd_body(group, "widgets", "Widget"))
    wait_for(lambda: client.get(path).status_code == 200)
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert client.post(path, json=widget).status_code == 201
    served = scrape(client)
    assert requests_delta(before, served, code="200", **labels) >= 1
    assert requests_delta(before, served, code="404", **labels) == 0
    assert value(served, "apiserver_storage_objects", resource=f"widgets.{group}") == 1
    assert client.delete(f"{CRDS}/{name}").status_code == 200
    wait_for(lambda: client.get(path).status_code == 404)
    gone = scrape(client)
    assert client.get(path).status_code == 404
    assert client.get(path).status_code == 404
    assert requests_delta(gone, scrape(client), **labels) == 0  # no longer served: not counted
    assert value(gone, "apiserver_storage_objects", resource=f"widgets.{group}") == 0


def test_unknown_paths_and_failed_authentication_are_not_counted(
    server: TestServer, client: httpx.Client
) -> None:
    before = scrape(client)
    assert client.get("/api/v1/nosuchresources").status_code == 404
    with httpx.Client(
        base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_cert))
    ) as anon:
        assert anon.get("/api/v1/configmaps").status_code == 401
        assert anon.get("/metrics").status_code == 401  # /metrics is not public (system:monitoring)
    after = scrape(client)
    assert requests_delta(before, after, resource="nosuchresources") == 0
    assert requests_delta(before, after, resource="configmaps", code="401") == 0
    assert requests_delta(before, after, code="401") == 0


def test_health_requests_are_counted_with_the_path_as_subresource(client: httpx.Client) -> None:
    before = scrape(client)
    client.get("/readyz")
    client.get("/readyz?verbose")
    client.get("/livez")
    after = scrape(client)
    labels = {"verb": "GET", "group": "", "resource": "", "scope": "", "code": "200"}
    assert requests_delta(before, after, subresource="/readyz", **labels) == 2
    assert requests_delta(before, after, subresource="/livez", **labels) == 1


def test_request_duration_histogram_has_kube_buckets_and_counts(client: httpx.Client, ns: str) -> None:
    before = scrape(client)
    for i in range(3):
        assert client.post(CM.format(ns=ns), json=cm(f"h{i}")).status_code == 201
    after = scrape(client)
    labels = {
        "verb": "POST",
        "resource": "configmaps",
        "scope": "resource",
        "dry_run": "",
        "component": "apiserver",
    }
    name = "apiserver_request_duration_seconds"
    bounds = sorted(
        float(lab["le"])
        for n, lab, _ in after
        if n == f"{name}_bucket" and lab["le"] != "+Inf" and all(lab[k] == v for k, v in labels.items())
    )
    assert tuple(bounds) == REQUEST_DURATION_BUCKETS
    assert value(after, f"{name}_count", **labels) - value(before, f"{name}_count", **labels) == 3
    inf = {**labels, "le": "+Inf"}
    assert value(after, f"{name}_bucket", **inf) - value(before, f"{name}_bucket", **inf) == 3
    assert value(after, f"{name}_sum", **labels) > value(before, f"{name}_sum", **labels)
    assert "code" not in next(lab for n, lab, _ in after if n == f"{name}_count")


def test_open_watches_are_long_running_requests(server: TestServer, client: httpx.Client, ns: str) -> None:
    watch_labels = {"verb": "WATCH", "resource": "configmaps", "scope": "namespace", "component": "apiserver"}
    gauge = "apiserver_longrunning_requests"
    before = scrape(client)
    assert value(before, gauge, **watch_labels) == 0
    stop = threading.Event()
    opened = threading.Semaphore(0)
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            with client_for(server) as c, c.stream("GET", CM.format(ns=ns), params={"watch": "true"}) as r:
                assert r.status_code == 200
                opened.release()
                for _ in r.iter_lines():
                    if stop.is_set():
                        return
        except BaseException as e:  # reported by the test thread
            if not stop.is_set():
                errors.append(e)

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in threads:
            assert opened.acquire(timeout=10)
        assert wait_for(lambda: value(scrape(client), gauge, **watch_labels) == 2)
        assert value(scrape(client), "apiserver_current_inflight_requests", request_kind="readOnly") < 10
    finally:
        stop.set()
        client.post(CM.format(ns=ns), json=cm(f"wake-{uuid.uuid4().hex[:6]}"))  # an event ends the loops
        for t in threads:
            t.join(timeout=10)
    assert not errors, errors
    assert wait_for(lambda: value(scrape(client), gauge, **watch_labels) == 0)
    after = scrape(client)
    assert requests_delta(before, after, code="200", **watch_labels) == 2


def test_storage_objects_count_stored_objects_per_resource(client: httpx.Client, ns: str) -> None:
    before = scrape(client)
    for i in range(5):
        assert client.post(CM.format(ns=ns), json=cm(f"s{i}")).status_code == 201
    body = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": f"pc-{ns}"},
        "value": 7,
    }
    assert client.post("/apis/scheduling.k8s.io/v1/priorityclasses", json=body).status_code == 201
    after = scrape(client)
    name = "apiserver_storage_objects"
    assert value(after, name, resource="configmaps") - value(before, name, resource="configmaps") == 5
    pcs = "priorityclasses.scheduling.k8s.io"
    assert value(after, name, resource=pcs) - value(before, name, resource=pcs) == 1
    namespaces = len(client.get("/api/v1/namespaces").json()["items"])
    assert value(after, name, resource="namespaces") == namespaces
    resources = {lab["resource"] for n, lab, _ in after if n == name}
    assert "deployments.apps" in resources
    assert not resources & {"bindings", "tokenreviews.authentication.k8s.io", "componentstatuses"}
    assert client.delete(f"/apis/scheduling.k8s.io/v1/priorityclasses/pc-{ns}").status_code == 200
    assert value(scrape(client), name, resource=pcs) == value(before, name, resource=pcs)


def test_inflight_requests_report_the_high_water_mark(
    server: TestServer, client: httpx.Client, ns: str
) -> None:
    metric = "apiserver_current_inflight_requests"
    samples = scrape(client)
    assert value(samples, metric, request_kind="readOnly") >= 1  # the scrape itself
    assert any(n == metric and lab == {"request_kind": "mutating"} for n, lab, _ in samples)
    faults = FaultsClient.for_server(server)
    faults.latency(0.5, verb="list", resource="configmaps", namespace=ns)
    try:
        threads = [
            threading.Thread(target=lambda: client.get(CM.format(ns=ns)), daemon=True) for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        faults.reset()
    assert wait_for(lambda: value(scrape(client), metric, request_kind="readOnly") >= 6)


def test_kubectl_get_raw_metrics(server: TestServer, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is not on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(server.kubeconfig), HOME=str(tmp_path))
    subprocess.run([kubectl, "get", "configmaps", "-A"], env=env, capture_output=True, check=True, timeout=30)
    out = subprocess.run(
        [kubectl, "get", "--raw", "/metrics"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    samples = [
        (s.name, s.labels, s.value) for f in text_string_to_metric_families(out.stdout) for s in f.samples
    ]
    assert value(samples, "apiserver_request_total", verb="LIST", resource="configmaps", scope="cluster") >= 1
    assert value(samples, "apiserver_request_total", subresource="", resource="") == 0
    for name in (
        "apiserver_request_duration_seconds_bucket",
        "apiserver_storage_objects",
        "process_resident_memory_bytes",
    ):
        assert any(n == name for n, _, _ in samples), name


# -- the in-flight watermark, with a manual clock ----------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_inflight_watermark_publishes_each_window_maximum() -> None:
    clock = _Clock()
    w = InflightWatermark(clock=clock)
    assert w.value() == 0
    for _ in range(3):
        w.enter()
    w.leave()
    w.leave()
    assert w.value() == 1  # the window is still open: the current count
    clock.now += 1.0
    assert w.value() == 3  # the closed window's high-water mark
    w.leave()
    clock.now += 1.0
    assert w.value() == 1  # the next window started at the count then (1)
    clock.now += 1.0
    assert w.value() == 0


# -- request labels, from ASGI scopes over the built-in routes ------------------------------------


@pytest.fixture(scope="module")
def routes() -> Routes:
    return Routes(builtin_registry())


def _scope(method: str, path: str, query: bytes = b"", content_type: bytes = b"") -> dict[str, Any]:
    headers = [(b"content-type", content_type)] if content_type else []
    return {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers}


@pytest.mark.parametrize(
    ("method", "path", "query", "content_type", "expected"),
    [
        ("GET", "/api/v1/namespaces/d/pods", b"watch=1", b"", ("WATCH", "", "pods", "", "namespace", True)),
        ("GET", "/api/v1/namespaces/d/pods", b"watch=false", b"", ("LIST", "", "pods", "", "namespace", False)),
        ("GET", "/api/v1/watch/namespaces/d/pods/p", b"", b"", ("WATCH", "", "pods", "", "resource", True)),
        ("GET", "/api/v1/pods", b"", b"", ("LIST", "", "pods", "", "cluster", False)),
        ("HEAD", "/api/v1/namespaces/d/pods/p", b"", b"", ("GET", "", "pods", "", "resource", False)),
        ("POST", "/api/v1/namespaces/d/pods/p/eviction", b"", b"", ("POST", "", "pods", "eviction", "resource", False)),
        ("GET", "/api/v1/namespaces/d/pods/p/log", b"follow=true", b"", ("CONNECT", "", "pods", "log", "resource", True)),
        ("POST", "/api/v1/namespaces/d/pods/p/exec", b"", b"", ("CONNECT", "", "pods", "exec", "resource", True)),
        ("PATCH", "/apis/apps/v1/namespaces/d/deployments/w", b"", b"application/apply-patch+yaml",
         ("APPLY", "", "deployments", "", "resource", False)),
        ("PATCH", "/apis/apps/v1/namespaces/d/deployments/w/scale", b"", b"application/merge-patch+json",
         ("PATCH", "", "deployments", "scale", "resource", False)),
        ("POST", "/api/v1/namespaces/d/configmaps", b"dryRun=All&dryRun=All", b"", ("POST", "All", "configmaps", "", "resource", False)),
        ("POST", "/api/v1/namespaces/d/configmaps", b"dryRun=bogus", b"", ("POST", "invalid", "configmaps", "", "resource", False)),
        ("DELETE", "/api/v1/namespaces/d/configmaps", b"", b"", ("DELETE", "", "configmaps", "", "namespace", False)),
        ("OPTIONS", "/api/v1/namespaces/d/configmaps", b"", b"", ("other", "", "configmaps", "", "namespace", False)),
        ("PUT", "/api/v1/namespaces/d", b"", b"", ("PUT", "", "namespaces", "", "resource", False)),
        ("PUT", "/api/v1/namespaces/d/finalize", b"", b"", ("PUT", "", "namespaces", "finalize", "resource", False)),
    ],
)  # fmt: skip
def test_request_labels_follow_kube(
    routes: Routes, method: str, path: str, query: bytes, content_type: bytes, expected: tuple[Any, ...]
) -> None:
    labels = request_labels(_scope(method, path, query, content_type), routes)
    assert labels is not None
    verb, dry_run, resource, subresource, scope, long_running = expected
    assert (labels.verb, labels.dry_run, labels.resource, labels.subresource, labels.scope, labels.long_running) == (
        verb, dry_run, resource, subresource, scope, long_running,
    )  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/v1",
        "/apis/apps/v1",
        "/version",
        "/openapi/v3",
        "/metrics",
        "/api/v1/nosuch",
        "/api/v1/namespaces/d/pods/p/nosub",
    ],
)
def test_paths_kube_does_not_count(routes: Routes, path: str) -> None:
    assert request_labels(_scope("GET", path), routes) is None


def test_health_paths_are_labelled_by_path(routes: Routes) -> None:
    assert request_labels(_scope("GET", "/readyz", b"verbose"), routes) == RequestLabels(
        "GET", "", "", "", "", "/readyz", "", False
    )
    assert request_labels(_scope("GET", "/readyz/etcd"), routes) is None
