"""A health check for a leader-elected process (client-go ``HealthzAdaptor``)."""

from __future__ import annotations

from pyclientgo.leaderelection.leader_elector import LeaderElector

__all__ = ["HealthzAdaptor"]


class HealthzAdaptor:
    """Fails when this process leads but has not renewed for longer than the lease plus a tolerance.

    Create it before the elector and :meth:`set_leader_elector` once it exists (as client-go does).
    """

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self._elector: LeaderElector | None = None

    def set_leader_elector(self, elector: LeaderElector) -> None:
        self._elector = elector

    def name(self) -> str:
        return "leaderElection"

    def check(self) -> None:
        """Raise if unhealthy; return quietly otherwise (also before an elector is set)."""
        if self._elector is not None:
            self._elector.check(self.timeout)
