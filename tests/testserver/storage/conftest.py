"""Backends under test. Add a backend (e.g. etcd) to ``BACKENDS`` and ``_open`` to run the suite on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from testserver.storage import MemoryStorage, SqliteStorage, Storage

BACKENDS = ["memory", "sqlite", "etcd"]

MakeStorage = Callable[..., Awaitable[Storage]]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_storage(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[MakeStorage]:
    """A factory ``await make_storage(**options)`` for the current backend; all closed at teardown."""
    opened: list[Storage] = []
    # etcd: the session's etcd (tests/conftest.py), a key prefix and revisions of this storage's own.
    etcd = request.getfixturevalue("etcd") if backend == "etcd" else None

    async def make(**options: Any) -> Storage:
        storage: Storage
        if backend == "memory":
            storage = MemoryStorage(**options)
        elif etcd is not None:
            from testserver.storage.etcd import EtcdStorage

            prefix = f"/{request.node.name}-{len(opened)}".replace("[", "-").replace("]", "")
            storage = await EtcdStorage.open(
                etcd.endpoints, key_prefix=prefix, fresh_revisions=True, **options
            )
        else:
            storage = await SqliteStorage.open(tmp_path / f"storage-{len(opened)}.db", **options)
        opened.append(storage)
        return storage

    yield make
    for storage in opened:
        await storage.close()


@pytest.fixture
async def storage(make_storage: MakeStorage) -> Storage:
    return await make_storage()
