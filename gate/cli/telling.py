"""The tellings a command line asks for (``--otel``, ``--github-deployment``), and their
closing: each flushes within its own bound, and what it could not tell is a warning on
stderr, never a change of the exit code."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TextIO

from gate.cli.common import say
from gate.cli.flags import given_of
from gate.core.errors import Interrupted
from gate.waiting.telling import Telling, closed

__all__ = ["close_tellings", "tellings_from"]


def tellings_from(
    parsed: argparse.Namespace, env: Mapping[str, str], *, request_timeout: float
) -> list[Telling]:
    """Checked before anything is waited on: a telling that cannot work is exit 2."""
    from gate.telling.options import TELLING, tellings_of

    values = TELLING.read(given_of(parsed, TELLING), env=env)
    api_url = getattr(parsed, "api_url", None)
    return tellings_of(
        values,
        env,
        request_timeout=request_timeout,
        humanitec_api_url=api_url if isinstance(api_url, str) else None,
    )


def close_tellings(tellings: Sequence[Telling], err: TextIO) -> None:
    """Each telling flushed, once the outcome is written; a signal now ends the flushing
    (what was not told is lost, the gate's outcome and exit code are not)."""
    try:
        for warning in closed(tellings):
            say(err, f"gate: warning: {warning}\n")
    except (KeyboardInterrupt, Interrupted):
        say(err, "gate: warning: interrupted while telling the platform; not all was told\n")
