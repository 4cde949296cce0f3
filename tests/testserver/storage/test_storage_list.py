"""Conformance: prefix lists, paging with continue, snapshot reads, compaction, future revisions."""

from __future__ import annotations

import pytest
from conftest import MakeStorage

from testserver.storage import (
    Compacted,
    FutureRevision,
    InvalidContinue,
    Storage,
    decode_continue,
    encode_continue,
    key_for,
    prefix_for,
)


def cm(ns: str, name: str) -> str:
    return key_for("configmaps", ns, name)


async def test_list_is_sorted_and_bounded_by_prefix(storage: Storage) -> None:
    for ns, name in [("b", "2"), ("a", "1"), ("ab", "x"), ("b", "1"), ("a", "0")]:
        await storage.create(cm(ns, name), f"{ns}/{name}".encode())
    await storage.create(key_for("secrets", "a", "s"), b"secret")
    page = await storage.list(prefix_for("configmaps", "a"))
    assert [kv.key for kv in page.items] == [cm("a", "0"), cm("a", "1")]
    assert page.revision == storage.current_revision()
    everything = await storage.list(prefix_for("configmaps"))
    assert [kv.key for kv in everything.items] == sorted(kv.key for kv in everything.items)
    assert len(everything.items) == 5
    assert not everything.more and everything.remaining == 0 and everything.next_key is None


async def test_list_paging_counts_remaining(storage: Storage) -> None:
    for i in range(25):
        await storage.create(cm("ns", f"o{i:02}"), b"v")
    prefix = prefix_for("configmaps", "ns")
    seen: list[str] = []
    pages = []
    start: str | None = None
    while True:
        page = await storage.list(prefix, limit=10, continue_key=start)
        pages.append((len(page.items), page.remaining, page.more))
        seen += [kv.key for kv in page.items]
        if not page.more:
            break
        start = page.next_key
    assert pages == [(10, 15, True), (10, 5, True), (5, 0, False)]
    assert seen == [cm("ns", f"o{i:02}") for i in range(25)]


async def test_paging_sees_one_snapshot_across_concurrent_writes(storage: Storage) -> None:
    prefix = prefix_for("configmaps", "ns")
    for i in range(30):
        await storage.create(cm("ns", f"o{i:02}"), b"original")
    first = await storage.list(prefix, limit=7)
    expected = [cm("ns", f"o{i:02}") for i in range(30)]
    token = encode_continue(first.next_key or "", prefix, first.revision)
    keys = [kv.key for kv in first.items]
    n = 0
    while token:
        # Writes between pages: new keys inside and before the remaining range, updates, deletes.
        n += 1
        await storage.create(cm("ns", f"o{n:02}-new"), b"new")
        await storage.update(cm("ns", f"o{29 - n:02}"), b"changed")
        await storage.delete(cm("ns", f"o{20 + n:02}"))
        start, rv = decode_continue(token, prefix)
        page = await storage.list(prefix, revision=rv, limit=7, continue_key=start)
        assert page.revision == first.revision
        assert all(kv.value == b"original" for kv in page.items)
        keys += [kv.key for kv in page.items]
        token = encode_continue(page.next_key or "", prefix, page.revision) if page.more else ""
    assert keys == expected
    latest = await storage.list(prefix)
    assert latest.revision == storage.current_revision() > first.revision
    assert len(latest.items) == 30  # n created, n deleted


async def test_list_at_old_revision_sees_exact_state(storage: Storage) -> None:
    prefix = prefix_for("pods", "ns")
    await storage.create(key_for("pods", "ns", "a"), b"a1")
    await storage.create(key_for("pods", "ns", "b"), b"b1")
    snapshot = storage.current_revision()
    await storage.update(key_for("pods", "ns", "a"), b"a2")
    await storage.delete(key_for("pods", "ns", "b"))
    await storage.create(key_for("pods", "ns", "c"), b"c1")
    await storage.create(key_for("pods", "ns", "b"), b"b2")
    old = await storage.list(prefix, revision=snapshot)
    assert [(kv.key.rsplit("/", 1)[1], kv.value) for kv in old.items] == [("a", b"a1"), ("b", b"b1")]
    assert old.revision == snapshot
    new = await storage.list(prefix)
    assert [(kv.key.rsplit("/", 1)[1], kv.value) for kv in new.items] == [
        ("a", b"a2"),
        ("b", b"b2"),
        ("c", b"c1"),
    ]
    assert (await storage.list(prefix, revision=0)).items == []


async def test_compacted_revision_raises(storage: Storage) -> None:
    k = cm("ns", "a")
    r1 = await storage.create(k, b"1")
    r2 = await storage.update(k, b"2")
    r3 = await storage.update(k, b"3")
    await storage.compact(r2)
    assert storage.compact_revision() == r2
    with pytest.raises(Compacted) as info:
        await storage.list(prefix_for("configmaps"), revision=r1)
    assert info.value.compact_revision == r2 and info.value.revision == r1
    assert info.value.current_revision == r3
    with pytest.raises(Compacted):
        await storage.get(k, revision=r1)
    with pytest.raises(Compacted):
        await storage.compact(r1)
    assert [kv.value for kv in (await storage.list(prefix_for("configmaps"), revision=r2)).items] == [b"2"]
    assert [kv.value for kv in (await storage.list(prefix_for("configmaps"), revision=r3)).items] == [b"3"]


async def test_compaction_keeps_state_at_compact_revision(storage: Storage) -> None:
    a, b, c = cm("ns", "a"), cm("ns", "b"), cm("ns", "c")
    await storage.create(a, b"a1")
    await storage.create(b, b"b1")
    await storage.delete(b)
    await storage.create(c, b"c1")
    at = await storage.update(a, b"a2")
    await storage.delete(c)
    await storage.create(b, b"b2")
    await storage.compact(at)
    page = await storage.list(prefix_for("configmaps"), revision=at)
    assert [(kv.key, kv.value) for kv in page.items] == [(a, b"a2"), (c, b"c1")]
    page = await storage.list(prefix_for("configmaps"))
    assert [(kv.key, kv.value) for kv in page.items] == [(a, b"a2"), (b, b"b2")]


async def test_history_window_compacts_automatically(make_storage: MakeStorage) -> None:
    storage = await make_storage(history_window=20)
    k = cm("ns", "a")
    await storage.create(k, b"0")
    for i in range(1, 200):
        await storage.update(k, str(i).encode())
    for i in range(50):
        await storage.create(cm("ns", f"gone{i}"), b"x")
        await storage.delete(cm("ns", f"gone{i}"))
    current = storage.current_revision()
    assert 0 < current - storage.compact_revision() <= 20 + 20
    with pytest.raises(Compacted):
        await storage.list(prefix_for("configmaps"), revision=5)
    recent = await storage.list(prefix_for("configmaps"), revision=current - 20)
    assert [kv.value for kv in recent.items] == [b"199"]
    assert (await storage.get(k)).value == b"199"  # type: ignore[union-attr]


async def test_future_revision_raises(storage: Storage) -> None:
    await storage.create(cm("ns", "a"), b"1")
    with pytest.raises(FutureRevision) as info:
        await storage.list(prefix_for("configmaps"), revision=2)
    assert info.value.current_revision == 1
    with pytest.raises(FutureRevision):
        await storage.get(cm("ns", "a"), revision=99)
    with pytest.raises(FutureRevision):
        await storage.compact(5)


async def test_continue_key_outside_prefix_is_rejected(storage: Storage) -> None:
    await storage.create(cm("ns", "a"), b"1")
    with pytest.raises(InvalidContinue):
        await storage.list(prefix_for("configmaps", "ns"), limit=1, continue_key=cm("other", "a"))


async def test_limit_zero_means_unlimited(storage: Storage) -> None:
    for i in range(5):
        await storage.create(cm("ns", str(i)), b"v")
    page = await storage.list(prefix_for("configmaps"), limit=0)
    assert len(page.items) == 5 and not page.more
    exact = await storage.list(prefix_for("configmaps"), limit=5)
    assert len(exact.items) == 5 and not exact.more and exact.next_key is None


async def test_compaction_forgets_deleted_keys(storage: Storage) -> None:
    """Deleted keys leave the embedded backends' index once their tombstone is compacted."""
    index = getattr(storage, "_hist", None)
    if index is None:
        pytest.skip("backend without an in-process key index")
    for i in range(10):
        await storage.create(cm("ns", str(i)), b"v")
    for i in range(10):
        await storage.delete(cm("ns", str(i)))
    await storage.create(cm("ns", "kept"), b"v")
    assert len(index) == 11
    await storage.compact(storage.current_revision())
    assert list(index) == [cm("ns", "kept")]
    assert [kv.key for kv in (await storage.list(prefix_for("configmaps"))).items] == [cm("ns", "kept")]
