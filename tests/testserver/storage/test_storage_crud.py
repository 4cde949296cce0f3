"""Conformance: create/get/update/delete with revisions and preconditions."""

from __future__ import annotations

import pytest

from testserver.storage import (
    KeyExists,
    KeyValue,
    NotFoundError,
    RevisionMismatch,
    Storage,
    StorageClosed,
)

K = "/registry/configmaps/default/a"


async def test_new_storage_is_empty(storage: Storage) -> None:
    assert storage.current_revision() == 0
    assert await storage.get(K) is None
    page = await storage.list("/registry/")
    assert page.items == [] and page.revision == 0 and not page.more


async def test_create_and_get(storage: Storage) -> None:
    rev = await storage.create(K, b"v1")
    assert rev == 1 == storage.current_revision()
    assert await storage.get(K) == KeyValue(K, b"v1", 1, 1)
    assert await storage.create(K + "2", b"x") == 2


async def test_create_existing_raises_and_does_not_bump_revision(storage: Storage) -> None:
    await storage.create(K, b"v1")
    with pytest.raises(KeyExists) as info:
        await storage.create(K, b"v2")
    assert info.value.current == KeyValue(K, b"v1", 1, 1)
    assert storage.current_revision() == 1
    assert (await storage.get(K)) == KeyValue(K, b"v1", 1, 1)


async def test_update_compare_and_swap(storage: Storage) -> None:
    r1 = await storage.create(K, b"v1")
    r2 = await storage.update(K, b"v2", r1)
    assert r2 == r1 + 1
    assert await storage.get(K) == KeyValue(K, b"v2", r1, r2)
    with pytest.raises(RevisionMismatch) as info:
        await storage.update(K, b"v3", r1)
    assert info.value.current == KeyValue(K, b"v2", r1, r2)
    assert info.value.expected == r1
    assert storage.current_revision() == r2
    r3 = await storage.update(K, b"v3")  # unconditional
    assert await storage.get(K) == KeyValue(K, b"v3", r1, r3)


async def test_update_missing_raises(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        await storage.update(K, b"v")
    with pytest.raises(NotFoundError):
        await storage.update(K, b"v", 1)
    assert storage.current_revision() == 0


async def test_delete(storage: Storage) -> None:
    r1 = await storage.create(K, b"v1")
    with pytest.raises(RevisionMismatch):
        await storage.delete(K, r1 + 5)
    deleted = await storage.delete(K, r1)
    assert deleted == KeyValue(K, b"v1", r1, r1 + 1)
    assert storage.current_revision() == r1 + 1
    assert await storage.get(K) is None
    with pytest.raises(NotFoundError):
        await storage.delete(K)
    with pytest.raises(NotFoundError):
        await storage.update(K, b"x")


async def test_recreate_after_delete_gets_new_create_revision(storage: Storage) -> None:
    await storage.create(K, b"v1")
    await storage.delete(K)
    r3 = await storage.create(K, b"v2")
    assert await storage.get(K) == KeyValue(K, b"v2", r3, r3)


async def test_get_at_revision(storage: Storage) -> None:
    r1 = await storage.create(K, b"v1")
    r2 = await storage.update(K, b"v2")
    r3 = (await storage.delete(K)).mod_revision
    assert await storage.get(K, revision=0) is None
    assert (await storage.get(K, revision=r1)) == KeyValue(K, b"v1", r1, r1)
    assert (await storage.get(K, revision=r2)) == KeyValue(K, b"v2", r1, r2)
    assert await storage.get(K, revision=r3) is None


async def test_values_are_opaque_bytes(storage: Storage) -> None:
    value = bytes(range(256)) * 4
    await storage.create(K, value)
    assert (await storage.get(K)) is not None
    assert (await storage.get(K)).value == value  # type: ignore[union-attr]


async def test_closed_storage_rejects_calls(storage: Storage) -> None:
    await storage.create(K, b"v1")
    await storage.close()
    await storage.close()  # idempotent
    with pytest.raises(StorageClosed):
        await storage.create(K + "x", b"v")
    with pytest.raises(StorageClosed):
        await storage.get(K)
