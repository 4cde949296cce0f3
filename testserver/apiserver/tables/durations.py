"""Ages and durations as kubectl prints them (``duration.HumanDuration``, ``translateTimestampSince``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = ["human_duration", "parse_time", "translate_timestamp_since"]


def human_duration(seconds: float) -> str:
    """A duration as kubectl shows ages: ``5s``, ``3m2s``, ``2d4h``, ``3y``.

    Mirrors apimachinery's ``duration.HumanDuration``: up to 2 s of clock skew reads ``0s``,
    anything earlier is ``<invalid>``; precision drops as the duration grows.
    """
    secs = int(seconds)  # truncates toward zero, like Go's int(d.Seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> _dt.datetime | None:
    """An RFC 3339 timestamp (naive ones read as UTC); None when unset or unparsable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed


def translate_timestamp_since(value: Any, now: _dt.datetime) -> str:
    """Age of an RFC 3339 timestamp at ``now``; ``<unknown>`` when unset or unparsable."""
    when = parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())
