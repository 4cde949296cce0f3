"""Helpers for testing code that uses pyclientgo: fake clocks (and, later, fakes of other parts)."""

from pyclientgo.testing.clock import AsyncFakeClock, FakeClock

__all__ = ["AsyncFakeClock", "FakeClock"]
