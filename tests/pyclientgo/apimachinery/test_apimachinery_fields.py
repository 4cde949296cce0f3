"""Tests for pyclientgo.apimachinery.fields."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclientgo.apimachinery.fields import (
    FieldSelectorParseError,
    Operator,
    Requirement,
    escape_value,
    everything,
    object_field_set,
    one_term_equal,
    one_term_not_equal,
    parse,
    selector_from_set,
    supported_fields,
    unescape_value,
)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", []),
        ("a=b", [("a", Operator.EQUALS, "b")]),
        ("a==b", [("a", Operator.DOUBLE_EQUALS, "b")]),
        ("a!=b", [("a", Operator.NOT_EQUALS, "b")]),
        ("a=", [("a", Operator.EQUALS, "")]),
        ("a=b,c!=d", [("a", Operator.EQUALS, "b"), ("c", Operator.NOT_EQUALS, "d")]),
        ("a=b,,c=d", [("a", Operator.EQUALS, "b"), ("c", Operator.EQUALS, "d")]),
        ("a=b,", [("a", Operator.EQUALS, "b")]),
        (r"a=b\,c", [("a", Operator.EQUALS, "b,c")]),
        (r"a=b\=c", [("a", Operator.EQUALS, "b=c")]),
        (r"a=b\\c", [("a", Operator.EQUALS, "b\\c")]),
        (r"a=b\\,c=d", [("a", Operator.EQUALS, "b\\"), ("c", Operator.EQUALS, "d")]),
        ("metadata.name=web-1", [("metadata.name", Operator.EQUALS, "web-1")]),
        ("a= b ", [("a", Operator.EQUALS, " b ")]),
    ],
)
def test_parse(text: str, terms: list[tuple[str, Operator, str]]) -> None:
    sel = parse(text)
    assert [(t.field, t.operator, t.value) for t in sel.requirements()] == terms


@pytest.mark.parametrize("text", ["a", "a=b=c", "a=b,c", r"a=b\x", "a=b\\", "a=b,c=d=e", "abc,d=e"])
def test_parse_errors(text: str) -> None:
    with pytest.raises(FieldSelectorParseError):
        parse(text)


def test_error_message() -> None:
    with pytest.raises(FieldSelectorParseError, match=r"invalid selector: 'x'; can't understand 'x'"):
        parse("x")
    assert issubclass(FieldSelectorParseError, ValueError)


def test_string_form() -> None:
    assert str(parse("a==b,c!=d")) == "a=b,c!=d"
    assert str(one_term_equal("a", "x,y=z\\")) == r"a=x\,y\=z\\"
    assert parse(str(one_term_equal("a", "x,y=z\\"))) == one_term_equal("a", "x,y=z\\")
    assert str(selector_from_set({"b": "2", "a": "1"})) == "a=1,b=2"
    assert str(everything()) == ""
    assert str(one_term_not_equal("a", "b")) == "a!=b"


def test_matches() -> None:
    fields = {"metadata.name": "web", "spec.nodeName": ""}
    assert parse("metadata.name=web").matches(fields)
    assert not parse("metadata.name!=web").matches(fields)
    assert parse("spec.nodeName=").matches(fields)
    assert parse("status.phase=").matches(fields)  # missing fields read as ""
    assert parse("status.phase!=Running").matches(fields)
    assert not parse("metadata.name=web,spec.nodeName=n1").matches(fields)
    assert everything().matches({})
    assert everything().empty()


def test_requires_exact_match() -> None:
    sel = parse("metadata.name=x,spec.nodeName!=n")
    assert sel.requires_exact_match("metadata.name") == "x"
    assert sel.requires_exact_match("spec.nodeName") is None
    assert sel.requirements()[1] == Requirement("spec.nodeName", Operator.NOT_EQUALS, "n")


def test_escape_unescape() -> None:
    assert escape_value("a,b=c\\") == r"a\,b\=c\\"
    assert unescape_value(r"a\,b\=c\\") == "a,b=c\\"
    with pytest.raises(FieldSelectorParseError):
        unescape_value("a,b")
    with pytest.raises(FieldSelectorParseError):
        unescape_value("a\\")


@given(st.text(max_size=20))
def test_escape_round_trip(value: str) -> None:
    assert unescape_value(escape_value(value)) == value
    assert parse(str(one_term_equal("f", value))).requirements()[0].value == value


POD = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "nodeName": "n1",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "sa",
        "hostNetwork": True,
    },
    "status": {
        "phase": "Running",
        "podIP": "10.0.0.1",
        "podIPs": [{"ip": "10.0.0.2"}],
        "nominatedNodeName": "n2",
    },
}


def test_pod_field_set() -> None:
    assert object_field_set("Pod", POD) == {
        "metadata.name": "web",
        "metadata.namespace": "default",
        "spec.nodeName": "n1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "sa",
        "spec.hostNetwork": "true",
        "status.phase": "Running",
        "status.podIP": "10.0.0.2",
        "status.nominatedNodeName": "n2",
    }
    bare = object_field_set("pods", {"metadata": {"name": "p", "namespace": "ns"}})
    assert bare["spec.nodeName"] == ""
    assert bare["spec.hostNetwork"] == "false"
    assert object_field_set("Pod", {"status": {"podIP": "1.2.3.4"}})["status.podIP"] == "1.2.3.4"
    assert set(bare) == supported_fields("Pod")


def test_other_kinds() -> None:
    node = object_field_set("Node", {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}})
    assert node == {"metadata.name": "n1", "spec.unschedulable": "true"}
    assert object_field_set("Node", {"metadata": {"name": "n1"}})["spec.unschedulable"] == "false"
    ns = object_field_set("Namespace", {"metadata": {"name": "x"}, "status": {"phase": "Active"}})
    assert ns == {"metadata.name": "x", "name": "x", "status.phase": "Active"}
    secret = object_field_set("Secret", {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"})
    assert secret["type"] == "Opaque"
    rs = object_field_set("ReplicaSet", {"metadata": {"name": "r"}, "status": {"replicas": 3}})
    assert rs["status.replicas"] == "3"
    assert object_field_set("ReplicationController", {"status": {}})["status.replicas"] == "0"
    job = object_field_set("Job", {"status": {"succeeded": 2}})
    assert job["status.successful"] == "2"
    cm = object_field_set("ConfigMap", {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "b"}})
    assert cm == {"metadata.name": "c", "metadata.namespace": "d"}


def test_event_fields() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {
            "kind": "Pod",
            "namespace": "d",
            "name": "web",
            "uid": "u1",
            "apiVersion": "v1",
            "resourceVersion": "7",
            "fieldPath": "spec.containers{c}",
        },
        "reason": "Started",
        "reportingComponent": "kubelet",
        "source": {"component": "kubelet", "host": "n1"},
        "type": "Normal",
    }
    fs = object_field_set("Event", event)
    assert fs["involvedObject.kind"] == "Pod"
    assert fs["involvedObject.fieldPath"] == "spec.containers{c}"
    assert fs["source"] == "kubelet"
    assert fs["reason"] == "Started"
    assert fs["type"] == "Normal"
    assert fs["reportingComponent"] == "kubelet"
    assert set(fs) == supported_fields("events")
    del event["source"]
    assert object_field_set("Event", {**event, "reportingController": "ctrl"})["source"] == "ctrl"
    assert parse("involvedObject.name=web,type!=Warning").matches(fs)


def test_supported_fields() -> None:
    assert supported_fields("ConfigMap") == {"metadata.name", "metadata.namespace"}
    assert supported_fields("Node") == {"metadata.name", "spec.unschedulable"}
    assert supported_fields("PersistentVolume") == {"metadata.name", "name"}
    assert supported_fields("persistentvolumeclaims") == {"metadata.name", "metadata.namespace", "name"}
    assert supported_fields("CertificateSigningRequest") == {"metadata.name", "spec.signerName"}
    assert "metadata.namespace" in supported_fields("Widget")  # unknown kinds: namespaced
    assert "metadata.namespace" not in supported_fields("Widget", namespaced=False)
    assert "spec.nodeName" in supported_fields("pod")
    assert "status.successful" in supported_fields("jobs")
    assert object_field_set("Widget", {"metadata": {"name": "w"}}, namespaced=False) == {"metadata.name": "w"}
