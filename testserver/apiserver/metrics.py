"""kube-apiserver's Prometheus metrics, served on ``/metrics`` (docs/reference/apiserver_behavior.md §15).

========================================= ========= ===============================================
metric                                    type      labels
========================================= ========= ===============================================
``apiserver_request_total``               counter   verb, dry_run, group, version, resource,
                                                    subresource, scope, component, code
``apiserver_request_duration_seconds``    histogram the same without code; kube's buckets
``apiserver_longrunning_requests``        gauge     verb, group, version, resource, subresource,
                                                    scope, component (open watches and connects)
``apiserver_current_inflight_requests``   gauge     request_kind (readOnly, mutating)
``apiserver_storage_objects``             gauge     resource (``pods``, ``deployments.apps``, …)
``process_*``                             various   (prometheus-client's process collector)
========================================= ========= ===============================================

:class:`ApiServerMetrics` wraps the ASGI application (:meth:`ApiServerMetrics.serve`): every HTTP
request counts as in flight while it is served (long-running ones excepted, as kube's in-flight
filter excepts them); a resource request for a served resource, and a request of ``/healthz``,
``/livez`` or ``/readyz``, is counted when its response ends. Requests that failed authentication
are not counted, because kube's request metrics sit behind its authentication filter.

Labels are computed as ``staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go`` computes
them (:func:`request_labels`): ``GET`` on a named object and ``LIST`` on a collection, ``WATCH``,
``APPLY`` for server-side apply, ``CONNECT`` for the ``log``/``exec``/``attach``/``portforward``/
``proxy`` subresources, the HTTP method otherwise; scope ``resource``/``namespace``/``cluster`` as the
route's scope (``endpoints/installer.go``).

Each application owns its :class:`prometheus_client.CollectorRegistry`, so several servers in one
process do not share counts. Object counts are read from storage when ``/metrics`` is scraped.
"""

from __future__ import annotations

import functools
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, Gauge, ProcessCollector
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from testserver.apiserver.resources import RequestInfo, parse_path
from testserver.storage.interface import Storage

__all__ = [
    "COMPONENT",
    "CONTENT_TYPE",
    "REQUEST_DURATION_BUCKETS",
    "ApiServerMetrics",
    "InflightWatermark",
    "RequestLabels",
    "RequestMetrics",
    "request_labels",
]

COMPONENT = "apiserver"
"""The ``component`` label of the request metrics (kube's ``APIServerComponent``)."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4.encode()
"""The ``Content-Type`` of ``/metrics`` (Prometheus text format 0.0.4)."""

REQUEST_DURATION_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0,
    15.0, 20.0, 30.0, 45.0, 60.0,
)  # fmt: skip
"""``apiserver_request_duration_seconds`` buckets, as kube's ``requestLatencies``."""

HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
"""Non-resource paths kube instruments (``healthz.InstallPathHandler``): counted with the path as subresource."""

_CONNECT_SUBRESOURCES = frozenset({"log", "exec", "portforward", "attach", "proxy"})
_LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
_VALID_VERBS = frozenset(
    {
        "APPLY", "CONNECT", "CREATE", "DELETE", "DELETECOLLECTION", "GET", "LIST", "PATCH", "POST",
        "PROXY", "PUT", "UPDATE", "WATCH", "WATCHLIST",
    }
)  # fmt: skip
_READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
_APPLY_PATCH = b"application/apply-patch+yaml"
_LABELS_MEMO_SIZE = 16384

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class _Routes(Protocol):
    """What metrics need of :class:`testserver.apiserver.resources.Routes`."""

    by_gvr: dict[tuple[str, str, str], Any]


class RequestLabels(NamedTuple):
    """The metric labels of one request (``component`` aside), and how kube's filters classify it."""

    verb: str
    dry_run: str
    group: str
    version: str
    resource: str
    subresource: str
    scope: str
    long_running: bool
    """A watch or a connect (kube's ``BasicLongRunningRequestCheck``): not in flight, in the long-running gauge."""


def _dry_run(query: bytes) -> str:
    if b"dryRun" not in query:
        return ""
    values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get("dryRun", [])
    if any(v != "All" for v in values):
        return "invalid"  # kube's ValidateDryRun accepts only "All"
    return ",".join(sorted(set(values)))


def _watch_requested(query: bytes) -> bool:
    if b"watch" not in query:
        return False
    values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get("watch", [])
    return bool(values) and values[0].lower() not in ("0", "false")


@functools.lru_cache(maxsize=16384)
def _path_info(path: str) -> RequestInfo | None:
    """The resource coordinates of ``path`` (``None`` for non-resource and discovery paths), memoised:
    clients repeat paths (get, update and delete of one object; lists of one collection)."""
    if not (path.startswith("/api/") or path.startswith("/apis/")):
        return None
    parts = path.strip("/").split("/")
    if (parts[0] == "api" and len(parts) < 3) or (parts[0] == "apis" and len(parts) < 4):
        return None  # discovery documents
    return parse_path(parts)


def request_labels(scope: MutableMapping[str, Any], routes: _Routes | None) -> RequestLabels | None:
    """The labels of an ASGI HTTP request, or ``None`` when kube would not count it.

    Counted: requests of ``/healthz``, ``/livez`` and ``/readyz``, and resource requests whose
    group, version, resource (and subresource) are served.
    """
    path: str = scope["path"]
    method: str = scope["method"].upper()
    if path in HEALTH_PATHS:
        return RequestLabels("GET", "", "", "", "", path, "", False)
    if routes is None:
        return None
    info = _path_info(path)
    if info is None:
        return None
    route = routes.by_gvr.get((info.group, info.version, info.resource))
    if route is None or (info.subresource and info.subresource not in route.subresources):
        return None
    if info.name or method == "POST":
        request_scope = "resource"
    elif route.namespaced and info.namespace:
        request_scope = "namespace"
    else:
        request_scope = "cluster"
    query: bytes = scope.get("query_string") or b""
    if method in _READ_ONLY_METHODS:
        verb = "GET" if request_scope == "resource" else "LIST"
        if info.watch_path or _watch_requested(query):
            verb = "WATCH"
    else:
        verb = method
    if verb == "PATCH":
        for key, value in scope["headers"]:
            if key == b"content-type":
                if value == _APPLY_PATCH:
                    verb = "APPLY"
                break
    if info.subresource in _CONNECT_SUBRESOURCES:
        verb = "CONNECT"
    if verb not in _VALID_VERBS:
        verb = "other"
    long_running = verb == "WATCH" or info.subresource in _LONG_RUNNING_SUBRESOURCES
    return RequestLabels(  # positional: several times cheaper than keywords on this path
        verb, _dry_run(query), info.group, info.version, info.resource, info.subresource, request_scope,
        long_running,
    )  # fmt: skip


class InflightWatermark:
    """The most requests of one kind served at once, over one-second windows.

    kube's ``apiserver_current_inflight_requests`` is "the maximal number of currently used
    inflight request limit of this apiserver per request kind in last second": the high-water mark
    of a window is published when the window ends and the next window starts from the current count.
    Windows are closed lazily, on the next request or on a scrape.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, window: float = 1.0) -> None:
        self._clock = clock
        self._window = window
        self.current = 0
        """Requests of this kind being served now."""
        self._high = 0
        self._published = 0
        self._window_start = clock()

    def _roll(self) -> None:
        now = self._clock()
        if now - self._window_start >= self._window:
            self._published = self._high
            self._high = self.current
            self._window_start = now

    def enter(self) -> None:
        self._roll()
        self.current += 1
        if self.current > self._high:
            self._high = self.current

    def leave(self) -> None:
        self._roll()
        self.current -= 1

    def value(self) -> int:
        """The published high-water mark of the last closed window (at least the current count)."""
        self._roll()
        return max(self._published, self.current)


class RequestMetrics(Collector):
    """``apiserver_request_total`` and ``apiserver_request_duration_seconds``, kept as plain counts.

    Recording a request is two dictionary updates and a bisection (no locks, no label lookups): the
    metric families are built when the registry is collected. Used from the event loop's thread.
    """

    _LABELS = ("verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component")

    def __init__(self, *, registry: CollectorRegistry | None = None) -> None:
        self._totals: dict[tuple[RequestLabels, int], int] = {}
        # labels → per-bucket counts (not cumulative; the last slot is +Inf) and the sum of durations
        self._durations: dict[RequestLabels, tuple[list[int], list[float]]] = {}
        if registry is not None:
            registry.register(self)

    def observe(self, labels: RequestLabels, code: int, seconds: float) -> None:
        """Count one finished request with its HTTP status code and duration."""
        key = (labels, code)
        self._totals[key] = self._totals.get(key, 0) + 1
        entry = self._durations.get(labels)
        if entry is None:
            entry = self._durations[labels] = ([0] * (len(REQUEST_DURATION_BUCKETS) + 1), [0.0])
        entry[0][bisect_left(REQUEST_DURATION_BUCKETS, seconds)] += 1
        entry[1][0] += seconds

    def _values(self, labels: RequestLabels) -> list[str]:
        return [*labels[:7], COMPONENT]

    def collect(self) -> Iterator[Metric]:
        total = CounterMetricFamily(
            "apiserver_request_total",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, "
            "resource, scope, component, and HTTP response code.",
            labels=(*self._LABELS, "code"),
        )
        for (labels, code), n in list(self._totals.items()):
            total.add_metric([*self._values(labels), str(code)], n)
        yield total
        durations = HistogramMetricFamily(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, "
            "resource, subresource, scope and component.",
            labels=self._LABELS,
        )
        bounds = [*(_le(b) for b in REQUEST_DURATION_BUCKETS), "+Inf"]
        for labels, (counts, sums) in list(self._durations.items()):
            cumulative: list[tuple[str, float]] = []
            running = 0
            for bound, n in zip(bounds, counts, strict=True):
                running += n
                cumulative.append((bound, running))
            durations.add_metric(self._values(labels), cumulative, sums[0])
        yield durations


def _le(bound: float) -> str:
    """A bucket bound as Prometheus clients write it (``1.0``, ``0.005``)."""
    return repr(float(bound))


class ApiServerMetrics:
    """The API server's request and storage metrics, in a registry of their own."""

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.registry = CollectorRegistry()
        """The registry ``/metrics`` renders (also holds the process collector)."""
        self.requests = RequestMetrics(registry=self.registry)
        """``apiserver_request_total`` and ``apiserver_request_duration_seconds``."""
        self.long_running = Gauge(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests broken out by verb, group, version, "
            "resource, scope and component. Not all requests are tracked this way.",
            ("verb", "group", "version", "resource", "subresource", "scope", "component"),
            registry=self.registry,
        )
        self.inflight = Gauge(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind "
            "in last second.",
            ("request_kind",),
            registry=self.registry,
        )
        self.storage_objects = Gauge(
            "apiserver_storage_objects",
            "Number of stored objects at the time of last check split by kind.",
            ("resource",),
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        self.read_only = InflightWatermark()
        """In-flight read requests (GET, HEAD), long-running ones excepted."""
        self.mutating = InflightWatermark()
        """In-flight write requests, long-running ones excepted."""
        self._labels_memo: dict[tuple[Any, ...], tuple[RequestLabels, tuple[str, str, str]]] = {}

    async def serve(
        self, scope: MutableMapping[str, Any], receive: Any, send: Any, app: ASGIApp, routes: _Routes | None
    ) -> None:
        """Serve one ASGI HTTP request with ``app``, counting it (see the module docstring)."""
        t0 = self._clock()
        labels = self._labels(scope, routes)
        status = 0

        async def send_and_observe(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        long_running = labels is not None and labels.long_running
        watermark = self.read_only if scope["method"] in _READ_ONLY_METHODS else self.mutating
        gauge: Any = None
        if long_running:
            assert labels is not None
            gauge = self.long_running.labels(
                labels.verb, labels.group, labels.version, labels.resource, labels.subresource,
                labels.scope, COMPONENT,
            )  # fmt: skip
            gauge.inc()
        else:
            watermark.enter()
        try:
            await app(scope, receive, send_and_observe)
        finally:
            if gauge is not None:
                gauge.dec()
            else:
                watermark.leave()
            if labels is not None and status and status != 401:
                self.requests.observe(labels, status, self._clock() - t0)

    def _labels(self, scope: MutableMapping[str, Any], routes: _Routes | None) -> RequestLabels | None:
        """:func:`request_labels`, memoised per (method, path, query, PATCH content type) while the
        resource stays served (a CRD's resources come and go); a full memo is emptied."""
        if routes is None:
            return request_labels(scope, routes)  # before start-up: the health paths only
        method = scope["method"]
        key: tuple[Any, ...] = (method, scope["path"], scope.get("query_string") or b"")
        if method == "PATCH":
            key += (next((v for k, v in scope["headers"] if k == b"content-type"), b""),)
        hit = self._labels_memo.get(key)
        if hit is not None and hit[1] in routes.by_gvr:
            return hit[0]
        labels = request_labels(scope, routes)
        if labels is not None and labels.resource:
            if len(self._labels_memo) >= _LABELS_MEMO_SIZE:
                self._labels_memo.clear()
            self._labels_memo[key] = (labels, (labels.group, labels.version, labels.resource))
        return labels

    async def count_objects(self, storage: Storage, routes: _Routes) -> dict[str, int]:
        """Stored objects per resource label (``<plural>`` or ``<plural>.<group>``), read from storage."""
        counts: dict[str, int] = {}
        seen: set[str] = set()
        for route in list(routes.by_gvr.values()):
            if "watch" not in route.verbs:
                continue  # not stored: bindings, reviews, componentstatuses
            if route.storage_resource in seen:
                continue  # versions sharing one storage segment are counted once
            seen.add(route.storage_resource)
            page = await storage.list(route.prefix(None), limit=1)
            label = f"{route.plural}.{route.group}" if route.group else route.plural
            counts[label] = counts.get(label, 0) + len(page.items) + page.remaining
        return counts

    async def render(self, storage: Storage | None, routes: _Routes | None) -> bytes:
        """The ``/metrics`` body: object counts refreshed, then the registry in the text format."""
        if storage is not None and routes is not None:
            counts = await self.count_objects(storage, routes)
            self.storage_objects.clear()
            for resource, n in counts.items():
                self.storage_objects.labels(resource).set(n)
        self.inflight.labels("readOnly").set(self.read_only.value())
        self.inflight.labels("mutating").set(self.mutating.value())
        return generate_latest(self.registry)
