"""How long the read under way may still take: the wait's deadline, carried down to the wire.

The engine opens a budget around each read (:func:`within`); the HTTP wire
(:mod:`gate.wire.transport`) gives every request ``min(request timeout, what is left of the
budget)`` in total, connect to last byte. A provider with its own I/O can ask :func:`seconds_left`.

Budgets are in real (``time.monotonic``) seconds: the engine converts its own clock's time
left into one when it opens it, so a wait in virtual time still bounds real requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gate.core.errors import Stopped

__all__ = [
    "HELD_SECONDS",
    "Stop",
    "seconds_left",
    "stop_event",
    "stopped_by",
    "to_the_deadline",
    "within",
]

HELD_SECONDS = "gate_held_seconds"
"""An httpx request extension: how long the server is asked to hold its answer (a long-poll).
That time is the server's, not slowness: the wire allows it on top of the request timeout."""

_ends_at: ContextVar[float | None] = ContextVar("gate_read_ends_at", default=None)
_stop: ContextVar[threading.Event | None] = ContextVar("gate_stop", default=None)
_to_the_deadline: ContextVar[bool] = ContextVar("gate_to_the_deadline", default=False)


@contextmanager
def within(seconds: float, *, to_the_deadline: bool = False) -> Iterator[None]:
    """Everything done inside may take at most ``seconds`` (a tighter outer budget wins).
    ``to_the_deadline``: the budget ends at the wait's own deadline (a status read), not at
    a shorter bound of its own (a history read): what cannot happen in it never will."""
    ends_at = time.monotonic() + seconds
    outer = _ends_at.get()
    token = _ends_at.set(ends_at if outer is None else min(outer, ends_at))
    whole = _to_the_deadline.set(to_the_deadline)
    try:
        yield
    finally:
        _to_the_deadline.reset(whole)
        _ends_at.reset(token)


def to_the_deadline() -> bool:
    """Whether the budget under way ends at the wait's deadline (see :func:`within`)."""
    return _to_the_deadline.get()


def seconds_left(limit: float) -> float:
    """``limit``, or less if the budget under way ends sooner; zero or less once it has."""
    ends_at = _ends_at.get()
    return limit if ends_at is None else min(limit, ends_at - time.monotonic())


@contextmanager
def stopped_by(event: threading.Event) -> Iterator[None]:
    """Reads inside end as soon as ``event`` is set, even one whose server is still holding
    its answer: a caller that stops a wait (a Pulumi cancel, a fleet's --fail-fast) never
    waits for a request to time out."""
    token = _stop.set(event)
    try:
        yield
    finally:
        _stop.reset(token)


class Stop(threading.Event):
    """A stop that says why: the reads it ends raise :class:`~gate.core.errors.Stopped` with
    its reason and signal, as a signal in the reading thread itself would end them (a
    rollback's start in flight is then said interrupted by that signal). Set without a why
    (``set()``), reads end as a broken connection."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = ""
        self.signum: int | None = None

    def stop(self, reason: str, signum: int | None) -> None:
        self.reason, self.signum = reason, signum
        self.set()

    def stopped(self) -> Stopped | None:
        """What a read it ends raises, when it was given a why."""
        return Stopped(self.reason, signum=self.signum) if self.reason else None


def stop_event() -> threading.Event | None:
    """The event that stops the reads under way, if a caller set one (:func:`stopped_by`)."""
    return _stop.get()
