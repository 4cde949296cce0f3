"""HTTP to the API server: ``AsyncRESTClient`` and its generated sync twin ``RESTClient``.

Rate limited (token bucket from ``Config.qps``/``burst``), retried as client-go retries (429/5xx with
an integer Retry-After; GETs on a reset connection), errors mapped to ``pyclientgo.errors``, and watch
streams decoded incrementally into :class:`WatchEvent` objects. The async code lives in ``_async``;
``_sync`` is generated from it by ``codegen/sync_twins.py``.
"""

from pyclientgo.rest._async.client import AsyncRESTClient
from pyclientgo.rest._async.flowcontrol import AsyncRateLimiter, AsyncTokenBucketRateLimiter
from pyclientgo.rest._flowcontrol import DEFAULT_BURST, DEFAULT_QPS, TokenBucket
from pyclientgo.rest._request import Body, QueryParams, QueryValue, encode_query
from pyclientgo.rest._sync.client import RESTClient
from pyclientgo.rest._sync.flowcontrol import RateLimiter, TokenBucketRateLimiter
from pyclientgo.rest._watch import WatchDecoder, WatchEvent

__all__ = [
    "AsyncRESTClient",
    "AsyncRateLimiter",
    "AsyncTokenBucketRateLimiter",
    "Body",
    "DEFAULT_BURST",
    "DEFAULT_QPS",
    "QueryParams",
    "QueryValue",
    "RESTClient",
    "RateLimiter",
    "TokenBucket",
    "TokenBucketRateLimiter",
    "WatchDecoder",
    "WatchEvent",
    "encode_query",
]
