"""Property test: MemoryStorage against a plain model (a dict per revision)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from testserver.storage import (
    Compacted,
    EventType,
    KeyExists,
    KeyValue,
    MemoryStorage,
    NotFoundError,
    RevisionMismatch,
)

T = TypeVar("T")
WINDOW = 8
KEYS = st.sampled_from([f"/registry/things/{ns}/{n}" for ns in ("a", "b") for n in ("x", "y", "z")])
PREFIXES = st.sampled_from(["/registry/", "/registry/things/", "/registry/things/a/", "/registry/things/b/"])
VALUES = st.binary(max_size=3)
State = dict[str, KeyValue]


class StorageVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.storage = MemoryStorage(history_window=WINDOW)
        self.states: list[State] = [{}]  # states[r] = the state at revision r
        self.events: list[tuple[EventType, KeyValue, KeyValue | None]] = [
            (EventType.ADDED, KeyValue("", b"", 0, 0), None)
        ]
        self.compacted = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    @property
    def rev(self) -> int:
        return len(self.states) - 1

    def commit(self, state: State, event: tuple[EventType, KeyValue, KeyValue | None]) -> None:
        self.states.append(state)
        self.events.append(event)

    @rule(key=KEYS, value=VALUES)
    def create(self, key: str, value: bytes) -> None:
        current = self.states[-1]
        try:
            rev = self.run(self.storage.create(key, value))
        except KeyExists as exc:
            assert key in current and exc.current == current[key]
            return
        assert key not in current and rev == self.rev + 1
        kv = KeyValue(key, value, rev, rev)
        self.commit({**current, key: kv}, (EventType.ADDED, kv, None))

    @rule(key=KEYS, value=VALUES, expectation=st.sampled_from(["none", "right", "wrong"]))
    def update(self, key: str, value: bytes, expectation: str) -> None:
        current = self.states[-1]
        old = current.get(key)
        expected = None
        if expectation != "none":
            expected = (old.mod_revision if old else 1) + (1 if expectation == "wrong" else 0)
        try:
            rev = self.run(self.storage.update(key, value, expected))
        except NotFoundError:
            assert old is None
            return
        except RevisionMismatch as exc:
            assert old is not None and exc.current == old and expectation == "wrong"
            return
        assert old is not None and expectation != "wrong" and rev == self.rev + 1
        kv = KeyValue(key, value, old.create_revision, rev)
        self.commit({**current, key: kv}, (EventType.MODIFIED, kv, old))

    @rule(key=KEYS, wrong=st.booleans())
    def delete(self, key: str, wrong: bool) -> None:
        current = self.states[-1]
        old = current.get(key)
        expected = (old.mod_revision + 1) if (old and wrong) else None
        try:
            deleted = self.run(self.storage.delete(key, expected))
        except NotFoundError:
            assert old is None
            return
        except RevisionMismatch:
            assert old is not None and wrong
            return
        assert old is not None and deleted == KeyValue(key, old.value, old.create_revision, self.rev + 1)
        state = dict(current)
        del state[key]
        self.commit(state, (EventType.DELETED, deleted, old))

    @rule(key=KEYS, back=st.integers(0, WINDOW + 4))
    def get(self, key: str, back: int) -> None:
        revision = max(0, self.rev - back)
        try:
            kv = self.run(self.storage.get(key, revision=revision))
        except Compacted:
            assert revision < self.storage.compact_revision()
            return
        assert revision >= self.storage.compact_revision()
        assert kv == self.states[revision].get(key)

    @rule(prefix=PREFIXES, back=st.integers(0, WINDOW + 4), limit=st.integers(0, 4))
    def list_all_pages(self, prefix: str, back: int, limit: int) -> None:
        revision = max(0, self.rev - back)
        try:
            page = self.run(self.storage.list(prefix, revision=revision, limit=limit))
        except Compacted:
            assert revision < self.storage.compact_revision()
            return
        expected = [kv for k, kv in sorted(self.states[revision].items()) if k.startswith(prefix)]
        items = list(page.items)
        assert page.remaining == len(expected) - len(items)
        while page.more:
            assert page.revision == revision and page.next_key is not None
            page = self.run(
                self.storage.list(prefix, revision=revision, limit=limit, continue_key=page.next_key)
            )
            items += page.items
        assert items == expected

    @rule(prefix=PREFIXES, back=st.integers(0, WINDOW + 4))
    def watch_replay(self, prefix: str, back: int) -> None:
        start = max(0, self.rev - back)
        try:
            watch = self.run(self.storage.watch(prefix, start))
        except Compacted:
            assert start < self.storage.compact_revision()
            return
        expected = [e for e in self.events[start + 1 :] if e[1].key.startswith(prefix)]

        async def replay() -> list[tuple[EventType, KeyValue, KeyValue | None]]:
            got = [(e.type, e.kv, e.prev_kv) for e in [await anext(watch) for _ in expected]]
            assert watch.progress_revision == self.rev
            await watch.aclose()
            return got

        assert self.run(asyncio.wait_for(replay(), 5)) == expected

    @precondition(lambda self: self.rev > 0)
    @rule(back=st.integers(0, 3))
    def compact(self, back: int) -> None:
        revision = max(self.storage.compact_revision(), self.rev - back)
        self.run(self.storage.compact(revision))

    @invariant()
    def revisions_agree(self) -> None:
        assert self.storage.current_revision() == self.rev
        compacted = self.storage.compact_revision()
        assert self.compacted <= compacted <= self.rev
        assert self.rev - compacted <= WINDOW + max(1, WINDOW // 8)
        self.compacted = compacted
        assert self.storage.key_count() == len(self.states[-1])

    def teardown(self) -> None:
        self.run(self.storage.close())
        self.loop.close()


StorageVersusModel.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_memory_storage_matches_model = StorageVersusModel.TestCase
