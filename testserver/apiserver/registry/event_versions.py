"""One stored Event, two API versions: core ``v1`` and ``events.k8s.io/v1``.

kube-apiserver keeps every Event once and serves it through both groups, converting between them
(``pkg/apis/events/v1/conversion.go`` over the internal ``core.Event``). The fields that differ:

=====================  ===========================
core v1                events.k8s.io/v1
=====================  ===========================
``involvedObject``     ``regarding``
``message``            ``note``
``reportingComponent`` ``reportingController``
``source``             ``deprecatedSource``
``firstTimestamp``     ``deprecatedFirstTimestamp``
``lastTimestamp``      ``deprecatedLastTimestamp``
``count``              ``deprecatedCount``
=====================  ===========================

Everything else (metadata, ``eventTime``, ``series``, ``reportingInstance``, ``action``, ``reason``,
``related``, ``type``) is the same field in both. The server stores an Event in the version it was
last written through; :class:`EventVersionView` gives each route the object in its own version, so
``kubectl get events`` shows the scheduler's ``events.k8s.io`` events with their object and message,
and field selectors (``involvedObject.name=...``) select Events written through either group.
"""

from __future__ import annotations

from typing import Any

import orjson

from testserver.apiserver import objects as ob
from testserver.storage import KeyValue

__all__ = [
    "CORE_API_VERSION",
    "EVENTS_API_VERSION",
    "EventVersionView",
    "convert_event",
    "to_core_event",
]

CORE_API_VERSION = "v1"
EVENTS_API_VERSION = "events.k8s.io/v1"

_CORE_TO_EVENTS: tuple[tuple[str, str], ...] = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)
_RENAMES: dict[str, dict[str, str]] = {
    EVENTS_API_VERSION: dict(_CORE_TO_EVENTS),
    CORE_API_VERSION: {events: core for core, events in _CORE_TO_EVENTS},
}
_ZERO_VALUES: dict[str, dict[str, Any]] = {
    # what Go's encoder writes for the unset fields of each version (structs always, zero times as null)
    CORE_API_VERSION: {
        "involvedObject": {},
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "eventTime": None,
        "reportingComponent": "",
        "reportingInstance": "",
    },
    EVENTS_API_VERSION: {
        "eventTime": None,
        "regarding": {},
        "deprecatedSource": {},
        "deprecatedFirstTimestamp": None,
        "deprecatedLastTimestamp": None,
    },
}
_OMIT_EMPTY = frozenset(
    {"count", "deprecatedCount", "reportingController", "reportingInstance", "message", "note"}
)
"""Fields Go leaves out when empty (``omitempty`` on a number or string)."""


def convert_event(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """``obj`` (an Event of either version) in ``api_version``, shaped as kube-apiserver writes a
    converted Event (unset structs as ``{}``, unset times as ``null``); the same dict when already
    in ``api_version``."""
    if obj.get("apiVersion") == api_version:
        return obj
    renames = _RENAMES[api_version]
    out: dict[str, Any] = {"kind": "Event", "apiVersion": api_version}
    for key, value in obj.items():
        if key in ("kind", "apiVersion"):
            continue
        target = renames.get(key, key)
        if target in _OMIT_EMPTY and value in (None, "", 0):
            continue
        out[target] = value
    for key, zero in _ZERO_VALUES[api_version].items():
        if out.get(key) is None:
            out[key] = zero
    return out


def to_core_event(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as a core v1 Event (what field selectors and the printers read)."""
    return convert_event(obj, CORE_API_VERSION)


EVENTS_FIELD_LABELS: dict[str, str] = {
    "metadata.name": "metadata.name",
    "metadata.namespace": "metadata.namespace",
    "reason": "reason",
    "regarding.kind": "involvedObject.kind",
    "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reportingController": "reportingComponent",
    "type": "type",
}
"""The field labels of events.k8s.io/v1 Events and the core v1 field each selects by
(``AddFieldLabelConversionsForEvent`` of ``pkg/apis/events/v1/conversion.go``)."""


def events_field_set(core_fields: dict[str, str]) -> dict[str, str]:
    """An Event's selectable fields under the events.k8s.io/v1 labels, from its core v1 field set."""
    return {label: core_fields.get(core, "") for label, core in EVENTS_FIELD_LABELS.items()}


class EventVersionView:
    """The stored Events of one route, read in that route's version."""

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version
        self._marker = b'"apiVersion":"' + api_version.encode() + b'"'

    def read_bytes(self, value: bytes) -> bytes:
        """Stored bytes → this version's bytes (unchanged when stored in this version)."""
        if ob.stored_in_version(value, self._marker):
            return value
        return ob.encode_for_storage(convert_event(orjson.loads(value), self.api_version))

    def read(self, kv: KeyValue) -> KeyValue:
        value = self.read_bytes(kv.value)
        if value is kv.value:
            return kv
        return KeyValue(kv.key, value, kv.create_revision, kv.mod_revision)

    def read_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A decoded stored object in this version (for read-modify-write)."""
        return convert_event(obj, self.api_version)
