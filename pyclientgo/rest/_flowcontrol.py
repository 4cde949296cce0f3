"""Token bucket arithmetic (I/O-free, thread-safe), shared by the async and sync rate limiters."""

from __future__ import annotations

import threading

__all__ = ["DEFAULT_BURST", "DEFAULT_QPS", "TokenBucket"]

DEFAULT_QPS = 5.0
DEFAULT_BURST = 10


class TokenBucket:
    """``qps`` tokens a second, at most ``burst`` stored; starts full.

    :meth:`reserve` takes a token now, letting the balance go negative, and says how long the caller
    must wait before using it (golang.org/x/time/rate's reservations): callers are served in order
    and never spin.
    """

    def __init__(self, qps: float, burst: int, now: float) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = float(qps)
        self.burst = max(1, int(burst))
        self._tokens = float(self.burst)
        self._last = now
        self._lock = threading.Lock()

    def _advance(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now

    def tokens(self, now: float) -> float:
        """Tokens available at ``now`` (negative while reservations are outstanding)."""
        with self._lock:
            self._advance(now)
            return self._tokens

    def reserve(self, now: float) -> float:
        """Take a token; seconds to wait before it may be used (0 when one was available)."""
        with self._lock:
            self._advance(now)
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.qps

    def try_take(self, now: float) -> bool:
        """Take a token only if one is available now."""
        with self._lock:
            self._advance(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False
