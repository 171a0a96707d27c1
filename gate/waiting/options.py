"""The waiting options, declared once as fields: how long a gate waits and how often it
reads. Every face is made from them, as it is from a target's description: the command
line's flags (``--max-interval``), a targets file's keys (``max-interval``), the Pulumi
inputs (``max_interval``, ``maxInterval``). Each field's bounds are its own (none is 0 but
``not_found_grace``; none is longer than 7 days), so every face refuses alike."""

from __future__ import annotations

from dataclasses import dataclass

from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.durations import LONGEST_DURATION, format_duration
from gate.core.errors import UsageError
from gate.waiting.schedule import DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL, DEFAULT_SPARSE_CAP
from gate.wire.sharing import DEFAULT_MAX_RATE

__all__ = [
    "DEFAULT_NOT_FOUND_GRACE",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "FAIL_FAST",
    "MAX_RATE",
    "RELEASE",
    "RELEASE_OPTIONS",
    "REPORTING",
    "REPORTING_OPTIONS",
    "WAITING",
    "WAITING_OPTIONS",
    "WaitOptions",
]

DEFAULT_TIMEOUT = 30 * 60.0
DEFAULT_NOT_FOUND_GRACE = 30.0
DEFAULT_REQUEST_TIMEOUT = 10.0
"""Longest wait for one API answer, for the providers the faces build."""
DEFAULT_HEARTBEAT = 60.0

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


@dataclass(frozen=True, kw_only=True)
class WaitOptions:
    timeout: float = DEFAULT_TIMEOUT
    """Hard deadline in seconds; the wait ends by it (plus at most LAST_READ_SECONDS)."""
    interval: float = DEFAULT_INTERVAL
    max_interval: float | None = None
    """Longest gap between reads. Unset: 15 s, or up to 1 min while the deployment's history
    says it is unlikely to end; set: never longer, whatever history says."""
    not_found_grace: float = DEFAULT_NOT_FOUND_GRACE
    """How long "not found" is read as "not visible yet" rather than as an error."""
    heartbeat: float = DEFAULT_HEARTBEAT
    """Longest silence while waiting: a progress line is said at least this often."""

    def __post_init__(self) -> None:
        WAITING_OPTIONS.read(
            {key: getattr(self, key) for key in WAITING_OPTIONS.keys if hasattr(self, key)}
        )
        if not 0 < self.heartbeat <= LONGEST_DURATION:
            raise UsageError(
                f"heartbeat must be more than 0 and at most {format_duration(LONGEST_DURATION)}"
            )

    @property
    def longest_gap(self) -> float:
        return DEFAULT_MAX_INTERVAL if self.max_interval is None else self.max_interval

    @property
    def longest_gap_with_history(self) -> float:
        return DEFAULT_SPARSE_CAP if self.max_interval is None else self.max_interval


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
FAIL_FAST = Field(
    "fail_fast",
    "stop waiting once one target has not succeeded; the rest end as cancelled "
    "(default: wait for all, so every failure is reported together)",
    kind="flag",
)
"""A release's rule: the first target that cannot succeed cancels the others. (Greengrass
v2's ``device_fail_fast`` is about the devices of one deployment.)"""

RELEASE = (MAX_RATE, FAIL_FAST)
RELEASE_OPTIONS = TargetDescription(
    "gate", "what the targets of a release share: a request budget, fail-fast", RELEASE
)
"""The release's options read together: a single gate is a release of one."""

REPORTING = (
    Field(
        "output",
        "text: progress on stderr; json: also one JSON object on stdout at the end; "
        "github: workflow commands, step outputs and job summary "
        "(default: github under GitHub Actions, else text)",
        kind="choice",
        choices=("text", "json", "github"),
    ),
    Field("junit", "write a JUnit XML report to FILE", metavar="FILE"),
    Field("json_report", "write the JSON outcome to FILE", metavar="FILE"),
)
REPORTING_OPTIONS = TargetDescription("gate", "how the gate reports its outcome", REPORTING)
"""How the outcome is written: the output's form and the report files."""
