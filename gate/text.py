"""Text from an API, made fit for one line of a log or a reason."""

from __future__ import annotations

import re

__all__ = ["one_line"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str, *, limit: int = 300) -> str:
    """``text`` with whitespace runs folded to one space, other control characters (terminal
    escapes) shown as ``?``, and cut at ``limit`` characters."""
    folded = _CONTROL.sub("?", " ".join(text.split()))
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"
