"""Leader election with a Lease lock (client-go ``tools/leaderelection``).

::

    lock = LeaseLock(clientset.coordination_v1.leases("kube-system"), "my-controller", identity)
    elector = LeaderElector(LeaderElectionConfig(
        lock=lock,
        callbacks=LeaderCallbacks(on_started_leading=lead, on_stopped_leading=stopped),
        lease_duration=15, renew_deadline=10, retry_period=2, release_on_cancel=True,
    ))
    await elector.run()   # returns when leadership is lost; cancel it to step down
"""

from pyclientgo.leaderelection.config import JITTER_FACTOR, LeaderCallbacks, LeaderElectionConfig
from pyclientgo.leaderelection.healthz import HealthzAdaptor
from pyclientgo.leaderelection.leader_elector import LeaderElector
from pyclientgo.leaderelection.record import LeaderElectionRecord, LeaseLock, LockNotFound, ResourceLock

__all__ = [
    "JITTER_FACTOR",
    "HealthzAdaptor",
    "LeaderCallbacks",
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
    "LeaseLock",
    "LockNotFound",
    "ResourceLock",
]
