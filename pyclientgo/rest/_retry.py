"""When a request is retried (docs/reference/client_go_semantics.md §7.2), and httpx errors mapped to ours. I/O-free.

* At most ``max_retries`` (10) retries, each passing the rate limiter again.
* A 429 or a 5xx is retried only when it carries an integer ``Retry-After``; the client sleeps that long.
* A GET whose connection was reset or closed early (EOF) is retried after 1 second.
* A body that cannot be replayed is never retried.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from tenacity import RetryCallState

from pyclientgo import errors
from pyclientgo.errors import PyClientGoError, retry_after_header

__all__ = ["Retry", "retry_after_for_response", "retry_wait", "should_retry", "transport_error"]


class Retry(Exception):
    """Raised inside a retry attempt: ``error`` is what the caller gets if retries run out."""

    def __init__(self, error: PyClientGoError, delay: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


def retry_after_for_response(code: int, headers: Mapping[str, str]) -> int | None:
    """Seconds to wait before retrying an answer, or None when it must not be retried."""
    if code == 429 or code >= 500:
        return retry_after_header(headers)
    return None


def is_connection_reset(exc: httpx.TransportError) -> bool:
    """A reset or an early EOF (client-go's IsConnectionReset / IsProbableEOF)."""
    return isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError))


_MAP: tuple[tuple[type[httpx.TransportError], type[errors.TransportError]], ...] = (
    (httpx.ConnectTimeout, errors.ConnectTimeout),
    (httpx.ReadTimeout, errors.ReadTimeout),
    (httpx.WriteTimeout, errors.WriteTimeout),
    (httpx.PoolTimeout, errors.PoolTimeout),
    (httpx.TimeoutException, errors.TransportTimeout),
    (httpx.ConnectError, errors.ConnectError),
    (httpx.ProxyError, errors.ConnectError),
    (httpx.ReadError, errors.ConnectionLost),
    (httpx.WriteError, errors.ConnectionLost),
    (httpx.RemoteProtocolError, errors.ConnectionLost),
    (httpx.ProtocolError, errors.ProtocolError),
)


def transport_error(exc: httpx.TransportError, method: str = "", url: str = "") -> errors.TransportError:
    """Our error for an httpx transport error (raise it ``from exc``)."""
    cls: type[errors.TransportError] = errors.TransportError
    for httpx_cls, ours in _MAP:
        if isinstance(exc, httpx_cls):
            cls = ours
            break
    where = f"{method} {url}: " if method else ""
    return cls(f"{where}{exc or type(exc).__name__}")


def should_retry(state: RetryCallState) -> bool:
    """tenacity ``retry=``: only our :class:`Retry` signal is retried."""
    outcome = state.outcome
    return outcome is not None and isinstance(outcome.exception(), Retry)


def retry_wait(state: RetryCallState) -> float:
    """tenacity ``wait=``: the delay the :class:`Retry` signal carries."""
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    return exc.delay if isinstance(exc, Retry) else 0.0
