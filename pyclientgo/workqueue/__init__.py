"""Work queues for controllers (client-go ``util/workqueue``).

* :class:`Queue` — distinct items, never handed out twice at once, re-queued if changed while processed;
* :class:`DelayingQueue` — plus :meth:`~DelayingQueue.add_after`;
* :class:`RateLimitingQueue` — plus :meth:`~RateLimitingQueue.add_rate_limited` paced by a rate limiter;
* rate limiters: :class:`ItemExponentialFailureRateLimiter`, :class:`BucketRateLimiter`,
  :class:`ItemFastSlowRateLimiter`, :class:`MaxOfRateLimiter`, :func:`default_controller_rate_limiter`;
* metrics through prometheus-client (:mod:`pyclientgo.workqueue.metrics`).

A worker loop::

    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            await reconcile(key)
        except Exception:
            queue.add_rate_limited(key)
        else:
            queue.forget(key)
        finally:
            queue.done(key)
"""

from pyclientgo.workqueue.delaying_queue import DelayingQueue
from pyclientgo.workqueue.metrics import (
    MetricsProvider,
    NoopMetricsProvider,
    PrometheusMetricsProvider,
    global_metrics_provider,
    set_global_metrics_provider,
)
from pyclientgo.workqueue.queue import Queue, ShutDown
from pyclientgo.workqueue.rate_limiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from pyclientgo.workqueue.rate_limiting_queue import RateLimitingQueue

__all__ = [
    "BucketRateLimiter",
    "DelayingQueue",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "MetricsProvider",
    "NoopMetricsProvider",
    "PrometheusMetricsProvider",
    "Queue",
    "RateLimiter",
    "RateLimitingQueue",
    "ShutDown",
    "default_controller_rate_limiter",
    "global_metrics_provider",
    "set_global_metrics_provider",
]
