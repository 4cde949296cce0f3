"""An out-of-tree scheduler plugin: ``testserver scheduler`` with one more Filter and Score.

``NodeCost`` is a plugin of a few lines: its Filter keeps pods off nodes annotated
``example.com/maintenance: "true"`` (the pod's FailedScheduling message says so, counted per node as
kube does), and its Score prefers cheaper nodes by the label ``example.com/cost`` (an integer; lower
is better; unlabelled nodes cost 100). It is registered by name and enabled, like any in-tree
plugin, by a KubeSchedulerConfiguration profile::

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    profiles:
    - schedulerName: default-scheduler
      plugins:
        multiPoint:
          enabled:
          - name: NodeCost
            weight: 5
      pluginConfig:
      - name: NodeCost
        args: {defaultCost: 100}

Run it against ``./scripts/up``'s cluster (instead of the bundled scheduler), with the flags of
``testserver scheduler``::

    uv run python examples/scheduler_plugin.py --kubeconfig .testserver/kubeconfig --config cost.yaml \\
        --leader-elect=false
    kubectl label node node-0 example.com/cost=10
    kubectl annotate node node-1 example.com/maintenance=true
    kubectl run web --image=nginx && kubectl get pod web -o wide     # on node-0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from testserver.scheduler import cli
from testserver.scheduler.config import REGISTRY
from testserver.scheduler.framework import Handle, Plugin
from testserver.scheduler.nodeinfo import NodeInfo
from testserver.scheduler.podinfo import PodInfo
from testserver.scheduler.types import ActionType, ClusterEvent, Code, CycleState, EventResource, Status

MAINTENANCE = "example.com/maintenance"
COST = "example.com/cost"


class NodeCost(Plugin):
    """Filter: no nodes in maintenance. Score: cheaper nodes first."""

    name = "NodeCost"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.default_cost = int(args.get("defaultCost", 100))

    def filter(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> Status:
        node = node_info.node
        annotations = (node.metadata.annotations if node and node.metadata else None) or {}
        if annotations.get(MAINTENANCE) == "true":
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) were in maintenance")
        return Status()

    def score(self, state: CycleState, pod_info: PodInfo, node_info: NodeInfo) -> int:
        try:
            cost = int(node_info.labels.get(COST, self.default_cost))
        except ValueError:
            cost = self.default_cost
        return max(0, 100 - min(cost, 100))  # 0..100: cost 0 scores 100

    def events_to_register(self) -> list[Any]:
        from testserver.scheduler.framework import ClusterEventWithHint

        # A node leaving maintenance (annotation change) or a new node may let a rejected pod in.
        actions = ActionType.ADD | ActionType.UPDATE_NODE_ANNOTATION
        return [ClusterEventWithHint(ClusterEvent(EventResource.NODE, actions))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scheduler-with-nodecost", description=__doc__.split("\n", 1)[0])
    cli.configure_parser(parser)
    args = parser.parse_args(argv)
    return cli.run(args, plugin_registry={**REGISTRY, NodeCost.name: NodeCost})


if __name__ == "__main__":
    sys.exit(main())
