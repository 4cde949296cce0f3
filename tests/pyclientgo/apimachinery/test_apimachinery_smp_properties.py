"""Property tests (hypothesis) of strategic merge patch against its merge-key metadata."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as hs

from pyclientgo.apimachinery.patch_meta import DictPatchMeta
from pyclientgo.apimachinery.strategic_merge_patch import (
    SET_ELEMENT_ORDER_PREFIX,
    create_three_way_merge_patch,
    create_two_way_merge_patch,
    strategic_merge,
)

META = DictPatchMeta(
    {
        "metadata": {
            "fields": {
                "finalizers": {"patch_strategy": "merge"},
            }
        },
        "spec": {
            "fields": {
                "containers": {
                    "patch_strategy": "merge",
                    "patch_merge_key": "name",
                    "fields": {"env": {"patch_strategy": "merge", "patch_merge_key": "name"}},
                },
            }
        },
    }
)

names = hs.sampled_from(["a", "b", "c", "d", "e"])
scalars = hs.one_of(hs.integers(-3, 3), hs.sampled_from(["x", "y", "z"]), hs.booleans())


def keyed(item: Any) -> Any:
    """Lists of maps with unique names, in a random order."""
    return hs.lists(item, max_size=4, unique_by=lambda d: d["name"])


env = hs.fixed_dictionaries({"name": names}, optional={"value": hs.sampled_from(["1", "2"])})
container = hs.fixed_dictionaries(
    {"name": names},
    optional={
        "image": hs.sampled_from(["nginx", "redis"]),
        "env": keyed(env),
        "args": hs.lists(hs.sampled_from(["-v", "-q", "--x"]), max_size=3),  # atomic: replaced
        "limits": hs.dictionaries(hs.sampled_from(["cpu", "mem"]), hs.sampled_from(["1", "2"]), max_size=2),
    },
)
doc = hs.fixed_dictionaries(
    {},
    optional={
        "metadata": hs.fixed_dictionaries(
            {},
            optional={
                "labels": hs.dictionaries(names, hs.sampled_from(["1", "2"]), max_size=3),
                "finalizers": hs.lists(hs.sampled_from(["f1", "f2", "f3", "f4"]), max_size=4, unique=True),
            },
        ),
        "spec": hs.fixed_dictionaries(
            {},
            optional={"containers": keyed(container), "replicas": scalars, "paused": hs.booleans()},
        ),
        "kind": hs.just("Thing"),
    },
)


@settings(max_examples=300, deadline=None)
@given(doc, doc)
def test_two_way_diff_then_apply_reproduces_the_target(
    original: dict[str, Any], modified: dict[str, Any]
) -> None:
    patch = create_two_way_merge_patch(original, modified, META)
    assert strategic_merge(original, patch, META) == modified


@settings(max_examples=300, deadline=None)
@given(doc, doc)
def test_applying_a_patch_twice_changes_nothing_more(
    original: dict[str, Any], modified: dict[str, Any]
) -> None:
    patch = create_two_way_merge_patch(original, modified, META)
    once = strategic_merge(original, patch, META)
    assert strategic_merge(once, patch, META) == once


@settings(max_examples=200, deadline=None)
@given(doc)
def test_no_difference_means_an_empty_patch(document: dict[str, Any]) -> None:
    assert create_two_way_merge_patch(document, document, META) == {}


@settings(max_examples=300, deadline=None)
@given(doc, doc)
def test_three_way_patch_from_the_live_state_reaches_the_configuration(
    original: dict[str, Any], modified: dict[str, Any]
) -> None:
    # when nobody else changed the object, apply makes it the new configuration
    patch = create_three_way_merge_patch(original, modified, original, META)
    assert strategic_merge(original, patch, META) == modified


@settings(max_examples=300, deadline=None)
@given(keyed(container), hs.permutations(["a", "b", "c", "d", "e"]))
def test_set_element_order_orders_the_merged_list(live: list[dict[str, Any]], order: list[str]) -> None:
    present = {c["name"] for c in live}
    wanted = [n for n in order if n in present]
    patch = {"spec": {SET_ELEMENT_ORDER_PREFIX + "containers": [{"name": n} for n in wanted]}}
    result = strategic_merge({"spec": {"containers": live}}, patch, META)
    assert [c["name"] for c in result["spec"]["containers"]] == wanted
    # items are kept whole, only reordered
    assert sorted(map(repr, result["spec"]["containers"])) == sorted(map(repr, live))


@settings(max_examples=200, deadline=None)
@given(keyed(container), names)
def test_delete_directive_removes_exactly_that_item(live: list[dict[str, Any]], name: str) -> None:
    patch = {"spec": {"containers": [{"name": name, "$patch": "delete"}]}}
    result = strategic_merge({"spec": {"containers": live}}, patch, META)
    assert result["spec"]["containers"] == [c for c in live if c["name"] != name]


@settings(max_examples=200, deadline=None)
@given(
    hs.lists(hs.sampled_from(["f1", "f2", "f3", "f4"]), unique=True),
    hs.lists(hs.sampled_from(["f1", "f2", "f3"])),
)
def test_delete_from_primitive_list(live: list[str], drop: list[str]) -> None:
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": drop}}
    result = strategic_merge({"metadata": {"finalizers": live}}, patch, META)
    assert result["metadata"]["finalizers"] == [f for f in live if f not in drop]
