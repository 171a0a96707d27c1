"""Durations as people write them on a command line: ``90``, ``90s``, ``15m``, ``1h30m``."""

from __future__ import annotations

import math
import re

from gate.core.errors import UsageError

__all__ = ["LONGEST_DURATION", "compact_duration", "format_duration", "parse_duration"]

LONGEST_DURATION = 7 * 24 * 3600.0
"""No wait, gap or request timeout is longer than a week: longer is a typo, not a plan."""

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: str, *, flag: str = "duration") -> float:
    """Seconds in ``text``; a bare number is seconds. Raises :class:`UsageError` otherwise.
    A sign is read (``-5`` is -5 seconds) and no bound is applied: which durations a value may
    take is its field's rule (:class:`gate.core.description.Field`), said the same way whether
    it was written as text or as a number."""
    cleaned = text.strip().lower()
    shown = repr(text) if len(text) <= 40 else repr(text[:39] + "…")
    sign = -1.0 if cleaned.startswith("-") else 1.0
    cleaned = cleaned.removeprefix("-")
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        return sign * float(cleaned)
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise UsageError(f"{flag} {shown} is not a duration (try 90, 90s, 15m, 1h or 1h30m)")
    return sign * sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """``4.2s``, ``1m05s``, ``1h02m`` — short, for log lines."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"


def compact_duration(seconds: float) -> str:
    """``30m``, ``2s``, ``1h``: a duration as one would write it for ``--timeout``."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
