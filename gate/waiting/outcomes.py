"""How a gate of many ended, as data: every target's outcome and the whole's (the worst of
theirs), apart from the waiting so that what reads it (renderers, tellings) needs no engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from gate.core.model import BakeResult, Outcome, OutcomeStatus, exit_code_of

__all__ = ["ENDED_AS", "WORST_FIRST", "FleetOutcome", "tally", "worst"]

WORST_FIRST = (
    OutcomeStatus.FAILED,
    OutcomeStatus.TIMED_OUT,
    OutcomeStatus.ERROR,
    OutcomeStatus.CANCELLED,
    OutcomeStatus.SUCCEEDED,
)
ENDED_AS = {
    OutcomeStatus.SUCCEEDED: "succeeded",
    OutcomeStatus.FAILED: "failed",
    OutcomeStatus.TIMED_OUT: "timed out",
    OutcomeStatus.ERROR: "unreadable",
    OutcomeStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class FleetOutcome:
    """How a gate of many ended: each target's outcome, in the order given, and the whole."""

    outcomes: tuple[Outcome, ...]
    status: OutcomeStatus
    elapsed_seconds: float
    started_at: str
    finished_at: str
    signal: int | None = None
    throttled: int = 0
    """429 answers the APIs gave (each slowed every wait on that API)."""
    bake: BakeResult | None = None
    """The release's own bake, once every target passed, when one was asked for."""
    reason: str | None = None
    """Why the whole did not pass when no target says it (the release's bake)."""

    @property
    def succeeded(self) -> bool:
        return self.status is OutcomeStatus.SUCCEEDED

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.status, self.signal)

    @property
    def summary(self) -> str:
        return tally([outcome.status for outcome in self.outcomes], len(self.outcomes))


def tally(ended: Sequence[OutcomeStatus], total: int) -> str:
    """``7/12 succeeded, 1 failed, 4 running``: every kind of ending that happened."""
    counts = Counter(ended)
    parts = [f"{counts[OutcomeStatus.SUCCEEDED]}/{total} succeeded"]
    parts += [
        f"{counts[status]} {ENDED_AS[status]}"
        for status in WORST_FIRST
        if status is not OutcomeStatus.SUCCEEDED and counts[status]
    ]
    running = total - len(ended)
    if running:
        parts.append(f"{running} running")
    return ", ".join(parts)


def worst(statuses: Sequence[OutcomeStatus]) -> OutcomeStatus:
    """The whole's status: the worst of its targets' (an empty gate succeeded)."""
    return next((status for status in WORST_FIRST if status in statuses), OutcomeStatus.SUCCEEDED)
