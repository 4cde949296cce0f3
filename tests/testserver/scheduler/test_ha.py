"""Two ``testserver scheduler`` instances with leader election on ``kube-system/kube-scheduler``:
one schedules, kill -9 of it hands over to the other, and no pod is bound twice (one Scheduled
event per pod, no failed binding)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scheduler_process import SchedCluster, SchedulerProcess, eventually

from testserver.testing import TestServer

LEASE = ["--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s"]
LEASE += ["--leader-elect-retry-period", "500ms"]
MASTER = 'leader_election_master_status{name="kube-scheduler"}'


@pytest.fixture
def ha(tmp_path: Path) -> Iterator[tuple[SchedCluster, SchedulerProcess, SchedulerProcess]]:
    with TestServer(data_dir=tmp_path / "apiserver", bookmark_interval=1.0) as server:
        a = SchedulerProcess(server.kubeconfig, *LEASE, data_dir=tmp_path / "a", leader_elect=True)
        b = SchedulerProcess(server.kubeconfig, *LEASE, data_dir=tmp_path / "b", leader_elect=True)
        with a, b:
            cluster = SchedCluster(Path(server.kubeconfig), a)
            try:
                cluster.ensure_namespace("default")
                yield cluster, a, b
            finally:
                cluster.close()


def _leader(cluster: SchedCluster, *procs: SchedulerProcess) -> SchedulerProcess | None:
    leading = []
    for p in procs:
        cluster.scheduler = p
        if cluster.metrics().get(MASTER) == 1.0:
            leading.append(p)
    return leading[0] if len(leading) == 1 else None


def _holder(cluster: SchedCluster) -> str:
    lease = cluster.cs.coordination_v1.leases("kube-system").get("kube-scheduler")
    return (lease.spec.holder_identity if lease.spec else None) or ""


def test_kill_9_the_leader_hands_over_without_double_binding(
    ha: tuple[SchedCluster, SchedulerProcess, SchedulerProcess],
) -> None:
    cluster, a, b = ha
    for i in range(3):
        cluster.create_node(f"ha-{i}")
    leader = eventually(lambda: _leader(cluster, a, b), what="exactly one leader")
    first_holder = eventually(lambda: _holder(cluster), what="the Lease held")
    standby = b if leader is a else a
    for i in range(15):
        cluster.create_pod(f"before-{i}")
    for i in range(15):
        cluster.wait_bound(f"before-{i}")
    leader.kill()
    # Pods created while nobody leads wait for the standby to take the Lease.
    for i in range(15):
        cluster.create_pod(f"after-{i}")
    eventually(lambda: (h := _holder(cluster)) and h != first_holder, timeout=30, what="the standby leading")
    cluster.scheduler = standby
    eventually(lambda: cluster.metrics().get(MASTER) == 1.0, what="the standby's leader metric")
    for i in range(15):
        cluster.wait_bound(f"after-{i}", timeout=60)
    names = [f"before-{i}" for i in range(15)] + [f"after-{i}" for i in range(15)]
    for name in names:
        assert len(cluster.events(name, "Scheduled")) == 1, name
        assert not cluster.events(name, "FailedScheduling"), name
    scheduled = 'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"}'
    assert cluster.metrics().get(scheduled) == 15.0
    assert "binding rejected" not in standby.log()
