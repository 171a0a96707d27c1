"""Judging a Greengrass v2 deployment from recorded answers: no call, no clock of its own.

The reader (:mod:`gate.providers.greengrass.v2.reader`) asks AWS and hands the answers here,
as botocore returned them; these functions turn them, a :class:`FleetPolicy` and the time
into a verdict (a :class:`~gate.core.model.Snapshot`: state, reasons, error details), the way
kstatus's ``Compute`` judges an object it did not fetch. A roll call of a thing group is a
:class:`Fleet`: the members by name against their job executions, the devices that left the
group, and what the unfinished members' core devices say of their health.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gate.core.description import Field
from gate.core.durations import format_duration
from gate.core.errors import RequestRejected, TransientError
from gate.core.model import DeviceResult, ErrorDetail, Snapshot, State, ended_as
from gate.core.text import from_api, one_line
from gate.core.timestamps import iso_utc

__all__ = [
    "DEVICE_STATUSES",
    "MAX_DESCRIBED",
    "MIN_SUCCESS",
    "NOT_REACHED",
    "SILENT_AFTER",
    "UNFINISHED_DEVICES",
    "Counts",
    "Fleet",
    "FleetPolicy",
    "Verdict",
    "by_cause",
    "deployment_ended",
    "device_result",
    "execution_cause",
    "health",
    "job_counts",
    "job_ended",
    "judge_device",
    "judge_fleet",
    "not_described",
    "roll_call",
    "settled_at_deadline",
    "target_of",
    "thing_name",
    "unfinished_status",
]

DEVICE_STATUSES: Mapping[str, State] = {
    "QUEUED": State.RUNNING,
    "IN_PROGRESS": State.RUNNING,
    "SUCCEEDED": State.SUCCEEDED,
    "COMPLETED": State.SUCCEEDED,
    "FAILED": State.FAILED,
    "TIMED_OUT": State.FAILED,
    "REJECTED": State.FAILED,
    "CANCELED": State.FAILED,
}
"""``coreDeviceExecutionStatus`` and IoT job execution statuses (``REMOVED`` aside)."""
ENDED_DEPLOYMENT = frozenset({"CANCELED", "FAILED", "INACTIVE"})
ENDED_JOB = frozenset({"CANCELED", "DELETION_IN_PROGRESS"})
MAX_DESCRIBED = 20
"""Failed devices whose job execution is read for its cause (one call each), and unfinished
devices whose health is read."""
MAX_NAMED = 100
"""Devices named one by one in the errors; more are counted in one entry."""
MAX_COUNT = 10**9
"""A DescribeJob count above this is an absurd answer, read as an unreadable one."""
NOT_REACHED = "the job has not reached the device yet"
NO_JOB_YET = "the IoT job is not created yet"
SILENT_AFTER = 600.0
"""Seconds into a deployment after which a core device that has reported nothing since
before it began is named as silent: an online core device reports when it takes a
deployment up, well within this."""
UNHEALTHY = "its core device reports UNHEALTHY"
SILENT = "its core device has reported nothing"
_KNOWN_STATES = (State.SUCCEEDED, State.FAILED, State.RUNNING)
_TARGET_ARN = re.compile(r"^arn:[\w-]+:iot:[^:]*:[^:]*:(thing|thinggroup)/(.+)$")


MIN_SUCCESS = Field(
    "min_success",
    "percent of the target's devices that must succeed",
    kind="percent",
    default=100.0,
    more_than=0,
    most=100,
    metavar="PERCENT",
)
UNFINISHED_DEVICES = Field(
    "unfinished_devices",
    "at the deadline, devices still queued or in progress (offline ones) either count "
    "as not succeeded and are named, or are left out of the share",
    kind="choice",
    choices=("count", "ignore"),
    default="count",
)
"""The policy's fields, declared once: the target's description reads them on every face,
and a :class:`FleetPolicy` made in code is held to the same bounds, in the same words."""


@dataclass(frozen=True)
class FleetPolicy:
    """When a deployment to many devices counts as succeeded."""

    min_success: float = 100.0
    """Percent of the group's devices that must succeed."""
    unfinished: str = "count"
    """At the deadline, devices still queued or in progress: ``count`` them as not succeeded
    (and name them), or ``ignore`` them (the share is of the devices that finished)."""
    fail_fast: bool = True
    """End as failed once the failures already rule out the success share."""

    def __post_init__(self) -> None:
        MIN_SUCCESS.check(self.min_success, {})
        UNFINISHED_DEVICES.check(self.unfinished, {})

    def needed(self, devices: int) -> int:
        """How many of ``devices`` must succeed (at least one)."""
        return max(1, math.ceil(devices * self.min_success / 100 - 1e-9))

    @property
    def share(self) -> str:
        return f"{self.min_success:g}% of the devices"


@dataclass(frozen=True)
class Counts:
    succeeded: int
    failed: int
    in_progress: int
    queued: int
    without_execution: int = 0
    """Members of the group that the job has not reached yet (no execution)."""
    departed: int = 0
    """Devices with an execution that are no longer in the group: never counted."""

    @property
    def devices(self) -> int:
        return self.succeeded + self.failed + self.unfinished

    @property
    def unfinished(self) -> int:
        return self.in_progress + self.queued + self.without_execution

    def progress(self) -> str:
        waiting = self.queued + self.without_execution
        said = [f"{self.succeeded}/{self.devices} devices succeeded"]
        said += [f"{self.failed} failed"] if self.failed else []
        said += [f"{self.in_progress} in progress"] if self.in_progress else []
        said += [f"{waiting} queued"] if waiting else []
        said += [f"{self.departed} left the group"] if self.departed else []
        return ", ".join(said)


@dataclass(frozen=True)
class Fleet:
    """A thing group as one roll call found it."""

    members: Mapping[str, DeviceResult] = field(default_factory=dict)
    """The group's members by name, each with its job execution's status."""
    departed: Mapping[str, DeviceResult] = field(default_factory=dict)
    """Devices with an execution that are no longer in the group: said, never counted."""
    unhealthy: Mapping[str, str] = field(default_factory=dict)
    """Unfinished members whose core device is not expected to finish, with why."""

    @property
    def counts(self) -> Counts:
        results = self.members.values()
        statuses = [result.status for result in results]
        return Counts(
            succeeded=sum(DEVICE_STATUSES.get(s) is State.SUCCEEDED for s in statuses),
            failed=sum(DEVICE_STATUSES.get(s) is State.FAILED for s in statuses),
            in_progress=sum(DEVICE_STATUSES.get(s) not in _KNOWN_STATES for s in statuses)
            + statuses.count("IN_PROGRESS"),
            queued=sum(r.status == "QUEUED" and r.reason != NOT_REACHED for r in results),
            without_execution=sum(r.reason == NOT_REACHED for r in results),
            departed=len(self.departed),
        )

    @property
    def devices(self) -> dict[str, DeviceResult]:
        """Every device the outcome reports: the members, and those that left the group."""
        return {**self.departed, **self.members}

    def unfinished(self) -> list[DeviceResult]:
        """The members that never finished, each with why."""
        return [_unfinished(d) for d in self.members.values() if unfinished_status(d.status)]

    def with_health(self, unhealthy: Mapping[str, str]) -> Fleet:
        """The fleet with ``unhealthy`` said of each member it names that has not finished."""
        members = dict(self.members)
        for thing, why in unhealthy.items():
            found = members.get(thing)
            if found is not None and unfinished_status(found.status):
                members[thing] = DeviceResult(thing, found.status, why, found.error_types)
        return Fleet(members, self.departed, dict(unhealthy))


@dataclass(frozen=True)
class Verdict:
    """A read judged: the snapshot, and the devices it says more of than the answers did
    (why each never finished), for the outcome's device results."""

    snapshot: Snapshot
    devices: tuple[DeviceResult, ...] = ()


def target_of(arn: str) -> tuple[str, str]:
    """``("thing", name)`` or ``("thinggroup", name)`` from a deployment's ``targetArn``."""
    match = _TARGET_ARN.match(arn)
    if not match:
        raise RequestRejected(
            f"the deployment's target {one_line(arn, limit=200)!r} is neither a thing "
            "nor a thing group"
        )
    return match.group(1), match.group(2)


def deployment_ended(
    deployment: Mapping[str, Any], status: str, target_arn: str
) -> Snapshot | None:
    """A failed snapshot when the deployment was superseded or ended (``GetDeployment``)."""
    if deployment.get("isLatestForTarget") is False:
        return _ended(
            status,
            f"superseded: a newer deployment to {one_line(target_arn, limit=200)} replaced it "
            f"(status {status})",
            code="SUPERSEDED",
        )
    if status in ENDED_DEPLOYMENT:
        return _ended(status, f"the deployment is {status}", code=status)
    return None


def job_ended(status: str, job_id: str, job: Mapping[str, Any]) -> Snapshot | None:
    """A failed snapshot when the deployment's IoT job (``DescribeJob``'s ``job``) was
    cancelled or is being deleted, or a running one when there is no job yet."""
    if not job_id:
        return Snapshot(State.RUNNING, status, progress=NO_JOB_YET)
    job_status = from_api(job.get("status"))
    if job_status not in ENDED_JOB:
        return None
    return _ended(status, _why_job_ended(job_id, job_status, job), code=f"JOB_{job_status}")


def job_counts(job: Mapping[str, Any], *, members: int) -> Counts:
    """The job's counts (``DescribeJob``): a cheap sign of whether anything is left, never a
    verdict; ``members``, how many the last roll call found in the group."""
    details = job.get("jobProcessDetails")
    details = details if isinstance(details, Mapping) else {}

    def number(key: str) -> int:
        value = details.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise TransientError(
                f"DescribeJob answered {key} = {one_line(repr(value), limit=40)}, "
                "which is not a count"
            )
        return value

    succeeded = number("numberOfSucceededThings")
    failed = sum(
        number(f"numberOf{kind}Things") for kind in ("Failed", "Rejected", "TimedOut", "Canceled")
    )
    in_progress = number("numberOfInProgressThings")
    queued = number("numberOfQueuedThings")
    executions = succeeded + failed + in_progress + queued
    return Counts(succeeded, failed, in_progress, queued, max(members - executions, 0))


def roll_call(
    members: Iterable[str],
    executions: Mapping[str, str],
    known: Mapping[str, DeviceResult] | None = None,
) -> Fleet:
    """Each member of the group by name, against the job execution that names it (``thing ->
    status``): the job's counts also hold devices that left the group, and miss the members
    it has not reached, so no verdict rests on them. ``known``: results read earlier, whose
    reasons stand while their status does."""
    known = known or {}
    names = set(members)
    results: dict[str, DeviceResult] = {}
    for thing in sorted(names):
        said = executions.get(thing)
        if said is None or said == "REMOVED":
            results[thing] = DeviceResult(thing, "QUEUED", NOT_REACHED)
            continue
        found = known.get(thing)
        same = found is not None and found.status == said and bool(found.reason)
        results[thing] = found if same and found is not None else DeviceResult(thing, said)
    departed = {
        thing: DeviceResult(thing, said, _departed(said))
        for thing, said in sorted(executions.items())
        if thing not in names
    }
    return Fleet(results, departed)


def health(core: Mapping[str, Any], *, created: datetime | None, now: datetime) -> str:
    """Why a device is not expected to finish, as its core device (``GetCoreDevice``) says:
    it reports UNHEALTHY, or it has reported nothing since before this deployment began
    (created at ``created``, and :data:`SILENT_AFTER` old at ``now``). Empty when neither:
    health explains, it never decides."""
    seen = core.get("lastStatusUpdateTimestamp")
    seen = seen if isinstance(seen, datetime) and seen.tzinfo is not None else None
    if from_api(core.get("status")) == "UNHEALTHY":
        when = f" (last status update {iso_utc(seen)})" if seen else ""
        return f"{UNHEALTHY}{when}"
    if seen is None or created is None or created.tzinfo is None or seen >= created:
        return ""
    running = (now - created).total_seconds()
    if running < SILENT_AFTER:
        return ""
    return (
        f"{SILENT} since {iso_utc(seen)}, {format_duration((created - seen).total_seconds())}"
        f" before this deployment began {format_duration(running)} ago (offline?)"
    )


def judge_fleet(status: str, fleet: Fleet, policy: FleetPolicy, *, at_deadline: bool) -> Verdict:
    """A thing group's deployment (``deploymentStatus`` ``status``) after a roll call."""
    counts = fleet.counts
    progress = _said_of(counts, fleet.unhealthy)
    if counts.devices == 0:
        said = "no devices in the thing group yet"
        said += f" ({counts.departed} left it)" if counts.departed else ""
        return Verdict(Snapshot(State.RUNNING, status, progress=said))
    needed = policy.needed(counts.devices)
    if counts.failed > counts.devices - needed and (policy.fail_fast or counts.unfinished == 0):
        verdict = (
            f"{counts.failed} of {counts.devices} devices failed; "
            f"{needed} must succeed ({policy.share})"
        )
        return Verdict(Snapshot(State.FAILED, status, progress=progress, verdict=verdict))
    if counts.unfinished == 0:
        return Verdict(
            Snapshot(State.SUCCEEDED, status, progress=progress, verdict=_departures(fleet))
        )
    if not at_deadline:
        settled = _settle_unfinished(status, fleet, policy)
        return Verdict(
            Snapshot(State.RUNNING, status, progress=progress, if_deadline_passes=settled)
        )
    return Verdict(_settle_unfinished(status, fleet, policy), tuple(fleet.unfinished()))


def while_busy(
    status: str, counts: Counts, fleet: Fleet, policy: FleetPolicy, *, at_roll_call: Counts
) -> Snapshot:
    """A poll between roll calls, while the job's ``counts`` say devices are busy. A read at
    the deadline cut short is settled on the last roll call only while the counts say no
    device finished or joined the job since (``at_roll_call``, the counts then): once one
    has, that roll call could pass a deployment whose devices failed since, count a share of
    too few members, or name finished devices as not."""

    def moved(said: Counts) -> tuple[int, int, int]:
        return said.succeeded, said.failed, said.devices - said.without_execution

    outdated = moved(counts) != moved(at_roll_call)
    return Snapshot(
        State.RUNNING,
        status,
        progress=_said_of(counts, fleet.unhealthy),
        if_deadline_passes=None if outdated else settled_at_deadline(status, fleet, policy),
    )


def settled_at_deadline(status: str, fleet: Fleet, policy: FleetPolicy) -> Snapshot | None:
    """What the last roll call means at the deadline, for a deadline read cut short."""
    counts = fleet.counts
    if counts.devices == 0 or counts.unfinished == 0:
        return None
    return _settle_unfinished(status, fleet, policy)


def device_result(thing: str, effective: Mapping[str, Any] | None) -> DeviceResult:
    """A core device's result from its effective deployment (``ListEffectiveDeployments``),
    or queued when the device has not picked the deployment up."""
    if effective is None:
        return DeviceResult(thing, "QUEUED", "the device has not picked the deployment up")
    status = from_api(effective.get("coreDeviceExecutionStatus")) or "UNKNOWN"
    details = effective.get("statusDetails")
    details = details if isinstance(details, Mapping) else {}
    stack = [from_api(s) for s in details.get("errorStack") or () if from_api(s)]
    types = tuple(from_api(t) for t in details.get("errorTypes") or () if from_api(t))
    said = [from_api(effective.get("reason"))]
    said += [f"error stack: {' > '.join(stack)}"] if stack else []
    return DeviceResult(thing, status, "; ".join(part for part in said if part), types)


def judge_device(result: DeviceResult, *, health: str = "", at_deadline: bool) -> Verdict:
    """A deployment to one core device, from its result (and, at the deadline, what its
    health says when it has not finished)."""
    thing = result.device
    state = DEVICE_STATUSES.get(result.status, State.UNKNOWN)
    counts = Counts(
        succeeded=int(state is State.SUCCEEDED),
        failed=int(state is State.FAILED),
        in_progress=int(result.status == "IN_PROGRESS"),
        queued=int(result.status == "QUEUED"),
    )
    errors = (_device_error(result),) if state is State.FAILED else ()
    if at_deadline and state is State.RUNNING:
        if health:
            result = DeviceResult(thing, result.status, health, result.error_types)
        errors = (_device_error(_unfinished(result)),)
    snapshot = Snapshot(
        state=state,
        raw_status=result.status,
        errors=errors,
        progress=counts.progress() if state is not State.UNKNOWN else None,
        verdict=f"{ended_as(result.status)} on {thing}" if state is State.FAILED else None,
    )
    return Verdict(snapshot, (result,))


def execution_cause(thing: str, status: str, execution: Mapping[str, Any]) -> DeviceResult:
    """Why a device failed, from its job execution (``DescribeJobExecution``'s
    ``execution``: ``statusDetails.detailsMap``)."""
    details = execution.get("statusDetails")
    details = details if isinstance(details, Mapping) else {}
    found = details.get("detailsMap")
    found = found if isinstance(found, Mapping) else {}
    cause = from_api(found.get("deployment-failure-cause"))
    detailed = from_api(found.get("detailed-deployment-status"))
    stack = from_api(found.get("deployment-error-stack"))
    said = [cause] if cause else []
    said += [f"detailed status: {detailed}"] if detailed else []
    said += [f"error stack: {stack}"] if stack.strip("[] ") else []
    error_types = _listed(from_api(found.get("deployment-error-types")))
    reason = "; ".join(said) or "the device gave no cause"
    return DeviceResult(thing, from_api(execution.get("status")) or status, reason, error_types)


def not_described(device: DeviceResult) -> DeviceResult:
    """A failed device whose cause was not read."""
    return DeviceResult(
        device.device,
        device.status,
        f"the deployment ended on the device as {device.status}; its cause was not read "
        f"(the gate reads at most {MAX_DESCRIBED} devices' causes)",
    )


def by_cause(failed: Sequence[DeviceResult]) -> list[ErrorDetail]:
    """One error a cause: devices that failed alike (the same status, cause and error types)
    are said once, with how many and which; the first MAX_NAMED causes, then a count."""
    causes: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for device in failed:
        causes.setdefault((device.status, device.reason, device.error_types), []).append(
            device.device
        )
    errors: list[ErrorDetail] = []
    for (status, reason, types), devices in list(causes.items())[:MAX_NAMED]:
        one = DeviceResult(devices[0], status, reason, types)
        if len(devices) == 1:
            errors.append(_device_error(one))
            continue
        shown = ", ".join(devices[:5]) + (
            f" and {len(devices) - 5} more" if len(devices) > 5 else ""
        )
        error = _device_error(one)
        errors.append(
            ErrorDetail(
                code=error.code,
                message=f"{len(devices)} devices ({shown}): {error.message}",
                scope="device",
                object_id=devices[0],
                error_type=error.error_type,
            )
        )
    left = len(causes) - min(len(causes), MAX_NAMED)
    if left > 0:
        errors.append(
            ErrorDetail(
                code="",
                message=f"{left} more causes; every device is in the outcome's devices",
                scope="gate",
            )
        )
    return errors


def unfinished_status(status: str) -> bool:
    return DEVICE_STATUSES.get(status) not in (State.SUCCEEDED, State.FAILED)


def failed_status(status: str) -> bool:
    return DEVICE_STATUSES.get(status) is State.FAILED


def thing_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn or "(unnamed thing)"


def _settle_unfinished(status: str, fleet: Fleet, policy: FleetPolicy) -> Snapshot:
    """The deadline: apply the unfinished-devices policy, naming those devices."""
    counts = fleet.counts
    unfinished = fleet.unfinished()
    named = "; ".join(f"{d.device} ({d.status})" for d in unfinished[:10])
    more = counts.unfinished - min(len(unfinished), 10)
    named += f" and {more} more" if more > 0 else ""
    never = f"{counts.unfinished} never finished: {named}"
    progress = _said_of(counts, fleet.unhealthy)
    if policy.unfinished == "count":
        if counts.succeeded >= policy.needed(counts.devices):
            return Snapshot(
                State.SUCCEEDED,
                status,
                progress=progress,
                verdict=f"enough devices succeeded ({policy.share}); {never}",
            )
        errors = tuple(_device_error(d) for d in unfinished[:MAX_NAMED])
        return Snapshot(State.RUNNING, status, errors=errors, progress=progress, verdict=never)
    finished = counts.succeeded + counts.failed
    if finished == 0:
        return Snapshot(State.RUNNING, status, progress=progress, verdict=never)
    left_out = f"{never} (left out: --unfinished-devices ignore)"
    if counts.succeeded >= policy.needed(finished):
        return Snapshot(State.SUCCEEDED, status, progress=progress, verdict=left_out)
    verdict = (
        f"{counts.failed} of the {finished} devices that finished failed ({policy.share}); "
        f"{left_out}"
    )
    return Snapshot(State.FAILED, status, progress=progress, verdict=verdict)


def _said_of(counts: Counts, unhealthy: Mapping[str, str]) -> str:
    progress = counts.progress()
    for label, prefix in (("UNHEALTHY", UNHEALTHY), ("silent", SILENT)):
        found = sorted(t for t, why in unhealthy.items() if why.startswith(prefix))
        if found:
            names, more = ", ".join(found[:10]), len(found) - min(len(found), 10)
            progress += f"; {label}: {names}" + (f" and {more} more" if more > 0 else "")
    return progress


def _departures(fleet: Fleet) -> str | None:
    """What the devices that left the group did, when any did: said, never counted."""
    departed = [fleet.departed[name] for name in sorted(fleet.departed)]
    if not departed:
        return None
    named = "; ".join(f"{d.device} ({d.status})" for d in departed[:10])
    more = len(departed) - min(len(departed), 10)
    named += f" and {more} more" if more > 0 else ""
    return (
        f"every device in the group succeeded; {len(departed)} left the group and "
        f"{'was' if len(departed) == 1 else 'were'} not counted: {named}"
    )


def _why_job_ended(job_id: str, job_status: str, job: Mapping[str, Any]) -> str:
    """Why the IoT job ended, in AWS's words: its reason code and comment, and whether it
    was force-cancelled (an abortConfig that tripped says so here)."""
    why = f"the deployment's IoT job {job_id} is {job_status}"
    if job.get("forceCanceled") is True:
        why += " (force-cancelled)"
    said = (
        [f"reason code {one_line(code, limit=128)}"]
        if (code := from_api(job.get("reasonCode")))
        else []
    )
    said += (
        [repr(one_line(comment, limit=300))] if (comment := from_api(job.get("comment"))) else []
    )
    return why + (": " + ", ".join(said) if said else "")


def _departed(status: str) -> str:
    if status == "REMOVED":
        return "removed from the thing group before it finished; neither waited on nor counted"
    return f"no longer in the thing group: its {status} is not counted for the group"


def _ended(status: str, why: str, *, code: str) -> Snapshot:
    error = ErrorDetail(code=code, message=why, scope="deployment")
    return Snapshot(State.FAILED, status, errors=(error,), verdict=why)


def _device_error(device: DeviceResult) -> ErrorDetail:
    return ErrorDetail(
        code=device.status,
        message=device.reason or f"the deployment ended on the device as {device.status}",
        scope="device",
        object_id=device.device,
        error_type=", ".join(device.error_types),
    )


def _unfinished(device: DeviceResult) -> DeviceResult:
    if device.reason:
        return device
    why = {
        "QUEUED": "still queued when the deadline passed (is the device offline?)",
        "IN_PROGRESS": "still in progress when the deadline passed",
    }.get(device.status, "had not finished when the deadline passed")
    return DeviceResult(device.device, device.status, why, device.error_types)


def _listed(text: str) -> tuple[str, ...]:
    """``[A, B]`` (how Greengrass writes ``deployment-error-types``) as ``("A", "B")``."""
    return tuple(part.strip(" \"'") for part in text.strip("[]").split(",") if part.strip(" \"'"))
