"""asyncio polling and periodic loops (apimachinery ``util/wait``; see :mod:`pyclientgo.util._async.wait`).

``pyclientgo.util.sync_wait`` has the generated blocking twins under the same names.
"""

from pyclientgo.util._async.wait import (
    exponential_backoff,
    forever,
    jitter_until,
    non_sliding_until,
    poll_immediate_until,
    poll_until,
    until,
)
from pyclientgo.util._wait import AsyncStopEvent, WaitTimeoutError, jitter
from pyclientgo.util.backoff import Backoff

__all__ = [
    "AsyncStopEvent",
    "Backoff",
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
