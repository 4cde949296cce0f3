"""Generated models on real shapes: wire round trips, laziness, times, IntOrString, metadata for the server."""

from __future__ import annotations

import datetime
import json
from typing import Any

import orjson

from pyclientgo.api.apiextensions.v1 import CustomResourceDefinition, JSONSchemaProps
from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.api.core.v1 import ConfigMap, Container, ContainerPort, Pod, PodList, PodSpec, ServicePort
from pyclientgo.api.meta.v1 import DeleteOptions, LabelSelector, ObjectMeta, Status
from pyclientgo.apimachinery.model import K8sModel, K8sObject, is_lazy


def _pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-0",
            "namespace": "default",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "web"},
            "someFutureMetadata": {"x": 1},
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Apply",
                    "time": "2024-05-01T10:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}},
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"port": "http", "path": "/"}},
                    "livenessProbe": {"tcpSocket": {"port": 80}},
                    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}},
                    "futureContainerField": True,
                }
            ],
            "nodeName": "node-1",
        },
        "status": {"phase": "Running", "startTime": "2024-05-01T10:00:01Z"},
    }


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "generation": 3},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}},
            "unknownSpecField": [1, 2],
        },
        "status": {"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]},
    }


def test_unknown_fields_survive_get_modify_update() -> None:
    pod = Pod.from_json(json.dumps(_pod()).encode())
    assert is_lazy(pod)
    assert pod.metadata is not None and pod.metadata.labels is not None
    pod.metadata.labels["tier"] = "frontend"
    out = orjson.loads(pod.to_json())
    assert out["metadata"]["labels"] == {"app": "web", "tier": "frontend"}
    assert out["metadata"]["someFutureMetadata"] == {"x": 1}
    assert out["spec"]["containers"][0]["futureContainerField"] is True
    expected = _pod()
    expected["metadata"]["labels"]["tier"] = "frontend"
    assert out == expected


def test_deployment_round_trip_after_materialising() -> None:
    dep = Deployment.from_json(json.dumps(_deployment()).encode())
    assert dep.spec is not None
    dep.spec.replicas = 5
    assert is_lazy(dep.spec)  # a single assignment does not materialise (issue 20)
    expected = _deployment()
    expected["spec"]["replicas"] = 5
    assert dep.to_dict() == expected
    dep.model_dump()  # materialised now: the assignment is kept, and kept as set
    assert not is_lazy(dep.spec)
    assert dep.to_dict() == expected


def test_nothing_emitted_that_was_not_set() -> None:
    assert ConfigMap(metadata=ObjectMeta(name="x"), data={"a": "b"}).to_dict() == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {"a": "b"},
    }
    assert Container(name="c", ports=[ContainerPort(container_port=80)]).to_dict() == {
        "name": "c",
        "ports": [{"containerPort": 80}],
    }
    assert Pod().to_dict() == {"apiVersion": "v1", "kind": "Pod"}
    assert b"null" not in Deployment.from_dict(_deployment()).to_json()


def test_kinds_know_their_type_meta() -> None:
    assert issubclass(Pod, K8sObject) and (Pod.API_VERSION, Pod.KIND) == ("v1", "Pod")
    assert (Deployment.API_VERSION, Deployment.KIND) == ("apps/v1", "Deployment")
    assert (PodList.API_VERSION, PodList.KIND) == ("v1", "PodList")
    assert (Status.API_VERSION, Status.KIND) == ("v1", "Status")
    assert (DeleteOptions.API_VERSION, DeleteOptions.KIND) == ("v1", "DeleteOptions")
    assert Deployment().api_version == "apps/v1"
    assert not issubclass(PodSpec, K8sObject) and issubclass(PodSpec, K8sModel)


def test_times_are_aware_and_written_with_z() -> None:
    pod = Pod.from_dict(_pod())
    assert pod.metadata is not None
    created = pod.metadata.creation_timestamp
    assert created == datetime.datetime(2024, 5, 1, 10, tzinfo=datetime.UTC)
    assert pod.to_dict()["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"
    meta = ObjectMeta(name="x", creation_timestamp=datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC))
    assert meta.to_dict()["creationTimestamp"] == "2024-05-01T12:00:00Z"


def test_int_or_string_both_ways() -> None:
    port = ServicePort.from_dict({"port": 80, "targetPort": 8080})
    assert port.target_port == 8080
    named = ServicePort.from_dict({"port": 80, "targetPort": "http"})
    assert named.target_port == "http"
    assert ServicePort(port=80, target_port="http").to_dict() == {"port": 80, "targetPort": "http"}
    assert ServicePort(port=80, target_port=8080).to_dict() == {"port": 80, "targetPort": 8080}
    lazy = ServicePort.from_json(b'{"port": 80, "targetPort": "8080"}')
    assert lazy.target_port == "8080"


def test_lazy_and_eager_give_the_same_values() -> None:
    raw = json.dumps(_pod()).encode()
    lazy, eager = Pod.from_json(raw), Pod.from_dict(_pod())
    assert lazy.metadata is not None and eager.metadata is not None
    assert lazy.metadata.creation_timestamp == eager.metadata.creation_timestamp
    assert lazy.metadata.managed_fields == eager.metadata.managed_fields
    assert lazy.spec is not None and eager.spec is not None
    lazy_c, eager_c = lazy.spec.containers, eager.spec.containers
    assert lazy_c is not None and eager_c is not None
    assert lazy_c[0].readiness_probe == eager_c[0].readiness_probe
    assert lazy_c[0].resources == eager_c[0].resources
    assert lazy == eager
    assert lazy.to_dict() == eager.to_dict()


def test_aliases_and_snake_names_both_construct() -> None:
    a = Pod.model_validate({"apiVersion": "v1", "spec": {"hostIPC": True, "nodeName": "n"}})
    b = Pod(spec=PodSpec(host_ipc=True, node_name="n"))
    assert a.spec == b.spec
    assert b.to_dict()["spec"] == {"hostIPC": True, "nodeName": "n"}


def test_recursive_json_schema_props() -> None:
    crd = CustomResourceDefinition.from_dict(
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "kind": "Widget"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {"size": {"type": "integer", "minimum": 1}},
                                    }
                                },
                            }
                        },
                    }
                ],
            },
        }
    )
    assert crd.spec is not None and crd.spec.versions is not None
    schema = crd.spec.versions[0].schema_
    assert schema is not None and schema.open_api_v3_schema is not None
    top = schema.open_api_v3_schema
    assert top.properties is not None
    spec_props = top.properties["spec"]
    assert isinstance(spec_props, JSONSchemaProps)
    assert spec_props.x_kubernetes_preserve_unknown_fields is True
    assert crd.to_dict()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-preserve-unknown-fields"
    ]
    assert JSONSchemaProps.model_validate({"$ref": "#/x", "$schema": "s"}).to_dict() == {
        "$ref": "#/x",
        "$schema": "s",
    }


def test_openapi_metadata_for_the_server() -> None:
    assert Pod.__doc__ is not None and Pod.__doc__.startswith("Pod is a collection of containers")
    containers = PodSpec.model_fields["containers"]
    assert containers.alias is None and containers.description
    assert containers.json_schema_extra == {
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
    }
    required = PodSpec.REQUIRED
    assert required == frozenset({"containers"})
    assert ContainerPort.model_fields["container_port"].json_schema_extra == {"format": "int32"}
    assert ContainerPort.model_fields["protocol"].json_schema_extra == {"default": "TCP"}
    assert ObjectMeta.model_fields["creation_timestamp"].json_schema_extra == {
        "format": "date-time",
        "x-openapi-ref": "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    }
    assert Pod.OPENAPI_NAME == "io.k8s.api.core.v1.Pod"
    assert ObjectMeta.OPENAPI_NAME == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert LabelSelector.model_config.get("json_schema_extra") == {"x-kubernetes-map-type": "atomic"}
    assert Container.model_fields["resources"].annotation is not None


def test_every_field_is_optional() -> None:
    assert Pod.from_json(b'{"metadata": {"resourceVersion": "12"}}').metadata is not None
    for cls in (Pod, PodSpec, Container, Deployment, CustomResourceDefinition, Status):
        for name, info in cls.model_fields.items():
            assert not info.is_required(), f"{cls.__name__}.{name}"
