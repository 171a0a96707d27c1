"""The GitHub step outputs the gate writes (``--output github``), declared once: the action's
``outputs:`` and the docs' table are made from this list, and a test holds what
:func:`gate.render.github.step_outputs` and :func:`~gate.render.github.fleet_step_outputs`
write to it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STEP_OUTPUTS", "StepOutput"]


@dataclass(frozen=True)
class StepOutput:
    name: str
    doc: str


STEP_OUTPUTS = (
    StepOutput("status", "succeeded, failed, cancelled, timed_out or error."),
    StepOutput("raw-status", "The status word the backend reported last."),
    StepOutput(
        "errors-omitted",
        "How many error details the errors output left out to stay within GitHub's output "
        "limit (the JSON report has them all).",
    ),
    StepOutput(
        "errors",
        "The deployment's error details, as a JSON array of {code, message, scope, object_id, "
        "summary, error_type}.",
    ),
    StepOutput("elapsed-seconds", "How long the gate waited."),
    StepOutput("polls", "How many times the gate read the deployment's status."),
    StepOutput(
        "reason",
        "One line saying why the gate did not pass (on success, empty or a note such as "
        "devices left out).",
    ),
    StepOutput(
        "progress",
        "Greengrass v2: the device counts, such as '12/12 devices succeeded' (empty for "
        "other providers).",
    ),
    StepOutput(
        "summary",
        "With 'targets' or a repeated id: how the targets ended, such as '2/3 succeeded, "
        "1 failed'.",
    ),
    StepOutput(
        "outcomes",
        "With 'targets' or a repeated id: a JSON array of each target's {name, status, "
        "raw_status, reason, target, rollback_status} (rollback_status null when no rollback "
        "was due).",
    ),
    StepOutput(
        "outcomes-omitted",
        "How many targets the outcomes output left out to stay within GitHub's output limit "
        "(the JSON report has them all).",
    ),
    StepOutput(
        "bake-status",
        "With bake: passed, breached, unreadable or cancelled (empty when the deployment was "
        "not baked).",
    ),
    StepOutput(
        "rollback-status",
        "With on-failure, what the rollback did: succeeded, failed, unfinished (started; its "
        "gate ended first), may-have-started (no clear answer: check before retrying), "
        "not-started (refused), skipped (never sent; the reason says why) or dry-run; empty "
        "when no rollback was due.",
    ),
    StepOutput("junit-report", "Path of the JUnit XML report."),
    StepOutput("json-report", "Path of the JSON outcome."),
)
