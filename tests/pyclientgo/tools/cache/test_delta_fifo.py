"""DeltaFIFO (docs/reference/client_go_semantics.md §2): one or more tests per numbered line."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.tools.cache import (
    DeletedFinalStateUnknown,
    Delta,
    DeltaFIFO,
    Deltas,
    DeltaType,
    FIFOClosedError,
    RequeueError,
    new_indexer,
    process_deltas,
)

A, U, D, R, S = DeltaType.ADDED, DeltaType.UPDATED, DeltaType.DELETED, DeltaType.REPLACED, DeltaType.SYNC


def cm(name: str, rv: str = "1", ns: str = "default") -> ConfigMap:
    return ConfigMap.from_dict({"metadata": {"name": name, "namespace": ns, "resourceVersion": rv}})


def types(deltas: Deltas | None) -> list[DeltaType]:
    assert deltas is not None
    return [d.type for d in deltas]


class Popped:
    """A pop process function recording what it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[Deltas, bool]] = []

    def __call__(self, deltas: Deltas, is_in_initial_list: bool) -> None:
        self.calls.append((deltas, is_in_initial_list))


async def pop_all(fifo: DeltaFIFO) -> list[tuple[Deltas, bool]]:
    rec = Popped()
    while len(fifo):
        await fifo.pop(rec)
    return rec.calls


# §2.1 delta types; deltas per key oldest first
def test_delta_types_and_order() -> None:
    assert {t.value for t in DeltaType} == {"Added", "Updated", "Deleted", "Replaced", "Sync"}
    fifo = DeltaFIFO()
    fifo.add(cm("a", "1"))
    fifo.update(cm("a", "2"))
    fifo.update(cm("a", "3"))
    deltas = fifo.get_by_key("default/a")
    assert types(deltas) == [A, U, U]
    assert deltas is not None
    assert [d.object.metadata.resource_version for d in deltas] == ["1", "2", "3"]
    assert deltas.oldest() == deltas[0] and deltas.newest() == deltas[-1]


# §2.2 queue: FIFO, no duplicates, re-adding a queued key does not move it
async def test_fifo_order_and_no_move_on_readd() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    fifo.add(cm("b"))
    fifo.update(cm("a", "2"))
    assert fifo.list_keys() == ["default/a", "default/b"]
    assert len(fifo) == 2
    calls = await pop_all(fifo)
    assert [c[0].newest().object.metadata.name for c in calls] == ["a", "b"]  # type: ignore[union-attr]
    assert types(calls[0][0]) == [A, U]


# §2.3 key of deltas = newest object's key; tombstone carries its key; default key function
def test_key_of() -> None:
    fifo = DeltaFIFO()
    assert fifo.key_of(cm("a", ns="n")) == "n/a"
    assert fifo.key_of({"metadata": {"name": "node"}}) == "node"
    assert fifo.key_of(DeletedFinalStateUnknown("x/y", None)) == "x/y"
    assert fifo.key_of(Deltas([Delta(A, cm("old")), Delta(U, cm("new"))])) == "default/new"


# §2.4 delete with known objects: ignored only if in neither the indexer nor the queue
def test_delete_ignored_when_unknown_and_not_queued() -> None:
    known = new_indexer()
    fifo = DeltaFIFO(known_objects=known)
    fifo.delete(cm("ghost"))
    assert fifo.list_keys() == []


def test_delete_queued_when_known_or_queued() -> None:
    known = new_indexer()
    known.add(cm("k"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.delete(cm("k"))
    assert types(fifo.get_by_key("default/k")) == [D]
    fifo.add(cm("q"))
    fifo.delete(cm("q"))
    assert types(fifo.get_by_key("default/q")) == [A, D]


def test_delete_without_known_objects_needs_queued_key() -> None:
    fifo = DeltaFIFO()
    fifo.delete(cm("a"))
    assert fifo.list_keys() == []
    fifo.add(cm("a"))
    fifo.delete(cm("a"))
    assert types(fifo.get_by_key("default/a")) == [A, D]


# §2.5 dedup of two trailing Deleted deltas
def test_dedup_keeps_older_deletion() -> None:
    known = new_indexer()
    known.add(cm("a"))
    fifo = DeltaFIFO(known_objects=known)
    first, second = cm("a", "5"), cm("a", "6")
    fifo.delete(first)
    fifo.delete(second)
    deltas = fifo.get_by_key("default/a")
    assert types(deltas) == [D]
    assert deltas is not None and deltas[0].object is first


def test_dedup_prefers_newer_over_older_tombstone() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    fifo.replace([], "9")  # tombstone for the queued key
    real = cm("a", "7")
    fifo.delete(real)
    deltas = fifo.get_by_key("default/a")
    assert types(deltas) == [A, D]
    assert deltas is not None and deltas[-1].object is real


def test_no_dedup_of_other_types() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    fifo.add(cm("a"))
    assert types(fifo.get_by_key("default/a")) == [A, A]


# §2.6 transform applied once when enqueued, not to tombstones or Sync deltas
def test_transform_applied_once_not_to_tombstones_or_sync() -> None:
    seen: list[Any] = []

    def transform(obj: Any) -> Any:
        seen.append(obj)
        return {"metadata": {"name": obj.metadata.name, "namespace": "default"}, "t": True}

    known = new_indexer()
    known_obj = cm("k")
    known.add(known_obj)
    fifo = DeltaFIFO(known_objects=known, transformer=transform)
    fifo.add(cm("a"))
    deltas = fifo.get_by_key("default/a")
    assert deltas is not None and deltas[0].object["t"] is True
    fifo.resync()  # Sync for "k": not transformed
    sync = fifo.get_by_key("default/k")
    assert types(sync) == [S] and sync is not None and sync[0].object is known_obj
    fifo.replace([cm("b")], "3")  # Replaced "b" transformed; tombstones for a and k not
    assert len(seen) == 2
    tomb = fifo.get_by_key("default/a")
    assert tomb is not None and isinstance(tomb[-1].object, DeletedFinalStateUnknown)


# §2.7 pop blocks until an item; is_in_initial_list; drains after close
async def test_pop_blocks_until_item() -> None:
    fifo = DeltaFIFO()
    rec = Popped()
    task = asyncio.create_task(fifo.pop(rec))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not task.done()
    fifo.add(cm("a"))
    deltas = await asyncio.wait_for(task, 5)
    assert types(deltas) == [A]
    assert len(rec.calls) == 1 and fifo.list_keys() == []


async def test_pop_awaits_async_process() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    got: list[bool] = []

    async def process(deltas: Deltas, initial: bool) -> None:
        await asyncio.sleep(0)
        got.append(initial)

    await fifo.pop(process)
    assert got == [False]  # add came first: synced, not an initial list


async def test_is_in_initial_list_computed_before_countdown() -> None:
    fifo = DeltaFIFO()
    fifo.replace([cm("a"), cm("b")], "10")
    calls = await pop_all(fifo)
    assert [c[1] for c in calls] == [True, True]  # the last one too: computed before decrement
    fifo.add(cm("c"))
    calls = await pop_all(fifo)
    assert [c[1] for c in calls] == [False]


async def test_pop_after_close_drains_then_raises() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    fifo.add(cm("b"))
    fifo.close()
    assert fifo.is_closed()
    rec = Popped()
    await fifo.pop(rec)
    await fifo.pop(rec)
    with pytest.raises(FIFOClosedError):
        await fifo.pop(rec)
    assert len(rec.calls) == 2


async def test_close_wakes_blocked_pop() -> None:
    fifo = DeltaFIFO()
    task = asyncio.create_task(fifo.pop(Popped()))
    await asyncio.sleep(0)
    fifo.close()
    with pytest.raises(FIFOClosedError):
        await asyncio.wait_for(task, 5)


async def test_requeue_error_puts_deltas_back() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))

    def fail(deltas: Deltas, initial: bool) -> None:
        raise RequeueError(ValueError("boom"))

    with pytest.raises(ValueError):
        await fifo.pop(fail)
    assert types(fifo.get_by_key("default/a")) == [A]


# §2.8 replace: Replaced per object; tombstones for queued and known keys missing from the list
def test_replace_emits_replaced_and_tombstones() -> None:
    known = new_indexer()
    known_gone = cm("known-gone", "3")
    known.add(known_gone)
    known.add(cm("kept", "3"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.add(cm("queued-gone", "1"))
    fifo.update(cm("queued-gone", "2"))
    fifo.replace([cm("kept", "4"), cm("new", "4")], "4")
    assert types(fifo.get_by_key("default/kept")) == [R]
    assert types(fifo.get_by_key("default/new")) == [R]
    queued = fifo.get_by_key("default/queued-gone")
    assert types(queued) == [A, U, D]
    assert queued is not None
    tomb = queued[-1].object
    assert isinstance(tomb, DeletedFinalStateUnknown)
    assert tomb.key == "default/queued-gone" and tomb.obj.metadata.resource_version == "2"
    known_deltas = fifo.get_by_key("default/known-gone")
    assert types(known_deltas) == [D]
    assert known_deltas is not None and known_deltas[0].object == DeletedFinalStateUnknown(
        "default/known-gone", known_gone
    )
    assert fifo.last_sync_resource_version() == "4"


def test_replace_unwraps_tombstone_of_queued_tombstone() -> None:
    fifo = DeltaFIFO()
    obj = cm("a")
    fifo.add(obj)
    fifo.replace([], "1")
    fifo.replace([], "2")
    deltas = fifo.get_by_key("default/a")
    assert types(deltas) == [A, D]  # two tombstones dedup to the newer one
    assert deltas is not None and deltas[-1].object.obj is obj


def test_replace_known_key_with_queued_deltas_not_doubled() -> None:
    known = new_indexer()
    known.add(cm("a"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.update(cm("a", "2"))
    fifo.replace([], "5")
    assert types(fifo.get_by_key("default/a")) == [U, D]


def test_replace_emits_sync_when_replaced_disabled() -> None:
    fifo = DeltaFIFO(emit_delta_type_replaced=False)
    fifo.replace([cm("a")], "1")
    assert types(fifo.get_by_key("default/a")) == [S]


# §2.9 has_synced
async def test_has_synced_after_first_replace_popped_including_tombstones() -> None:
    known = new_indexer()
    known.add(cm("gone"))
    fifo = DeltaFIFO(known_objects=known)
    assert not fifo.has_synced()
    fifo.replace([cm("a"), cm("b")], "1")
    assert not fifo.has_synced()
    rec = Popped()
    await fifo.pop(rec)
    await fifo.pop(rec)
    assert not fifo.has_synced()  # the tombstone of "gone" counts too
    await fifo.pop(rec)
    assert fifo.has_synced()
    fifo.replace([cm("z")], "2")  # a later replace never makes it false
    assert fifo.has_synced()


def test_has_synced_empty_first_replace() -> None:
    fifo = DeltaFIFO()
    fifo.replace([], "1")
    assert fifo.has_synced()


@pytest.mark.parametrize("op", ["add", "update", "delete"])
def test_has_synced_when_write_came_first(op: str) -> None:
    fifo = DeltaFIFO()
    getattr(fifo, op)(cm("a"))
    assert fifo.has_synced()
    fifo.replace([cm("b")], "1")
    assert fifo.has_synced()


async def test_has_synced_counts_keys_not_duplicates() -> None:
    fifo = DeltaFIFO()
    fifo.replace([cm("a"), cm("a", "2")], "1")  # one key, two deltas
    await fifo.pop(Popped())
    assert fifo.has_synced()


# §2.10 resync: a Sync delta per known key with nothing queued
def test_resync_skips_queued_keys() -> None:
    known = new_indexer()
    a, b = cm("a"), cm("b")
    known.add(a)
    known.add(b)
    fifo = DeltaFIFO(known_objects=known)
    fifo.update(cm("a", "2"))
    fifo.resync()
    assert types(fifo.get_by_key("default/a")) == [U]
    b_deltas = fifo.get_by_key("default/b")
    assert types(b_deltas) == [S] and b_deltas is not None and b_deltas[0].object is b


def test_resync_without_known_objects_is_noop() -> None:
    fifo = DeltaFIFO()
    fifo.resync()
    assert fifo.list_keys() == []


def test_list_and_get() -> None:
    fifo = DeltaFIFO()
    a2 = cm("a", "2")
    fifo.add(cm("a", "1"))
    fifo.update(a2)
    assert fifo.list() == [a2]
    got = fifo.get(cm("a"))
    assert types(got) == [A, U]
    assert got is not None
    got.clear()  # a copy
    assert types(fifo.get_by_key("default/a")) == [A, U]
    assert fifo.get_by_key("nope") is None


# §2.11 applying deltas
class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self.events.append(("add", obj.metadata.resource_version, is_in_initial_list))

    def on_update(self, old: Any, new: Any) -> None:
        self.events.append(("update", old.metadata.resource_version, new.metadata.resource_version))

    def on_delete(self, obj: Any) -> None:
        self.events.append(("delete", obj))


@pytest.mark.parametrize("kind", [S, R, A, U])
def test_apply_add_like_deltas(kind: DeltaType) -> None:
    store = new_indexer()
    rec = Recorder()
    process_deltas(rec, store, Deltas([Delta(kind, cm("a", "1"))]), True)
    assert rec.events == [("add", "1", True)]
    process_deltas(rec, store, Deltas([Delta(kind, cm("a", "2"))]), False)
    assert rec.events[-1] == ("update", "1", "2")
    assert store.get_by_key("default/a").metadata.resource_version == "2"  # type: ignore[union-attr]


def test_apply_deleted_passes_object_or_tombstone() -> None:
    store = new_indexer()
    rec = Recorder()
    obj = cm("a")
    store.add(obj)
    tomb = DeletedFinalStateUnknown("default/a", obj)
    process_deltas(rec, store, Deltas([Delta(D, tomb)]), False)
    assert rec.events == [("delete", tomb)]
    assert store.get_by_key("default/a") is None


async def test_has_synced_only_once_the_last_initial_item_is_processed() -> None:
    # Listers read has_synced from other threads: it must not turn True between the countdown and
    # the processing of the last initial item (client-go processes under the queue's lock).
    fifo = DeltaFIFO()
    fifo.replace([cm("a"), cm("b")], "1")
    seen: list[tuple[bool, bool]] = []

    async def process(deltas: Deltas, initial: bool) -> None:
        seen.append((fifo.has_synced(), initial))
        await asyncio.sleep(0)
        seen.append((fifo.has_synced(), initial))

    await fifo.pop(process)
    await fifo.pop(process)
    assert seen == [(False, True)] * 4
    assert fifo.has_synced()
    fifo.add(cm("c"))
    await fifo.pop(process)
    assert seen[4:] == [(True, False)] * 2
