"""Ids that go into request paths: checked, so no input can change which endpoint is called."""

from __future__ import annotations

import re
from urllib.parse import quote

from gate.core.errors import ReadError, UsageError
from gate.core.text import one_line

__all__ = ["api_id", "path_of", "require_id"]

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


def api_id(what: str, value: str) -> str:
    """``value``, an id an API answered that the gate puts into a request path, if it is a
    plain id; an answer that would change which endpoint is called is refused."""
    if not _ID.fullmatch(value) or ".." in value:
        raise ReadError(
            f"the API answered a {what} {one_line(value, limit=80)!r} that is not a plain id; "
            "it never reaches a request path"
        )
    return value


def path_of(*parts: str | int) -> str:
    """``/orgs/acme/apps/shop``: every part quoted whole, so no id adds or removes a path
    segment, whatever an API or a user gave."""
    return "/" + "/".join(quote(str(part), safe="") for part in parts)
