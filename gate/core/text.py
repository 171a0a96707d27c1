"""Text from outside: safe to keep (:func:`from_api`) and to show on one line (:func:`one_line`)."""

from __future__ import annotations

import re

from gate.core.secret import scrubbed

__all__ = ["from_api", "one_line", "quoted"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
"""C0 and C1 controls (ESC, BEL, CR...), and the invisible and direction-changing marks that
can make a line read as something it does not say."""
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def from_api(value: object) -> str:
    """A string from outside (a field of an API's answer, a check's, a probe's body), fit to
    keep: ``""`` when it is not a string, lone surrogates (which no encoder can write) as
    U+FFFD, and every credential the gate knows of (:func:`gate.core.secret.scrubbed`) cut
    out wherever it is echoed. Whole, before any cut: a secret cut in two would keep its
    half."""
    if not isinstance(value, str):
        return ""
    return scrubbed(_LONE_SURROGATE.sub("\ufffd", value))


def one_line(text: str, *, limit: int = 300) -> str:
    """``text`` with whitespace runs folded to one space, other control characters (terminal
    escapes) shown as ``?``, and cut at ``limit`` characters."""
    folded = _CONTROL.sub("?", " ".join(text.split()))
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def quoted(word: str, *, limit: int = 80) -> str:
    """``word`` as an API said it, quoted so that every character shows: controls and
    invisible marks escaped (``\\x1b``, ``\\u2028``), spaces at either end said in words, cut
    at ``limit``. ``'succeeded '`` then never reads as ``'succeeded'``."""
    shown = "".join(
        character.encode("unicode_escape").decode("ascii")
        if _CONTROL.match(character) or character == "\\"
        else character
        for character in word
    )
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    ends = [
        where
        for where, character in (("start", word[:1]), ("end", word[-1:]))
        if character.isspace() and not _CONTROL.match(character)
    ]
    said = f" (with a space at its {' and '.join(ends)})" if ends else ""
    return f"'{shown}'{said}"
