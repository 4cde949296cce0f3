"""Field paths, FieldsV1, the structured-merge schema and server-side apply (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from pyclientgo.api.apps.v1 import Deployment
from pyclientgo.apimachinery import managed_fields as mf
from pyclientgo.apimachinery.fieldpath import FieldSet, FieldsV1Error, path_string
from pyclientgo.apimachinery.structured_merge import SchemaError, merge, to_field_set
from pyclientgo.apimachinery.structured_schema import schema_from_model, schema_from_openapi

DEPLOY = schema_from_model(Deployment)


def dep(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}


def test_fields_v1_round_trip_and_order() -> None:
    doc = {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:containers": {
                'k:{"name":"a"}': {".": {}, "f:image": {}, "f:name": {}},
                'k:{"name":"b"}': {".": {}, "f:name": {}},
            },
            "f:replicas": {},
        },
    }
    fs = FieldSet.from_fields_v1(doc)
    assert fs.to_fields_v1() == doc
    assert list(fs.to_fields_v1()["f:spec"]) == ["f:containers", "f:replicas"]
    assert path_string(("f:spec", 'k:{"name":"a"}', "f:image")) == '.spec[name="a"].image'
    assert path_string(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'
    with pytest.raises(FieldsV1Error):
        FieldSet.from_fields_v1({"x:bad": {}})
    with pytest.raises(FieldsV1Error):
        FieldSet.from_fields_v1({"f:a": []})


def test_set_algebra() -> None:
    a = FieldSet([("f:a",), ("f:b", "f:c"), ("f:b", "f:d")])
    b = FieldSet([("f:b", "f:c"), ("f:e",)])
    assert set(a.union(b)) == {("f:a",), ("f:b", "f:c"), ("f:b", "f:d"), ("f:e",)}
    assert set(a.difference(b)) == {("f:a",), ("f:b", "f:d")}
    assert set(a.intersection(b)) == {("f:b", "f:c")}
    assert a.has(("f:b", "f:d")) and not a.has(("f:b",))


def test_field_set_of_an_object_uses_list_keys_and_defaults() -> None:
    obj = dep(
        replicas=1,
        selector={"matchLabels": {"a": "b"}},
        template={"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}},
    )
    fs = mf.strip_meta(to_field_set(obj, DEPLOY)).to_fields_v1()
    assert fs["f:spec"]["f:selector"] == {}  # atomic map type
    c = fs["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in c["f:ports"]
    with pytest.raises(SchemaError, match=r"\.spec\.nope: field not declared in schema"):
        to_field_set(dep(nope=1), DEPLOY, strict=True)
    with pytest.raises(SchemaError, match="omits key field"):
        to_field_set(dep(template={"spec": {"containers": [{"image": "x"}]}}), DEPLOY, strict=True)


def test_apply_conflicts_shared_ownership_and_removal() -> None:
    live = mf.apply(
        {}, dep(replicas=1, paused=True), [], manager="a", api_version="apps/v1", schema=DEPLOY
    ).object
    managers = mf.decode_managed_fields(live["metadata"]["managedFields"])
    with pytest.raises(mf.ApplyConflictError) as info:
        mf.apply(live, dep(replicas=2), managers, manager="b", api_version="apps/v1", schema=DEPLOY)
    assert info.value.message == 'Apply failed with 1 conflict: conflict with "a": .spec.replicas'
    shared = mf.apply(live, dep(replicas=1), managers, manager="b", api_version="apps/v1", schema=DEPLOY)
    owners = {m.manager for m in shared.managers if m.fields.has(("f:spec", "f:replicas"))}
    assert owners == {"a", "b"}
    # a drops both fields: replicas stays (b owns it), paused goes
    after = mf.apply(shared.object, dep(), shared.managers, manager="a", api_version="apps/v1", schema=DEPLOY)
    assert after.object["spec"] == {"replicas": 1}
    forced = mf.apply(
        after.object,
        dep(replicas=3),
        after.managers,
        manager="c",
        api_version="apps/v1",
        schema=DEPLOY,
        force=True,
    )
    assert forced.object["spec"]["replicas"] == 3
    # b lost its only field; a still owns the empty ``spec: {}`` it applied (as kube: empty maps are owned)
    assert [(m.manager, m.fields.to_fields_v1()) for m in forced.managers] == [
        ("a", {"f:spec": {}}),
        ("c", {"f:spec": {"f:replicas": {}}}),
    ]


def test_update_takes_changed_fields_from_others() -> None:
    old = dep(replicas=1)
    managers = mf.update(
        {}, old, [], manager="creator", api_version="apps/v1", schema=DEPLOY, now="2024-01-01T00:00:00Z"
    )
    new = dep(replicas=2)
    managers = mf.update(old, new, managers, manager="scaler", api_version="apps/v1", schema=DEPLOY)
    assert [(m.manager, m.fields.to_fields_v1()) for m in managers] == [
        ("scaler", {"f:spec": {"f:replicas": {}}})
    ]
    entries = mf.encode_managed_fields(managers)
    assert entries[0]["operation"] == "Update" and entries[0]["fieldsType"] == "FieldsV1"


def test_custom_resource_schema_from_openapi() -> None:
    schema = schema_from_openapi(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["id"],
                            "items": {
                                "type": "object",
                                "properties": {"id": {"type": "integer"}, "v": {"type": "string"}},
                            },
                        },
                        "tags": {
                            "type": "array",
                            "x-kubernetes-list-type": "set",
                            "items": {"type": "string"},
                        },
                        "blob": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                }
            },
        }
    )
    obj = {
        "apiVersion": "x.io/v1",
        "kind": "W",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"items": [{"id": 1, "v": "x"}], "tags": ["t"], "blob": {"any": {"thing": 1}}},
    }
    fs = mf.strip_meta(to_field_set(obj, schema, strict=True)).to_fields_v1()
    assert fs["f:spec"]["f:items"] == {'k:{"id":1}': {".": {}, "f:id": {}, "f:v": {}}}
    assert fs["f:spec"]["f:tags"] == {'v:"t"': {}}
    assert fs["f:metadata"] == {"f:labels": {"f:a": {}}}
    merged = merge(obj, {"spec": {"items": [{"id": 2}], "tags": ["u"]}}, schema)
    assert merged["spec"]["items"] == [{"id": 1, "v": "x"}, {"id": 2}]
    assert merged["spec"]["tags"] == ["t", "u"]


keys = hs.sampled_from(["a", "b", "c"])
container = hs.fixed_dictionaries({"name": keys}, optional={"image": hs.sampled_from(["x", "y"])})
spec = hs.fixed_dictionaries(
    {},
    optional={
        "replicas": hs.integers(0, 3),
        "paused": hs.booleans(),
        "template": hs.fixed_dictionaries(
            {
                "spec": hs.fixed_dictionaries(
                    {"containers": hs.lists(container, max_size=3, unique_by=lambda c: c["name"])}
                )
            }
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(spec, spec)
def test_apply_is_idempotent_and_sets_what_it_applies(first: dict[str, Any], second: dict[str, Any]) -> None:
    one = mf.apply({}, dep(**first), [], manager="m", api_version="apps/v1", schema=DEPLOY)
    two = mf.apply(one.object, dep(**second), one.managers, manager="m", api_version="apps/v1", schema=DEPLOY)
    again = mf.apply(
        two.object, dep(**second), two.managers, manager="m", api_version="apps/v1", schema=DEPLOY
    )
    assert again.object == two.object and not again.changed
    # a sole applier's object is exactly its configuration (fields it dropped are removed)
    assert two.object.get("spec", {}) == second


@settings(max_examples=200, deadline=None)
@given(hs.dictionaries(hs.text("abc", min_size=1, max_size=3), hs.integers(0, 2), max_size=5))
def test_fields_v1_round_trip(labels: dict[str, int]) -> None:
    obj = {"metadata": {"labels": {k: str(v) for k, v in labels.items()}}, "spec": {"replicas": 1}}
    fs = to_field_set(obj, DEPLOY)
    assert FieldSet.from_fields_v1(fs.to_fields_v1()) == fs
