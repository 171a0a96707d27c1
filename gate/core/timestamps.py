"""Timestamps as APIs write them, read leniently: a bad one costs an optimisation, not a wait."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["as_iso_utc", "iso_utc", "parse_timestamp"]

_EPOCH_MS_DIGITS = range(10, 16)
"""Milliseconds since 1970 have 13 digits today; 10 to 15 covers 1970-04 to 33658."""


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (naive read as UTC, ``Z`` allowed) or from
    epoch milliseconds as digits (Greengrass v1 ``UpdatedAt``); None for anything else."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    try:
        if text.isascii() and text.isdigit() and len(text) in _EPOCH_MS_DIGITS:
            return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)  # past year 9999 or before year 1: overflow
    except (ValueError, OverflowError, OSError):
        return None


def iso_utc(moment: datetime) -> str:
    """``2026-11-23T10:00:00.000Z``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_iso_utc(value: object) -> str | None:
    """A provider's timestamp (ISO 8601 text or epoch milliseconds) as :func:`iso_utc`
    writes it; None when it is not one."""
    moment = parse_timestamp(value)
    return iso_utc(moment) if moment is not None else None
