"""Micro-benchmark of the SDK helpers on the scheduler's hot path: per-call cost of pod_requests,
compute_pod_qos, RequiredNodeAffinity.match and find_matching_untolerated_taint on typed models
(decoded from wire JSON, as informers deliver them). Prints one JSON object (microseconds per call).

Run: ``uv run python tests/benchmarks/component_helpers.py [--nodes 5000]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from pyclientgo.api.core.v1 import Node, Pod
from pyclientgo.component_helpers import (
    compute_pod_qos,
    find_matching_untolerated_taint,
    get_required_node_affinity,
    pod_requests,
)


def pod_json() -> bytes:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "topology.kubernetes.io/zone",
                                        "operator": "In",
                                        "values": ["a", "b"],
                                    },
                                    {"key": "cores", "operator": "Gt", "values": ["2"]},
                                ]
                            }
                        ]
                    }
                }
            },
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
            ],
            "initContainers": [
                {
                    "name": "init",
                    "image": "busybox",
                    "resources": {"requests": {"cpu": "500m", "memory": "64Mi"}},
                },
                {
                    "name": "proxy",
                    "image": "envoy",
                    "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}},
                },
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "128Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                },
                {
                    "name": "log",
                    "image": "fluent",
                    "resources": {"requests": {"cpu": "50m", "memory": "16Mi"}},
                },
            ],
            "overhead": {"cpu": "10m"},
        },
    }
    return orjson.dumps(body)


def node_json(i: int) -> bytes:
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i}",
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": f"node-{i}",
                "topology.kubernetes.io/zone": "abc"[i % 3],
                "cores": str(2 + i % 8),
            },
        },
        "spec": {"taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}] if i % 2 else []},
    }
    return orjson.dumps(body)


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    args = parser.parse_args()
    raw = pod_json()
    pod = Pod.from_json(raw)
    nodes = [Node.from_json(node_json(i)) for i in range(args.nodes)]
    for n in nodes:  # informers hand out decoded objects: touch the fields once
        _ = n.metadata.labels if n.metadata is not None else None
        _ = n.spec.taints if n.spec is not None else None

    affinity = get_required_node_affinity(pod)
    tolerations = pod.spec.tolerations if pod.spec is not None else None

    def match_all() -> int:
        return sum(1 for n in nodes if affinity.match(n))

    def taints_all() -> int:
        return sum(
            1
            for n in nodes
            if find_matching_untolerated_taint(
                n.spec.taints if n.spec is not None else None,
                tolerations,
                lambda t: t.effect in ("NoSchedule", "NoExecute"),
            )
            is None
        )

    matched = match_all()
    tolerated = taints_all()
    figures = {
        "benchmark": "component_helpers",
        "nodes": args.nodes,
        "pod_requests_us": round(per_call_us(lambda: pod_requests(pod), 20000), 2),
        "pod_requests_fresh_pod_us": round(per_call_us(lambda: pod_requests(Pod.from_json(raw)), 2000), 2),
        "compute_pod_qos_us": round(per_call_us(lambda: compute_pod_qos(pod), 20000), 2),
        "get_required_node_affinity_us": round(per_call_us(lambda: get_required_node_affinity(pod), 5000), 2),
        "required_node_affinity_match_us_per_node": round(per_call_us(match_all, 5) / args.nodes, 3),
        "untolerated_taint_us_per_node": round(per_call_us(taints_all, 5) / args.nodes, 3),
        "nodes_matching_affinity": matched,
        "nodes_tolerated": tolerated,
        "pod_requests": {k: str(v) for k, v in sorted(pod_requests(pod).items())},
        "qos": compute_pod_qos(pod),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
