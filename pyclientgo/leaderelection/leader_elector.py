"""The leader elector (client-go ``tools/leaderelection/leaderelection.go``).

:meth:`LeaderElector.run` tries to acquire the lock every ``retry_period`` (with jitter). Once it
holds the lock it starts ``on_started_leading`` in a task and renews every ``retry_period``; when no
renewal succeeds within ``renew_deadline`` it cancels that task and returns. ``on_stopped_leading``
always runs on the way out, and with ``release_on_cancel`` a leader that is cancelled writes an empty
holder (retrying a conflict, which an in-flight renew can cause) so a successor need not wait.

Expiry is judged by LOCAL time: a candidate remembers when it last saw the record change
(``observed_time``, on its own monotonic clock) and treats the lease as expired once
``observed_time + leaseDurationSeconds`` has passed, never comparing the record's timestamps with its
own clock, so clock skew between machines cannot make two leaders. Every write carries the
resourceVersion it read, so two candidates racing for the same record cannot both win.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import inspect
import logging
import math
import random
from typing import Any

from pyclientgo.clock import AsyncClock, AsyncSystemClock
from pyclientgo.errors import PyClientGoError, is_conflict
from pyclientgo.leaderelection.config import JITTER_FACTOR, LeaderElectionConfig
from pyclientgo.leaderelection.record import LeaderElectionRecord, LockNotFound

__all__ = ["LeaderElector"]

log = logging.getLogger("pyclientgo.leaderelection")


def _wall_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


class LeaderElector:
    """Runs one candidate's election loop; see the module docstring."""

    def __init__(self, config: LeaderElectionConfig, *, rng: random.Random | None = None) -> None:
        config.validate()
        self.config = config
        self.clock: AsyncClock = config.clock or AsyncSystemClock()
        self._rng = rng or random.Random()
        self._observed: LeaderElectionRecord | None = None
        self._observed_time: float = 0.0
        self._last_success_start: float | None = None
        self._reported_leader: str | None = None
        self._lead_task: asyncio.Task[None] | None = None
        self._callbacks: set[asyncio.Future[Any]] = set()

    # -- state ------------------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.config.lock.identity()

    def get_leader(self) -> str:
        """The identity of the holder this candidate last observed ("" if none)."""
        return self._observed.holder_identity if self._observed else ""

    def is_leader(self) -> bool:
        """Whether the last observed record names this candidate."""
        return self._observed is not None and self._observed.holder_identity == self.identity

    @property
    def observed_time(self) -> float:
        """When (on the local clock) the record was last seen to change."""
        return self._observed_time

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Health check: raise if we lead but have not renewed for longer than the lease plus tolerance."""
        if not self.is_leader():
            return
        if self.clock.now() > self._observed_time + self.config.lease_duration + max_tolerable_expired_lease:
            raise PyClientGoError(
                f"failed election to renew leadership on lease {self.config.lock.describe()}"
            )

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire, lead until renewal fails (or until cancelled), then stop leading."""
        try:
            if not await self._acquire():
                return
            self._lead_task = asyncio.create_task(
                self._lead(), name=f"leader-{self.config.name or self.identity}"
            )
            await self._renew()
        finally:
            await self._stop()

    async def _lead(self) -> None:
        try:
            await self.config.callbacks.on_started_leading()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("on_started_leading of %s failed", self.identity)

    async def _stop(self) -> None:
        task, self._lead_task = self._lead_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(task)
        if self.config.release_on_cancel and self.is_leader():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(asyncio.ensure_future(self.release()))
        try:
            await _maybe_await(self.config.callbacks.on_stopped_leading())
        except Exception:
            log.exception("on_stopped_leading of %s failed", self.identity)

    async def _acquire(self) -> bool:
        desc = self.config.lock.describe()
        log.info("%s: attempting to acquire leader lease %s", self.identity, desc)
        while True:
            if await self.try_acquire_or_renew():
                log.info("%s: successfully acquired lease %s", self.identity, desc)
                return True
            period = self.config.retry_period
            await self.clock.sleep(period + self._rng.random() * JITTER_FACTOR * period)

    async def _renew(self) -> None:
        """Renew every retry_period; return when a renewal window of renew_deadline passes without success.

        As in client-go a window starts ``retry_period`` after the last success and lasts
        ``renew_deadline``, but it is counted from when the last successful attempt STARTED, not from
        when its answer arrived: a slow answer must not stretch leadership past what the other
        candidates (who start counting when they see the write) allow.
        """
        cfg = self.config
        while True:
            deadline = self.clock.now() + cfg.renew_deadline
            if self._last_success_start is not None:
                deadline = min(deadline, self._last_success_start + cfg.retry_period + cfg.renew_deadline)
            renewed = False
            while True:
                try:
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
                    # that arrives just as the attempt finishes, and the elector would not stop.
                    async with asyncio.timeout(max(0.0, deadline - self.clock.now())):
                        renewed = await self.try_acquire_or_renew()
                except TimeoutError:
                    renewed = False
                if renewed or self.clock.now() >= deadline:
                    break
                await self.clock.sleep(min(cfg.retry_period, max(0.0, deadline - self.clock.now())))
                if self.clock.now() >= deadline:
                    break
            if not renewed:
                log.info("%s: failed to renew lease %s", self.identity, cfg.lock.describe())
                return
            await self.clock.sleep(cfg.retry_period)

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: create the lock, renew it, or take it over if expired. True on success."""
        lock = self.config.lock
        started = self.clock.now()
        now_wall = _wall_now()
        # Whole seconds on the wire; round UP so the record never promises others less than our
        # lease_duration (client-go truncates, which only matters for fractional durations).
        duration = max(1, math.ceil(self.config.lease_duration))
        desired = LeaderElectionRecord(
            holder_identity=self.identity,
            lease_duration_seconds=duration,
            acquire_time=now_wall,
            renew_time=now_wall,
        )
        try:
            old = await lock.get()
        except LockNotFound:
            try:
                await lock.create(desired)
            except Exception as err:
                log.debug("%s: error creating lock: %s", self.identity, err)
                return False
            self._last_success_start = started
            self._observe(desired)
            return True
        except Exception as err:
            log.debug("%s: error retrieving lock: %s", self.identity, err)
            return False

        if self._observed is None or old != self._observed:
            self._observe(old)
        now = self.clock.now()
        expired = now >= self._observed_time + old.lease_duration_seconds
        if old.holder_identity and old.holder_identity != self.identity and not expired:
            log.debug("%s: lock is held by %s and has not yet expired", self.identity, old.holder_identity)
            return False

        if old.holder_identity == self.identity:
            desired = desired.with_(acquire_time=old.acquire_time, leader_transitions=old.leader_transitions)
        else:
            desired = desired.with_(leader_transitions=old.leader_transitions + 1)
        try:
            await lock.update(desired)
        except Exception as err:
            log.debug("%s: failed to update lock: %s", self.identity, err)
            return False
        self._last_success_start = started
        self._observe(desired)
        return True

    async def release(self) -> bool:
        """Give up the lease if we hold it: an empty holder with a 1 s duration. Retries conflicts."""
        lock = self.config.lock
        for _ in range(5):
            if not self.is_leader():
                return True
            now_wall = _wall_now()
            record = LeaderElectionRecord(
                holder_identity="",
                lease_duration_seconds=1,
                acquire_time=now_wall,
                renew_time=now_wall,
                leader_transitions=self._observed.leader_transitions if self._observed else 0,
            )
            try:
                await lock.update(record)
            except Exception as err:
                if not is_conflict(err):
                    log.info("%s: failed to release lock: %s", self.identity, err)
                    return False
                try:  # someone (our own in-flight renew, or a successor) wrote: look again
                    current = await lock.get()
                except Exception:
                    return False
                self._observe(current)
                continue
            self._observe(record)
            return True
        return False

    def _observe(self, record: LeaderElectionRecord) -> None:
        self._observed = record
        self._observed_time = self.clock.now()
        holder = record.holder_identity
        if holder == self._reported_leader:
            return
        # An empty holder (a released lease) is remembered, not reported: when the same candidate
        # takes the lease again afterwards that is a change of holder and is reported.
        self._reported_leader = holder
        callback = self.config.callbacks.on_new_leader
        if not holder or callback is None:
            return
        try:  # client-go runs it in a goroutine: a failing callback must not break the election
            result = callback(holder)
        except Exception:
            log.exception("on_new_leader of %s failed", self.identity)
            return
        if inspect.isawaitable(result):
            future = asyncio.ensure_future(result)
            self._callbacks.add(future)
            future.add_done_callback(self._callback_done)

    def _callback_done(self, future: asyncio.Future[Any]) -> None:
        self._callbacks.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("on_new_leader of %s failed", self.identity, exc_info=future.exception())
