"""Fixtures for the scheduler tests: one API server and one ``testserver scheduler`` per module.

Each test gets a clean cluster (:func:`sched`): after it, its pods and nodes are deleted and the
scheduler's cache is seen empty (its ``scheduler_cache_size`` metric) before the next test starts,
so node counts in FailedScheduling messages are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scheduler_process import SchedCluster, SchedulerProcess

from testserver.testing import TestServer


@pytest.fixture(scope="module")
def sched_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchedCluster]:
    data = tmp_path_factory.mktemp("scheduler")
    config = data / "scheduler-config.yaml"
    config.write_text(SECOND_PROFILE_CONFIG)
    with TestServer(data_dir=data / "apiserver", bookmark_interval=1.0) as server:
        with SchedulerProcess(
            server.kubeconfig, "--config", str(config), data_dir=data / "scheduler"
        ) as process:
            cluster = SchedCluster(Path(server.kubeconfig), process)
            try:
                cluster.ensure_namespace("default")
                yield cluster
            finally:
                cluster.close()


@pytest.fixture
def sched(sched_cluster: SchedCluster) -> Iterator[SchedCluster]:
    try:
        yield sched_cluster
    finally:
        sched_cluster.reset()


SECOND_PROFILE_CONFIG = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 1
        - name: memory
          weight: 1
"""
"""The module's configuration: kube's default profile and a second one that packs (MostAllocated)."""
