"""The reflector's backoff manager (apimachinery's ``wait.NewExponentialBackoffManager``).

Each call to :meth:`ExponentialBackoffManager.next_delay` returns the next wait: the base delay ``d``
starts at ``initial`` (0.8 s), is multiplied by ``factor`` (2) after every call and stops growing at
``cap`` (30 s); the value returned is ``d`` plus jitter, a random value in ``[d, d * (1 + jitter))``
(jitter 1.0 → ``[d, 2d)``; once capped, ``[30 s, 60 s)`` as in client-go). When more than
``reset_after`` (2 min) passed since the previous call, the sequence starts over at ``initial``.

Time comes from an injectable clock (anything with ``now()``: :class:`pyclientgo.clock.AsyncClock`,
:class:`pyclientgo.clock.Clock` or their fakes) and randomness from an injectable ``random.Random``.
"""

from __future__ import annotations

import random
from typing import Protocol

from pyclientgo.clock import AsyncSystemClock

__all__ = [
    "DEFAULT_BACKOFF_CAP",
    "DEFAULT_BACKOFF_FACTOR",
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_JITTER",
    "DEFAULT_BACKOFF_RESET",
    "ExponentialBackoffManager",
    "jitter",
]

DEFAULT_BACKOFF_INITIAL = 0.8
"""The reflector's first backoff delay, in seconds."""
DEFAULT_BACKOFF_CAP = 30.0
"""The reflector's base delay stops growing here, in seconds."""
DEFAULT_BACKOFF_RESET = 120.0
"""After this many quiet seconds the reflector's backoff starts over."""
DEFAULT_BACKOFF_FACTOR = 2.0
"""Each base delay is the previous one times this."""
DEFAULT_BACKOFF_JITTER = 1.0
"""A delay ``d`` becomes a random value in ``[d, d * (1 + jitter))``."""


class _Now(Protocol):
    def now(self) -> float: ...


def jitter(duration: float, max_factor: float, rng: random.Random | None = None) -> float:
    """``duration`` plus a random part in ``[0, duration * max_factor)`` (apimachinery's ``wait.Jitter``).

    A ``max_factor`` of 0 or less means 1.0, as in client-go.
    """
    if max_factor <= 0.0:
        max_factor = 1.0
    r = (rng or random).random()
    return duration + r * max_factor * duration


class ExponentialBackoffManager:
    """Growing, jittered delays that start over after a quiet period; see the module docstring."""

    def __init__(
        self,
        *,
        initial: float = DEFAULT_BACKOFF_INITIAL,
        cap: float = DEFAULT_BACKOFF_CAP,
        reset_after: float = DEFAULT_BACKOFF_RESET,
        factor: float = DEFAULT_BACKOFF_FACTOR,
        jitter: float = DEFAULT_BACKOFF_JITTER,
        clock: _Now | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if initial < 0 or cap < 0 or reset_after < 0 or factor < 0 or jitter < 0:
            raise ValueError("backoff parameters must not be negative")
        self.initial = initial
        self.cap = cap
        self.reset_after = reset_after
        self.factor = factor
        self.jitter = jitter
        self._clock: _Now = clock if clock is not None else AsyncSystemClock()
        self._rng = rng if rng is not None else random.Random()
        self._duration = initial
        self._last_start = self._clock.now()

    @property
    def base_delay(self) -> float:
        """The base (unjittered) delay the next call starts from."""
        return self._duration

    def reset(self) -> None:
        """Start over at ``initial``."""
        self._duration = self.initial

    def next_delay(self) -> float:
        """The next delay in seconds (client-go's ``BackoffManager.Backoff()``)."""
        now = self._clock.now()
        if now - self._last_start > self.reset_after:
            self.reset()
        self._last_start = now
        duration = self._duration
        if self.factor != 0:
            grown = duration * self.factor
            if self.cap > 0 and grown > self.cap:
                grown = self.cap
            self._duration = grown
        if self.cap > 0 and duration > self.cap:
            duration = self.cap
        if self.jitter > 0:
            duration = duration + self._rng.random() * self.jitter * duration
        return duration
