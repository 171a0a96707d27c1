"""Progress of a gate of many targets, readable with fifty of them: one line per change, each
naming its target, a ``7/12 succeeded, 1 failed, 4 running`` line every so often instead of
per-target heartbeats, and at the end every target that did not succeed, with why."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import TextIO, cast

from gate.core.durations import format_duration
from gate.core.model import Outcome, OutcomeStatus, Snapshot
from gate.core.text import one_line
from gate.render.github import fleet_annotation_lines, workflow_command
from gate.render.text import TextReporter, bake_line
from gate.waiting.fleet import FleetOutcome, Target, tally
from gate.waiting.reporter import GuardedReporter, Reporter

__all__ = ["FleetTextReporter", "GitHubFleetReporter"]

NAMES_SHOWN = 10
SAME_ENDING_LISTED = 20
"""Up to this many targets that ended alike get a line each; more share one."""


class _Member(TextReporter):
    """A target's own lines; its heartbeats give way to the fleet's summary line."""

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        pass


class _UntilTheEnd(io.TextIOBase):
    """The stream a target's lines go to: silent once the fleet's outcome is being written,
    so no target line (a late 'failed' after a signal) follows the outcome."""

    def __init__(self, fleet: FleetTextReporter) -> None:
        super().__init__()
        self._fleet = fleet

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self._fleet.ending:
            self._fleet.stream.write(text)
        return len(text)

    def flush(self) -> None:
        if not self._fleet.ending:
            self._fleet.stream.flush()


class FleetTextReporter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.ending = False
        """Set, under the lock, once the outcome is being written: nothing else prints."""
        self._lock = threading.Lock()
        self._broken = False

    def _say(self, *lines: str, last: bool = False) -> None:
        with self._lock:
            if self._broken or self.ending:
                return
            self.ending = last
            try:
                self.stream.write("".join(line + "\n" for line in lines))
                self.stream.flush()
            except (OSError, ValueError):
                self._broken = True

    def started(self, targets: Sequence[Target]) -> None:
        names = ", ".join(one_line(target.name, limit=80) for target in targets[:NAMES_SHOWN])
        more = f" and {len(targets) - NAMES_SHOWN} more" if len(targets) > NAMES_SHOWN else ""
        self._say(f"gate: waiting for {len(targets)} deployments: {names}{more}")

    def for_target(self, target: Target) -> Reporter:
        lines = cast(TextIO, _UntilTheEnd(self))  # a TextIOBase: typing's TextIO is nominal
        return GuardedReporter(_Member(lines, label=target.name), lock=self._lock)

    def progress(self, ended: Sequence[Outcome], total: int, elapsed: float) -> None:
        statuses = [outcome.status for outcome in ended]
        self._say(f"gate: [{format_duration(elapsed):>6}] {tally(statuses, total)}")

    def short_of_requests(self, api: str, rate: float) -> None:
        self._say(
            f"gate: {one_line(api, limit=200)} gets at most {rate:g} requests a second "
            "(--max-rate), too few to read every target before the deadline: targets not "
            "read in time end as never read. Raise --max-rate if the API allows it, give a "
            "longer --timeout, or split the release."
        )

    def phase(self, line: str, elapsed: float) -> None:
        self._say(f"gate: [{format_duration(elapsed):>6}] {one_line(line, limit=4000)}")

    def finished(self, outcome: FleetOutcome) -> None:
        self._say(*final_lines(outcome), last=True)


def final_lines(outcome: FleetOutcome) -> list[str]:
    """The summary, then every target that did not succeed with why; targets that ended
    alike (a thousand never read) share one line with their count and first names."""
    took = format_duration(outcome.elapsed_seconds)
    lines = [f"gate: {outcome.summary} after {took}"]
    if outcome.bake is not None and outcome.bake.ends_as is OutcomeStatus.SUCCEEDED:
        lines.append(f"gate: release {bake_line(outcome.bake)}")
    elif outcome.reason:
        lines.append(
            f"gate: release {outcome.status.value}: {one_line(outcome.reason, limit=4000)}"
        )
    for ended in outcome.outcomes:
        if ended.rollback is not None:
            lines.append(f"  - {one_line(ended.name, limit=80)}: {ended.rollback.said()}")
    alike: dict[tuple[OutcomeStatus, str], list[str]] = {}
    for ended in outcome.outcomes:
        if ended.status is not OutcomeStatus.SUCCEEDED:
            why = one_line(ended.reason or "", limit=400)
            alike.setdefault((ended.status, why), []).append(one_line(ended.name, limit=80))
    for (status, why), names in alike.items():
        if len(names) <= SAME_ENDING_LISTED:
            lines += [f"  - {name}: {status.value}: {why}" for name in names]
            continue
        shown = ", ".join(names[:NAMES_SHOWN])
        lines.append(
            f"  - {len(names)} targets ({shown} and {len(names) - NAMES_SHOWN} more): "
            f"{status.value}: {why}"
        )
    return lines


class GitHubFleetReporter(FleetTextReporter):
    """The same lines in a collapsible group with workflow commands switched off (they echo
    API words), then one annotation per target that did not succeed."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pause_token = ""

    def _pause_commands(self) -> str:
        import secrets

        self._pause_token = secrets.token_hex(16)
        return f"::stop-commands::{self._pause_token}"

    def started(self, targets: Sequence[Target]) -> None:
        self._say(
            workflow_command("group", f"Waiting for {len(targets)} deployments"),
            self._pause_commands(),
        )
        super().started(targets)

    def finished(self, outcome: FleetOutcome) -> None:
        self._say(
            f"::{self._pause_token}::",
            "::endgroup::",
            self._pause_commands(),
            *final_lines(outcome),
            f"::{self._pause_token}::",
            *fleet_annotation_lines(outcome),
            last=True,
        )
