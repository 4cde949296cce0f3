"""``MemoryStorage``: the default, non-durable backend."""

from __future__ import annotations

import asyncio

from testserver.storage._mvcc import DEFAULT_HISTORY_WINDOW, DEFAULT_WATCH_BUFFER_SIZE, MVCCStorage
from testserver.storage.model import WatchEvent

__all__ = ["MemoryStorage"]


class MemoryStorage(MVCCStorage):
    """Everything in memory; a write is acknowledged as soon as it is applied.

    Keyword arguments:

    * ``history_window``: about how many recent revisions stay readable (snapshot lists,
      watch replay); older ones raise ``Compacted``. Compaction runs automatically.
    * ``watch_buffer_size``: how many live events a watcher may lag behind before it is
      terminated with ``WatcherTooSlow``.
    """

    def __init__(
        self,
        *,
        history_window: int = DEFAULT_HISTORY_WINDOW,
        watch_buffer_size: int = DEFAULT_WATCH_BUFFER_SIZE,
    ) -> None:
        super().__init__(history_window=history_window, watch_buffer_size=watch_buffer_size)

    async def _commit(self, event: WatchEvent) -> None:
        self._publish(event.revision)
        # Yield once, as a durable backend would while committing: a caller writing in a tight
        # loop (bulk deletes of a namespace's objects) must not starve the tasks that drain
        # watcher buffers, or every watcher overflows and all clients have to re-list.
        await asyncio.sleep(0)
