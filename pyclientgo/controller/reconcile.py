"""What a controller reconciles and what it answers (controller-runtime's ``reconcile`` package).

- :class:`Request`: the object to reconcile, by namespace and name (never the object itself: the
  reconciler reads the current state from a lister or the API server, so it always acts on the latest).
- :class:`Result`: ``requeue_after`` seconds to look again later (a periodic check), or ``requeue`` to
  come back after the rate limiter's back-off; the default ``Result()`` means "done".
- :class:`TerminalError`: a failure that retrying cannot fix; the request is dropped (and logged).
  Any other exception is retried with back-off.
- :class:`Reconciler`: one method, ``async reconcile(request) -> Result``; :class:`ReconcilerFunc`
  adapts a plain coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pyclientgo.errors import PyClientGoError

__all__ = ["Reconciler", "ReconcilerFunc", "Request", "Result", "TerminalError"]


@dataclass(frozen=True, slots=True, order=True)
class Request:
    """The object to reconcile: ``namespace`` ("" for cluster-scoped objects) and ``name``. Hashable."""

    namespace: str
    name: str

    @classmethod
    def from_key(cls, key: str) -> Request:
        """``"ns/name"`` or ``"name"`` (cluster-scoped) as a Request."""
        namespace, _, name = key.rpartition("/")
        return cls(namespace, name)

    @property
    def key(self) -> str:
        """The cache key (``"ns/name"``, or ``"name"`` when cluster-scoped)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What to do with a request after a successful reconcile."""

    requeue: bool = False
    """Reconcile again after the rate limiter's back-off (counts as a retry)."""
    requeue_after: float = 0.0
    """Reconcile again after this many seconds (the back-off is reset); wins over ``requeue``."""

    def is_zero(self) -> bool:
        """True for ``Result()`` (nothing more to do)."""
        return not self.requeue and self.requeue_after <= 0


class TerminalError(PyClientGoError):
    """A reconcile failure that must not be retried (controller-runtime's ``reconcile.TerminalError``).

    Raise it (optionally ``from`` the cause) when the input is wrong and only a change of the object
    can help; the next event of the object enqueues it again.
    """


@runtime_checkable
class Reconciler(Protocol):
    """Drives the object named by ``request`` toward its desired state; idempotent."""

    async def reconcile(self, request: Request) -> Result: ...


class ReconcilerFunc:
    """A :class:`Reconciler` from a coroutine function (which may return ``None`` for ``Result()``)."""

    def __init__(self, func: Callable[[Request], Awaitable[Result | None]]) -> None:
        self.func = func

    async def reconcile(self, request: Request) -> Result:
        result = await self.func(request)
        return Result() if result is None else result

    def __repr__(self) -> str:
        return f"ReconcilerFunc({getattr(self.func, '__qualname__', self.func)!r})"
