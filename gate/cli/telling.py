"""Closing the tellings a command line asked for (``--otel``, ``--github-deployment``): each
flushes within its own bound, and what it could not tell is a warning on stderr, never a
change of the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from gate.cli.common import say, signals_end_once
from gate.core.errors import Interrupted
from gate.waiting.telling import Telling, closed

__all__ = ["close_tellings"]


def close_tellings(tellings: Sequence[Telling], err: TextIO) -> None:
    """Each telling flushed, once the outcome is written; a signal now ends the flushing
    (what was not told is lost, the gate's outcome and exit code are not)."""
    try:
        with signals_end_once():
            for warning in closed(tellings):
                say(err, f"gate: warning: {warning}\n")
    except (KeyboardInterrupt, Interrupted):
        say(err, "gate: warning: interrupted while telling the platform; not all was told\n")
