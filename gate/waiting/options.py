"""The waiting options, declared once as fields: how long a gate waits and how often it
reads. Every face is made from them, as it is from a target's description: the command
line's flags (``--max-interval``), a targets file's keys (``max-interval``), the Pulumi
inputs (``max_interval``, ``maxInterval``). Each field's bounds are its own (none is 0 but
``not_found_grace``; none is longer than 7 days), so every face refuses alike."""

from __future__ import annotations

from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.durations import format_duration
from gate.waiting.schedule import DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL
from gate.wire.sharing import DEFAULT_MAX_RATE

__all__ = [
    "DEFAULT_NOT_FOUND_GRACE",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MAX_RATE",
    "WAITING",
    "WAITING_OPTIONS",
]

DEFAULT_TIMEOUT = 30 * 60.0
DEFAULT_NOT_FOUND_GRACE = 30.0
DEFAULT_REQUEST_TIMEOUT = 10.0
"""Longest wait for one API answer, for the providers the faces build."""

WAITING = (
    Field(
        "timeout",
        "the gate's own deadline, such as 90, 90s, 15m, 1h",
        kind="duration",
        more_than=0,
        default=DEFAULT_TIMEOUT,
    ),
    Field(
        "interval",
        "first and shortest gap between reads; later gaps follow the deployment's history, "
        "or a prior without it",
        kind="duration",
        more_than=0,
        default=DEFAULT_INTERVAL,
    ),
    Field(
        "max_interval",
        "longest gap between reads (15s, and up to 1m while the deployment's history says it "
        "is far from done; when given, never longer)",
        kind="duration",
        more_than=0,
    ),
    Field(
        "request_timeout",
        "longest wait for one API answer",
        kind="duration",
        more_than=0,
        default=DEFAULT_REQUEST_TIMEOUT,
    ),
    Field(
        "not_found_grace",
        "how long 'not found' means 'not visible yet'",
        kind="duration",
        default=DEFAULT_NOT_FOUND_GRACE,
    ),
)


def _interval_within_the_longest_gap(values: TargetValues) -> None:
    interval, given = values.number_of("interval"), values.number("max_interval")
    longest = DEFAULT_MAX_INTERVAL if given is None else given
    if interval <= longest:
        return
    source = (
        f"{named('max_interval')} ({format_duration(longest)})"
        if given is not None
        else f"{format_duration(longest)}, the longest gap between reads unless "
        f"{named('max_interval')} is set"
    )
    raise FieldError(
        "interval", f"{named('interval')} ({format_duration(interval)}) must not exceed {source}"
    )


WAITING_OPTIONS = TargetDescription(
    "gate",
    "how long the gate waits and how often it reads",
    WAITING,
    rules=(_interval_within_the_longest_gap,),
)
"""The waiting options read together, as every face reads them."""

MAX_RATE = Field(
    "max_rate",
    "requests a second to each API, shared by all targets",
    kind="number",
    default=DEFAULT_MAX_RATE,
    metavar="N",
    more_than=0,
    most=1000,
)
"""Many targets' one request budget per API (``--max-rate``, Pulumi's ``max_rate``)."""
