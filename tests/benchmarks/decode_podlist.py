"""Benchmark: pyclientgo's models against ``json.loads`` on a real-shaped PodList.

The payload is shaped like a real cluster's ``kubectl get pods -o json`` (managedFields of two
managers, full status, two containers, projected service-account volume; ~5 KB per pod). Every
contender runs in the same process, in rounds that alternate the contenders (so load on a shared
machine hits all of them alike); each figure is the median over the rounds with its range, and each
ratio compares like with like:

- ``decode_read``: decode the list and read the same seven fields of every pod — typed lazy
  (``PodList.from_json``) against ``json.loads`` plus the same dict reads;
- ``materialise``: decode the list and fully materialise it (``model_dump``) against ``json.loads``;
- ``rmw``: per pod, decode its bytes, set one label and serialise the update — typed
  (``Pod.from_json``, assign ``metadata.labels``, ``to_json``) against ``json.loads`` of the same bytes
  and against ``json.loads`` + set + ``json.dumps``; the typed update is checked byte-identical to
  the input except for the label;
- retained memory per pod with only ``.items`` kept, and with the whole ``PodList`` kept.

Run: ``uv run python tests/benchmarks/decode_podlist.py [--pods N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson

from pyclientgo.api.core.v1 import Pod, PodList

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


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "max_s": round(max(samples), 4),
    }


def ratio(typed: list[float], base: list[float]) -> dict[str, float]:
    """Median and range of the per-round ratios (each round's contenders ran back to back)."""
    ratios = [t / b for t, b in zip(typed, base, strict=True)]
    return {
        "median": round(statistics.median(ratios), 3),
        "min": round(min(ratios), 3),
        "max": round(max(ratios), 3),
    }


def rmw_typed(pods: list[bytes]) -> list[bytes]:
    out = []
    for raw in pods:
        pod = Pod.from_json(raw)
        meta = pod.metadata
        assert meta is not None
        meta.labels = {**(meta.labels or {}), "benchmark": "rmw"}
        out.append(pod.to_json())
    return out


def rmw_json(pods: list[bytes]) -> list[bytes]:
    out = []
    for raw in pods:
        data = json.loads(raw)
        data["metadata"]["labels"]["benchmark"] = "rmw"
        out.append(json.dumps(data, separators=(",", ":")).encode())
    return out


def loads_each(pods: list[bytes]) -> int:
    return sum(len(json.loads(raw)) for raw in pods)


def retained_per_pod(n: int, keep_list: bool) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    data = make_podlist(n)  # counted: what a kept object pins of the response body shows
    pods: PodList | None = PodList.from_json(data)
    assert pods is not None
    read_fields(pods)
    items = pods.items
    del data
    if not keep_list:
        pods = None  # keep only the items: the list's raw bytes (the whole response) can go
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert items is not None and len(items) == n
    return (after - before) / n


def json_retained_per_pod(n: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    data = make_podlist(n)  # counted: what a kept object pins of the response body shows
    kept = json.loads(data)
    del data
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(kept["items"]) == n
    return (after - before) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--rmw-pods", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data = make_podlist(args.pods)
    # A GET of one pod: the list item with its type meta.
    pod_bytes = [
        orjson.dumps({"apiVersion": "v1", "kind": "Pod", **make_pod(i)}) for i in range(args.rmw_pods)
    ]
    # Warm up class plans and pydantic schemas once, as a long-running client would have.
    warm = PodList.from_json(make_podlist(2))
    read_fields(warm)
    warm.model_dump()
    rmw_typed(pod_bytes[:2])
    # Is the update the server's bytes but for the label?
    identical = True
    for raw, out in zip(pod_bytes, rmw_typed(pod_bytes), strict=True):
        expected = orjson.loads(raw)
        expected["metadata"]["labels"]["benchmark"] = "rmw"
        identical = identical and out == orjson.dumps(expected)
    samples: dict[str, list[float]] = {
        name: []
        for name in (
            "json_loads",
            "json_decode_read",
            "typed_decode_read",
            "typed_materialise",
            "json_loads_each",
            "json_rmw",
            "typed_rmw",
        )
    }
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("json_loads", lambda: json.loads(data)),
        ("json_decode_read", lambda: read_fields_json(json.loads(data))),
        ("typed_decode_read", lambda: read_fields(PodList.from_json(data))),
        ("typed_materialise", lambda: PodList.from_json(data).model_dump()),
        ("json_loads_each", lambda: loads_each(pod_bytes)),
        ("json_rmw", lambda: rmw_json(pod_bytes)),
        ("typed_rmw", lambda: rmw_typed(pod_bytes)),
    ]
    for round_no in range(args.rounds):
        # Alternate the order each round as well, so no contender always runs first.
        order = contenders if round_no % 2 == 0 else contenders[::-1]
        for name, fn in order:
            samples[name].append(timed(fn))
    result = {
        "pods": args.pods,
        "bytes": len(data),
        "bytes_per_pod": round(len(data) / args.pods),
        "rounds": args.rounds,
        "times": {name: summary(values) for name, values in samples.items()},
        "decode_read_vs_json_decode_read": ratio(samples["typed_decode_read"], samples["json_decode_read"]),
        "materialise_vs_json_loads": ratio(samples["typed_materialise"], samples["json_loads"]),
        "rmw_pods": args.rmw_pods,
        "rmw_vs_json_loads": ratio(samples["typed_rmw"], samples["json_loads_each"]),
        "rmw_vs_json_rmw": ratio(samples["typed_rmw"], samples["json_rmw"]),
        "rmw_update_byte_identical_but_label": identical,
        "json_loads_retained_bytes_per_pod": round(json_retained_per_pod(args.pods)),
        "retained_bytes_per_pod_items_kept": round(retained_per_pod(args.pods, keep_list=False)),
        "retained_bytes_per_pod_list_kept": round(retained_per_pod(args.pods, keep_list=True)),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
