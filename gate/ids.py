"""Ids that go into request paths: checked, so no input can change which endpoint is called."""

from __future__ import annotations

import re

from gate.errors import UsageError

__all__ = ["require_id"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def require_id(flag: str, value: str | None) -> str:
    """``value`` if it is a plain id (letters, digits, ``.``, ``_``, ``-``; no ``/``, no ``..``)."""
    if not value:
        raise UsageError(f"{flag} is required")
    if not _ID.fullmatch(value) or ".." in value:
        raise UsageError(
            f"{flag} {value!r} is not a valid id (letters, digits, '.', '_' and '-' only)"
        )
    return value
