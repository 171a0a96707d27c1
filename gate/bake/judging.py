"""Judging a bake's rounds: what each round's reads decide, with Argo Rollouts' analysis
semantics adapted to checks that read a window (:mod:`gate.bake.run` reads, this decides).

- **Failure limit.** A round *fails* when a check reports a breach still going on (an alarm
  in ``ALARM``, an alert firing, a probe failing, a series in the window's latest step:
  :attr:`~gate.core.model.Breach.ongoing`), or more breaches than its previous read did (a
  breach the window had not held). A breach of the past that a window check reports again
  in every later round is counted once. The bake fails when more rounds failed than
  ``failure_limit``; a breach found in the last round is never tolerated (no round after it
  shows the release got past it). Each tolerated breach is named in the bake's notes.
- **Unreadable limit.** A check that could not be read ``unreadable_limit`` rounds in a row
  ends the bake as unreadable at once; without a limit it is read again until the end.
- **Inconclusive.** A check's last read that says its verdict is inconclusive
  (:attr:`~gate.bake.check.Reading.inconclusive`) passes the bake, named in its notes, or
  fails it (:attr:`~gate.core.model.BakeStatus.INCONCLUSIVE`), as ``inconclusive`` says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gate.bake.check import Reading
from gate.bake.lengths import InconclusivePolicy
from gate.core.errors import GateError
from gate.core.model import BakeStatus, Breach
from gate.core.text import one_line

__all__ = ["Judging", "Verdict"]

_SHOWN = 300


@dataclass(frozen=True)
class Verdict:
    """What ends a bake: its status, the breaches that did, or why it is undecided."""

    status: BakeStatus
    breaches: tuple[Breach, ...] = ()
    reason: str | None = None


@dataclass
class Judging:
    """The bake's judgement so far, fed one round at a time."""

    failure_limit: int = 0
    unreadable_limit: int | None = None
    inconclusive: InconclusivePolicy = "pass"
    failed_rounds: int = 0
    notes: list[str] = field(default_factory=list)
    """Breaches tolerated, inconclusive verdicts passed: for the outcome."""
    tolerated: str | None = None
    """What the latest round tolerated, for the progress line; None if nothing."""
    _breached: dict[int, int] = field(default_factory=dict)
    """How many breaches each check's latest read reported."""
    _unread: dict[int, int] = field(default_factory=dict)
    """How many rounds in a row each check went unread."""

    def round(
        self,
        checks: Sequence[str],
        readings: Mapping[int, Reading],
        faults: Mapping[int, GateError],
        refused: Sequence[str],
        *,
        last: bool,
    ) -> Verdict | None:
        """This round's verdict, if it decides the bake: ``readings`` are the checks it
        read, ``faults`` those it could not read (transient faults), ``refused`` what the
        checks that refused for good said. ``checks`` names every check, by index."""
        self.tolerated = None
        breaches = tuple(b for index in sorted(readings) for b in readings[index].breaches)
        fresh = self._fresh(readings)
        if fresh:
            self.failed_rounds += 1
            if last or self.failed_rounds > self.failure_limit:
                return Verdict(BakeStatus.BREACHED, breaches)
            self._tolerate(fresh)
        if refused:
            return Verdict(BakeStatus.UNREADABLE, reason="; ".join(refused))
        for index in readings:
            self._unread.pop(index, None)
        for index in faults:
            self._unread[index] = self._unread.get(index, 0) + 1
        limit = self.unreadable_limit
        over = [
            f"{checks[index]} could not be read {count} rounds in a row: {faults[index]}"
            for index, count in sorted(self._unread.items())
            if limit is not None and count >= limit and index in faults
        ]
        if over and not last:
            return Verdict(BakeStatus.UNREADABLE, reason="; ".join(over))
        return None

    def ended(
        self,
        checks: Sequence[str],
        readings: Mapping[int, Reading],
        faults: Mapping[int, GateError],
    ) -> Verdict:
        """The verdict at the bake's end, when no round decided it: ``readings`` are each
        check's latest, ``faults`` what the checks still unread last said."""
        unread = [f"{checks[index]}: {fault}" for index, fault in sorted(faults.items())]
        unsettled = [
            f"{checks[index]}: {reading.unsettled}"
            for index, reading in sorted(readings.items())
            if reading.unsettled and index not in faults
        ]
        if unsettled and not unread:
            return Verdict(
                BakeStatus.UNREADABLE,
                reason=f"not yet healthy at the end of the bake: {'; '.join(unsettled)}",
            )
        unread += unsettled
        if unread:
            return Verdict(
                BakeStatus.UNREADABLE,
                reason=f"could not be read at the end of the bake: {'; '.join(unread)}",
            )
        inconclusive = [
            f"{checks[index]}: {reading.inconclusive}"
            for index, reading in sorted(readings.items())
            if reading.inconclusive
        ]
        if inconclusive and self.inconclusive == "fail":
            return Verdict(
                BakeStatus.INCONCLUSIVE,
                reason=f"inconclusive at the end of the bake: {'; '.join(inconclusive)}",
            )
        self.notes += [
            f"inconclusive, passed by the bake's policy: {one_line(said, limit=_SHOWN)}"
            for said in inconclusive
        ]
        return Verdict(BakeStatus.PASSED)

    def _fresh(self, readings: Mapping[int, Reading]) -> list[Breach]:
        """The breaches that make this round a failed one."""
        fresh: list[Breach] = []
        for index, reading in sorted(readings.items()):
            found = reading.breaches
            before = self._breached.get(index, 0)
            self._breached[index] = len(found)
            if len(found) > before or any(breach.ongoing for breach in found):
                fresh += found
        return fresh

    def _tolerate(self, fresh: Sequence[Breach]) -> None:
        counted = f"{self.failed_rounds} of {self.failure_limit} tolerated"
        said = "; ".join(f"{breach.check}: {breach.detail}" for breach in fresh)
        self.tolerated = one_line(f"breach tolerated ({counted}): {said}", limit=_SHOWN)
        for breach in fresh:
            note = one_line(f"breach tolerated: {breach.check}: {breach.detail}", limit=_SHOWN)
            if note not in self.notes:
                self.notes.append(note)
