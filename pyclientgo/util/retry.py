"""asyncio ``retry_on_conflict`` / ``on_error`` (see :mod:`pyclientgo.util._async.retry`)."""

from pyclientgo.util._async.retry import on_error, retry_on_conflict
from pyclientgo.util.backoff import DEFAULT_BACKOFF, DEFAULT_RETRY, Backoff

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_RETRY", "Backoff", "on_error", "retry_on_conflict"]
