"""examples/scheduler_plugin.py: the scheduler with an out-of-tree plugin, as a real process."""

from __future__ import annotations

from pathlib import Path

from scheduler_process import SchedCluster, SchedulerProcess

from testserver.testing import TestServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "scheduler_plugin.py"
CONFIG = """\
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
"""


def test_out_of_tree_plugin_filters_and_scores(tmp_path: Path) -> None:
    config = tmp_path / "cost.yaml"
    config.write_text(CONFIG)
    with TestServer(data_dir=tmp_path / "apiserver") as server:
        process = SchedulerProcess(
            server.kubeconfig, "--config", str(config), data_dir=tmp_path / "sched", program=[str(EXAMPLE)]
        )
        with process:
            cluster = SchedCluster(Path(server.kubeconfig), process)
            try:
                cluster.ensure_namespace("default")
                cluster.create_node("pricey", labels={"example.com/cost": "90"})
                cluster.create_node("cheap", labels={"example.com/cost": "10"})
                cluster.create_node("default")
                for i in range(3):
                    cluster.create_pod(f"p{i}")
                assert {cluster.wait_bound(f"p{i}") for i in range(3)} == {"cheap"}
                for name in ("pricey", "cheap", "default"):
                    cluster.cs.core_v1.nodes().patch(
                        name,
                        {"metadata": {"annotations": {"example.com/maintenance": "true"}}},
                        patch_type="merge",
                    )
                cluster.create_pod("waits")
                assert cluster.wait_unschedulable("waits") == (
                    "0/3 nodes are available: 3 node(s) were in maintenance. "
                    "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
                )
                # The plugin registered node annotation changes: the pod moves when one ends.
                cluster.cs.core_v1.nodes().patch(
                    "pricey",
                    {"metadata": {"annotations": {"example.com/maintenance": None}}},
                    patch_type="merge",
                )
                assert cluster.wait_bound("waits") == "pricey"
            finally:
                cluster.close()
