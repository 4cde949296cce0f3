"""EtcdStorage specifics: the watch cache's etcd watch count, several storages on one etcd, kube-style
compaction on an interval, the key layout in etcd, and the etcd process helper."""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
import urllib.request
from collections.abc import AsyncIterator

import pytest
from storage_testlib import next_event, take, wait_until

from testserver.etcd_process import EtcdNotInstalled, EtcdProcess, etcd_binary
from testserver.storage import Compacted, EventType, RevisionMismatch, WatcherTooSlow, key_for, prefix_for
from testserver.storage.etcd import EtcdStorage, parse_endpoints
from testserver.storage.etcd._cache import resource_prefix

_ids = itertools.count()


@pytest.fixture
async def fresh_prefix() -> str:
    return f"/etcd-specific-{next(_ids)}"


@pytest.fixture
async def pair(etcd: EtcdProcess, fresh_prefix: str) -> AsyncIterator[tuple[EtcdStorage, EtcdStorage]]:
    """Two storages on the same etcd and key prefix: two API servers' view of one cluster."""
    a = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix)
    b = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix)
    yield a, b
    await a.close()
    await b.close()


def etcd_watchers(etcd: EtcdProcess) -> int:
    """etcd's own count of its watchers (``etcd_debugging_mvcc_watcher_total`` on /metrics)."""
    with urllib.request.urlopen(f"{etcd.url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    match = re.search(r"^etcd_debugging_mvcc_watcher_total (\S+)$", text, re.MULTILINE)
    assert match, "etcd does not report etcd_debugging_mvcc_watcher_total"
    return int(float(match.group(1)))


def test_resource_prefix() -> None:
    assert resource_prefix("/registry/pods/") == "/registry/pods/"
    assert resource_prefix("/registry/pods/ns/") == "/registry/pods/"
    assert resource_prefix("/registry/services/specs/ns/") == "/registry/services/specs/"
    assert resource_prefix("/registry/apps.example.com/widgets/ns/") == "/registry/apps.example.com/widgets/"
    assert resource_prefix("/registry/apps.example.com/") == "/registry/apps.example.com/"
    assert resource_prefix("/registry/") == "/registry/"
    assert resource_prefix("/other/") == "/other/"


def test_parse_endpoints() -> None:
    assert parse_endpoints("etcd://127.0.0.1:2379") == ["127.0.0.1:2379"]
    assert parse_endpoints("etcd://a:1,b:2/") == ["a:1", "b:2"]
    for bad in ("etcd://", "etcd://host", "etcd://host:port"):
        with pytest.raises(ValueError):
            parse_endpoints(bad)


async def test_many_client_watches_cost_one_etcd_watch_per_resource(
    etcd: EtcdProcess, fresh_prefix: str
) -> None:
    storage = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix)
    try:
        before = etcd_watchers(etcd)
        start = storage.current_revision()
        watches = []
        for i in range(60):
            ns = f"ns{i % 6}"
            resource = ("pods", "configmaps", "secrets")[i % 3]
            prefix = prefix_for(resource, ns if i % 2 else None)
            watches.append((resource, ns, prefix, await storage.watch(prefix, start)))
        await wait_until(lambda: storage.etcd_watch_count() == 3)
        assert storage.feed_prefixes() == [prefix_for(r) for r in ("configmaps", "pods", "secrets")]
        assert storage.watcher_count() == 60
        assert etcd_watchers(etcd) - before == 3  # etcd's own count: 60 client watches, 3 etcd watches
        rev = await storage.create(key_for("pods", "ns1", "p"), b"v")
        for resource, ns, prefix, watch in watches:
            if resource == "pods" and (prefix == prefix_for("pods") or ns == "ns1"):
                event = await next_event(watch)
                assert (event.type, event.revision) == (EventType.ADDED, rev)
        for *_, watch in watches:
            await watch.aclose()
        assert storage.watcher_count() == 0
    finally:
        await storage.close()
    await wait_until(lambda: etcd_watchers(etcd) == before)


async def test_a_write_through_one_storage_reaches_the_others_watches_and_lists(
    pair: tuple[EtcdStorage, EtcdStorage],
) -> None:
    a, b = pair
    cm = prefix_for("configmaps")
    watch = await b.watch(cm, b.current_revision())
    rev = await a.create(key_for("configmaps", "ns", "x"), b"1")
    event = await next_event(watch)
    assert event.type is EventType.ADDED and event.revision == rev and event.kv.value == b"1"
    listed = await b.list(cm)
    assert [kv.value for kv in listed.items] == [b"1"] and listed.revision >= rev
    assert b.current_revision() >= rev
    # Optimistic concurrency holds across them: b's stale compare-and-swap fails with a's item.
    rev2 = await a.update(key_for("configmaps", "ns", "x"), b"2", rev)
    with pytest.raises(RevisionMismatch) as info:
        await b.update(key_for("configmaps", "ns", "x"), b"3", rev)
    assert info.value.current.mod_revision == rev2 and info.value.current.value == b"2"
    assert [(e.type, e.kv.value) for e in await take(watch, 1)] == [(EventType.MODIFIED, b"2")]
    await watch.aclose()


async def test_watch_from_a_revision_another_storage_wrote_is_not_in_the_future(
    pair: tuple[EtcdStorage, EtcdStorage],
) -> None:
    a, b = pair
    rev = await a.create(key_for("pods", "ns", "p"), b"1")
    await a.update(key_for("pods", "ns", "p"), b"2")
    # b has not seen these revisions yet; watch() asks etcd before answering "too large".
    async with await b.watch(prefix_for("pods"), rev) as watch:
        assert (await next_event(watch)).kv.value == b"2"


async def test_compaction_on_an_interval_like_kube(etcd: EtcdProcess, fresh_prefix: str) -> None:
    storage = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix, compaction_interval=0.2)
    try:
        first = await storage.create(key_for("configmaps", "ns", "a"), b"1")
        for i in range(5):
            await storage.update(key_for("configmaps", "ns", "a"), str(i).encode())
        # Two ticks: the first records the revision, the second compacts to it.
        await wait_until(lambda: storage.compact_revision() > first, timeout=10)
        with pytest.raises(Compacted):
            await storage.watch(prefix_for("configmaps"), first)
        with pytest.raises(Compacted):
            await storage.get(key_for("configmaps", "ns", "a"), revision=first)
        assert (await storage.get(key_for("configmaps", "ns", "a"))).value == b"4"  # type: ignore[union-attr]
        # The compactor coordinates on kube's key, so another server learns the compaction from it.
        other = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix, compaction_interval=0)
        try:
            assert other.compact_revision() >= first
        finally:
            await other.close()
    finally:
        await storage.close()
    out = subprocess.run(
        [
            "etcdctl",
            f"--endpoints={etcd.endpoint}",
            "get",
            f"{fresh_prefix}/registry/configmaps/ns/a",
            f"--rev={first}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode != 0 and "compacted" in out.stderr


async def test_keys_in_etcd_are_laid_out_as_kubernetes_lays_them(
    etcd: EtcdProcess, fresh_prefix: str
) -> None:
    storage = await EtcdStorage.open(etcd.endpoints, key_prefix=fresh_prefix)
    try:
        rev = await storage.create(key_for("configmaps", "default", "demo"), b'{"kind":"ConfigMap"}')
    finally:
        await storage.close()
    out = subprocess.run(
        [
            "etcdctl",
            f"--endpoints={etcd.endpoint}",
            "get",
            "--prefix",
            f"{fresh_prefix}/registry/",
            "-w",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    import base64
    import json

    kvs = json.loads(out.stdout)["kvs"]
    assert [base64.b64decode(kv["key"]).decode() for kv in kvs] == [
        f"{fresh_prefix}/registry/configmaps/default/demo"
    ]
    assert kvs[0]["mod_revision"] == rev  # resourceVersion = etcd revision
    assert base64.b64decode(kvs[0]["value"]) == b'{"kind":"ConfigMap"}'


async def test_watches_survive_an_etcd_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    process = EtcdProcess(data_dir=tmp_path_factory.mktemp("etcd-restart")).start()
    try:
        storage = await EtcdStorage.open(process.endpoints, timeout=20)
        try:
            watch = await storage.watch(prefix_for("pods"), storage.current_revision())
            r1 = await storage.create(key_for("pods", "ns", "a"), b"1")
            assert (await next_event(watch)).revision == r1
            await asyncio.to_thread(process.stop)
            await asyncio.to_thread(process.start)  # same data dir and ports
            r2 = await storage.create(key_for("pods", "ns", "b"), b"2")
            event = await next_event(watch, timeout=20)
            assert (event.type, event.revision) == (EventType.ADDED, r2)
            await watch.aclose()
        finally:
            await storage.close()
    finally:
        process.cleanup()


def test_missing_etcd_fails_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETCD_BINARY", "/nonexistent/etcd")
    process = EtcdProcess()
    try:
        with pytest.raises(EtcdNotInstalled, match="scripts/install-system-deps"):
            process.start()
    finally:
        process.cleanup()
    monkeypatch.delenv("ETCD_BINARY")
    assert etcd_binary().endswith("etcd")


async def test_compaction_by_another_server_ends_only_the_watches_that_needed_the_history(
    pair: tuple[EtcdStorage, EtcdStorage],
) -> None:
    a, b = pair
    k = key_for("secrets", "ns", "s")
    r1 = await a.create(k, b"1")
    await a.update(k, b"2")
    r3 = await a.update(k, b"3")
    await a.compact(r3)  # b does not know about this compaction
    old = await b.watch(prefix_for("secrets"), r1)  # b's watch cache replays from before r3: etcd refuses
    with pytest.raises(WatcherTooSlow):
        await next_event(old)
    assert b.compact_revision() >= r3
    with pytest.raises(Compacted):
        await b.watch(prefix_for("secrets"), r1)
    async with await b.watch(prefix_for("secrets"), r3) as recent:
        r4 = await a.update(k, b"4")
        event = await next_event(recent)
        assert (event.revision, event.kv.value, event.prev_kv.value) == (r4, b"4", b"3")  # type: ignore[union-attr]
