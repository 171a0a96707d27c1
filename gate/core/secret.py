"""A credential that never shows itself in ``repr``, ``str``, logs or exceptions."""

from __future__ import annotations

import hashlib

from gate.core.errors import ConfigError

__all__ = ["MIN_TOKEN_LENGTH", "Secret", "header_token"]

MIN_TOKEN_LENGTH = 16
"""Shorter tokens are refused: every echo of a token is redacted from what the gate shows,
and a short one (``t``) would turn ordinary words into ``execu***ing``."""


class Secret:
    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "") -> None:
        self._value = value
        self.source = source
        """Where the value came from, in words (``HUMANITEC_TOKEN``), for a refusal to name."""

    def reveal(self) -> str:
        """The value, for the one place that must send it (an Authorization header)."""
        return self._value

    def fingerprint(self) -> str:
        """A digest that tells two secrets apart without holding either (a cache key)."""
        return hashlib.sha256(self._value.encode("utf-8", "surrogatepass")).hexdigest()

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the value replaced, for echoing API messages."""
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled")


def header_token(source: str, raw: str) -> Secret:
    """The token in ``raw`` (surrounding whitespace dropped), if an HTTP header can carry it.

    A line break, inner space or non-ASCII character can never be sent: that is a
    :class:`ConfigError` naming ``source`` and the position, never the character itself.
    """
    token = raw.strip()
    if not token:
        raise ConfigError(f"{source} is not set: export the API token in it")
    for position, character in enumerate(token, start=1):
        if not "\x21" <= character <= "\x7e":
            raise ConfigError(
                f"{source} has a character an HTTP header cannot carry at position {position} "
                "(a line break, space, control or non-ASCII character): check how it was stored"
            )
    if len(token) < MIN_TOKEN_LENGTH:
        length = f"{len(token)} character{'' if len(token) == 1 else 's'}"
        raise ConfigError(
            f"{source} is too short ({length}): an API token is longer, and one this short "
            f"cannot be kept out of what the gate shows (at least {MIN_TOKEN_LENGTH} characters)"
        )
    return Secret(token, source=source)
