"""Kubernetes protobuf runtime: JSON → protobuf → JSON for every built-in kind, the envelope, watch
framing, Go's zero-value conventions, and errors (never anything but ProtobufError) on bad input."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from pyclientgo.api import builtin_registry
from pyclientgo.api._protobuf_data import KINDS, LISTS, MESSAGES
from pyclientgo.apimachinery import protobuf as pb
from pyclientgo.apimachinery._protowire import append_tag, append_varint

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
EXT = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1."
SPECIAL: dict[str, Any] = {
    META + "Time": "2024-05-06T07:08:09Z",
    META + "MicroTime": "2024-05-06T07:08:09.123456Z",
    META + "FieldsV1": {"f:metadata": {"f:labels": {".": {}}}},
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "http",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "100m",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue": "1Gi",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": {"kind": "X", "spec": [1, "two", None, True]},
    EXT + "JSON": {"any": ["json", 1.5]},
    EXT + "JSONSchemaPropsOrArray": [{"type": "string"}, {"type": "integer"}],
    EXT + "JSONSchemaPropsOrBool": True,
    EXT + "JSONSchemaPropsOrStringArray": ["a", "b"],
}
SCALARS: dict[str, Any] = {
    "string": "s",
    "bytes": base64.b64encode(b"\x00\xffbin").decode(),
    "int32": -5,
    "int64": 2**40,
    "uint32": 7,
    "uint64": 2**50,
    "bool": True,
    "double": 1.5,
    "float": 0.5,
}


def sample(name: str, depth: int = 0) -> Any:
    """A value of message ``name`` with every field set (non-zero), nested up to a few levels."""
    if name in SPECIAL:
        return SPECIAL[name]
    if name in LISTS:
        return ["get", "list"]
    out: dict[str, Any] = {}
    for _number, json_name, ftype, label, message in MESSAGES[name]:
        if ftype == "message":
            if depth >= 4 and message not in SPECIAL:
                continue
            value = sample(message, depth + 1)
        else:
            value = SCALARS[ftype]
        if label == 0:
            out[json_name] = value
        elif label == 1:
            out[json_name] = [value, value]
        elif label == 2:
            out[json_name] = {"k": value, "": value}
        else:
            out.update(value)
    return out


@pytest.mark.parametrize("key", sorted(KINDS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_every_kind_round_trips(key: tuple[str, str]) -> None:
    api_version, kind = key
    obj = {"kind": kind, "apiVersion": api_version, **sample(KINDS[key])}
    data = pb.encode_object(obj)
    assert data.startswith(pb.MAGIC)
    assert pb.decode_object(data) == obj


def test_every_builtin_resource_kind_has_a_message() -> None:
    missing = [
        (r.group_version, kind)
        for r in builtin_registry()
        for kind in (r.kind, r.list_kind)
        if kind and pb.message_for(r.group_version, kind) is None
    ]
    # kube-aggregator's generated.proto is not among the schemas: APIService stays JSON-only
    assert missing == [
        ("apiregistration.k8s.io/v1", "APIService"),
        ("apiregistration.k8s.io/v1", "APIServiceList"),
    ]


def test_pod_sample() -> None:
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": "p",
            "namespace": "d",
            "labels": {"empty": "", "app": "web"},
            "creationTimestamp": "2024-01-02T03:04:05Z",
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2024-01-02T03:04:05Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {}},
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "nginx:1",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "100m", "memory": "1Gi"}},
                    "livenessProbe": {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 0},
                }
            ],
            "volumes": [
                {"name": "v", "configMap": {"name": "cm", "defaultMode": 420}},
                {"name": "e", "emptyDir": {}},
            ],
            "replicas": None,
        },
        "status": {"phase": "Running", "startTime": "2024-01-02T03:04:06Z"},
    }
    decoded = pb.decode_object(pb.encode_object(pod))
    del pod["spec"]["replicas"]  # None (JSON null) is not written
    assert decoded == pod
    # embedded Go structs (VolumeSource, ProbeHandler, LocalObjectReference) are flattened in JSON
    assert decoded["spec"]["volumes"][0] == {"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}
    assert decoded["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] == 8080


def test_go_zero_values() -> None:
    """Go writes every non-pointer field: "" strings are dropped, present numbers/bools are kept."""
    meta = bytearray()
    for number, text in ((1, b"x"), (2, b""), (3, b"")):  # name, generateName, namespace
        append_tag(meta, number, 2)
        append_varint(meta, len(text))
        meta += text
    append_tag(meta, 7, 0)  # generation 0
    append_varint(meta, 0)
    append_tag(meta, 8, 2)  # creationTimestamp: zero Time = empty message
    append_varint(meta, 0)
    body = bytearray()
    append_tag(body, 1, 2)
    append_varint(body, len(meta))
    body += meta
    data = pb.encode_unknown("v1", "Namespace", bytes(body))
    assert pb.decode_object(data) == {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": "x", "generation": 0, "creationTimestamp": None},
    }


def test_special_types() -> None:
    dep = {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 0,
            "paused": False,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        },
    }
    assert pb.decode_object(pb.encode_object(dep)) == dep
    event = {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": {"name": "e"},
        "eventTime": "2024-01-02T03:04:05.000001Z",
        "reportingController": "c",
    }
    assert pb.decode_object(pb.encode_object(event)) == event
    # Time drops sub-second precision (as Go), MicroTime keeps microseconds
    ns = {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"creationTimestamp": "2024-01-02T03:04:05.5Z"},
    }
    assert pb.decode_object(pb.encode_object(ns))["metadata"]["creationTimestamp"] == "2024-01-02T03:04:05Z"


def test_crd_schema_unions() -> None:
    crd = {
        "kind": "CustomResourceDefinition",
        "apiVersion": "apiextensions.k8s.io/v1",
        "metadata": {"name": "foos.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "foos", "kind": "Foo"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                    "default": {"a": "b"},
                                    "required": ["a"],
                                },
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "flag": {"additionalProperties": False},
                            },
                        }
                    },
                }
            ],
        },
    }
    assert pb.decode_object(pb.encode_object(crd)) == crd


def test_status_and_lists() -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "pods"},
        "code": 404,
    }
    assert pb.decode_object(pb.encode_object(status)) == status
    lst = {
        "kind": "ConfigMapList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "7"},
        "items": [{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"k": "v"}}],
    }
    # items carry no kind/apiVersion in protobuf (the list's envelope has the type)
    assert pb.decode_object(pb.encode_object(lst))["items"] == [
        {"metadata": {"name": "a"}, "data": {"k": "v"}}
    ]


def test_watch_frames() -> None:
    cm = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "resourceVersion": "3"}}
    stream = pb.encode_watch_frame("ADDED", cm) + pb.encode_watch_frame("DELETED", pb.encode_object(cm))
    assert list(pb.iter_watch_frames(stream)) == [("ADDED", cm), ("DELETED", cm)]
    with pytest.raises(pb.ProtobufError):
        list(pb.iter_watch_frames(stream[:-1]))


def test_embedded_json_content_type() -> None:
    data = pb.encode_unknown("v1", "ConfigMap", b'{"data":{"a":"b"}}', content_type="application/json")
    assert pb.decode_object(data) == {"data": {"a": "b"}}


GOOD = pb.encode_object(
    {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"k": "v"}}
)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "prefix"),
        (b'{"kind":"ConfigMap"}', "prefix"),
        (GOOD[:-3], "exceeds|end of data"),
        (pb.MAGIC + b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "varint"),
        (pb.MAGIC + b"\x08\x01", "wrong wire type"),
        (pb.MAGIC + b"\x0b", "wire type"),  # a group
        (pb.MAGIC + b"\x00", "field number 0"),
        (pb.encode_unknown("v1", "NoSuchKind", b""), "no kind"),
        (pb.encode_unknown("v1", "ConfigMap", b"\x0a\x02\x0a\x05"), "exceeds"),
        (pb.encode_unknown("v1", "ConfigMap", b"\x0a\x03\x0a\x01\xff"), "UTF-8"),
        (pb.encode_unknown("v1", "ConfigMap", b"\x0a\x02\x08\x01"), "wrong wire type"),
        (pb.encode_unknown("v1", "ConfigMap", b"", content_type="text/xml"), "content type"),
    ],
)
def test_malformed_input(data: bytes, match: str) -> None:
    with pytest.raises(pb.ProtobufError, match=match):
        pb.decode_object(data)


def test_deep_nesting_is_an_error() -> None:
    props = EXT + "JSONSchemaProps"
    number = next(row[0] for row in MESSAGES[props] if row[1] == "not")
    payload = b""
    for _ in range(300):
        head = bytearray()
        append_tag(head, number, 2)
        append_varint(head, len(payload))
        payload = bytes(head) + payload
    with pytest.raises(pb.ProtobufError, match="too deep"):
        pb.decode_message(props, payload)


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "ConfigMap", "apiVersion": "v1", "data": {"a": 1}},
        {"kind": "ConfigMap", "apiVersion": "v1", "data": ["a"]},
        {"kind": "ConfigMap", "apiVersion": "v1", "binaryData": {"a": "not base64!"}},
        {"kind": "Pod", "apiVersion": "v1", "metadata": {"creationTimestamp": "yesterday"}},
        {"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"replicas": 2**40}},
        {"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"replicas": True}},
    ],
)
def test_encoding_rejects_mistyped_values(obj: dict[str, Any]) -> None:
    with pytest.raises(pb.ProtobufError):
        pb.encode_object(obj)


def test_unknown_kind_on_encode() -> None:
    with pytest.raises(pb.UnknownKindError):
        pb.encode_object({"kind": "Foo", "apiVersion": "example.com/v1"})


@settings(max_examples=200, deadline=None)
@given(hs.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    for candidate in (data, pb.MAGIC + data, pb.encode_unknown("apps/v1", "Deployment", data)):
        try:
            pb.decode_object(candidate)
        except pb.ProtobufError:
            pass


_text = hs.text(hs.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=100, deadline=None)
@given(
    name=_text.filter(bool),
    data=hs.dictionaries(_text, _text, max_size=5),
    labels=hs.dictionaries(_text, _text, max_size=3),
    generation=hs.integers(min_value=-(2**63), max_value=2**63 - 1),
    immutable=hs.booleans(),
)
def test_configmap_property_round_trip(
    name: str, data: dict[str, str], labels: dict[str, str], generation: int, immutable: bool
) -> None:
    obj = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": labels, "generation": generation},
        "data": data,
        "immutable": immutable,
    }
    decoded = pb.decode_object(pb.encode_object(obj))
    if not labels:
        del obj["metadata"]["labels"]  # type: ignore[attr-defined]
    if not data:
        del obj["data"]
    assert decoded == obj
