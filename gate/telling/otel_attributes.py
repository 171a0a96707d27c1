"""What a gate's span says, as plain data: attributes and events made from the outcome and
the environment, with no OpenTelemetry import (:mod:`gate.telling.otel` hands them to the SDK).

Names follow OpenTelemetry's semantic conventions where one names the thing
(``deployment.*``, ``cicd.pipeline.*``, ``vcs.*``, ``error.type``); the gate's own are under
``gate.*``. Every string passes :func:`scrubbed_attributes` on its way out, the gate's one
scrubber (:func:`gate.core.secret.scrubbed`): no token, no OTLP header value and no other
secret the run knows of is ever an attribute, even where an API echoed one the provider did
not know of.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar, Union

from gate.core.model import BakeResult, DeviceResult, ErrorDetail, Outcome, OutcomeStatus
from gate.core.secret import parse_key_values, scrubbed
from gate.core.text import one_line
from gate.core.timestamps import parse_timestamp
from gate.telling.environments import environment_of

__all__ = [
    "FAILED_DEVICE_STATUSES",
    "KEPT_ERRORS",
    "KEPT_FAILED_DEVICES",
    "KEPT_FAILED_STEPS",
    "KEPT_PHASE_LINES",
    "KEPT_STATUS_CHANGES",
    "Attributes",
    "Event",
    "Kept",
    "bake_events",
    "deployment_attributes",
    "metric_attributes",
    "outcome_events",
    "parse_key_values",
    "pipeline_attributes",
    "scrubbed_attributes",
]

AttributeValue = Union[str, bool, int, float, Sequence[str]]  # noqa: UP007 - a runtime alias
Attributes = dict[str, AttributeValue]

KEPT_STATUS_CHANGES = 50
"""Status-change events a span keeps: the first half and the last half of them, the count of
the rest in ``gate.events.dropped``."""
KEPT_PHASE_LINES = 30
"""The bake's and the rollback's progress lines kept, likewise."""
KEPT_FAILED_STEPS = 20
KEPT_FAILED_DEVICES = 20
KEPT_ERRORS = 20
"""Other errors (a workload's, a resource's, the deployment's own) kept as events."""
KEPT_BREACHES = 20
KEPT_WARNINGS = 10
KEPT_LOG_LINES = 20
"""A failed step's log lines on its event (the provider reads at most as many)."""
TEXT_LIMIT = 1000
"""The longest text an attribute holds (one line; a reason, a message)."""
LINE_LIMIT = 300

FAILED_DEVICE_STATUSES = frozenset({"FAILED", "TIMED_OUT", "REJECTED", "CANCELED"})
"""A device of a fleet deployment (Greengrass v2's execution words) that failed; the
others succeeded, are still running, or left the fleet."""

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """A span event: its name, when (ns since the epoch; None: when the span ends)."""

    name: str
    attributes: Mapping[str, object]
    at_ns: int | None = None


@dataclass
class Kept(Generic[T]):
    """The first ``limit // 2`` and the last ``limit - limit // 2`` of what is added, and how
    many were let go between them: bounded however long a gate waits."""

    limit: int
    head: list[T] = field(default_factory=list)
    tail: deque[T] = field(default_factory=deque)
    dropped: int = 0

    def add(self, item: T) -> None:
        if len(self.head) < self.limit // 2:
            self.head.append(item)
            return
        self.tail.append(item)
        if len(self.tail) > self.limit - self.limit // 2:
            self.tail.popleft()
            self.dropped += 1

    def items(self) -> list[T]:
        return [*self.head, *self.tail]


def scrubbed_attributes(attributes: Mapping[str, object]) -> Attributes:
    """``attributes`` as OpenTelemetry takes them: None, empty text and empty lists left out,
    text scrubbed, other sequences as lists of scrubbed text."""
    clean: Attributes = {}
    for key, value in attributes.items():
        if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
            continue
        if isinstance(value, (bool, int, float)):
            clean[key] = value
        elif isinstance(value, str):
            clean[key] = scrubbed(value)
        elif isinstance(value, (list, tuple)):
            clean[key] = [scrubbed(str(item)) for item in value]
        else:
            clean[key] = scrubbed(str(value))
    return clean


def pipeline_attributes(env: Mapping[str, str]) -> dict[str, str]:
    """The CI run the gate runs in, where GitHub Actions' variables say it."""
    server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    attempt = env.get("GITHUB_RUN_ATTEMPT", "")
    repository_url = f"{server}/{repository}" if server and repository else ""
    run_url = f"{repository_url}/actions/runs/{run_id}" if repository_url and run_id else ""
    if run_url and attempt:
        run_url += f"/attempts/{attempt}"
    owner, _, name = repository.partition("/")
    attributes = {
        "cicd.pipeline.name": env.get("GITHUB_WORKFLOW", ""),
        "cicd.pipeline.run.id": run_id,
        "cicd.pipeline.run.url.full": run_url,
        "cicd.pipeline.task.name": env.get("GITHUB_JOB", ""),
        "cicd.worker.name": env.get("RUNNER_NAME", ""),
        "vcs.provider.name": "github" if repository_url else "",
        "vcs.repository.url.full": repository_url,
        "vcs.owner.name": owner if name else "",
        "vcs.repository.name": name,
        "vcs.ref.head.name": env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", ""),
        "vcs.ref.head.revision": env.get("GITHUB_SHA", ""),
    }
    return {key: value for key, value in attributes.items() if value}


def deployment_id_of(target: Mapping[str, str]) -> str:
    for key in ("deploy_id", "deployment_id", "run"):
        value = target.get(key, "")
        if value and value != "latest":
            return value
    return ""


def _seconds_between(earlier: str | None, later: str | None) -> float | None:
    start, end = parse_timestamp(earlier), parse_timestamp(later)
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds(), 3)


def deployment_attributes(outcome: Outcome, name: str) -> dict[str, object]:
    """The span's attributes (before scrubbing): the deployment, then the gate's own."""
    target = outcome.target
    devices_failed = sum(device.status in FAILED_DEVICE_STATUSES for device in outcome.devices)
    deployment_status = {
        OutcomeStatus.SUCCEEDED: "succeeded",
        OutcomeStatus.FAILED: "failed",
    }.get(outcome.status)
    lag = None
    if outcome.status in (OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED) and outcome.bake is None:
        lag = _seconds_between(outcome.deployment_changed_at, outcome.finished_at)
    attributes: dict[str, object] = {
        "deployment.id": deployment_id_of(target),
        "deployment.name": name
        or outcome.name
        or target.get("app")
        or target.get("pipeline")
        or environment_of(target),
        "deployment.environment.name": environment_of(target),
        "deployment.status": deployment_status,
        "error.type": None if outcome.succeeded else outcome.status.value,
        "gate.provider": outcome.provider,
        "gate.status": outcome.status.value,
        "gate.raw_status": outcome.raw_status,
        "gate.reason": _text(outcome.reason),
        "gate.reads": outcome.polls,
        "gate.elapsed": outcome.elapsed_seconds,
        "gate.lag": lag,
        "gate.exit_code": outcome.exit_code,
        "gate.signal": outcome.signal,
        "gate.progress": outcome.progress,
        "gate.deployment_type": outcome.deployment_type,
        "gate.errors": len(outcome.errors),
        "gate.devices": len(outcome.devices) or None,
        "gate.devices.failed": devices_failed if outcome.devices else None,
        "gate.warnings": len(outcome.warnings) or None,
    }
    for key, value in sorted(target.items()):
        attributes[f"gate.target.{key}"] = value
    if outcome.bake is not None:
        attributes["gate.bake.status"] = outcome.bake.status.value
        attributes["gate.bake.report_only"] = outcome.bake.report_only or None
    rollback = outcome.rollback
    if rollback is not None:
        attributes["gate.rollback.to"] = rollback.plan.to if rollback.plan else None
        attributes["gate.rollback.dry_run"] = rollback.dry_run
        attributes["gate.rollback.status"] = rollback.status.value
    return attributes


def metric_attributes(outcome: Outcome) -> dict[str, object]:
    """Few and low in cardinality: what a change-failure-rate panel groups by."""
    return {
        "gate.provider": outcome.provider,
        "deployment.environment.name": environment_of(outcome.target),
        "gate.status": outcome.status.value,
    }


def _text(value: str | None, limit: int = TEXT_LIMIT) -> str | None:
    return one_line(value, limit=limit) if value else None


def _at(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1_000_000_000) if moment is not None else None


def _error_attributes(error: ErrorDetail) -> dict[str, object]:
    return {
        "gate.error.scope": error.scope,
        "gate.error.object_id": error.object_id,
        "gate.error.code": error.code,
        "gate.error.summary": _text(error.summary),
        "gate.error.type": error.error_type,
        "gate.error.message": _text(error.message),
    }


def _step_events(errors: Sequence[ErrorDetail]) -> tuple[list[Event], int]:
    """One event a failed pipeline step (its action, message and the last lines of its log)."""
    logs: dict[str, list[str]] = {}
    for error in errors:
        if error.scope == "step log":
            logs.setdefault(error.object_id, []).append(one_line(error.message, limit=LINE_LIMIT))
    steps = [error for error in errors if error.scope == "pipeline step"]
    events = [
        Event(
            "gate.pipeline_step.failed",
            {
                "gate.step.id": step.object_id,
                "gate.step.status": step.code,
                "gate.step.action": step.summary,
                "gate.step.message": _text(step.message),
                "gate.step.log": logs.get(step.object_id, [])[-KEPT_LOG_LINES:],
            },
        )
        for step in steps[:KEPT_FAILED_STEPS]
    ]
    return events, max(0, len(steps) - KEPT_FAILED_STEPS)


def _device_events(devices: Sequence[DeviceResult]) -> tuple[list[Event], int]:
    failed = [device for device in devices if device.status in FAILED_DEVICE_STATUSES]
    events = [
        Event(
            "gate.device.failed",
            {
                "gate.device.name": device.device,
                "gate.device.status": device.status,
                "gate.device.reason": _text(device.reason),
                "gate.device.error_types": list(device.error_types),
            },
        )
        for device in failed[:KEPT_FAILED_DEVICES]
    ]
    return events, max(0, len(failed) - KEPT_FAILED_DEVICES)


def bake_events(bake: BakeResult) -> tuple[list[Event], int]:
    """The bake (when it ended, how, after how many reads) and each breach, at its time."""
    started = parse_timestamp(bake.started_at)
    ended = _at(started + timedelta(seconds=bake.elapsed_seconds)) if started else None
    events = [
        Event(
            "gate.bake",
            {
                "gate.bake.status": bake.status.value,
                "gate.bake.duration": bake.duration_seconds,
                "gate.bake.elapsed": bake.elapsed_seconds,
                "gate.bake.reads": bake.reads,
                "gate.bake.reason": _text(bake.reason),
                "gate.bake.breaches": len(bake.breaches),
                "gate.bake.checks": [check.watched for check in bake.checks],
                "gate.bake.report_only": bake.report_only or None,
                "gate.bake.notes": [_text(note) or "" for note in bake.notes[:KEPT_BREACHES]]
                or None,
            },
            ended,
        )
    ]
    events += [
        Event(
            "gate.bake.breach",
            {"gate.bake.check": breach.check, "gate.bake.detail": _text(breach.detail)},
            _at(breach.at),
        )
        for breach in bake.breaches[:KEPT_BREACHES]
    ]
    return events, max(0, len(bake.breaches) - KEPT_BREACHES)


def outcome_events(outcome: Outcome) -> tuple[list[Event], int]:
    """The events the outcome holds (failed steps, failed devices, other errors, the bake,
    the rollback, warnings), each kind bounded; and how many were left out."""
    events, dropped = _step_events(outcome.errors)
    device_events, more = _device_events(outcome.devices)
    events += device_events
    dropped += more
    others = [
        error
        for error in outcome.errors
        if error.scope not in ("pipeline step", "step log")
        and not (error.scope == "device" and device_events)
    ]
    events += [Event("gate.error", _error_attributes(error)) for error in others[:KEPT_ERRORS]]
    dropped += max(0, len(others) - KEPT_ERRORS)
    if outcome.bake is not None:
        bake_said, more = bake_events(outcome.bake)
        events += bake_said
        dropped += more
    rollback = outcome.rollback
    if rollback is not None:
        plan = rollback.plan
        events.append(
            Event(
                "gate.rollback",
                {
                    "gate.rollback.summary": _text(plan.summary) if plan else None,
                    "gate.rollback.to": plan.to if plan else None,
                    "gate.rollback.dry_run": rollback.dry_run,
                    "gate.rollback.status": rollback.status.value,
                    "gate.rollback.reason": _text(rollback.reason),
                },
            )
        )
    events += [
        Event("gate.warning", {"gate.warning": _text(warning)})
        for warning in outcome.warnings[:KEPT_WARNINGS]
    ]
    dropped += max(0, len(outcome.warnings) - KEPT_WARNINGS)
    return events, dropped
