"""Server-side Tables: columns and cells as kube-apiserver prints them (fixed clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pyclientgo.apimachinery.registry import ResourceInfo
from testserver.apiserver.tables import human_duration, to_table

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def info(group: str, kind: str, plural: str, namespaced: bool = True) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version="v1",
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        verbs=("get", "list"),
        list_kind=kind + "List",
        model="",
        list_model="",
    )


POD = info("", "Pod", "pods")


def meta(name: str, age: float = 300, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "default",
        "creationTimestamp": ago(age),
        "resourceVersion": "7",
        **extra,
    }


def table(i: ResourceInfo, *objs: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return to_table(i, list(objs), now=NOW, **kw)


def cells(i: ResourceInfo, obj: dict[str, Any]) -> list[Any]:
    return list(table(i, obj)["rows"][0]["cells"])


def names(t: dict[str, Any]) -> list[str]:
    return [c["name"] for c in t["columnDefinitions"]]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600 + 60 * 5, "3h5m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (2 * 86400 + 4 * 3600, "2d4h"),
        (3 * 86400, "3d"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (10 * 365 * 86400, "10y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def running_pod(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web"),
        "spec": {"nodeName": "n1", "containers": [{"name": "a", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": "10.0.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": ago(200)}}}
            ],
            **status,
        },
    }


def test_pod_columns_and_running_row() -> None:
    t = table(POD, running_pod())
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert names(t) == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in t["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert t["columnDefinitions"][0]["format"] == "name"
    assert all(
        set(c) == {"name", "type", "format", "description", "priority"} for c in t["columnDefinitions"]
    )
    assert t["rows"][0]["cells"] == ["web", "1/1", "Running", "0", "5m", "10.0.0.5", "n1", "<none>", "<none>"]
    assert t["metadata"] == {"resourceVersion": "7"}


def test_pod_status_reasons() -> None:
    waiting = running_pod(
        containerStatuses=[
            {
                "name": "a",
                "ready": False,
                "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}},
            }
        ]
    )
    assert cells(POD, waiting)[1:4] == ["0/1", "CrashLoopBackOff", "5 (5m ago)"]

    pending = {"metadata": meta("p"), "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}}
    assert cells(POD, pending)[1:5] == ["0/1", "Pending", "0", "5m"]
    assert cells(POD, pending)[5:] == ["<none>", "<none>", "<none>", "<none>"]

    completed = running_pod(
        phase="Succeeded",
        containerStatuses=[
            {
                "name": "a",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
        ],
    )
    row = table(POD, completed)["rows"][0]
    assert row["cells"][2] == "Completed"
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]

    exit_code = running_pod(
        containerStatuses=[{"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 0}}}]
    )
    assert cells(POD, exit_code)[2] == "ExitCode:137"

    deleting = running_pod()
    deleting["metadata"]["deletionTimestamp"] = ago(1)
    assert cells(POD, deleting)[2] == "Terminating"
    node_lost = running_pod(reason="NodeLost")
    node_lost["metadata"]["deletionTimestamp"] = ago(1)
    assert cells(POD, node_lost)[2] == "Unknown"
    done_and_deleting = dict(completed, metadata=dict(completed["metadata"], deletionTimestamp=ago(1)))
    assert cells(POD, done_and_deleting)[2] == "Completed"

    evicted = {
        "metadata": meta("e"),
        "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Failed", "reason": "Evicted"},
    }
    assert cells(POD, evicted)[2] == "Evicted"


def test_pod_init_containers_and_gates() -> None:
    pod = {
        "metadata": meta("i"),
        "spec": {
            "initContainers": [{"name": "init1"}, {"name": "init2"}],
            "containers": [{"name": "a"}],
            "readinessGates": [{"conditionType": "x/ready"}, {"conditionType": "y/ready"}],
        },
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "x/ready", "status": "True"}],
            "initContainerStatuses": [
                {"name": "init1", "state": {"terminated": {"exitCode": 0}}},
                {"name": "init2", "state": {"running": {}}},
            ],
        },
    }
    c = cells(POD, pod)
    assert c[1:3] == ["0/1", "Init:1/2"]
    assert c[8] == "1/2"
    pod["status"]["initContainerStatuses"][1] = {
        "name": "init2",
        "state": {"waiting": {"reason": "ImagePullBackOff"}},
    }
    assert cells(POD, pod)[2] == "Init:ImagePullBackOff"
    pod["status"]["initContainerStatuses"][1] = {"name": "init2", "state": {"terminated": {"exitCode": 2}}}
    assert cells(POD, pod)[2] == "Init:ExitCode:2"


def test_pod_sidecar_counts_as_container() -> None:
    pod = running_pod(
        initContainerStatuses=[
            {"name": "side", "ready": True, "started": True, "restartCount": 1, "state": {"running": {}}}
        ]
    )
    pod["spec"]["initContainers"] = [{"name": "side", "restartPolicy": "Always"}]
    assert cells(POD, pod)[1:4] == ["2/2", "Running", "1"]


def test_include_object_variants_and_list_meta() -> None:
    pod = running_pod()
    meta_rows = table(POD, pod)["rows"][0]["object"]
    assert meta_rows == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert table(POD, pod, include_object="Object")["rows"][0]["object"] == pod
    assert "object" not in table(POD, pod, include_object="None")["rows"][0]
    with pytest.raises(ValueError):
        table(POD, pod, include_object="Bogus")
    t = table(POD, pod, pod, list_meta={"resourceVersion": "42", "continue": "abc", "remainingItemCount": 3})
    assert t["metadata"] == {"resourceVersion": "42", "continue": "abc", "remainingItemCount": 3}
    assert len(t["rows"]) == 2
    assert table(POD, list_meta={"resourceVersion": "9"})["rows"] == []


def test_watch_event_rows_without_headers() -> None:
    t = table(POD, running_pod(), list_meta={"resourceVersion": "12"}, no_headers=True)
    assert t["columnDefinitions"] is None
    assert len(t["rows"]) == 1 and t["metadata"] == {"resourceVersion": "12"}


def test_node() -> None:
    node = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": ago(2 * 86400 + 4 * 3600),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/worker": "",
                "kubernetes.io/role": "edge",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.1.0.1"},
                {"type": "Hostname", "address": "n1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Linux",
                "kernelVersion": "6.1",
                "containerRuntimeVersion": "pyclientgo://1",
            },
        },
    }
    t = table(info("", "Node", "nodes", namespaced=False), node)
    assert names(t) == [
        "Name",
        "Status",
        "Roles",
        "Age",
        "Version",
        "Internal-IP",
        "External-IP",
        "OS-Image",
        "Kernel-Version",
        "Container-Runtime",
    ]
    assert t["rows"][0]["cells"] == [
        "n1",
        "Ready,SchedulingDisabled",
        "control-plane,edge,worker",
        "2d4h",
        "v1.32.0",
        "10.1.0.1",
        "<none>",
        "Linux",
        "6.1",
        "pyclientgo://1",
    ]
    bare = {"metadata": {"name": "n2"}, "status": {}}
    assert cells(info("", "Node", "nodes", False), bare)[:4] == ["n2", "Unknown", "<none>", "<unknown>"]
    not_ready = {
        "metadata": {"name": "n3"},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    assert cells(info("", "Node", "nodes", False), not_ready)[1] == "NotReady"


TEMPLATE = {"spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox"}]}}
SELECTOR = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
}


def test_deployment_replicaset_statefulset_daemonset() -> None:
    deploy = {
        "metadata": meta("web", 60),
        "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    t = table(info("apps", "Deployment", "deployments"), deploy)
    assert names(t) == ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]
    assert t["rows"][0]["cells"] == [
        "web",
        "2/3",
        3,
        2,
        "60s",
        "a,b",
        "nginx:1,busybox",
        "app=web,tier in (a,b)",
    ]

    rs = {
        "metadata": meta("web-1"),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    t = table(info("apps", "ReplicaSet", "replicasets"), rs)
    assert names(t) == ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]
    assert t["rows"][0]["cells"] == ["web-1", 2, 2, 1, "5m", "a,b", "nginx:1,busybox", "app=web"]
    assert [c["type"] for c in t["columnDefinitions"][1:4]] == ["integer"] * 3

    sts = {
        "metadata": meta("db"),
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 3},
    }
    t = table(info("apps", "StatefulSet", "statefulsets"), sts)
    assert names(t) == ["Name", "Ready", "Age", "Containers", "Images"]
    assert t["rows"][0]["cells"] == ["db", "3/3", "5m", "a,b", "nginx:1,busybox"]

    ds = {
        "metadata": meta("agent"),
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {**TEMPLATE["spec"], "nodeSelector": {"os": "linux"}}},
        },
        "status": {
            "desiredNumberScheduled": 2,
            "currentNumberScheduled": 2,
            "numberReady": 1,
            "updatedNumberScheduled": 2,
            "numberAvailable": 1,
        },
    }
    t = table(info("apps", "DaemonSet", "daemonsets"), ds)
    assert names(t) == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert t["rows"][0]["cells"] == [
        "agent",
        2,
        2,
        1,
        2,
        1,
        "os=linux",
        "5m",
        "a,b",
        "nginx:1,busybox",
        "app=agent",
    ]


def test_service() -> None:
    svc = {
        "metadata": meta("web"),
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "selector": {"app": "web"},
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}, {"port": 53, "protocol": "UDP"}],
        },
    }
    t = table(info("", "Service", "services"), svc)
    assert names(t) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]
    assert t["rows"][0]["cells"] == [
        "web",
        "NodePort",
        "10.96.0.10",
        "<none>",
        "80:30080/TCP,53/UDP",
        "5m",
        "app=web",
    ]
    lb = {"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.11"], "ports": []}}
    assert cells(info("", "Service", "services"), lb)[3:5] == ["<pending>", "<none>"]
    headless = {
        "metadata": meta("h"),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "clusterIPs": ["None"],
            "ports": [{"port": 80, "protocol": "TCP"}],
        },
    }
    assert cells(info("", "Service", "services"), headless)[1:5] == ["ClusterIP", "None", "<none>", "80/TCP"]


def test_configmap_secret_namespace_serviceaccount_lease() -> None:
    cm = {"metadata": meta("c"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    t = table(info("", "ConfigMap", "configmaps"), cm)
    assert names(t) == ["Name", "Data", "Age"] and t["rows"][0]["cells"] == ["c", 3, "5m"]
    secret = {"metadata": meta("s"), "type": "Opaque", "data": {"x": "eA=="}}
    t = table(info("", "Secret", "secrets"), secret)
    assert names(t) == ["Name", "Type", "Data", "Age"] and t["rows"][0]["cells"] == ["s", "Opaque", 1, "5m"]
    ns = {
        "metadata": {"name": "kube-system", "creationTimestamp": ago(86400 * 3)},
        "status": {"phase": "Active"},
    }
    t = table(info("", "Namespace", "namespaces", False), ns)
    assert names(t) == ["Name", "Status", "Age"] and t["rows"][0]["cells"] == ["kube-system", "Active", "3d"]
    sa = {"metadata": meta("default"), "secrets": [{"name": "t"}]}
    t = table(info("", "ServiceAccount", "serviceaccounts"), sa)
    assert names(t) == ["Name", "Secrets", "Age"] and t["rows"][0]["cells"] == ["default", 1, "5m"]
    lease = {"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "sched-1"}}
    t = table(info("coordination.k8s.io", "Lease", "leases"), lease)
    assert names(t) == ["Name", "Holder", "Age"] and t["rows"][0]["cells"] == [
        "kube-scheduler",
        "sched-1",
        "5m",
    ]


def test_events() -> None:
    ev = {
        "metadata": meta("web.17a"),
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{a}"},
        "reason": "Pulled",
        "type": "Normal",
        "message": "Successfully pulled image \n",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(30),
        "count": 4,
    }
    t = table(info("", "Event", "events"), ev)
    assert names(t) == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
    ]
    assert [c["priority"] for c in t["columnDefinitions"]] == [0, 0, 0, 0, 1, 1, 0, 1, 1, 1]
    assert t["rows"][0]["cells"] == [
        "30s",
        "Normal",
        "Pulled",
        "pod/web",
        "spec.containers{a}",
        "kubelet, n1",
        "Successfully pulled image",
        "10m",
        4,
        "web.17a",
    ]
    new_style = {
        "metadata": meta("e2"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2024-05-01T11:59:00.000000Z",
        "reportingController": "ctl",
        "type": "Warning",
        "reason": "X",
        "message": "m",
    }
    assert cells(info("", "Event", "events"), new_style)[:9] == [
        "60s",
        "Warning",
        "X",
        "node",
        "",
        "ctl",
        "m",
        "60s",
        1,
    ]
    v1 = {
        "metadata": meta("e3"),
        "regarding": {"kind": "Pod", "name": "p"},
        "note": "hello",
        "reason": "R",
        "type": "Normal",
        "eventTime": ago(20),
        "series": {"count": 3, "lastObservedTime": ago(10)},
    }
    assert cells(info("events.k8s.io", "Event", "events"), v1)[:9] == [
        "10s",
        "Normal",
        "R",
        "pod/p",
        "",
        "",
        "hello",
        "20s",
        3,
    ]


def test_jobs_and_cronjobs() -> None:
    job = {
        "metadata": meta("j"),
        "spec": {"completions": 3, "selector": {"matchLabels": {"job": "j"}}, "template": TEMPLATE},
        "status": {
            "succeeded": 3,
            "startTime": ago(300),
            "completionTime": ago(100),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    t = table(info("batch", "Job", "jobs"), job)
    assert names(t) == [
        "Name",
        "Status",
        "Completions",
        "Duration",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert t["rows"][0]["cells"] == ["j", "Complete", "3/3", "3m20s", "5m", "a,b", "nginx:1,busybox", "job=j"]
    running = {
        "metadata": meta("k"),
        "spec": {"parallelism": 2, "template": TEMPLATE},
        "status": {"startTime": ago(10)},
    }
    assert cells(info("batch", "Job", "jobs"), running)[1:4] == ["Running", "0/1 of 2", "10s"]
    failed = {
        "metadata": meta("f"),
        "spec": {},
        "status": {"conditions": [{"type": "Failed", "status": "True"}]},
    }
    assert cells(info("batch", "Job", "jobs"), failed)[1:4] == ["Failed", "0/1", ""]

    cj = {
        "metadata": meta("c"),
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "x"}], "lastScheduleTime": ago(120)},
    }
    t = table(info("batch", "CronJob", "cronjobs"), cj)
    assert names(t) == [
        "Name",
        "Schedule",
        "Timezone",
        "Suspend",
        "Active",
        "Last Schedule",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert t["rows"][0]["cells"] == [
        "c",
        "*/5 * * * *",
        "<none>",
        False,
        1,
        "2m",
        "5m",
        "a,b",
        "nginx:1,busybox",
        "<none>",
    ]


def test_persistent_volumes_and_claims() -> None:
    pv = {
        "metadata": meta("pv1"),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "fast",
        },
        "status": {"phase": "Bound"},
    }
    t = table(info("", "PersistentVolume", "persistentvolumes", False), pv)
    assert t["rows"][0]["cells"] == [
        "pv1",
        "1Gi",
        "RWO,RWX",
        "Retain",
        "Bound",
        "default/data",
        "fast",
        "<unset>",
        "",
        "5m",
        "<unset>",
    ]
    pvc = {
        "metadata": meta("data"),
        "spec": {"volumeName": "pv1", "storageClassName": "fast", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]},
    }
    t = table(info("", "PersistentVolumeClaim", "persistentvolumeclaims"), pvc)
    assert t["rows"][0]["cells"] == [
        "data",
        "Bound",
        "pv1",
        "1Gi",
        "RWO",
        "fast",
        "<unset>",
        "5m",
        "Filesystem",
    ]


def test_default_table_for_other_kinds() -> None:
    role = {"metadata": {"name": "r", "creationTimestamp": "2024-04-30T10:00:00Z"}}
    t = table(info("rbac.authorization.k8s.io", "Role", "roles"), role)
    assert names(t) == ["Name", "Created At"]
    assert t["columnDefinitions"][1]["type"] == "date"
    assert t["rows"][0]["cells"] == ["r", "2024-04-30T10:00:00Z"]
    assert table(info("x.io", "Thing", "things"), {"metadata": {"name": "t"}})["rows"][0]["cells"] == [
        "t",
        "0001-01-01T00:00:00Z",
    ]


def test_custom_resource_printer_columns() -> None:
    columns = [
        {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas", "priority": 1},
        {"name": "First", "type": "string", "jsonPath": ".spec.items[0].name"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    obj = {
        "metadata": meta("ct"),
        "spec": {"cronSpec": "* * * * */5", "replicas": 2, "items": [{"name": "x"}]},
    }
    t = table(info("stable.example.com", "CronTab", "crontabs"), obj, printer_columns=columns)
    assert names(t) == ["Name", "Spec", "Replicas", "First", "Age"]
    assert t["columnDefinitions"][2]["priority"] == 1
    assert "JSONPath" in t["columnDefinitions"][1]["description"]
    assert t["rows"][0]["cells"] == ["ct", "* * * * */5", 2, "x", "5m"]
    t = table(info("stable.example.com", "CronTab", "crontabs"), {"metadata": meta("ct")}, printer_columns=[])
    assert names(t) == ["Name", "Age"] and t["rows"][0]["cells"] == ["ct", "5m"]


def test_column_descriptions_come_from_the_models() -> None:
    t = table(POD, running_pod())
    by_name = {c["name"]: c["description"] for c in t["columnDefinitions"]}
    assert by_name["Name"].startswith("Name must be unique within a namespace")
    assert by_name["Age"].startswith("CreationTimestamp is a timestamp")
    assert "IP address allocated to the pod" in by_name["IP"]
