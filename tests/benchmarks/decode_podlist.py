"""Benchmark: decode a 5000-pod PodList and read a few fields of every pod.

Prints one JSON object: ``json.loads`` time, pyclientgo's typed decode + reads time (best of 5 each),
their ratio (target <= 0.7), and the memory retained per pod with every pod kept (target <= 10 KB).

Run: ``uv run python tests/benchmarks/decode_podlist.py [--pods N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from typing import Any

from pyclientgo.api.core.v1 import PodList

_NODE_COUNT = 50


def make_pod(i: int) -> dict[str, Any]:
    """A pod as a ReplicaSet creates it and the kubelet reports it (~5 KB of JSON)."""
    app = f"app-{i % 40}"
    rs = f"{app}-7d9f8c6b5{i % 10}"
    name = f"{rs}-{i:05x}abc"
    uid = f"{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    ts = f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z"
    node = f"node-{i % _NODE_COUNT:03d}.cluster.internal"
    ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return {
        "metadata": {
            "name": name,
            "generateName": f"{rs}-",
            "namespace": f"team-{i % 20}",
            "uid": uid,
            "resourceVersion": str(1000000 + i),
            "creationTimestamp": ts,
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/instance": f"{app}-prod",
                "app.kubernetes.io/version": "1.27.3",
                "pod-template-hash": rs.rsplit("-", 1)[1],
                "tier": "backend",
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": "2024-04-30T08:00:00Z",
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs,
                    "uid": f"{i % 400:08x}-aaaa-bbbb-cccc-dddddddddddd",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {
                            "f:generateName": {},
                            "f:labels": {
                                ".": {},
                                "f:app.kubernetes.io/instance": {},
                                "f:app.kubernetes.io/name": {},
                                "f:app.kubernetes.io/version": {},
                                "f:pod-template-hash": {},
                                "f:tier": {},
                            },
                            "f:ownerReferences": {".": {}, f'k:{{"uid":"{uid}"}}': {}},
                        },
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"app"}': {
                                    ".": {},
                                    "f:env": {
                                        ".": {},
                                        'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}},
                                    },
                                    "f:image": {},
                                    "f:imagePullPolicy": {},
                                    "f:name": {},
                                    "f:ports": {
                                        'k:{"containerPort":8080,"protocol":"TCP"}': {
                                            ".": {},
                                            "f:containerPort": {},
                                        }
                                    },
                                    "f:resources": {".": {}, "f:limits": {}, "f:requests": {}},
                                    "f:volumeMounts": {},
                                }
                            },
                            "f:dnsPolicy": {},
                            "f:restartPolicy": {},
                            "f:schedulerName": {},
                            "f:terminationGracePeriodSeconds": {},
                            "f:volumes": {},
                        },
                    },
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:status": {
                            "f:conditions": {
                                'k:{"type":"ContainersReady"}': {
                                    ".": {},
                                    "f:lastTransitionTime": {},
                                    "f:status": {},
                                    "f:type": {},
                                },
                                'k:{"type":"Ready"}': {
                                    ".": {},
                                    "f:lastTransitionTime": {},
                                    "f:status": {},
                                    "f:type": {},
                                },
                            },
                            "f:containerStatuses": {},
                            "f:hostIP": {},
                            "f:phase": {},
                            "f:podIP": {},
                            "f:podIPs": {".": {}, f'k:{{"ip":"{ip}"}}': {".": {}, "f:ip": {}}},
                            "f:startTime": {},
                        }
                    },
                    "subresource": "status",
                },
            ],
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
                {
                    "name": "kube-api-access-x7k2p",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                        ],
                        "defaultMode": 420,
                    },
                },
            ],
            "containers": [
                {
                    "name": "app",
                    "image": f"registry.example.com/{app}:1.27.3",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                        },
                    ],
                    "resources": {
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                    },
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/app", "readOnly": True},
                        {
                            "name": "kube-api-access-x7k2p",
                            "readOnly": True,
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        },
                    ],
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                },
                {
                    "name": "sidecar",
                    "image": "registry.example.com/proxy:2.1.0",
                    "args": ["--port=9090", "--upstream=http://127.0.0.1:8080"],
                    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                },
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": node,
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "hostIP": f"192.168.{i % _NODE_COUNT}.10",
            "hostIPs": [{"ip": f"192.168.{i % _NODE_COUNT}.10"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": ts,
            "containerStatuses": [
                {
                    "name": c,
                    "state": {"running": {"startedAt": ts}},
                    "lastState": {},
                    "ready": True,
                    "restartCount": 0,
                    "image": image,
                    "imageID": f"{image.split(':')[0]}@sha256:{'%064x' % (i * 7919)}",
                    "containerID": f"containerd://{'%064x' % (i * 104729 + len(c))}",
                    "started": True,
                }
                for c, image in (
                    ("app", f"registry.example.com/{app}:1.27.3"),
                    ("sidecar", "registry.example.com/proxy:2.1.0"),
                )
            ],
            "qosClass": "Burstable",
        },
    }


def make_podlist(n: int) -> bytes:
    return json.dumps(
        {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "2000000"},
            "items": [make_pod(i) for i in range(n)],
        },
        separators=(",", ":"),
    ).encode()


def read_fields(pods: PodList) -> int:
    total = 0
    for pod in pods.items or ():
        meta, spec, status = pod.metadata, pod.spec, pod.status
        assert meta is not None and spec is not None and status is not None and spec.containers
        values = (
            meta.name,
            meta.namespace,
            meta.labels,
            meta.resource_version,
            spec.node_name,
            status.phase,
            spec.containers[0].image,
        )
        total += len(values)
    return total


def read_fields_json(data: dict[str, Any]) -> int:
    total = 0
    for pod in data["items"]:
        meta, spec = pod["metadata"], pod["spec"]
        values = (
            meta["name"],
            meta["namespace"],
            meta["labels"],
            meta["resourceVersion"],
            spec["nodeName"],
            pod["status"]["phase"],
            spec["containers"][0]["image"],
        )
        total += len(values)
    return total


def best_of(runs: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def retained_per_pod(n: int) -> float:
    data = make_podlist(n)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    pods = PodList.from_json(data)
    read_fields(pods)
    items = pods.items
    del data, pods  # keep only the items: the list's raw bytes (the whole response) can go
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert items is not None and len(items) == n
    return (after - before) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = make_podlist(args.pods)
    # Warm up class plans and pydantic schemas once, as a long-running client would have.
    read_fields(PodList.from_json(make_podlist(2)))
    json_s = best_of(args.runs, lambda: json.loads(data))
    json_read_s = best_of(args.runs, lambda: read_fields_json(json.loads(data)))
    typed_s = best_of(args.runs, lambda: read_fields(PodList.from_json(data)))
    per_pod = retained_per_pod(args.pods)
    result = {
        "pods": args.pods,
        "bytes": len(data),
        "bytes_per_pod": round(len(data) / args.pods),
        "json_loads_s": round(json_s, 4),
        "json_loads_and_read_s": round(json_read_s, 4),
        "typed_decode_and_read_s": round(typed_s, 4),
        "ratio": round(typed_s / json_s, 3),
        "ratio_target": 0.7,
        "retained_bytes_per_pod": round(per_pod),
        "retained_target_bytes_per_pod": 10 * 1024,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
