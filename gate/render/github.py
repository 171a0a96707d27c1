"""GitHub Actions: workflow commands, step outputs, and their escaping.

Everything that came from an API is escaped for where it goes: workflow-command data (``%``,
CR, LF) and properties (also ``:`` and ``,``), as the runner and ``@actions/core`` define
them. Progress text, which echoes API words, is printed between ``::stop-commands::`` markers
so no line of it can be read as a command (the runner also parses ``##[...]`` anywhere in a
line). Outputs use the ``name<<DELIMITER`` form with a fresh delimiter that is checked not to
occur in the value.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import TextIO

from gate.core.durations import format_duration
from gate.core.errors import TransientError
from gate.core.model import (
    BakeStatus,
    ErrorDetail,
    Outcome,
    OutcomeStatus,
    RollbackResult,
    RollbackStatus,
    Snapshot,
)
from gate.render.text import TextReporter, format_error
from gate.waiting.fleet import FleetOutcome

__all__ = [
    "GitHubReporter",
    "escape_data",
    "escape_property",
    "fleet_annotation_lines",
    "fleet_step_outputs",
    "format_outputs",
    "rollback_annotation",
    "step_outputs",
    "workflow_command",
]

MAX_ANNOTATIONS = 10
"""The UI shows at most 10 annotations of a kind per step."""
MAX_MESSAGE = 4000
"""The UI cuts an annotation at 4,096 characters."""
MAX_ERRORS_OUTPUT = 256 * 1024
"""Bytes of the ``errors`` output: a job's outputs share 1 MB, and other steps have some."""


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """``::error title=T::message``, every part escaped, the message cut to what the UI shows."""
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def format_outputs(values: Mapping[str, str]) -> str:
    """Step outputs for ``$GITHUB_OUTPUT``, each in the ``name<<DELIMITER`` form."""
    blocks = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        while delimiter in value:  # pragma: no cover - a uuid4 collision
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
        blocks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(blocks)


class GitHubReporter:
    """Progress in a collapsible group with commands switched off, then annotations."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._text = TextReporter(stream)
        self._pause_token = ""
        self._paused = False

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def _pause_commands(self) -> None:
        self._pause_token = secrets.token_hex(16)
        self._write(f"::stop-commands::{self._pause_token}")
        self._paused = True

    def _resume_commands(self) -> None:
        self._write(f"::{self._pause_token}::")
        self._paused = False

    def started(self, description: str, timeout: float) -> None:
        self._write(workflow_command("group", f"Waiting for {description}"))
        self._pause_commands()
        self._text.started(description, timeout)

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._text.status_changed(previous, current, elapsed)

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        self._text.heartbeat(current, elapsed, polls)

    def warning(self, message: str, elapsed: float) -> None:
        self._text.warning(message, elapsed)

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        self._text.retrying(fault, delay, elapsed)

    def phase(self, line: str, elapsed: float) -> None:
        """A phase line, API words in it, after the outcome too (a rollback): said with
        workflow commands off."""
        if self._paused:
            self._text.phase(line, elapsed)
            return
        self._pause_commands()
        self._text.phase(line, elapsed)
        self._resume_commands()

    def finished(self, outcome: Outcome) -> None:
        self._resume_commands()
        self._write("::endgroup::")
        self._pause_commands()
        self._text.finished(outcome)
        self._resume_commands()
        for line in annotation_lines(outcome):
            self._write(line)


def annotation_lines(outcome: Outcome) -> list[str]:
    """One annotation per error detail on failure (within the UI's limit), one otherwise."""
    took = format_duration(outcome.elapsed_seconds)
    if outcome.status is OutcomeStatus.SUCCEEDED:
        lines = [
            workflow_command(
                "notice", f"Deployment succeeded after {took}", title="Deployment succeeded"
            )
        ]
        baked = outcome.bake
        if baked is not None and baked.report_only and baked.status is not BakeStatus.PASSED:
            title = f"Bake {baked.status.value} (report only, not acted on)"
            said = baked.notes[0] if baked.notes else baked.why()
            lines.append(workflow_command("warning", said, title=title))
        return lines
    if outcome.status is OutcomeStatus.CANCELLED:
        return [
            workflow_command(
                "warning", outcome.reason or "cancelled", title="Deployment gate cancelled"
            )
        ]
    if outcome.status is not OutcomeStatus.FAILED:
        title = {
            OutcomeStatus.TIMED_OUT: "Deployment gate timed out",
            OutcomeStatus.ERROR: "Deployment status could not be read",
        }[outcome.status]
        return [workflow_command("error", outcome.reason or title, title=title)]
    if not outcome.errors and outcome.bake is not None:  # a bake that failed as inconclusive
        return [workflow_command("error", outcome.reason or "", title="Bake failed")]
    if not outcome.errors:
        message = f"{outcome.reason} after {took}; the backend gave no error details"
        return [workflow_command("error", message, title="Deployment failed")]
    shown = list(outcome.errors)
    more = 0
    if len(shown) > MAX_ANNOTATIONS:
        shown, more = shown[: MAX_ANNOTATIONS - 1], len(shown) - (MAX_ANNOTATIONS - 1)
    lines = [workflow_command("error", _message(error), title=_title(error)) for error in shown]
    if more:
        lines.append(
            workflow_command(
                "error", f"{more} more errors: see the job summary", title="Deployment failed"
            )
        )
    return lines


def rollback_annotation(rollback: RollbackResult) -> str:
    """The rollback after a single gate, once it ended: a notice if it succeeded (or was only
    planned), else a warning; its status word in the title."""
    fine = rollback.status in (RollbackStatus.SUCCEEDED, RollbackStatus.DRY_RUN)
    title = f"Rollback {rollback.status.value}"
    return workflow_command("notice" if fine else "warning", rollback.said(), title=title)


_FLEET_TITLES = {
    OutcomeStatus.FAILED: "Deployment failed",
    OutcomeStatus.TIMED_OUT: "Deployment gate timed out",
    OutcomeStatus.ERROR: "Deployment status could not be read",
    OutcomeStatus.CANCELLED: "Deployment gate cancelled",
}
DETAILS_PER_TARGET = 3
"""Error details quoted in a target's annotation; the job summary holds them all."""


def fleet_annotation_lines(outcome: FleetOutcome) -> list[str]:
    """One annotation per target that did not succeed (errors, then cancelled ones as
    warnings), each within the UI's 10 a kind; a notice when every target succeeded."""
    took = format_duration(outcome.elapsed_seconds)
    if outcome.succeeded:
        message = f"{len(outcome.outcomes)} deployments succeeded after {took}"
        return [workflow_command("notice", message, title="Deployments succeeded")]
    lines: list[str] = []
    if outcome.reason:
        title = "Release bake failed" if outcome.bake else _FLEET_TITLES[outcome.status]
        statuses = Counter(o.rollback.status.value for o in outcome.outcomes if o.rollback)
        said = ", ".join(f"{count} {status}" for status, count in statuses.items())
        message = f"{outcome.reason}\nrollbacks: {said}" if said else outcome.reason
        lines.append(workflow_command("error", message, title=title))
    for kind, wanted in (("error", False), ("warning", True)):
        ended = [
            o
            for o in outcome.outcomes
            if o.status is not OutcomeStatus.SUCCEEDED
            and (o.status is OutcomeStatus.CANCELLED) == wanted
        ]
        shown = ended if len(ended) <= MAX_ANNOTATIONS else ended[: MAX_ANNOTATIONS - 1]
        for target in shown:
            details = [format_error(error) for error in target.errors[:DETAILS_PER_TARGET]]
            more = len(target.errors) - len(details)
            details += [f"{more} more errors: see the job summary"] if more > 0 else []
            rolled = [target.rollback.said()] if target.rollback is not None else []
            message = "\n".join([target.reason or target.status.value, *rolled, *details])
            title = f"{_FLEET_TITLES[target.status]}: {target.name}"
            lines.append(workflow_command(kind, message, title=title))
        if len(ended) > len(shown):
            rest = len(ended) - len(shown)
            lines.append(
                workflow_command(
                    kind, f"{rest} more targets: see the job summary", title=outcome.summary
                )
            )
    return lines


def fleet_step_outputs(outcome: FleetOutcome, reports: Mapping[str, str]) -> dict[str, str]:
    """The whole's ``status`` and ``summary``, and ``outcomes``: each target's name, status,
    raw status and reason as JSON (as many as fit; ``outcomes-omitted`` says how many not)."""
    kept: list[str] = []
    size = 2
    for ended in outcome.outcomes:
        item = json.dumps(
            {
                "name": ended.name,
                "status": ended.status.value,
                "raw_status": ended.raw_status,
                "reason": (ended.reason or "")[:MAX_MESSAGE],
                "target": dict(ended.target),
                "rollback_status": ended.rollback.status.value if ended.rollback else None,
            },
            ensure_ascii=True,
        )
        size += len(item) + 2
        if size > MAX_ERRORS_OUTPUT:
            break
        kept.append(item)
    values = {
        "status": outcome.status.value,
        "summary": outcome.summary,
        "outcomes": "[" + ", ".join(kept) + "]",
        "outcomes-omitted": str(len(outcome.outcomes) - len(kept)),
        "elapsed-seconds": f"{outcome.elapsed_seconds:.3f}",
        "bake-status": outcome.bake.status.value if outcome.bake else "",
    }
    values.update(reports)
    return values


def _title(error: ErrorDetail) -> str:
    if error.scope == "bake":
        return f"Bake failed: {error.object_id}"
    where = " ".join(part for part in (error.scope, error.object_id) if part)
    label = " ".join(part for part in (where, error.code) if part)
    return f"Deployment failed: {label}" if label else "Deployment failed"


def _message(error: ErrorDetail) -> str:
    if error.summary and error.message:
        return f"{error.summary}: {error.message}"
    return error.summary or error.message or "(no detail)"


def step_outputs(outcome: Outcome, reports: Mapping[str, str]) -> dict[str, str]:
    """The action's outputs: ``status``, ``raw-status``, ``errors`` (JSON, as many as fit in
    :data:`MAX_ERRORS_OUTPUT`, ``errors-omitted`` says how many did not), timings, reports."""
    errors, omitted = _errors_within(outcome, MAX_ERRORS_OUTPUT)
    values = {
        "status": outcome.status.value,
        "raw-status": (outcome.raw_status or "")[:MAX_MESSAGE],
        "errors": errors,
        "errors-omitted": str(omitted),
        "elapsed-seconds": f"{outcome.elapsed_seconds:.3f}",
        "polls": str(outcome.polls),
        "reason": (outcome.reason or "")[:MAX_MESSAGE],
        "progress": (outcome.progress or "")[:MAX_MESSAGE],
        "bake-status": outcome.bake.status.value if outcome.bake else "",
        "rollback-status": outcome.rollback.status.value if outcome.rollback else "",
    }
    values.update(reports)
    return values


def _errors_within(outcome: Outcome, budget: int) -> tuple[str, int]:
    """The error details as a JSON list of at most ``budget`` UTF-8 bytes, and how many of
    them were left out to keep it there."""
    kept: list[str] = []
    size = 2
    for error in outcome.errors:
        item = json.dumps(error.as_dict(), ensure_ascii=True)
        size += len(item) + 2
        if size > budget:
            break
        kept.append(item)
    return "[" + ", ".join(kept) + "]", len(outcome.errors) - len(kept)
