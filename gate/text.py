"""Text from an API: safe to keep (:func:`from_api`) and to show on one line (:func:`one_line`)."""

from __future__ import annotations

import re

from gate.secret import Secret

__all__ = ["from_api", "one_line"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
"""C0 and C1 controls (ESC, BEL, CR...), and the invisible and direction-changing marks that
can make a line read as something it does not say."""
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def from_api(value: object, *, secret: Secret | None = None) -> str:
    """A string field of an API answer, fit to keep: ``""`` when it is not a string, lone
    surrogates (which no encoder can write) as U+FFFD, and ``secret`` redacted wherever the
    API echoes it."""
    if not isinstance(value, str):
        return ""
    text = _LONE_SURROGATE.sub("\ufffd", value)
    return secret.redact(text) if secret is not None else text


def one_line(text: str, *, limit: int = 300) -> str:
    """``text`` with whitespace runs folded to one space, other control characters (terminal
    escapes) shown as ``?``, and cut at ``limit`` characters."""
    folded = _CONTROL.sub("?", " ".join(text.split()))
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"
