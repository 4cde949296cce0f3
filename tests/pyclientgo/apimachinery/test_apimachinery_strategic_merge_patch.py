"""Tests for pyclientgo.apimachinery.strategic_merge_patch and patch_meta.

Many cases follow the behaviour exercised by apimachinery's strategicpatch tests, restated here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclientgo.apimachinery.json_patch import InvalidPatchError, deep_copy
from pyclientgo.apimachinery.patch_meta import EMPTY_LOOKUP, DictPatchMeta, PatchMeta
from pyclientgo.apimachinery.strategic_merge_patch import (
    create_three_way_merge_patch,
    create_two_way_merge_patch,
    strategic_merge,
)

CONTAINER_FIELDS = {
    "env": {"patch_strategy": "merge", "patch_merge_key": "name"},
    "ports": {
        "patch_strategy": "merge",
        "patch_merge_key": "containerPort",
        "list_type": "map",
        "list_map_keys": ["containerPort", "protocol"],
    },
    "volumeMounts": {"patch_strategy": "merge", "patch_merge_key": "mountPath"},
}
POD_SPEC = {
    "containers": {"patch_strategy": "merge", "patch_merge_key": "name", "fields": CONTAINER_FIELDS},
    "initContainers": {"patch_strategy": "merge", "patch_merge_key": "name", "fields": CONTAINER_FIELDS},
    "volumes": {"patch_strategy": "merge,retainKeys", "patch_merge_key": "name"},
    "tolerations": {},
}
METADATA = {
    "finalizers": {"patch_strategy": "merge"},
    "ownerReferences": {"patch_strategy": "merge", "patch_merge_key": "uid"},
}
POD = DictPatchMeta({"metadata": {"fields": METADATA}, "spec": {"fields": POD_SPEC}})
DEPLOYMENT = DictPatchMeta(
    {
        "metadata": {"fields": METADATA},
        "spec": {
            "fields": {
                "strategy": {"patch_strategy": "retainKeys"},
                "template": {"fields": {"metadata": {"fields": METADATA}, "spec": {"fields": POD_SPEC}}},
            }
        },
    }
)


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"containers": list(containers), **spec}}


# -- apply ------------------------------------------------------------------------------------


def test_containers_merge_by_name() -> None:
    original = pod({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
    patch = {"spec": {"containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}]}}
    result = strategic_merge(original, patch, POD)
    assert result["spec"]["containers"] == [
        {"name": "a", "image": "a:1"},
        {"name": "b", "image": "b:2"},
        {"name": "c", "image": "c:1"},
    ]
    assert original["spec"]["containers"][1]["image"] == "b:1"  # input untouched


def test_env_and_ports_merge_nested() -> None:
    original = pod(
        {
            "name": "a",
            "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
        }
    )
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "env": [{"name": "Y", "value": "3"}, {"name": "X", "$patch": "delete"}],
                    "ports": [{"containerPort": 443, "protocol": "TCP"}],
                }
            ]
        }
    }
    (container,) = strategic_merge(original, patch, POD)["spec"]["containers"]
    assert container["env"] == [{"name": "Y", "value": "3"}]
    # like Kubernetes, items new to the list go before the server's items when no order is given
    assert container["ports"] == [
        {"containerPort": 443, "protocol": "TCP"},
        {"containerPort": 80, "protocol": "TCP"},
    ]


def test_delete_list_item_with_patch_delete() -> None:
    original = pod({"name": "a"}, {"name": "b"})
    patch = {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
    assert strategic_merge(original, patch, POD)["spec"]["containers"] == [{"name": "b"}]
    # deleting an item that is not there is not an error
    patch = {"spec": {"containers": [{"name": "zzz", "$patch": "delete"}]}}
    assert strategic_merge(original, patch, POD)["spec"]["containers"] == [{"name": "a"}, {"name": "b"}]


def test_replace_list_directive() -> None:
    original = pod({"name": "a", "image": "1"}, {"name": "b"})
    patch = {"spec": {"containers": [{"name": "c"}, {"$patch": "replace"}]}}
    assert strategic_merge(original, patch, POD)["spec"]["containers"] == [{"name": "c"}]
    meta_doc = {"metadata": {"finalizers": ["a", "b"]}}
    meta_patch: dict[str, Any] = {"metadata": {"finalizers": [{"$patch": "replace"}, "c"]}}
    assert strategic_merge(meta_doc, meta_patch, POD)["metadata"]["finalizers"] == ["c"]


def test_map_directives() -> None:
    original = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}}
    replaced = strategic_merge(original, {"metadata": {"labels": {"$patch": "replace", "c": "3"}}}, POD)
    assert replaced["metadata"]["labels"] == {"c": "3"}
    deleted = strategic_merge(original, {"metadata": {"labels": {"$patch": "delete"}}}, POD)
    assert deleted["metadata"]["labels"] == {}
    # $patch: delete on a field that does not exist leaves it absent
    assert (
        "annotations"
        not in strategic_merge(original, {"metadata": {"annotations": {"$patch": "delete"}}}, POD)["metadata"]
    )
    # the whole document
    assert strategic_merge(original, {"$patch": "replace", "z": 1}, POD) == {"z": 1}
    with pytest.raises(InvalidPatchError, match="unknown patch type"):
        strategic_merge(original, {"metadata": {"labels": {"$patch": "frobnicate"}}}, POD)


def test_primitive_list_merge_is_set_union() -> None:
    original = {"metadata": {"finalizers": ["a", "b"]}}
    result = strategic_merge(original, {"metadata": {"finalizers": ["b", "c"]}}, POD)
    assert result["metadata"]["finalizers"] == ["a", "b", "c"]


def test_delete_from_primitive_list() -> None:
    original = {"metadata": {"finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zzz"]}}
    assert strategic_merge(original, patch, POD)["metadata"]["finalizers"] == ["a", "c"]
    # on a missing list it is a no-op
    assert strategic_merge({"metadata": {}}, patch, POD) == {"metadata": {}}


def test_set_element_order_interleaves_server_only_items() -> None:
    original = pod(*({"name": n} for n in "abcde"))
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "d"}, {"name": "a"}, {"name": "f"}],
            "containers": [{"name": "f"}],
        }
    }
    result = strategic_merge(original, patch, POD)
    assert [c["name"] for c in result["spec"]["containers"]] == ["b", "c", "d", "a", "f", "e"]


def test_set_element_order_primitives() -> None:
    original = {"metadata": {"finalizers": ["a", "b", "c"]}}
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["c", "a", "d"],
            "finalizers": ["d"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
        }
    }
    assert strategic_merge(original, patch, POD)["metadata"]["finalizers"] == ["c", "a", "d"]


def test_set_element_order_without_patch_list_reorders() -> None:
    original = pod({"name": "a"}, {"name": "b"})
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
    assert [c["name"] for c in strategic_merge(original, patch, POD)["spec"]["containers"]] == ["b", "a"]


def test_set_element_order_mismatch_is_an_error() -> None:
    original = pod({"name": "a"}, {"name": "b"})
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}],
        }
    }
    with pytest.raises(InvalidPatchError, match="doesn't match"):
        strategic_merge(original, patch, POD)


def test_retain_keys_deployment_strategy() -> None:
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge(original, patch, DEPLOYMENT) == {"spec": {"strategy": {"type": "Recreate"}}}
    bad = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(InvalidPatchError, match="retainKeys"):
        strategic_merge(original, bad, DEPLOYMENT)


def test_retain_keys_volume_source() -> None:
    original = pod(volumes=[{"name": "v", "emptyDir": {}}, {"name": "w", "secret": {"secretName": "s"}}])
    patch = {
        "spec": {"volumes": [{"name": "v", "$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/x"}}]}
    }
    volumes = strategic_merge(original, patch, POD)["spec"]["volumes"]
    assert volumes == [
        {"name": "v", "hostPath": {"path": "/x"}},
        {"name": "w", "secret": {"secretName": "s"}},
    ]


def test_nulls() -> None:
    original = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1}}
    result = strategic_merge(original, {"metadata": {"labels": {"a": None, "zzz": None}}, "spec": None}, POD)
    assert result == {"metadata": {"labels": {"b": "2"}}}
    # nulls inside new values are dropped, as the API server does
    result = strategic_merge({}, {"spec": {"a": None, "b": {"c": None, "d": 1}}}, POD)
    assert result == {"spec": {"b": {"d": 1}}}


def test_unknown_fields_fall_back_to_json_merge() -> None:
    original = {"spec": {"tolerations": [{"key": "a"}], "other": [1, 2], "m": {"x": 1}}}
    patch = {"spec": {"tolerations": [{"key": "b"}], "other": [3], "m": {"y": 2}}}
    assert strategic_merge(original, patch, POD) == {
        "spec": {"tolerations": [{"key": "b"}], "other": [3], "m": {"x": 1, "y": 2}}
    }
    assert strategic_merge({"a": [1]}, {"a": [2]}) == {"a": [2]}
    assert strategic_merge(None, {"a": 1}) == {"a": 1}


def test_type_change_replaces() -> None:
    assert strategic_merge({"a": {"b": 1}}, {"a": "x"}) == {"a": "x"}
    assert strategic_merge({"a": "x"}, {"a": {"b": 1, "c": None}}) == {"a": {"b": 1}}


def test_new_list_has_directives_stripped() -> None:
    patch = {
        "spec": {"containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}, {"name": "Y"}]}]}
    }
    assert strategic_merge({"spec": {}}, patch, POD) == {
        "spec": {"containers": [{"name": "a", "env": [{"name": "Y"}]}]}
    }


def test_list_type_map_implies_merge() -> None:
    meta = DictPatchMeta({"items": {"list_type": "map", "list_map_keys": ["id"]}})
    result = strategic_merge({"items": [{"id": 1, "v": "a"}]}, {"items": [{"id": 2, "v": "b"}]}, meta)
    assert result == {"items": [{"id": 2, "v": "b"}, {"id": 1, "v": "a"}]}
    set_meta = DictPatchMeta({"tags": {"list_type": "set"}})
    assert strategic_merge({"tags": ["a", "c"]}, {"tags": ["b", "a"]}, set_meta) == {"tags": ["b", "a", "c"]}


def test_errors() -> None:
    with pytest.raises(InvalidPatchError, match="merge key"):
        strategic_merge(pod({"name": "a"}), {"spec": {"containers": [{"image": "x"}]}}, POD)
    with pytest.raises(InvalidPatchError):
        strategic_merge(pod({"name": "a"}), {"spec": {"containers": ["x"]}}, POD)
    with pytest.raises(InvalidPatchError):
        strategic_merge({}, [1])  # type: ignore[arg-type]
    with pytest.raises(InvalidPatchError):
        strategic_merge(pod({"name": "a"}), {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}, POD)
    with pytest.raises(InvalidPatchError):
        strategic_merge({"a": {}}, {"a": {"$retainKeys": "x"}})


# -- patch meta -------------------------------------------------------------------------------


def test_patch_meta() -> None:
    sub, meta = POD.lookup_for_struct("spec")
    assert meta == PatchMeta()
    items, containers = sub.lookup_for_slice("containers")
    assert containers.strategy == "merge" and containers.merge_key == "name"
    _, volumes = sub.lookup_for_slice("volumes")
    assert volumes.patch_strategies == ("merge", "retainKeys") and volumes.retain_keys
    _, ports = items.lookup_for_slice("ports")
    assert ports.list_type == "map" and ports.list_map_keys == ("containerPort", "protocol")
    _, unknown = items.lookup_for_slice("nope")
    assert unknown == PatchMeta() and unknown.strategy == ""
    assert EMPTY_LOOKUP.lookup_for_struct("x")[1] == PatchMeta()
    assert PatchMeta(list_type="map", list_map_keys=("a", "b")).merge_key == "a"
    assert PatchMeta(patch_strategies=("replace",), list_type="map").strategy == "replace"


# -- create (two-way) -------------------------------------------------------------------------


def test_two_way_image_change() -> None:
    original = pod({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
    modified = pod({"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"})
    assert create_two_way_merge_patch(original, modified, POD) == {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "a:2"}],
        }
    }
    assert create_two_way_merge_patch(original, deep_copy(original), POD) == {}


def test_two_way_delete_and_reorder() -> None:
    original = pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    modified = pod({"name": "c"}, {"name": "a"})
    patch = create_two_way_merge_patch(original, modified, POD)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
            "containers": [{"name": "b", "$patch": "delete"}],
        }
    }
    assert strategic_merge(original, patch, POD) == modified


def test_two_way_primitive_list_and_labels() -> None:
    original = {"metadata": {"labels": {"a": "1"}, "finalizers": ["x", "y"]}}
    modified = {"metadata": {"labels": {"b": "2"}, "finalizers": ["y", "z"]}}
    patch = create_two_way_merge_patch(original, modified, POD)
    assert patch == {
        "metadata": {
            "labels": {"a": None, "b": "2"},
            "finalizers": ["z"],
            "$deleteFromPrimitiveList/finalizers": ["x"],
            "$setElementOrder/finalizers": ["y", "z"],
        }
    }
    assert strategic_merge(original, patch, POD) == modified


def test_two_way_retain_keys() -> None:
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    modified = {"spec": {"strategy": {"type": "Recreate"}}}
    patch = create_two_way_merge_patch(original, modified, DEPLOYMENT)
    assert patch == {
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}
    }
    assert strategic_merge(original, patch, DEPLOYMENT) == modified


def test_two_way_unknown_list_is_replaced() -> None:
    patch = create_two_way_merge_patch(
        {"spec": {"tolerations": [{"key": "a"}]}}, {"spec": {"tolerations": []}}, POD
    )
    assert patch == {"spec": {"tolerations": []}}


def test_two_way_rejects_non_objects() -> None:
    with pytest.raises(InvalidPatchError):
        create_two_way_merge_patch([], {})  # type: ignore[arg-type]


# -- create (three-way, kubectl apply) --------------------------------------------------------


def test_three_way_kubectl_apply() -> None:
    last_applied = {
        "metadata": {"name": "d", "labels": {"app": "web", "old": "x"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {"containers": [{"name": "web", "image": "web:1"}, {"name": "log", "image": "log"}]}
            },
        },
    }
    new_config = {
        "metadata": {"name": "d", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
    }
    live = deep_copy(last_applied)
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    live["metadata"]["finalizers"] = ["example.com/x"]
    live["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "mesh"})
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["status"] = {"replicas": 2}

    patch = create_three_way_merge_patch(last_applied, new_config, live, DEPLOYMENT)
    result = strategic_merge(live, patch, DEPLOYMENT)

    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert result["metadata"]["finalizers"] == ["example.com/x"]
    assert result["spec"]["replicas"] == 3
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "web:2", "imagePullPolicy": "IfNotPresent"},
        {"name": "sidecar", "image": "mesh"},
    ]
    assert result["status"] == {"replicas": 2}
    # deletions only for what the last-applied configuration set
    assert patch["metadata"]["labels"] == {"old": None}
    assert "annotations" not in patch["metadata"]


def test_three_way_without_last_applied_never_deletes() -> None:
    live = {"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1}}
    patch = create_three_way_merge_patch(None, {"spec": {"x": 2}}, live, POD)
    assert patch == {"spec": {"x": 2}}


def test_three_way_live_drift_is_reverted() -> None:
    original = {"spec": {"replicas": 2}}
    live = {"spec": {"replicas": 5}}
    patch = create_three_way_merge_patch(original, {"spec": {"replicas": 2}}, live, POD)
    assert patch == {"spec": {"replicas": 2}}


def test_three_way_noop() -> None:
    doc = pod({"name": "a", "image": "x"})
    assert create_three_way_merge_patch(doc, deep_copy(doc), deep_copy(doc), POD) == {}


# -- properties -------------------------------------------------------------------------------

PROP_META = DictPatchMeta(
    {
        "items": {
            "patch_strategy": "merge",
            "patch_merge_key": "name",
            "fields": {
                "sub": {"patch_strategy": "merge", "patch_merge_key": "k"},
                "tags": {"patch_strategy": "merge"},
            },
        },
        "tags": {"patch_strategy": "merge"},
        "vols": {"patch_strategy": "merge,retainKeys", "patch_merge_key": "name"},
        "strategy": {"patch_strategy": "retainKeys"},
        "obj": {"patch_strategy": "replace"},
    }
)

_scalar = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", "c"]), st.booleans())
_plain = st.recursive(
    _scalar,
    lambda ch: st.one_of(st.lists(ch, max_size=3), st.dictionaries(st.sampled_from("xyz"), ch, max_size=3)),
    max_leaves=6,
)
_tags = st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), unique=True, max_size=4)


def _keyed(
    key: str, names: list[str], fields: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[list[Any]]:
    def with_key(name: str) -> st.SearchStrategy[dict[str, Any]]:
        return fields.map(lambda f: {key: name, **f})

    def items(names: list[str]) -> st.SearchStrategy[list[Any]]:
        return st.tuples(*(with_key(n) for n in names)).map(list)

    return st.lists(st.sampled_from(names), unique=True, max_size=len(names)).flatmap(items)


_sub_item = st.fixed_dictionaries({}, optional={"v": _scalar, "w": _plain})
_item = st.fixed_dictionaries(
    {},
    optional={
        "image": _scalar,
        "sub": _keyed("k", ["k1", "k2", "k3"], _sub_item),
        "tags": _tags,
        "cfg": st.dictionaries(st.sampled_from("pqr"), _plain, max_size=3),
    },
)
_vol = st.fixed_dictionaries(
    {}, optional={"emptyDir": st.just({}), "hostPath": st.fixed_dictionaries({"path": _scalar})}
)
_docs = st.fixed_dictionaries(
    {},
    optional={
        "items": _keyed("name", ["n1", "n2", "n3", "n4"], _item),
        "tags": _tags,
        "vols": _keyed("name", ["v1", "v2"], _vol),
        "strategy": st.dictionaries(st.sampled_from(["type", "rolling", "extra"]), _plain, max_size=3),
        "obj": st.dictionaries(st.sampled_from("ab"), _plain, max_size=2),
        "plain": st.lists(_plain, max_size=3),
        "m": st.dictionaries(st.sampled_from("xyz"), _plain, max_size=3),
        "s": _scalar,
    },
)


@settings(max_examples=300)
@given(_docs, _docs)
def test_two_way_round_trip(original: dict[str, Any], modified: dict[str, Any]) -> None:
    before = deep_copy(original)
    patch = create_two_way_merge_patch(original, modified, PROP_META)
    assert strategic_merge(original, patch, PROP_META) == modified
    assert original == before


@settings(max_examples=200)
@given(_docs, _docs)
def test_three_way_with_unchanged_live_object(original: dict[str, Any], modified: dict[str, Any]) -> None:
    patch = create_three_way_merge_patch(original, modified, deep_copy(original), PROP_META)
    assert strategic_merge(original, patch, PROP_META) == modified


@settings(max_examples=200)
@given(_docs, _docs, st.dictionaries(st.sampled_from(["status", "extra1"]), _plain, max_size=2))
def test_three_way_keeps_fields_only_the_server_set(
    original: dict[str, Any], modified: dict[str, Any], server_only: dict[str, Any]
) -> None:
    live = {**deep_copy(original), **server_only}
    patch = create_three_way_merge_patch(original, modified, live, PROP_META)
    assert strategic_merge(live, patch, PROP_META) == {**modified, **server_only}
