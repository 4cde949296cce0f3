"""A sorted set of strings with cheap inserts, removals and ordered scans from any key.

A two-level list (the layout of ``sortedcontainers.SortedList``): sorted sublists of at most
``2 * _LOAD`` keys plus the maximum of each, so an insert or removal costs a bisect over the
maxima plus a memmove of at most ``2 * _LOAD`` pointers, instead of a memmove of the whole
key set.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator

__all__ = ["SortedKeys"]

_LOAD = 512


class SortedKeys:
    """Sorted, duplicate-free collection of keys. Callers guarantee uniqueness on ``add``."""

    __slots__ = ("_len", "_lists", "_maxes")

    def __init__(self, sorted_keys: Iterable[str] = ()) -> None:
        keys = list(sorted_keys)
        self._lists: list[list[str]] = [keys[i : i + _LOAD] for i in range(0, len(keys), _LOAD)]
        self._maxes: list[str] = [sub[-1] for sub in self._lists]
        self._len = len(keys)

    def __len__(self) -> int:
        return self._len

    def add(self, key: str) -> None:
        """Insert ``key``, which must not be present."""
        maxes = self._maxes
        if not maxes:
            self._lists.append([key])
            maxes.append(key)
            self._len = 1
            return
        i = bisect_left(maxes, key)
        if i == len(maxes):
            i -= 1
            sub = self._lists[i]
            sub.append(key)
            maxes[i] = key
        else:
            sub = self._lists[i]
            insort(sub, key)
        self._len += 1
        if len(sub) > 2 * _LOAD:
            self._lists[i : i + 1] = [sub[:_LOAD], sub[_LOAD:]]
            maxes[i : i + 1] = [sub[_LOAD - 1], sub[-1]]

    def discard(self, key: str) -> None:
        """Remove ``key`` if present."""
        maxes = self._maxes
        i = bisect_left(maxes, key)
        if i == len(maxes):
            return
        sub = self._lists[i]
        j = bisect_left(sub, key)
        if j == len(sub) or sub[j] != key:
            return
        del sub[j]
        self._len -= 1
        if not sub:
            del self._lists[i]
            del maxes[i]
        elif j == len(sub):
            maxes[i] = sub[-1]

    def iter_from(self, start: str) -> Iterator[str]:
        """Keys ``>= start`` in order. The set must not change while the iterator is in use."""
        maxes = self._maxes
        i = bisect_left(maxes, start)
        if i == len(maxes):
            return
        lists = self._lists
        sub = lists[i]
        yield from sub[bisect_left(sub, start) :]
        for k in range(i + 1, len(lists)):
            yield from lists[k]

    def __iter__(self) -> Iterator[str]:
        for sub in self._lists:
            yield from sub
