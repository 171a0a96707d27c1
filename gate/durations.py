"""Durations as people write them on a command line: ``90``, ``90s``, ``15m``, ``1h30m``."""

from __future__ import annotations

import re

from gate.errors import UsageError

__all__ = ["format_duration", "parse_duration"]

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: str, *, flag: str = "duration") -> float:
    """Seconds in ``text``; a bare number is seconds. Raises :class:`UsageError` otherwise."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        return float(cleaned)
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise UsageError(f"{flag} {text!r} is not a duration (try 90, 90s, 15m, 1h or 1h30m)")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """``4.2s``, ``1m05s``, ``1h02m`` — short, for log lines."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"
