from __future__ import annotations

import importlib
import inspect
import keyword

import pytest

from codegen.naming import GA_GROUP_VERSIONS, camel_plural, field_name, module_of_definition, snake_case
from pyclientgo.apimachinery.model import K8sModel, K8sObject

_MODEL_MODULES = [f"pyclientgo.api.{gv.package}.{gv.version}" for gv in GA_GROUP_VERSIONS] + [
    "pyclientgo.api.meta.v1",
    "pyclientgo.api.version",
]


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("podIP", "pod_ip"),
        ("podIPs", "pod_ips"),
        ("hostIPC", "host_ipc"),
        ("hostPID", "host_pid"),
        ("clusterIPs", "cluster_ips"),
        ("serverAddressByClientCIDRs", "server_address_by_client_cidrs"),
        ("targetWWNs", "target_wwns"),
        ("nonResourceURLs", "non_resource_urls"),
        ("openAPIV3Schema", "open_api_v3_schema"),
        ("fieldsV1", "fields_v1"),
        ("apiVersion", "api_version"),
        ("currentCPUUtilizationPercentage", "current_cpu_utilization_percentage"),
        ("setHostnameAsFQDN", "set_hostname_as_fqdn"),
        ("scaleIO", "scale_io"),
        ("x-kubernetes-preserve-unknown-fields", "x_kubernetes_preserve_unknown_fields"),
        ("name", "name"),
        ("CSIDriver", "csi_driver"),
        ("APIService", "api_service"),
    ],
)
def test_snake_case(wire: str, python: str) -> None:
    assert snake_case(wire) == python


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("$ref", "ref"),
        ("$schema", "schema_"),
        ("continue", "continue_"),
        ("not", "not_"),
        ("from", "from_"),
        ("json", "json_"),
        ("copy", "copy_"),
        ("validate", "validate_"),
        ("type", "type"),
        ("modelName", "model_name_"),
        ("podIP", "pod_ip"),
    ],
)
def test_field_name_avoids_keywords_and_model_attributes(wire: str, python: str) -> None:
    assert field_name(wire) == python


def test_generated_field_names_shadow_nothing() -> None:
    taken = {name for name in dir(K8sObject) if not name.startswith("_")}
    for module_name in _MODEL_MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name or not issubclass(cls, K8sModel):
                continue
            for name in cls.model_fields:
                assert name not in taken, f"{cls.__name__}.{name}"
                assert not keyword.iskeyword(name)


@pytest.mark.parametrize(
    ("kind", "plural", "expected"),
    [
        ("ConfigMap", "configmaps", "ConfigMaps"),
        ("NetworkPolicy", "networkpolicies", "NetworkPolicies"),
        ("Endpoints", "endpoints", "Endpoints"),
        ("CSIStorageCapacity", "csistoragecapacities", "CSIStorageCapacities"),
        ("ComponentStatus", "componentstatuses", "ComponentStatuses"),
    ],
)
def test_camel_plural(kind: str, plural: str, expected: str) -> None:
    assert camel_plural(kind, plural) == expected


def test_module_of_definition() -> None:
    assert module_of_definition("io.k8s.api.core.v1.Pod") == ("core", "v1")
    assert module_of_definition("io.k8s.api.rbac.v1.Role") == ("rbac", "v1")
    assert module_of_definition("io.k8s.apimachinery.pkg.apis.meta.v1.Status") == ("meta", "v1")
    assert module_of_definition(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    ) == ("apiextensions", "v1")
    assert module_of_definition("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService") == (
        "apiregistration",
        "v1",
    )
    assert module_of_definition("io.k8s.apimachinery.pkg.version.Info") == ("version", "")
    assert module_of_definition("io.k8s.apimachinery.pkg.api.resource.Quantity") is None
