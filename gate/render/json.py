"""The outcome as one JSON object: the machine-readable contract of ``--output json``."""

from __future__ import annotations

from typing import Any

from gate.core.model import Outcome, RollbackResult
from gate.core.timestamps import as_iso_utc
from gate.render.runner import command_free_json
from gate.waiting.fleet import FleetOutcome

__all__ = ["SCHEMA_VERSION", "fleet_to_json", "outcome_to_dict", "outcome_to_json"]

SCHEMA_VERSION = 1


def outcome_to_dict(outcome: Outcome) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": outcome.name,
        "status": outcome.status.value,
        "raw_status": outcome.raw_status,
        "provider": outcome.provider,
        "target": dict(outcome.target),
        "errors": [error.as_dict() for error in outcome.errors],
        "reason": outcome.reason,
        "elapsed_seconds": outcome.elapsed_seconds,
        "polls": outcome.polls,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "deployment_created_at": as_iso_utc(outcome.deployment_created_at),
        "deployment_changed_at": outcome.deployment_changed_at,
        "deployment_type": outcome.deployment_type,
        "progress": outcome.progress,
        "devices": [device.as_dict() for device in outcome.devices],
        "warnings": list(outcome.warnings),
        "exit_code": outcome.exit_code,
        "bake": outcome.bake.as_dict() if outcome.bake else None,
        "rollback": _rollback_to_dict(outcome.rollback) if outcome.rollback else None,
    }


def _rollback_to_dict(rollback: RollbackResult) -> dict[str, Any]:
    """What was rolled back to, its status, and the rollback deployment's own outcome, whole."""
    return {
        **rollback.as_dict(),
        "outcome": outcome_to_dict(rollback.outcome) if rollback.outcome else None,
    }


def outcome_to_json(outcome: Outcome) -> str:
    """One line of ASCII: every other character escaped, so no reader that splits on line
    separators (U+2028, NEL) or trips on an encoding can see anything but one object, and no
    Actions runner a command."""
    return command_free_json(outcome_to_dict(outcome))


def fleet_to_json(outcome: FleetOutcome) -> str:
    """A gate of many as one line of ASCII: the whole, then every target's outcome object."""
    whole = {
        "schema_version": SCHEMA_VERSION,
        "status": outcome.status.value,
        "summary": outcome.summary,
        "exit_code": outcome.exit_code,
        "elapsed_seconds": outcome.elapsed_seconds,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "throttled": outcome.throttled,
        "reason": outcome.reason,
        "bake": outcome.bake.as_dict() if outcome.bake else None,
        "targets": [outcome_to_dict(target) for target in outcome.outcomes],
    }
    return command_free_json(whole)
