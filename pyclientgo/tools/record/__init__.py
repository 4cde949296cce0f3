"""Events about objects (client-go ``tools/record``): recorder, broadcaster, correlation.

See :mod:`pyclientgo.tools.record.recorder` for use; :mod:`~pyclientgo.tools.record.events_cache`
for aggregation, repeat counting and spam filtering; :mod:`~pyclientgo.tools.record.events_v1` for
``events.k8s.io/v1`` events.
"""

from pyclientgo.tools.record.events_cache import EventCorrelateResult, EventCorrelator
from pyclientgo.tools.record.events_v1 import EventsV1Recorder
from pyclientgo.tools.record.recorder import (
    EVENT_TYPE_NORMAL,
    EVENT_TYPE_WARNING,
    ClientsetEventSink,
    EventBroadcaster,
    EventRecorder,
    EventSink,
)
from pyclientgo.tools.record.reference import object_reference

__all__ = [
    "EVENT_TYPE_NORMAL",
    "EVENT_TYPE_WARNING",
    "ClientsetEventSink",
    "EventBroadcaster",
    "EventCorrelateResult",
    "EventCorrelator",
    "EventRecorder",
    "EventSink",
    "EventsV1Recorder",
    "object_reference",
]
