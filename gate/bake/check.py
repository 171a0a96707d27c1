"""What a health check is to the bake: something read again and again over the bake's window.

A check reads the *whole window* since the bake began whenever it can (CloudWatch's alarm
history, Prometheus' ``query_range``), so a breach that came and went between two reads still
fails the bake. A check's client is bounded by :func:`gate.wire.deadline.within`, as a
provider's is, and raises only :class:`~gate.core.errors.GateError` subclasses:
:class:`~gate.core.errors.TransientError` is retried within the bake, anything else ends it
as unreadable (exit 4), never as a pass. A kind of check declares its options and builds
its checks as a plugin (:mod:`gate.bake.plugin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from gate.core.model import Breach, ComparisonVerdict

__all__ = ["Breach", "Check", "Reading", "ReadsBeforeTheDeployment"]


@dataclass(frozen=True)
class Reading:
    """What one read of a check said of the window so far."""

    summary: str
    """For the progress line: ``2 alarms OK``, ``1 query clear``, ``probe 200``."""
    breaches: tuple[Breach, ...] = ()
    notes: tuple[str, ...] = ()
    """Named, never a breach: ``alarm checkout-latency is INSUFFICIENT_DATA``."""
    unsettled: str | None = None
    """Why this read cannot say the check is healthy yet, though nothing breached (a probe
    failing, not yet as many times in a row as a breach needs). A bake never ends as
    passed on an unsettled read: at its end, the check is read again until it settles."""
    verdict: ComparisonVerdict | None = None
    """A comparison's verdict in numbers, for the JSON outcome."""
    inconclusive: str | None = None
    """Why this read cannot give a verdict either way, though it was read (a comparison
    with too few samples, or no baseline): at the end of the bake, ``--bake-inconclusive``
    says whether that passes or fails it."""


@runtime_checkable
class Check(Protocol):
    @property
    def kind(self) -> str:
        """``alarm``, ``query``, ``alert``, ``probe`` or a third-party check's own word: how
        the JSON outcome groups it."""
        ...

    def describe(self) -> str:
        """What is watched, for a person: ``CloudWatch alarms checkout-5xx, checkout-*``."""
        ...

    def prepare(self) -> None:
        """Before the deployment is waited on: refuse what cannot work with a
        :class:`~gate.core.errors.UsageError` (exit 2): an alarm that does not exist, a
        query Prometheus cannot parse. A TransientError (5xx, 429, no answer in time) is
        retried within the deadline, as during the bake; another ReadError ends the gate
        with exit 4 before waiting."""
        ...

    def read(self, since: datetime, now: datetime) -> Reading:
        """Read the window from ``since`` (the bake's start, UTC) to ``now``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ReadsBeforeTheDeployment(Protocol):
    """What a check may add to :class:`Check` when it reads before the deployment too (a
    comparison's baseline): the bake tells it, before its first round, when the deployment
    began, where the provider says (``None``: it does not say). Optional: a check without it
    is read as any other."""

    def deployment_began(self, at: datetime | None) -> None: ...
