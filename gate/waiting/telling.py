"""Telling the platform what the gate did: the seam for a trace exporter, GitHub's
Deployments, or anything else that wants each gated deployment as data.

A :class:`Telling` hears a gate through the same calls a progress reporter does: it gives a
:class:`~gate.waiting.reporter.Reporter` for each gated deployment (``for_gate``), and hears
a gate of many start and end. It never blocks or fails the gate: every call to it is
guarded (:class:`ToldReporter`), its own I/O is bounded, and :meth:`Telling.close` flushes
within a bound and returns warnings to say, never raising. With none asked for, nothing of
it is imported or run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from gate.core.errors import TransientError
from gate.core.model import Outcome, Snapshot
from gate.core.provider import Provider
from gate.waiting.outcomes import FleetOutcome
from gate.waiting.reporter import Reporter

__all__ = ["Gated", "Telling", "ToldReporter", "closed", "tell_each", "told"]


def _no_ids() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Gated:
    """One gated deployment, as a telling hears of it on every path (a single gate's has no
    name)."""

    name: str = ""
    """The target's name in a gate of many; empty for a single gate."""
    provider: str = ""
    ids: Callable[[], Mapping[str, str]] = field(default=_no_ids, compare=False)
    """Its provider's ids as resolved so far (a Greengrass v2 target learns its thing group
    at its first read)."""
    named: bool = True
    """Its name was given, not made from its ids (``gate wait-all`` names a target that has
    none by the ids that tell it from the others, a deployment id among them)."""
    api_url: str | None = None
    """The API it reads, where that is an HTTP API (else the telling's own default)."""

    @classmethod
    def of(
        cls, provider: Provider, name: str = "", *, named: bool = True, api_url: str | None = None
    ) -> Gated:
        return cls(name, provider.name, lambda: provider.target, named, api_url)


@runtime_checkable
class Telling(Protocol):
    def for_gate(self, gate: Gated) -> Reporter:
        """The reporter that hears one gated deployment. Called from the thread that waits
        on it."""
        ...

    def release_started(self, gates: Sequence[Gated]) -> None:
        """A gate of many starts (before any ``for_gate``): every one of its gates."""
        ...

    def release_finished(self, outcome: FleetOutcome) -> None:
        """A gate of many ended (after every gate's ``finished``)."""
        ...

    def close(self) -> list[str]:
        """Flush what is left, within this telling's own bound; warnings for a person
        (a collector that did not answer). Never raises."""
        ...


class ToldReporter:
    """Passes every call to ``primary`` as it is, and to each telling's reporter guarded:
    a telling's reporter that raises (a bug: each keeps its own faults for its ``close``)
    is silenced for the rest of the gate. The primary's faults are its own."""

    def __init__(self, primary: Reporter, told: Sequence[Reporter]) -> None:
        self._primary = primary
        self._told = list(told)
        self._lock = threading.Lock()

    def _tell(self, name: str, *args: object) -> None:
        for reporter in list(self._told):
            try:
                getattr(reporter, name)(*args)
            except Exception:  # a telling never changes the gate
                with self._lock:
                    if reporter in self._told:
                        self._told.remove(reporter)

    def started(self, description: str, timeout: float) -> None:
        self._primary.started(description, timeout)
        self._tell("started", description, timeout)

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._primary.status_changed(previous, current, elapsed)
        self._tell("status_changed", previous, current, elapsed)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        self._primary.heartbeat(current, elapsed, polls)
        self._tell("heartbeat", current, elapsed, polls)

    def warning(self, message: str, elapsed: float) -> None:
        self._primary.warning(message, elapsed)
        self._tell("warning", message, elapsed)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._primary.retrying(fault, delay, elapsed)
        self._tell("retrying", fault, delay, elapsed)

    def phase(self, line: str, elapsed: float) -> None:
        self._primary.phase(line, elapsed)
        self._tell("phase", line, elapsed)

    def finished(self, outcome: Outcome) -> None:
        self._primary.finished(outcome)
        self._tell("finished", outcome)


def told(primary: Reporter, tellings: Sequence[Telling], gate: Gated) -> Reporter:
    """``primary``, and every telling's reporter for ``gate``; ``primary`` alone when there
    is no telling (nothing of a telling runs unless one was asked for)."""
    if not tellings:
        return primary
    reporters = []
    for telling in tellings:
        try:
            reporters.append(telling.for_gate(gate))
        except Exception:  # noqa: S112 - a telling that cannot start is left out, never fatal
            continue
    return ToldReporter(primary, reporters)


def tell_each(tellings: Sequence[Telling], call: str, *args: object) -> None:
    """``call`` on every telling (``release_started``...); one that raises is skipped."""
    for telling in tellings:
        try:
            getattr(telling, call)(*args)
        except Exception:  # noqa: S112 - a telling never changes the gate
            continue


def closed(tellings: Sequence[Telling]) -> Iterator[str]:
    """Each telling closed in turn (each flushes within its own bound): its warnings, and
    one for a telling that broke. A signal is the caller's (it ends the closing)."""
    for telling in tellings:
        try:
            warnings = telling.close()
        except Exception as broken:  # a telling never changes the gate
            warnings = [f"{type(telling).__name__} could not be closed: {broken}"]
        yield from warnings
