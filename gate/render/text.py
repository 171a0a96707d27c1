"""Progress and the final report as plain lines, for a terminal or a CI log (stderr)."""

from __future__ import annotations

from typing import TextIO

from gate.core.durations import format_duration
from gate.core.errors import TransientError
from gate.core.model import (
    BakeResult,
    BakeStatus,
    ErrorDetail,
    Outcome,
    OutcomeStatus,
    Snapshot,
    ended_as,
)
from gate.core.text import one_line

__all__ = ["TextReporter", "bake_line", "bake_summary", "format_error"]

LINE_LIMIT = 4000


class TextReporter:
    """One wait's progress; with a ``label`` (a target of many), every line names it."""

    def __init__(self, stream: TextIO, *, label: str = "") -> None:
        self._stream = stream
        self._label = f"{one_line(label, limit=200)}: " if label else ""

    def _say(self, line: str, elapsed: float | None = None) -> None:
        """One line, whatever API words it holds: no escape, CR or line break gets through."""
        stamp = f"[{format_duration(elapsed):>6}] " if elapsed is not None else ""
        said = one_line(line, limit=LINE_LIMIT)
        self._stream.write(f"gate: {stamp}{self._label}{said}\n")
        self._stream.flush()

    def started(self, description: str, timeout: float) -> None:
        self._say(f"waiting for {description} (timeout {format_duration(timeout)})")

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        progress = f" ({current.progress})" if current.progress else ""
        if previous is None or previous.raw_status == current.raw_status:
            self._say(f"status: {current.raw_status}{progress}", elapsed)
        else:
            self._say(f"status: {previous.raw_status} -> {current.raw_status}{progress}", elapsed)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        status = current.raw_status if current else "not read yet"
        progress = f", {current.progress}" if current and current.progress else ""
        self._say(f"still waiting: status {status}{progress} ({polls} reads)", elapsed)

    def warning(self, message: str, elapsed: float) -> None:
        self._say(f"warning: {message}", elapsed)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._say(f"{fault}; retrying in {format_duration(delay)}", elapsed)

    def phase(self, line: str, elapsed: float) -> None:
        self._say(line, elapsed)

    def finished(self, outcome: Outcome) -> None:
        reads = "1 read" if outcome.polls == 1 else f"{outcome.polls} reads"
        took = f"after {format_duration(outcome.elapsed_seconds)} ({reads})"
        progress = f": {outcome.progress}" if outcome.progress else ""
        if outcome.status is OutcomeStatus.SUCCEEDED:
            kind = f" ({outcome.deployment_type})" if outcome.deployment_type else ""
            self._say(f"deployment succeeded{kind} {took}{progress}")
            if outcome.reason:
                self._say(f"note: {outcome.reason}")
            if outcome.bake is not None:
                self._say(bake_line(outcome.bake))
            return
        if outcome.status is OutcomeStatus.FAILED and outcome.bake is not None:
            self._say(
                f"bake FAILED after {format_duration(outcome.elapsed_seconds)}: {outcome.reason}"
            )
            if len(outcome.errors) > 3:  # the reason names the first three
                for error in outcome.errors:
                    self._stream.write(f"  - {format_error(error)}\n")
                self._stream.flush()
            return
        if outcome.status is OutcomeStatus.FAILED:
            count = len(outcome.errors)
            noun = "error" if count == 1 else "errors"
            status = one_line(outcome.raw_status or "", limit=80)
            why = outcome.reason or ""
            why = "" if why == ended_as(outcome.raw_status or "") else f"{why}; "
            self._say(f"deployment FAILED with status {status!r} {took}: {why}{count} {noun}")
            for error in outcome.errors:
                self._stream.write(f"  - {format_error(error)}\n")
            self._stream.flush()
            return
        label = {
            OutcomeStatus.TIMED_OUT: "timed out",
            OutcomeStatus.CANCELLED: "cancelled",
            OutcomeStatus.ERROR: "error",
        }[outcome.status]
        self._say(f"{label} {took}: {outcome.reason}")


def bake_line(bake: BakeResult) -> str:
    """A bake the gate passed: ``bake passed: healthy through ...``, or, for a report-only
    bake that did not pass, what it decided and that the gate did not act on it."""
    if bake.status is BakeStatus.PASSED:
        return f"bake passed: {bake_summary(bake)}"
    return f"bake {bake.status.value} (report only, not acted on): {bake_summary(bake)}"


def bake_summary(bake: BakeResult) -> str:
    """``healthy through its 10m00s bake (40 reads): 2 alarms OK, query clear``; the bake's
    own notes (breaches tolerated, what a report-only bake would have done) first."""
    reads = "1 read" if bake.reads == 1 else f"{bake.reads} reads"
    said = ", ".join(check.summary for check in bake.checks if check.summary)
    notes = [*bake.notes, *(note for check in bake.checks for note in check.notes)]
    noted = f"; {'; '.join(notes[:5])}" if notes else ""
    healthy = "healthy through" if bake.status is BakeStatus.PASSED else "read through"
    return f"{healthy} its {format_duration(bake.duration_seconds)} bake ({reads}): {said}{noted}"


def format_error(error: ErrorDetail) -> str:
    """``[workload my-svc] CLD-001 Provider error: Incorrect credentials`` on one line."""
    where = one_line(" ".join(part for part in (error.scope, error.object_id) if part))
    label = one_line(" ".join(part for part in (error.code, error.summary) if part))
    message = one_line(error.message, limit=4000)
    text = f"{label}: {message}" if label and message else label or message or "(no detail)"
    return f"[{where}] {text}" if where else text
