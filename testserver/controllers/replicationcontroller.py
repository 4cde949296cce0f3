"""The ReplicationController controller (kube's ``pkg/controller/replication``).

kube runs the ReplicaSet controller's code for ReplicationControllers (through conversions); here the
same engine, :class:`~testserver.controllers.replicaset.ReplicaSetController`, runs with the v1
ReplicationController kind: a map selector, controller references ``v1``/``ReplicationController``,
the ``replicationmanager`` queue, events from ``replication-controller`` and ``--concurrent-rc-syncs``
workers.
"""

from __future__ import annotations

from testserver.controllers.context import ControllerContext
from testserver.controllers.replicaset import REPLICATION_CONTROLLER_KIND, ReplicaSetController

__all__ = ["CONTROLLER_NAME", "new_replication_controller"]

CONTROLLER_NAME = "replicationcontroller-controller"


def new_replication_controller(ctx: ControllerContext) -> ReplicaSetController:
    """The registry's init function."""
    return ReplicaSetController(ctx, REPLICATION_CONTROLLER_KIND)
