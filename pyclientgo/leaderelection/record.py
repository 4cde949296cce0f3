"""The leader election record and the lock it lives in (client-go ``resourcelock``)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, replace
from typing import Protocol

from pyclientgo.api.coordination.v1 import Lease, LeaseSpec
from pyclientgo.api.meta.v1 import ObjectMeta
from pyclientgo.errors import PyClientGoError

__all__ = ["LeaderElectionRecord", "LeaseLock", "LockNotFound", "ResourceLock"]


@dataclass(frozen=True, kw_only=True)
class LeaderElectionRecord:
    """Who holds the lock and since when (the fields of a Lease's spec)."""

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: _dt.datetime | None = None
    renew_time: _dt.datetime | None = None
    leader_transitions: int = 0

    def with_(self, **changes: object) -> LeaderElectionRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


class LockNotFound(PyClientGoError):
    """The lock object does not exist yet (the elector then creates it)."""


class ResourceLock(Protocol):
    """Where the record is stored. ``update`` must fail with a conflict if the object changed since
    the last ``get``/``create``/``update`` of this lock (optimistic concurrency)."""

    async def get(self) -> LeaderElectionRecord:
        """The current record; raises :class:`LockNotFound` when there is no lock object."""
        ...

    async def create(self, record: LeaderElectionRecord) -> None: ...

    async def update(self, record: LeaderElectionRecord) -> None: ...

    def identity(self) -> str: ...

    def describe(self) -> str: ...


class _LeasesClient(Protocol):
    async def get(self, name: str, *, resource_version: str | None = None) -> Lease: ...

    async def create(self, obj: Lease, **kwargs: object) -> Lease: ...

    async def update(self, obj: Lease, **kwargs: object) -> Lease: ...


class LeaseLock:
    """A ``coordination.k8s.io/v1`` Lease as the lock (client-go's ``LeaseLock``).

    ``leases`` is the typed client of the lease's namespace, e.g.
    ``clientset.coordination_v1.leases("kube-system")``.
    """

    def __init__(self, leases: _LeasesClient, name: str, identity: str) -> None:
        if not identity:
            raise ValueError("LeaseLock needs a non-empty identity")
        self._leases = leases
        self.name = name
        self._identity = identity
        self._lease: Lease | None = None

    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        namespace = getattr(self._leases, "namespace", None) or ""
        return f"{namespace}/{self.name}"

    async def get(self) -> LeaderElectionRecord:
        from pyclientgo.errors import NotFound

        try:
            lease = await self._leases.get(self.name)
        except NotFound as err:
            raise LockNotFound(f"lease {self.describe()} not found") from err
        self._lease = lease
        return _record_of(lease.spec or LeaseSpec())

    async def create(self, record: LeaderElectionRecord) -> None:
        lease = Lease(metadata=ObjectMeta(name=self.name), spec=_spec_of(record))
        self._lease = await self._leases.create(lease)

    async def update(self, record: LeaderElectionRecord) -> None:
        if self._lease is None:
            raise PyClientGoError("LeaseLock.update before get or create")
        # Keep the object as read (labels, annotations, owner references, resourceVersion for the
        # optimistic-concurrency check); only the spec is ours to write.
        lease = self._lease.model_copy(deep=True)
        if lease.metadata is None:
            lease.metadata = ObjectMeta(name=self.name)
        lease.spec = _spec_of(record)
        self._lease = await self._leases.update(lease)


def _record_of(spec: LeaseSpec) -> LeaderElectionRecord:
    return LeaderElectionRecord(
        holder_identity=spec.holder_identity or "",
        lease_duration_seconds=spec.lease_duration_seconds or 0,
        acquire_time=spec.acquire_time,
        renew_time=spec.renew_time,
        leader_transitions=spec.lease_transitions or 0,
    )


def _spec_of(record: LeaderElectionRecord) -> LeaseSpec:
    return LeaseSpec(
        holder_identity=record.holder_identity,
        lease_duration_seconds=record.lease_duration_seconds,
        acquire_time=record.acquire_time,
        renew_time=record.renew_time,
        lease_transitions=record.leader_transitions,
    )
