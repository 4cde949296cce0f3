"""The etcd v3 storage backend: ``--storage etcd://HOST:PORT[,HOST:PORT...]``.

Several API servers on one etcd behave as one cluster: every write is an etcd transaction, every
watch is fed by etcd (through a per-process watch cache), and resourceVersions are etcd revisions.

=================  ==============================================================================
``storage``        :class:`EtcdStorage`: the ``Storage`` protocol on etcd, compaction
``_cache``         the watch cache: one etcd watch per resource prefix, fanned out to client watches
``_client``        the thin typed gRPC layer (``grpc.aio`` and etcd's generated stubs from aetcd)
=================  ==============================================================================

:func:`open_storage` turns the ``--storage`` spec into an open storage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from testserver.storage.etcd._client import EtcdTLS, parse_endpoints
from testserver.storage.etcd.storage import (
    COMPACT_REV_KEY,
    DEFAULT_COMPACTION_INTERVAL,
    DEFAULT_WATCH_CACHE_SIZE,
    EtcdStorage,
)

__all__ = [
    "COMPACT_REV_KEY",
    "DEFAULT_COMPACTION_INTERVAL",
    "DEFAULT_WATCH_CACHE_SIZE",
    "EtcdStorage",
    "EtcdTLS",
    "open_storage",
    "parse_endpoints",
    "storage_factory",
]


async def open_storage(spec: str, *, tls: EtcdTLS | None = None, **options: Any) -> EtcdStorage:
    """Open ``etcd://HOST:PORT[,HOST:PORT...]``; ``options`` as for :meth:`EtcdStorage.open`."""
    return await EtcdStorage.open(parse_endpoints(spec), tls=tls, **options)


class _EtcdFlags(Protocol):
    """The API server options the etcd backend reads (``ServerOptions``)."""

    etcd_cafile: Any
    etcd_certfile: Any
    etcd_keyfile: Any
    etcd_compaction_interval: float


def storage_factory(spec: str, flags: _EtcdFlags, **options: Any) -> Callable[[], Awaitable[EtcdStorage]]:
    """The API server's storage factory for ``--storage etcd://...`` (validates the spec now)."""
    try:
        endpoints = parse_endpoints(spec)
    except ValueError as exc:
        raise SystemExit(f"--storage {spec!r}: {exc}") from None
    tls = None
    if flags.etcd_cafile or flags.etcd_certfile or flags.etcd_keyfile:
        tls = EtcdTLS(cafile=flags.etcd_cafile, certfile=flags.etcd_certfile, keyfile=flags.etcd_keyfile)

    async def open_etcd() -> EtcdStorage:
        return await EtcdStorage.open(
            endpoints, tls=tls, compaction_interval=flags.etcd_compaction_interval, **options
        )

    return open_etcd
