"""A thin, typed layer over etcd's v3 gRPC API: one ``grpc.aio`` channel, the generated stubs.

The stubs come from ``aetcd.rpc`` (aetcd ships etcd's generated ``rpc_pb2``); aetcd's own
high-level client is not used, since its range call cannot read at a revision or page.

Only what the storage needs: ``Range``, ``Txn``, ``Compact`` and bidirectional ``Watch``
streams. Protobuf messages cross this module's boundary as ``Any`` (the generated code has no
type information); builders below keep their construction in one place. gRPC errors become
:class:`EtcdCompacted`, :class:`EtcdFutureRevision` or :class:`EtcdUnavailable`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from aetcd.rpc import rpc_pb2 as pb
from aetcd.rpc import rpc_pb2_grpc as pb_grpc

from testserver.storage.errors import StorageError

__all__ = [
    "EtcdClient",
    "EtcdCompacted",
    "EtcdFutureRevision",
    "EtcdTLS",
    "EtcdUnavailable",
    "op_delete",
    "op_put",
    "op_range",
    "parse_endpoints",
    "prefix_end",
    "when_absent",
    "when_mod_revision",
    "when_present",
    "when_version",
]

_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"


class EtcdCompacted(StorageError):
    """etcd no longer has the requested revision (compacted)."""


class EtcdFutureRevision(StorageError):
    """The requested revision is newer than etcd's current revision."""


class EtcdUnavailable(StorageError):
    """etcd could not be reached or answered with an error other than a revision error."""


@dataclass(frozen=True, kw_only=True)
class EtcdTLS:
    """Client TLS for etcd (the ``--etcd-cafile/--etcd-certfile/--etcd-keyfile`` flags)."""

    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    def credentials(self) -> Any:
        def read(path: Path | None) -> bytes | None:
            return Path(path).read_bytes() if path is not None else None

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.cafile),
            private_key=read(self.keyfile),
            certificate_chain=read(self.certfile),
        )


def parse_endpoints(spec: str) -> list[str]:
    """``etcd://h1:p1,h2:p2`` (or a bare ``h1:p1,h2:p2``) → ``["h1:p1", "h2:p2"]``."""
    rest = spec.split("://", 1)[1] if "://" in spec else spec
    endpoints = [e.strip().rstrip("/") for e in rest.split(",") if e.strip()]
    if not endpoints:
        raise ValueError(f"no etcd endpoint in {spec!r}: use etcd://HOST:PORT[,HOST:PORT...]")
    for e in endpoints:
        host, sep, port = e.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"bad etcd endpoint {e!r}: use HOST:PORT")
    return endpoints


def _target(endpoints: Sequence[str]) -> tuple[str, str | None]:
    """A gRPC target for the endpoints (round robin over several) and the TLS host name to expect."""
    if len(endpoints) == 1:
        return endpoints[0], None
    addrs: list[str] = []
    family = "ipv4"
    for e in endpoints:
        host, _, port = e.rpartition(":")
        host = host.strip("[]")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = ipaddress.ip_address(socket.getaddrinfo(host, int(port), proto=socket.IPPROTO_TCP)[0][4][0])
        if ip.version == 6:
            family = "ipv6"
            addrs.append(f"[{ip}]:{port}")
        else:
            addrs.append(f"{ip}:{port}")
    first_host = endpoints[0].rpartition(":")[0].strip("[]")
    return f"{family}:{','.join(addrs)}", first_host


def prefix_end(prefix: bytes) -> bytes:
    """The exclusive end of the key range of ``prefix`` (etcd's ``GetPrefixRangeEnd``)."""
    b = bytearray(prefix)
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\x00"


# -- request builders ---------------------------------------------------------------------------


def when_absent(key: bytes) -> Any:
    return pb.Compare(key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0)


def when_present(key: bytes) -> Any:
    return pb.Compare(key=key, target=pb.Compare.CREATE, result=pb.Compare.GREATER, create_revision=0)


def when_version(key: bytes, version: int) -> Any:
    return pb.Compare(key=key, target=pb.Compare.VERSION, result=pb.Compare.EQUAL, version=version)


def when_mod_revision(key: bytes, revision: int) -> Any:
    return pb.Compare(key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=revision)


def op_put(key: bytes, value: bytes) -> Any:
    return pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))


def op_delete(key: bytes) -> Any:
    return pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key, prev_kv=True))


def op_range(key: bytes) -> Any:
    return pb.RequestOp(request_range=pb.RangeRequest(key=key))


def _map_error(exc: grpc.aio.AioRpcError) -> StorageError:
    details = exc.details() or ""
    if _COMPACTED in details:
        return EtcdCompacted(details)
    if _FUTURE in details:
        return EtcdFutureRevision(details)
    return EtcdUnavailable(f"etcd: {exc.code().name}: {details}")


class EtcdClient:
    """One gRPC channel to an etcd cluster. Create and use it inside one running event loop."""

    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        tls: EtcdTLS | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoints = list(endpoints)
        self._timeout = timeout
        target, tls_name = _target(self.endpoints)
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.enable_retries", 0),
        ]
        if tls is not None:
            if tls_name:
                options.append(("grpc.ssl_target_name_override", tls_name))
            self._channel = grpc.aio.secure_channel(target, tls.credentials(), options=options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        self._kv = pb_grpc.KVStub(self._channel)
        self._watch = pb_grpc.WatchStub(self._channel)

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as exc:
            raise _map_error(exc) from None

    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
    ) -> Any:
        """``RangeResponse``: keys in ``[key, range_end)`` (just ``key`` without an end), key order."""
        request = pb.RangeRequest(
            key=key, range_end=range_end, revision=revision, limit=limit, count_only=count_only
        )
        return await self._call(self._kv.Range, request)

    async def txn(self, compare: list[Any], success: list[Any], failure: list[Any]) -> Any:
        """``TxnResponse`` of one atomic transaction (one revision for all its writes)."""
        return await self._call(
            self._kv.Txn, pb.TxnRequest(compare=compare, success=success, failure=failure)
        )

    async def compact(self, revision: int) -> Any:
        """Compact etcd's history before ``revision`` (non-physical: returns once applied)."""
        return await self._call(self._kv.Compact, pb.CompactionRequest(revision=revision))

    async def watch(
        self,
        key: bytes,
        range_end: bytes,
        start_revision: int,
        *,
        progress_notify: bool = True,
    ) -> AsyncIterator[Any]:
        """``WatchResponse`` messages of one etcd watch (with ``prev_kv``) until cancelled.

        The gRPC stream stays open until the consumer stops iterating (or the task is cancelled).
        """
        done = asyncio.Event()

        async def requests() -> AsyncIterator[Any]:
            create = pb.WatchCreateRequest(
                key=key,
                range_end=range_end,
                start_revision=start_revision,
                prev_kv=True,
                progress_notify=progress_notify,
            )
            yield pb.WatchRequest(create_request=create)
            await done.wait()

        call = self._watch.Watch(requests(), wait_for_ready=True)
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.CANCELLED:
                return
            raise _map_error(exc) from None
        finally:
            done.set()
            call.cancel()

    async def close(self) -> None:
        await self._channel.close()
