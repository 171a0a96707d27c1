"""What a Pulumi gate records and what it says when it does not pass.

A gate that passes records its outcome as outputs. A gate that does not pass fails the
resource with one message, the gate's own words first: ``deployment gate failed: ...`` and
then each error detail on its own line. Nothing is recorded then, so the next ``pulumi up``
waits again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gate.core.durations import format_duration
from gate.core.model import Outcome
from gate.render.text import format_error

__all__ = [
    "OUTPUT_KEYS",
    "SKIPPED",
    "DeploymentGateFailed",
    "failure_message",
    "outputs_of",
    "raised_for_host",
    "skipped_outputs",
]

OUTPUT_KEYS = (
    "status",
    "raw_status",
    "errors",
    "finished_at",
    "elapsed_seconds",
    "target",
    "progress",
    "devices",
)
SKIPPED = "skipped"
"""The status of a gate told not to wait (``skip_await``): no API was called."""


class DeploymentGateFailed(Exception):
    """The deployment did not succeed, or the gate could not start; the message says which,
    then lists every error detail."""


def failure_message(outcome: Outcome) -> str:
    """One readable message: what ended how, then every error detail on its own line."""
    target = ", ".join(f"{key}={value}" for key, value in outcome.target.items())
    took = format_duration(outcome.elapsed_seconds)
    lines = [
        f"deployment gate {outcome.status.value}: {outcome.provider} deployment ({target}) "
        f"after {took}: {outcome.reason}"
    ]
    lines += [f"  - {format_error(error)}" for error in outcome.errors]
    if outcome.rollback is not None:
        lines.append(f"  {outcome.rollback.said()}")
    return "\n".join(lines)


def raised_for_host(message: str) -> DeploymentGateFailed:
    """The exception a dynamic provider raises so that ``message`` is read first.

    Pulumi's dynamic provider host reports a failure as the whole Python traceback, which
    puts the exception's message last, under the host's frames. A cause that was never
    raised has no frames, and a traceback prints causes first: so ``message`` rides as the
    cause and opens the report, with nothing above it but its exception's name.
    """
    first_line = message.splitlines()[0] if message else "deployment gate failed"
    raised = DeploymentGateFailed(f"{first_line} (the gate's full message is above)")
    raised.__cause__ = DeploymentGateFailed(message)
    return raised


def outputs_of(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "raw_status": outcome.raw_status,
        "errors": [error.as_dict() for error in outcome.errors],
        "finished_at": outcome.finished_at,
        "elapsed_seconds": outcome.elapsed_seconds,
        "target": dict(outcome.target),
        "progress": outcome.progress,
        "devices": [device.as_dict() for device in outcome.devices],
    }


def skipped_outputs(target: Mapping[str, str]) -> dict[str, Any]:
    """The outputs of a gate that did not wait: no status was read, nothing is claimed."""
    return {
        "status": SKIPPED,
        "raw_status": "",
        "errors": [],
        "finished_at": "",
        "elapsed_seconds": 0.0,
        "target": dict(target),
        "progress": "",
        "devices": [],
    }
