"""Conformance: guaranteed_update (read-modify-write with retries)."""

from __future__ import annotations

import asyncio

import pytest

from testserver.storage import KeyValue, NotFoundError, Storage, guaranteed_update

K = "/registry/configmaps/default/counter"


async def test_concurrent_incrementers_lose_no_update(storage: Storage) -> None:
    await storage.create(K, b"0")
    calls = 0

    async def increment(current: KeyValue | None) -> bytes:
        nonlocal calls
        calls += 1
        assert current is not None
        value = int(current.value)
        await asyncio.sleep(0)  # let the other writers interleave, as admission webhooks would
        return str(value + 1).encode()

    async def worker() -> None:
        for _ in range(10):
            await guaranteed_update(storage, K, increment)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(20))), 20)
    final = await storage.get(K)
    assert final is not None and final.value == b"200"
    assert final.mod_revision == 201  # one revision per successful increment, none wasted
    assert calls > 200  # conflicts happened and were retried


async def test_no_change_writes_nothing(storage: Storage) -> None:
    rev = await storage.create(K, b"same")
    result = await guaranteed_update(storage, K, lambda cur: None)
    assert result == KeyValue(K, b"same", rev, rev)
    result = await guaranteed_update(storage, K, lambda cur: b"same")
    assert result == KeyValue(K, b"same", rev, rev)
    assert storage.current_revision() == rev


async def test_returns_the_stored_item(storage: Storage) -> None:
    r1 = await storage.create(K, b"a")
    result = await guaranteed_update(storage, K, lambda cur: (cur.value if cur else b"") + b"b")
    assert result == KeyValue(K, b"ab", r1, r1 + 1) == await storage.get(K)


async def test_missing_key(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        await guaranteed_update(storage, K, lambda cur: b"x")
    assert await guaranteed_update(storage, K, lambda cur: None, ignore_not_found=True) is None
    created = await guaranteed_update(storage, K, lambda cur: b"new", ignore_not_found=True)
    assert created is not None and created.value == b"new" and created.create_revision == created.mod_revision


async def test_stale_cached_current_is_retried(storage: Storage) -> None:
    r1 = await storage.create(K, b"1")
    stale = await storage.get(K)
    await storage.update(K, b"2")
    seen: list[bytes] = []

    def bump(cur: KeyValue | None) -> bytes:
        assert cur is not None
        seen.append(cur.value)
        return cur.value + b"+"

    result = await guaranteed_update(storage, K, bump, current=stale)
    assert seen == [b"1", b"2"]
    assert result is not None and result.value == b"2+" and result.create_revision == r1
    # A stale cache whose value already matches is confirmed against storage before "no change".
    result = await guaranteed_update(storage, K, lambda cur: b"1", current=stale)
    assert result is not None and result.value == b"1" and result.mod_revision == storage.current_revision()


async def test_concurrent_delete_is_seen_as_not_found(storage: Storage) -> None:
    await storage.create(K, b"1")

    async def delete_meanwhile(cur: KeyValue | None) -> bytes:
        if cur is not None and cur.value == b"1":
            await storage.delete(K)
        return b"2"

    with pytest.raises(NotFoundError):
        await guaranteed_update(storage, K, delete_meanwhile)


async def test_errors_from_fn_abort(storage: Storage) -> None:
    await storage.create(K, b"1")

    def refuse(cur: KeyValue | None) -> bytes:
        raise ValueError("invalid")

    with pytest.raises(ValueError, match="invalid"):
        await guaranteed_update(storage, K, refuse)
    assert (await storage.get(K)) is not None
    assert storage.current_revision() == 1
