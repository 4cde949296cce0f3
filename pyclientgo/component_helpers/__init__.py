"""Helpers the Kubernetes components share, after ``k8s.io/component-helpers`` and kubectl's podutils.

* :mod:`~pyclientgo.component_helpers.pod`: readiness, availability, conditions, phase;
* :mod:`~pyclientgo.component_helpers.node`: node conditions and readiness;
* :mod:`~pyclientgo.component_helpers.resource`: effective pod requests and limits (init and
  sidecar containers, overhead);
* :mod:`~pyclientgo.component_helpers.qos`: the pod's QoS class;
* :mod:`~pyclientgo.component_helpers.scheduling`: taints and tolerations, node selectors and node
  affinity.

All take the typed models of :mod:`pyclientgo.api.core.v1`. Controller references live in
:mod:`pyclientgo.apimachinery.meta`; polling and backoff loops in :mod:`pyclientgo.util.wait`.
"""

from pyclientgo.component_helpers.node import get_node_condition, is_node_ready
from pyclientgo.component_helpers.pod import (
    get_container_status,
    get_containers_ready_condition,
    get_pod_condition,
    get_pod_condition_from_list,
    get_pod_ready_condition,
    is_containers_ready_condition_true,
    is_pod_active,
    is_pod_available,
    is_pod_phase_terminal,
    is_pod_ready,
    is_pod_ready_condition_true,
    is_pod_scheduled,
    is_pod_terminal,
    is_restartable_init_container,
    update_pod_condition,
)
from pyclientgo.component_helpers.qos import PodQOSClass, compute_pod_qos, get_pod_qos
from pyclientgo.component_helpers.resource import (
    ContainerType,
    ResourceList,
    container_limits,
    container_requests,
    parse_resource_list,
    pod_limits,
    pod_requests,
)
from pyclientgo.component_helpers.scheduling import (
    LazyErrorNodeSelector,
    NodeSelector,
    NodeSelectorError,
    PreferredSchedulingTerms,
    RequiredNodeAffinity,
    find_matching_untolerated_taint,
    get_required_node_affinity,
    match_node_selector_terms,
    pod_priority,
    taint_to_string,
    toleration_tolerates_taint,
    tolerations_tolerate_taint,
)

__all__ = [
    "ContainerType",
    "LazyErrorNodeSelector",
    "NodeSelector",
    "NodeSelectorError",
    "PodQOSClass",
    "PreferredSchedulingTerms",
    "RequiredNodeAffinity",
    "ResourceList",
    "compute_pod_qos",
    "container_limits",
    "container_requests",
    "find_matching_untolerated_taint",
    "get_container_status",
    "get_node_condition",
    "get_containers_ready_condition",
    "get_pod_condition",
    "get_pod_condition_from_list",
    "get_pod_qos",
    "get_pod_ready_condition",
    "get_required_node_affinity",
    "is_containers_ready_condition_true",
    "is_node_ready",
    "is_pod_active",
    "is_pod_available",
    "is_pod_phase_terminal",
    "is_pod_ready",
    "is_pod_ready_condition_true",
    "is_pod_scheduled",
    "is_pod_terminal",
    "is_restartable_init_container",
    "match_node_selector_terms",
    "parse_resource_list",
    "pod_limits",
    "pod_priority",
    "pod_requests",
    "taint_to_string",
    "toleration_tolerates_taint",
    "tolerations_tolerate_taint",
    "update_pod_condition",
]
