"""``wait.Backoff`` from apimachinery: a sequence of growing, jittered delays (I/O-free)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_RETRY", "Backoff"]


@dataclass(kw_only=True)
class Backoff:
    """Parameters of an exponential backoff; :meth:`delays` yields the waits between tries."""

    duration: float = 0.01
    """The first delay, in seconds."""
    factor: float = 1.0
    """Each delay is the previous one times this (1.0 keeps it constant)."""
    jitter: float = 0.0
    """A delay d becomes a random value in [d, d*(1+jitter)]."""
    steps: int = 5
    """How many tries in all (so ``steps - 1`` delays)."""
    cap: float = 0.0
    """Delays stop growing past this (0: no cap)."""
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    """Randomness for the jitter (inject a seeded one in tests)."""

    def delays(self) -> list[float]:
        """The ``steps - 1`` delays between ``steps`` tries."""
        out: list[float] = []
        duration = self.duration
        for _ in range(max(0, self.steps - 1)):
            d = duration
            if self.jitter > 0:
                d = d + self.rng.random() * self.jitter * d
            out.append(d)
            if self.factor != 0:
                duration *= self.factor
                if self.cap > 0 and duration > self.cap:
                    duration = self.cap
        return out


DEFAULT_RETRY = Backoff(steps=5, duration=0.01, factor=1.0, jitter=0.1)
"""client-go's ``retry.DefaultRetry``: 5 tries 10 ms apart (jitter 0.1), for conflicts between writers."""

DEFAULT_BACKOFF = Backoff(steps=4, duration=0.01, factor=5.0, jitter=0.1)
"""client-go's ``retry.DefaultBackoff``: for conflicts with a controller that is fighting back."""
