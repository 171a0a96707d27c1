"""The outcome as a Markdown job summary, every API text escaped for a table cell."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from gate.core.durations import format_duration
from gate.core.model import BakeResult, ErrorDetail, Outcome, OutcomeStatus
from gate.waiting.fleet import FleetOutcome

__all__ = ["escape_cell", "fleet_summary_markdown", "summary_markdown"]

MAX_ROWS = 200
MAX_CELL = 2000
MAX_SUMMARY_BYTES = 512 * 1024
"""A step's summary may hold 1 MiB; half leaves room for what other tools of the step add."""
_MARKDOWN = re.compile(r"([\\`*_\[\]|~#!])")

_HEADINGS = {
    OutcomeStatus.SUCCEEDED: "✅ Deployment succeeded",
    OutcomeStatus.FAILED: "❌ Deployment failed",
    OutcomeStatus.TIMED_OUT: "⏱️ Deployment gate timed out",
    OutcomeStatus.ERROR: "⚠️ Deployment status could not be read",
    OutcomeStatus.CANCELLED: "🛑 Deployment gate cancelled",
}

_FLEET_ICONS = {
    OutcomeStatus.SUCCEEDED: "✅",
    OutcomeStatus.FAILED: "❌",
    OutcomeStatus.TIMED_OUT: "⏱️",
    OutcomeStatus.ERROR: "⚠️",
    OutcomeStatus.CANCELLED: "🛑",
}


def escape_cell(text: str) -> str:
    """Text that stays inside one table cell and renders as the same words, never as markup."""
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return "<br>".join(escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def summary_markdown(outcome: Outcome) -> str:
    target = ", ".join(f"{key} {value}" for key, value in outcome.target.items())
    rows = [
        ("Target", f"{outcome.provider}: {target}"),
        ("Status", f"{outcome.status.value} (reported: {outcome.raw_status or 'none'})"),
        ("Elapsed", format_duration(outcome.elapsed_seconds)),
        ("Reads", str(outcome.polls)),
    ]
    if outcome.progress:
        rows.append(("Devices", outcome.progress))
    if outcome.reason:
        rows.append(("Reason", outcome.reason))
    if outcome.bake is not None:
        rows.append(("Bake", _bake_row(outcome.bake)))
    if outcome.rollback is not None:
        rows.append(("Rollback", outcome.rollback.said()))
    lines = [f"### {_HEADINGS[outcome.status]}", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {escape_cell(value)} |" for name, value in rows]
    if outcome.errors:
        lines += ["", f"#### Errors ({len(outcome.errors)})", ""]
        lines += _errors_table(outcome.errors, _size(lines))
    for warning in outcome.warnings[:20]:
        lines += ["", f"> Warning: {escape_cell(warning)}"]
    return "\n".join(lines) + "\n\n"


def _bake_row(bake: BakeResult) -> str:
    took = f"{format_duration(bake.elapsed_seconds)} of {format_duration(bake.duration_seconds)}"
    checks = "; ".join(
        f"{check.watched}: {check.summary or check.fault or 'not read'}" for check in bake.checks
    )
    status = (
        f"{bake.status.value} (report only, not acted on)"
        if bake.report_only
        else bake.status.value
    )
    noted = "".join(f"; {note}" for note in bake.notes[:5])
    return f"{status} after {took} ({bake.reads} reads): {checks}{noted}"


def fleet_summary_markdown(outcome: FleetOutcome) -> str:
    """A table of every target, then the errors of each one that did not succeed."""
    took = format_duration(outcome.elapsed_seconds)
    heading = f"{_FLEET_ICONS[outcome.status]} Deployments: {outcome.summary} after {took}"
    lines = [
        f"### {escape_cell(heading)}",
        "",
        "| Target | Status | Reported | Elapsed | Reads | Reason |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    if outcome.bake is not None:
        lines[1:1] = ["", f"Release bake: {escape_cell(_bake_row(outcome.bake))}"]
    if outcome.reason:
        lines[1:1] = ["", f"Release: {escape_cell(outcome.reason)}"]
    shown = 0
    for ended in outcome.outcomes[:MAX_ROWS]:
        cells = (
            ended.name,
            ended.status.value,
            ended.raw_status or "",
            format_duration(ended.elapsed_seconds),
            str(ended.polls),
            "" if ended.status is OutcomeStatus.SUCCEEDED else ended.reason or "",
        )
        if ended.rollback is not None:
            cells = (*cells[:5], " ".join([cells[5], f"{ended.rollback.said()}."]))
        lines.append("| " + " | ".join(escape_cell(cell) for cell in cells) + " |")
        shown += 1
    if shown < len(outcome.outcomes):
        lines.append(f"\n{len(outcome.outcomes) - shown} more targets: see the JSON outcome.")
    for ended in outcome.outcomes:
        if not ended.errors or _size(lines) > MAX_SUMMARY_BYTES - 32 * 1024:
            continue
        lines += ["", f"#### {escape_cell(ended.name)}: errors ({len(ended.errors)})", ""]
        lines += _errors_table(ended.errors, _size(lines))
    return "\n".join(lines) + "\n\n"


def _errors_table(errors: Sequence[ErrorDetail], size: int) -> list[str]:
    """Rows while the summary stays within its budget, then how many were left out."""
    lines = ["| Scope / object | Code | Summary | Message |", "| --- | --- | --- | --- |"]
    size += _size(lines)
    shown = 0
    for error in errors[:MAX_ROWS]:
        where = " ".join(part for part in (error.scope, error.object_id) if part)
        cells = (where, error.code, error.summary, error.message)
        row = "| " + " | ".join(escape_cell(cell) for cell in cells) + " |"
        size += _size([row])
        if size > MAX_SUMMARY_BYTES - 16 * 1024:
            break
        lines.append(row)
        shown += 1
    if shown < len(errors):
        lines.append(
            f"\n{len(errors) - shown} more errors are left out here; "
            "the JSON outcome (`--json-report`, `--output json`) holds them all."
        )
    return lines


def _size(lines: Sequence[str]) -> int:
    return sum(len(line.encode("utf-8", errors="replace")) + 1 for line in lines)
