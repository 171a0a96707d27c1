"""Immutable values that flow from providers through the engine to the renderers."""

from __future__ import annotations

import enum
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gate.core.durations import format_duration
from gate.core.text import one_line, quoted
from gate.core.timestamps import iso_utc

__all__ = [
    "COMMENT_LIMIT",
    "ON_FAILURE",
    "BakeResult",
    "BakeStatus",
    "Breach",
    "CheckResult",
    "ComparisonVerdict",
    "DeviceResult",
    "ErrorDetail",
    "OnFailure",
    "Outcome",
    "OutcomeStatus",
    "RollbackPlan",
    "RollbackResult",
    "RollbackStatus",
    "Snapshot",
    "State",
    "ended_as",
    "exit_code_of",
]


class State(enum.Enum):
    """A deployment's status, normalized across providers."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """A status word the provider does not know: reported, never guessed at, waited on."""

    @property
    def is_terminal(self) -> bool:
        return self in (State.SUCCEEDED, State.FAILED)


@dataclass(frozen=True)
class ErrorDetail:
    """One error a deployment reported, in the words of the system that ran it.

    ``scope`` and ``object_id`` say where it happened (a Humanitec workload, the Greengrass
    deployment itself); empty strings are normal.
    """

    code: str
    message: str
    scope: str = ""
    object_id: str = ""
    summary: str = ""
    error_type: str = ""
    """The backend's class of error, where it names one (Humanitec ``error_type``)."""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message": self.message,
            "scope": self.scope,
            "object_id": self.object_id,
            "summary": self.summary,
            "error_type": self.error_type,
        }


@dataclass(frozen=True)
class DeviceResult:
    """Where one device of a fleet deployment stood when the gate last read it."""

    device: str
    status: str
    reason: str = ""
    error_types: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "status": self.status,
            "reason": self.reason,
            "error_types": list(self.error_types),
        }


@dataclass(frozen=True)
class Snapshot:
    """What one read of a deployment said."""

    state: State
    raw_status: str
    errors: tuple[ErrorDetail, ...] = ()
    changed_at: str | None = None
    """When the provider says the status last changed (its own timestamp text), if it says."""
    created_at: str | None = None
    """When the deployment was created (ISO 8601), if the provider says: its age."""
    deployment_type: str | None = None
    """What kind of deployment this is, where the backend says (Greengrass ``DeploymentType``:
    a ``ResetDeployment`` that succeeds removed the group's configuration, it deployed nothing)."""
    progress: str | None = None
    """How far a deployment made of parts has come (``3/12 devices succeeded, 9 in progress``);
    a change of progress is reported like a change of status."""
    verdict: str | None = None
    """Why this read ends the wait, where the status word alone does not say (a fleet whose
    failures already rule out the success share, a superseded deployment)."""
    if_deadline_passes: Snapshot | None = None
    """What this read means should the deadline pass before another read is done (a provider
    with a deadline policy: workloads failing now fail the gate then): the outcome at the
    deadline is decided from what was read, never from how long the last read took."""


COMMENT_LIMIT = 500
"""The most of a rollback's comment (why) a backend is sent: one line."""


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback would do, before it is done (``--dry-run`` prints it)."""

    summary: str
    """For a person: ``redeploy set 3f2a… of deployment 0f3c9a, the last to succeed before
    7d1e``."""
    to: str
    """The id of what is rolled back to (a deployment, a group version)."""
    request: Mapping[str, object] = field(default_factory=dict)
    """What will be sent to start it (no secret in it): the provider's to read back in
    :meth:`~gate.core.provider.RollsBack.roll_back`, the dry run's to show."""

    def as_dict(self) -> dict[str, object]:
        return {"summary": self.summary, "to": self.to, "request": dict(self.request)}


@dataclass(frozen=True)
class Breach:
    """One health signal that failed a bake, in the words of the system that raised it."""

    check: str
    """What breached, named as the user named it: ``alarm checkout-5xx``,
    ``query sum(rate(...)) > 0``, ``alert CheckoutErrors``, ``probe https://shop/healthz``."""
    detail: str
    """Why: the alarm's ``StateReason``; the series and its value; the probe's status and an
    excerpt of its body. Text from an API, shown escaped by whoever prints it."""
    at: datetime | None = None
    """When it breached, as the system says (UTC), if it says."""
    ongoing: bool = False
    """Still breaching as read (an alarm in ALARM, an alert firing), not only found in the
    window's past: a bake with a failure limit counts it in every round that reads it."""

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "detail": self.detail,
            "at": iso_utc(self.at) if self.at else None,
        }


@dataclass(frozen=True)
class ComparisonVerdict:
    """A comparison's verdict in numbers (:mod:`gate.bake.verdict`): what the JSON outcome
    carries for a check that compares the bake with its baseline."""

    name: str
    direction: str
    """``higher-is-worse`` or ``lower-is-worse``."""
    outcome: str
    """``pass``, ``regression`` or ``inconclusive``."""
    baseline_median: float | None
    bake_median: float | None
    baseline_samples: int
    bake_samples: int
    change: float | None
    """``(bake - baseline) / |baseline|`` of the medians (0.5 is +50%); None without both,
    or when the baseline's median is 0."""
    p_value: float | None
    """The one-sided Mann-Whitney U test's; None when it was not run (too few samples)."""
    confidence: float
    """0.95: a regression needs ``p < 0.05``."""
    min_effect: str
    """``+20%`` (of the baseline's median) or ``+0.01`` (in the metric's unit)."""
    baseline_window: tuple[str, str]
    bake_window: tuple[str, str]
    why: str
    baseline_ends: str = "bake-start"
    """What ended the baseline window: ``deployment-start`` (when the provider says the
    deployment began), ``bake-start`` (it does not say) or ``given``."""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "direction": self.direction,
            "outcome": self.outcome,
            "baseline": {
                "median": self.baseline_median,
                "samples": self.baseline_samples,
                "from": self.baseline_window[0],
                "to": self.baseline_window[1],
                "ends": self.baseline_ends,
            },
            "bake": {
                "median": self.bake_median,
                "samples": self.bake_samples,
                "from": self.bake_window[0],
                "to": self.bake_window[1],
            },
            "change": self.change,
            "p_value": self.p_value,
            "confidence": self.confidence,
            "min_effect": self.min_effect,
            "why": self.why,
        }


@dataclass(frozen=True)
class CheckResult:
    """Where one health check of a bake stood when the bake ended."""

    kind: str
    watched: str
    """What it watches, for a person: ``CloudWatch alarms checkout-5xx, checkout-*``."""
    summary: str
    """What its last read said (``2 alarms OK``); empty if it was never read."""
    notes: tuple[str, ...] = ()
    fault: str | None = None
    """Why its last read failed, when it did."""
    verdict: ComparisonVerdict | None = None
    """A comparison's, once judged."""

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "watched": self.watched,
            "summary": self.summary,
            "notes": list(self.notes),
            "fault": self.fault,
            "verdict": self.verdict.as_dict() if self.verdict else None,
        }


class BakeStatus(enum.Enum):
    PASSED = "passed"
    BREACHED = "breached"
    """More rounds found a breach than ``--bake-failure-limit`` tolerates (exit 1)."""
    UNREADABLE = "unreadable"
    """A check could not be read for the whole bake: never a pass (exit 4)."""
    INCONCLUSIVE = "inconclusive"
    """A check's verdict was inconclusive at the end, and ``--bake-inconclusive fail`` says
    that fails the bake (exit 1)."""
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BakeResult:
    """How a bake ended: the release's health watched after its deployment succeeded."""

    status: BakeStatus
    duration_seconds: float
    """How long the bake was to last."""
    elapsed_seconds: float
    """How far into it the gate got."""
    reads: int
    """Rounds of reads: every check is read once a round."""
    started_at: str
    checks: tuple[CheckResult, ...]
    breaches: tuple[Breach, ...] = ()
    reason: str | None = None
    notes: tuple[str, ...] = ()
    """The bake's own: breaches its failure limit tolerated, inconclusive verdicts passed by
    its policy, what a report-only bake would have decided."""
    report_only: bool = False
    """``--bake-report-only``: ``status`` is what the bake decided, and the gate does not
    act on it (:attr:`ends_as` is succeeded whatever it decided)."""

    @property
    def ends_as(self) -> OutcomeStatus:
        """What the bake makes of a deployment that succeeded: the one mapping every gate
        uses (a breach or a failing inconclusive verdict fails it, an unreadable bake is an
        error, a report-only bake never fails it)."""
        if self.status is BakeStatus.CANCELLED:
            return OutcomeStatus.CANCELLED
        if self.status is BakeStatus.PASSED or self.report_only:
            return OutcomeStatus.SUCCEEDED
        if self.status is BakeStatus.UNREADABLE:
            return OutcomeStatus.ERROR
        return OutcomeStatus.FAILED

    @property
    def how_far(self) -> str:
        """``3m27s into its 10m00s bake``, or ``at the end of its 10m00s bake`` (where the
        last round's reads, retried, ran past it)."""
        bake = format_duration(self.duration_seconds)
        if self.elapsed_seconds >= self.duration_seconds:
            return f"at the end of its {bake} bake"
        return f"{format_duration(self.elapsed_seconds)} into its {bake} bake"

    def why(self) -> str:
        """What breached (the first three, in their systems' words), or why the bake ended
        undecided; one line."""
        if self.status is not BakeStatus.BREACHED:
            return one_line(self.reason or "", limit=1000)
        said = "; ".join(f"{b.check}: {b.detail}" for b in self.breaches[:3])
        more = len(self.breaches) - 3
        said += f"; and {more} more" if more > 0 else ""
        return one_line(said, limit=1000)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "duration_seconds": self.duration_seconds,
            "elapsed_seconds": self.elapsed_seconds,
            "reads": self.reads,
            "started_at": self.started_at,
            "checks": [check.as_dict() for check in self.checks],
            "breaches": [breach.as_dict() for breach in self.breaches],
            "reason": self.reason,
            "notes": list(self.notes),
            "report_only": self.report_only,
        }


class OutcomeStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    ERROR = "error"


_EXIT_CODES = {
    OutcomeStatus.SUCCEEDED: 0,
    OutcomeStatus.FAILED: 1,
    OutcomeStatus.TIMED_OUT: 3,
    OutcomeStatus.ERROR: 4,
}


@dataclass(frozen=True)
class Outcome:
    """How a wait ended. Only ``status is SUCCEEDED`` means the deployment succeeded."""

    status: OutcomeStatus
    provider: str
    target: Mapping[str, str]
    raw_status: str | None
    errors: tuple[ErrorDetail, ...]
    reason: str | None
    elapsed_seconds: float
    polls: int
    started_at: str
    finished_at: str
    deployment_changed_at: str | None = None
    deployment_type: str | None = None
    progress: str | None = None
    devices: tuple[DeviceResult, ...] = ()
    """Per-device results, for providers whose deployments run on many devices."""
    warnings: tuple[str, ...] = ()
    signal: int | None = field(default=None)
    """The signal that ended the gate: it cancelled the wait (``status is CANCELLED``), or
    interrupted the rollback after it (the status stays the failure's); exit 128 + it."""
    name: str = ""
    """The target's name in a gate of many (``production``); empty for a single wait."""
    bake: BakeResult | None = None
    """The health watched after the deployment succeeded, when a bake was asked for: a bake
    that did not pass fails the gate though ``raw_status`` says the deployment succeeded."""
    rollback: RollbackResult | None = None
    """What ``--on-failure rollback`` did; the outcome's own status stays the failure's."""
    deployment_created_at: str | None = None
    """When the deployment began, where the provider says (its own timestamp text): where a
    release's comparisons end their baseline."""

    @property
    def succeeded(self) -> bool:
        return self.status is OutcomeStatus.SUCCEEDED

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.status, self.signal)


OnFailure = Literal["nothing", "rollback", "rollback-also-on-timeout"]
"""What a gate that failed does: nothing more, or roll its target back (a gate that timed
out or could not read its outcome too, with ``rollback-also-on-timeout``)."""
ON_FAILURE: tuple[OnFailure, ...] = ("nothing", "rollback", "rollback-also-on-timeout")


class RollbackStatus(enum.Enum):
    """What a rollback did: the one vocabulary of every report (text, JSON, step outputs,
    job summary, JUnit, annotations, telemetry)."""

    SUCCEEDED = "succeeded"
    """Started, and its own gate succeeded."""
    FAILED = "failed"
    """Started, and its own gate failed."""
    UNFINISHED = "unfinished"
    """Started, and its own gate ended before it did (timed out, unreadable, interrupted)."""
    MAY_HAVE_STARTED = "may-have-started"
    """The start got no clear answer (a timeout, a reset, a 5xx, a 409 to a keyed request, a
    success naming no deployment the gate can follow, a signal while it was in flight): the
    backend may have acted on it (:class:`~gate.core.errors.StartUnclear`). Check before
    starting another."""
    NOT_STARTED = "not-started"
    """The start was refused with a clear answer (a 4xx, a 409 to an unkeyed request), or
    never sent (throttled until the gate gave up, no slot in the gate's request budget):
    nothing was created."""
    SKIPPED = "skipped"
    """Never sent: nothing to roll back to, something newer replaced the failed deployment, a
    plan that could not be read; ``reason`` says why."""
    DRY_RUN = "dry-run"
    """A dry run: planned and said, nothing sent."""

    @classmethod
    def of_gate(cls, rolled: Outcome) -> RollbackStatus:
        """A started rollback's status, from how its own gate ended."""
        if rolled.status is OutcomeStatus.SUCCEEDED:
            return cls.SUCCEEDED
        if rolled.status is OutcomeStatus.FAILED:
            return cls.FAILED
        return cls.UNFINISHED


@dataclass(frozen=True)
class RollbackResult:
    """A rollback after a failed gate: what was (or, in a dry run, would be) done, how the
    rolled-back deployment's own gate ended, and its ``status`` in the one vocabulary."""

    status: RollbackStatus
    plan: RollbackPlan | None
    dry_run: bool = False
    outcome: Outcome | None = None
    """The rollback deployment's gate, when it was started."""
    reason: str | None = None
    """Why nothing was rolled back, why the start was refused or may have started, or what
    broke off the rollback's gate."""

    def said(self) -> str:
        """One line, its status word first: ``rollback succeeded: redeploy set 3f2a… of
        deployment 0f3c9a; its gate succeeded after 1m12s``."""
        head = f"rollback {self.status.value}"
        planned = self.plan.summary if self.plan is not None else ""
        if self.status is RollbackStatus.DRY_RUN:
            return f"{head}: would {planned}"
        rolled = self.outcome
        if rolled is None:
            parts = [part for part in (planned, self.reason or "") if part]
            return one_line(f"{head}: {'; '.join(parts)}", limit=4000)
        took = format_duration(rolled.elapsed_seconds)
        why = f": {rolled.reason}" if rolled.reason and not rolled.succeeded else ""
        ended = f"its gate {rolled.status.value} after {took}{why}"
        broke = f"; {self.reason}" if self.reason else ""
        return one_line(f"{head}: {planned}; {ended}{broke}", limit=4000)

    def as_dict(self) -> dict[str, object]:
        """Everything but the rollback's own outcome (the caller renders it)."""
        return {
            "status": self.status.value,
            "plan": self.plan.as_dict() if self.plan else None,
            "dry_run": self.dry_run,
            "reason": self.reason,
        }


def exit_code_of(status: OutcomeStatus, signum: int | None) -> int:
    """The command's exit code for an ending (README, "Exit codes"): a gate a signal ended
    (cancelled, or failed and then interrupted during its rollback) is 128 + the signal."""
    if signum is not None:
        return 128 + signum
    if status is OutcomeStatus.CANCELLED:
        return 128 + signal.SIGINT
    return _EXIT_CODES[status]


def ended_as(raw_status: str) -> str:
    """The reason of a failure that the status word alone explains."""
    return f"the deployment ended as {quoted(raw_status)}"
