"""SqliteStorage specifics: durability across restarts and crashes, exclusive ownership of the file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from testserver.storage import Compacted, EventType, KeyValue, SqliteStorage, StorageError, prefix_for

PREFIX = prefix_for("configmaps")


def key(i: int) -> str:
    return f"{PREFIX}ns/o{i:04}"


async def test_restart_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    storage = await SqliteStorage.open(path)
    # Concurrent writes are committed in shared batches.
    await asyncio.gather(*(storage.create(key(i), f"v{i}".encode()) for i in range(300)))
    await asyncio.gather(*(storage.update(key(i), b"updated") for i in range(0, 300, 3)))
    await asyncio.gather(*(storage.delete(key(i)) for i in range(1, 300, 3)))
    before = await storage.list(PREFIX)
    revision = storage.current_revision()
    assert revision == 300 + 100 + 100
    await storage.close()

    reopened = await SqliteStorage.open(path)
    try:
        assert reopened.current_revision() == revision
        after = await reopened.list(PREFIX)
        assert after.items == before.items and len(after.items) == 200
        # History starts at the reopened revision; the sequence continues from it.
        assert reopened.compact_revision() == revision
        with pytest.raises(Compacted):
            await reopened.watch(PREFIX, revision - 1)
        watch = await reopened.watch(PREFIX, revision)
        new_rev = await reopened.create(key(1000), b"new")
        assert new_rev == revision + 1
        event = await asyncio.wait_for(anext(watch), 5)
        assert event.type is EventType.ADDED and event.revision == new_rev
        await reopened.delete(key(0))
        assert await reopened.get(key(2)) == KeyValue(key(2), b"v2", 3, 3)
    finally:
        await reopened.close()

    third = await SqliteStorage.open(path)
    try:
        assert third.current_revision() == revision + 2  # a deletion's revision survives too
        assert await third.get(key(0)) is None
        assert (await third.get(key(1000))) == KeyValue(key(1000), b"new", revision + 1, revision + 1)
    finally:
        await third.close()


async def test_acknowledged_writes_survive_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys
        from testserver.storage import SqliteStorage

        async def main():
            s = await SqliteStorage.open({str(path)!r})
            await asyncio.gather(*(s.create(f"/registry/x/{{i:04}}", b"v") for i in range(500)))
            await s.update("/registry/x/0007", b"changed")
            await s.delete("/registry/x/0008")
            print(s.current_revision(), flush=True)
            os._exit(0)  # no close(): a crash right after the acknowledgements

        asyncio.run(main())
        """
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "502"
    storage = await SqliteStorage.open(path)
    try:
        assert storage.current_revision() == 502
        items = (await storage.list("/registry/x/")).items
        assert len(items) == 499
        assert (await storage.get("/registry/x/0007")) == KeyValue("/registry/x/0007", b"changed", 8, 501)
    finally:
        await storage.close()


async def test_second_open_of_the_same_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    storage = await SqliteStorage.open(path)
    try:
        with pytest.raises(StorageError, match="locked"):
            await SqliteStorage.open(path)
    finally:
        await storage.close()
    again = await SqliteStorage.open(path)  # released on close
    await again.close()


async def test_full_synchronous_mode(tmp_path: Path) -> None:
    storage = await SqliteStorage.open(tmp_path / "db.sqlite", synchronous="FULL", max_batch=7)
    await asyncio.gather(*(storage.create(key(i), b"v") for i in range(50)))
    await storage.close()
    storage = await SqliteStorage.open(tmp_path / "db.sqlite")
    assert len((await storage.list(PREFIX)).items) == 50
    await storage.close()


async def test_file_layout_is_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    storage = await SqliteStorage.open(path)
    await storage.create(key(1), b'{"kind":"ConfigMap"}')
    await storage.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT key, value, create_revision, mod_revision FROM kv").fetchall() == [
            (key(1), b'{"kind":"ConfigMap"}', 1, 1)
        ]
        assert conn.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone() == (1,)
    finally:
        conn.close()


async def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    storage = await SqliteStorage.open(path)
    await storage.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = 99 WHERE name = 'schema'")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="schema"):
        await SqliteStorage.open(path)
    assert os.path.exists(path)
