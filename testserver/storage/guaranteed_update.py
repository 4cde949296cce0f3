"""``guaranteed_update``: read-modify-write with retries, like Kubernetes' ``GuaranteedUpdate``.

Works on any :class:`~testserver.storage.interface.Storage`. The update function sees the
current item (or ``None`` if the key is absent and ``ignore_not_found`` is set) and returns the
new value, or ``None`` for "no change"; it may be a coroutine function (admission webhooks)
and may raise to abort. On a concurrent write the function runs again on the newer item, so
no update is lost; every retry is caused by another writer's success, so the loop makes
progress overall.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from testserver.storage.errors import KeyExists, NotFoundError, RevisionMismatch
from testserver.storage.interface import Storage
from testserver.storage.model import KeyValue

__all__ = ["UpdateFunc", "guaranteed_update"]

UpdateFunc = Callable[[KeyValue | None], bytes | Awaitable[bytes | None] | None]
"""``fn(current) -> new value | None``; ``current`` is ``None`` only for a missing key."""


async def guaranteed_update(
    storage: Storage,
    key: str,
    fn: UpdateFunc,
    *,
    ignore_not_found: bool = False,
    current: KeyValue | None = None,
) -> KeyValue | None:
    """Apply ``fn`` to the item at ``key`` until the write succeeds without conflict.

    Returns the item as stored afterwards: the new item, or the unchanged current one when
    ``fn`` returns ``None`` or the same bytes (no write, no new revision, as Kubernetes skips
    no-op updates). With ``ignore_not_found`` a missing key is passed to ``fn`` as ``None``
    and a returned value creates it (``None`` is returned if ``fn`` declines); without it a
    missing key raises :class:`NotFoundError`. ``current`` is an optional cached item to try
    first (it is only trusted for the compare-and-swap, so a stale one costs one retry).
    """
    # ``trusted``: cur is known to have been the latest item when read (not a caller's cache).
    trusted = current is None
    cur = current if current is not None else await storage.get(key)
    while True:
        if cur is None and not ignore_not_found:
            raise NotFoundError(key)
        result = fn(cur)
        new = await result if inspect.isawaitable(result) else result
        if new is None or (cur is not None and new == cur.value):
            if trusted:
                return cur
            cur, trusted = await storage.get(key), True
            continue
        if cur is None:
            try:
                rev = await storage.create(key, new)
            except KeyExists as exc:
                cur, trusted = exc.current, True
                continue
            return KeyValue(key, new, rev, rev)
        try:
            rev = await storage.update(key, new, cur.mod_revision)
        except RevisionMismatch as exc:
            cur, trusted = exc.current, True
            continue
        except NotFoundError:
            cur, trusted = None, True
            continue
        return KeyValue(key, new, cur.create_revision, rev)
