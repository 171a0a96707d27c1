"""Immutable values that flow from providers through the engine to the renderers."""

from __future__ import annotations

import enum
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

from gate.core.text import quoted

__all__ = [
    "DeviceResult",
    "ErrorDetail",
    "Outcome",
    "OutcomeStatus",
    "RollbackPlan",
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
    """The signal that cancelled the wait, when ``status is CANCELLED``."""
    name: str = ""
    """The target's name in a gate of many (``production``); empty for a single wait."""

    @property
    def succeeded(self) -> bool:
        return self.status is OutcomeStatus.SUCCEEDED

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.status, self.signal)


def exit_code_of(status: OutcomeStatus, signum: int | None) -> int:
    """The command's exit code for an ending (README, "Exit codes"): cancelled is 128 + the
    signal that cancelled it."""
    if status is OutcomeStatus.CANCELLED:
        return 128 + (signum or signal.SIGINT)
    return _EXIT_CODES[status]


def ended_as(raw_status: str) -> str:
    """The reason of a failure that the status word alone explains."""
    return f"the deployment ended as {quoted(raw_status)}"
