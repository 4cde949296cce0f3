"""Configuration of a :class:`~pyclientgo.leaderelection.LeaderElector` (client-go ``LeaderElectionConfig``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pyclientgo.clock import AsyncClock
from pyclientgo.leaderelection.record import ResourceLock

__all__ = ["JITTER_FACTOR", "LeaderCallbacks", "LeaderElectionConfig"]

JITTER_FACTOR = 1.2
"""Acquire attempts wait ``retry_period * (1 + random() * 1.2)``; also the validation factor."""


@dataclass(kw_only=True)
class LeaderCallbacks:
    """What to run as leadership comes and goes."""

    on_started_leading: Callable[[], Awaitable[None]]
    """Run in a task when this candidate becomes leader; cancelled when leadership is lost."""
    on_stopped_leading: Callable[[], Awaitable[None] | None]
    """Run whenever the elector stops, leader or not (sync or async)."""
    on_new_leader: Callable[[str], Awaitable[None] | None] | None = None
    """Run with the holder's identity whenever the observed holder changes (also when it is us)."""


@dataclass(kw_only=True)
class LeaderElectionConfig:
    """Timings are float seconds; kube components use 15 / 10 / 2."""

    lock: ResourceLock
    """Where the leader record lives (usually a :class:`~pyclientgo.leaderelection.LeaseLock`)."""
    callbacks: LeaderCallbacks
    """The leadership callbacks."""
    lease_duration: float = 15.0
    """How long non-leaders wait, from when THEY last saw the record change, before taking over."""
    renew_deadline: float = 10.0
    """How long the leader keeps retrying to renew before it gives up leadership."""
    retry_period: float = 2.0
    """Time between acquire/renew attempts."""
    release_on_cancel: bool = False
    """On stepping down, write an empty holder so another candidate can take over at once."""
    name: str = ""
    """A name for logs and the health check."""
    clock: AsyncClock | None = None
    """Injectable clock (monotonic ``now`` and ``sleep``); the system clock by default."""

    def validate(self) -> None:
        """Raise ``ValueError`` as client-go's ``NewLeaderElector`` does for unusable settings."""
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError("renew_deadline must be greater than retry_period*JITTER_FACTOR")
        if self.lease_duration <= 0:
            raise ValueError("lease_duration must be greater than zero")
        if self.renew_deadline <= 0:
            raise ValueError("renew_deadline must be greater than zero")
        if self.retry_period <= 0:
            raise ValueError("retry_period must be greater than zero")
        if self.callbacks is None or self.callbacks.on_started_leading is None:
            raise ValueError("on_started_leading callback must not be None")
        if self.callbacks.on_stopped_leading is None:
            raise ValueError("on_stopped_leading callback must not be None")
        if self.lock is None:
            raise ValueError("lock must not be None")
        if not self.lock.identity():
            raise ValueError("lock identity is empty")
