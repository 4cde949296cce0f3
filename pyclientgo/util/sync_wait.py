"""Blocking polling and periodic loops (generated from :mod:`pyclientgo.util._async.wait`).

``stop`` is a :class:`threading.Event`; the names and behaviour are those of :mod:`pyclientgo.util.wait`.
"""

from pyclientgo.util._sync.wait import (
    exponential_backoff,
    forever,
    jitter_until,
    non_sliding_until,
    poll_immediate_until,
    poll_until,
    until,
)
from pyclientgo.util._wait import StopEvent, WaitTimeoutError, jitter
from pyclientgo.util.backoff import Backoff

__all__ = [
    "Backoff",
    "StopEvent",
    "WaitTimeoutError",
    "exponential_backoff",
    "forever",
    "jitter",
    "jitter_until",
    "non_sliding_until",
    "poll_immediate_until",
    "poll_until",
    "until",
]
