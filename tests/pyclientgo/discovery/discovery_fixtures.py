"""Hand-written discovery documents shaped as a real API server writes them (docs/reference/apiserver_behavior.md §1).

One server, described twice: by legacy discovery (``LEGACY``: path → body) and by aggregated
discovery v2 (``AGGREGATED_API`` for ``/api``, ``AGGREGATED_APIS`` for ``/apis``).
"""

from __future__ import annotations

from typing import Any

import respx

HOST = "https://k8s.test"
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _res(name: str, kind: str, namespaced: bool, singular: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "singularName": singular,
        "namespaced": namespaced,
        "kind": kind,
        "verbs": extra.pop("verbs", ALL_VERBS),
        **extra,
    }


API_V1 = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        _res(
            "configmaps", "ConfigMap", True, "configmap", shortNames=["cm"], storageVersionHash="qFsyl6wFWjQ="
        ),
        _res("events", "Event", True, "event", shortNames=["ev"]),
        _res(
            "namespaces",
            "Namespace",
            False,
            "namespace",
            shortNames=["ns"],
            verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
        ),
        _res("namespaces/finalize", "Namespace", False, verbs=["update"]),
        _res("namespaces/status", "Namespace", False, verbs=["get", "patch", "update"]),
        _res("nodes", "Node", False, "node", shortNames=["no"]),
        _res("nodes/status", "Node", False, verbs=["get", "patch", "update"]),
        _res("pods", "Pod", True, "pod", shortNames=["po"], categories=["all"]),
        _res("pods/binding", "Binding", True, verbs=["create"]),
        _res("pods/eviction", "Eviction", True, group="policy", version="v1", verbs=["create"]),
        _res("pods/log", "Pod", True, verbs=["get"]),
        _res("pods/status", "Pod", True, verbs=["get", "patch", "update"]),
        _res("services", "Service", True, "service", shortNames=["svc"], categories=["all"]),
    ],
}

APIS = {
    "kind": "APIGroupList",
    "apiVersion": "v1",
    "groups": [
        {
            "name": "apps",
            "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
        },
        {
            "name": "events.k8s.io",
            "versions": [{"groupVersion": "events.k8s.io/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "events.k8s.io/v1", "version": "v1"},
        },
        {
            "name": "autoscaling",
            "versions": [
                {"groupVersion": "autoscaling/v1", "version": "v1"},
                {"groupVersion": "autoscaling/v2", "version": "v2"},
            ],
            "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"},
        },
        {
            "name": "stable.example.com",
            "versions": [{"groupVersion": "stable.example.com/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "stable.example.com/v1", "version": "v1"},
        },
    ],
}

APPS_V1 = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "apps/v1",
    "resources": [
        _res("deployments", "Deployment", True, "deployment", shortNames=["deploy"], categories=["all"]),
        _res(
            "deployments/scale",
            "Scale",
            True,
            group="autoscaling",
            version="v1",
            verbs=["get", "patch", "update"],
        ),
        _res("deployments/status", "Deployment", True, verbs=["get", "patch", "update"]),
        _res("replicasets", "ReplicaSet", True, "replicaset", shortNames=["rs"], categories=["all"]),
    ],
}

EVENTS_V1 = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "events.k8s.io/v1",
    "resources": [_res("events", "Event", True, "event", shortNames=["ev"])],
}


def _hpa(gv: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": [
            _res(
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                True,
                "horizontalpodautoscaler",
                shortNames=["hpa"],
                categories=["all"],
            ),
            _res(
                "horizontalpodautoscalers/status",
                "HorizontalPodAutoscaler",
                True,
                verbs=["get", "patch", "update"],
            ),
        ],
    }


CRONTABS_V1 = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "stable.example.com/v1",
    "resources": [
        _res("crontabs", "CronTab", True, "crontab", shortNames=["ct"], categories=["all"]),
        _res(
            "crontabs/scale",
            "Scale",
            True,
            group="autoscaling",
            version="v1",
            verbs=["get", "patch", "update"],
        ),
    ],
}

LEGACY: dict[str, dict[str, Any]] = {
    "/api": {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    },
    "/apis": APIS,
    "/api/v1": API_V1,
    "/apis/apps/v1": APPS_V1,
    "/apis/events.k8s.io/v1": EVENTS_V1,
    "/apis/autoscaling/v1": _hpa("autoscaling/v1"),
    "/apis/autoscaling/v2": _hpa("autoscaling/v2"),
    "/apis/stable.example.com/v1": CRONTABS_V1,
}


# -- aggregated discovery v2 ----------------------------------------------------------------------


def _agg_resource(
    res: dict[str, Any], group: str, version: str, subs: list[dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": res["name"],
        "responseKind": {"group": group, "version": version, "kind": res["kind"]},
        "scope": "Namespaced" if res["namespaced"] else "Cluster",
        "singularResource": res["singularName"],
        "verbs": res["verbs"],
    }
    if res.get("shortNames"):
        out["shortNames"] = res["shortNames"]
    if res.get("categories"):
        out["categories"] = res["categories"]
    if subs:
        out["subresources"] = [
            {
                "subresource": sub["name"].split("/", 1)[1],
                "responseKind": {
                    "group": sub.get("group", group),
                    "version": sub.get("version", version),
                    "kind": sub["kind"],
                },
                "verbs": sub["verbs"],
            }
            for sub in subs
        ]
    return out


def _agg_version(doc: dict[str, Any]) -> dict[str, Any]:
    group, _, version = doc["groupVersion"].rpartition("/")
    mains = [r for r in doc["resources"] if "/" not in r["name"]]
    return {
        "version": version,
        "resources": [
            _agg_resource(
                r, group, version, [s for s in doc["resources"] if s["name"].startswith(r["name"] + "/")]
            )
            for r in mains
        ],
        "freshness": "Current",
    }


def _agg_group(name: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": None},
        "versions": [_agg_version(d) for d in docs],
    }


AGGREGATED_API = {
    "kind": "APIGroupDiscoveryList",
    "apiVersion": "apidiscovery.k8s.io/v2",
    "metadata": {},
    "items": [{"metadata": {"creationTimestamp": None}, "versions": [_agg_version(API_V1)]}],
}

AGGREGATED_APIS = {
    "kind": "APIGroupDiscoveryList",
    "apiVersion": "apidiscovery.k8s.io/v2",
    "metadata": {},
    "items": [
        _agg_group("apps", [APPS_V1]),
        _agg_group("events.k8s.io", [EVENTS_V1]),
        # Aggregated discovery lists versions in preference order.
        _agg_group("autoscaling", [_hpa("autoscaling/v2"), _hpa("autoscaling/v1")]),
        _agg_group("stable.example.com", [CRONTABS_V1]),
    ],
}


def serve_legacy(router: respx.MockRouter) -> dict[str, respx.Route]:
    """Legacy discovery: the roots ignore the aggregated Accept and answer plain JSON."""
    return {path: router.get(path).respond(json=body) for path, body in LEGACY.items()}


def serve_aggregated(router: respx.MockRouter) -> dict[str, respx.Route]:
    """Aggregated discovery v2 on the roots (group-version documents are served too, as real servers do)."""
    routes = {
        path: router.get(path).respond(json=body) for path, body in LEGACY.items() if path.count("/") > 1
    }
    headers = {"content-type": AGGREGATED_CONTENT_TYPE}
    routes["/api"] = router.get("/api").respond(json=AGGREGATED_API, headers=headers)
    routes["/apis"] = router.get("/apis").respond(json=AGGREGATED_APIS, headers=headers)
    return routes
