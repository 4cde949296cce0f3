"""Permit: a plugin that holds pods (WAIT) until a gang is complete, and its timeout, in a real
scheduler process started from a script that registers the plugin (as examples/ does)."""

from __future__ import annotations

from pathlib import Path

from scheduler_process import SchedCluster, SchedulerProcess, eventually

from testserver.testing import TestServer

PLUGIN = '''\
"""A gang Permit plugin: pods labelled gang=<name> wait until gang-size of them are held."""

import sys

from testserver.scheduler import cli
from testserver.scheduler.config import REGISTRY
from testserver.scheduler.framework import Plugin
from testserver.scheduler.types import Status, Code


class Gang(Plugin):
    name = "Gang"

    def permit(self, state, pod_info, node):
        gang = pod_info.labels.get("gang")
        if gang is None:
            return Status(), 0
        size = int(pod_info.labels.get("gang-size", "2"))
        held = [w for w in self.handle.waiting_pods() if w.pod_info.labels.get("gang") == gang]
        if len(held) + 1 >= size:
            for w in held:
                w.allow(self.name)
            return Status(), 0
        return Status(Code.WAIT), float(pod_info.labels.get("gang-timeout", "30"))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    sys.exit(cli.run(parser.parse_args(), plugin_registry={**REGISTRY, "Gang": Gang}))
'''
CONFIG = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    permit:
      enabled:
      - name: Gang
"""


def test_permit_wait_allow_and_timeout(tmp_path: Path) -> None:
    script = tmp_path / "gang_scheduler.py"
    script.write_text(PLUGIN)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    with TestServer(data_dir=tmp_path / "apiserver") as server:
        process = SchedulerProcess(
            server.kubeconfig, "--config", str(config), data_dir=tmp_path / "sched", program=[str(script)]
        )
        with process:
            cluster = SchedCluster(Path(server.kubeconfig), process)
            try:
                cluster.ensure_namespace("default")
                cluster.create_node("n")
                gang = {"gang": "g1", "gang-size": "3"}
                cluster.create_pod("g1-a", labels=gang)
                cluster.create_pod("g1-b", labels=gang)
                cluster.create_pod("solo")  # not in a gang: not held
                cluster.wait_bound("solo")
                # Two of three are held at Permit (assumed, not bound).
                eventually(
                    lambda: cluster.metrics().get('scheduler_cache_size{type="assumed_pods"}') == 2.0,
                    what="two gang pods held",
                )
                assert not cluster.pod("g1-a")["spec"].get("nodeName")
                cluster.create_pod("g1-c", labels=gang)
                for name in ("g1-a", "g1-b", "g1-c"):
                    assert cluster.wait_bound(name) == "n"
                # A gang that never completes is rejected when the plugin's timeout ends.
                cluster.create_pod("lonely", labels={"gang": "g2", "gang-size": "2", "gang-timeout": "1"})
                condition = eventually(
                    lambda: (c := cluster.scheduled_condition("lonely")) and c.get("status") == "False" and c,
                    what="lonely rejected",
                )
                assert condition["reason"] == "Unschedulable"
                assert condition["message"] == (
                    "0/1 nodes are available: 1 rejected due to timeout after waiting 1s at plugin Gang."
                )
            finally:
                cluster.close()
