"""The public names: every exported name exists once (ruff keeps the lists sorted), the sync and async wait
modules offer the same names, and no public module exports a private name."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "pyclientgo.component_helpers",
    "pyclientgo.component_helpers.node",
    "pyclientgo.component_helpers.pod",
    "pyclientgo.component_helpers.resource",
    "pyclientgo.component_helpers.qos",
    "pyclientgo.component_helpers.scheduling",
    "pyclientgo.apimachinery.meta",
    "pyclientgo.util.wait",
    "pyclientgo.util.sync_wait",
]


@pytest.mark.parametrize("name", MODULES)
def test_exports_exist_sorted_and_public(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    for attr in exported:
        assert not attr.startswith("_")
        assert hasattr(module, attr), f"{name}.{attr}"


def test_wait_twins_offer_the_same_functions() -> None:
    from pyclientgo.util import sync_wait, wait

    stop_names = {"AsyncStopEvent", "StopEvent"}
    assert set(wait.__all__) - stop_names == set(sync_wait.__all__) - stop_names


def test_package_reexports_the_names_components_use() -> None:
    import pyclientgo.component_helpers as helpers
    from pyclientgo.component_helpers import pod, qos, resource, scheduling

    for module in (pod, qos, resource, scheduling):
        for attr in module.__all__:
            if attr.isupper():  # constants stay in their module
                continue
            if hasattr(helpers, attr):
                assert getattr(helpers, attr) is getattr(module, attr)
    for attr in (
        "is_pod_ready",
        "is_pod_available",
        "get_pod_condition",
        "get_pod_ready_condition",
        "is_pod_active",
        "is_pod_terminal",
        "is_pod_scheduled",
        "update_pod_condition",
        "pod_requests",
        "pod_limits",
        "get_pod_qos",
        "toleration_tolerates_taint",
        "tolerations_tolerate_taint",
        "find_matching_untolerated_taint",
        "match_node_selector_terms",
        "RequiredNodeAffinity",
        "get_required_node_affinity",
    ):
        assert attr in helpers.__all__
